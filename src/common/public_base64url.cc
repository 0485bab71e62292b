// The variable-time base64url decoder for public data: a table lookup per character and
// four characters (three bytes) per step.
#include "common/public_base64url.h"

#include <array>
#include <string>

namespace custos::common {
namespace {

constexpr uint8_t kInvalid = 0x80;

constexpr std::array<uint8_t, 256> MakeDecodeTable() {
  std::array<uint8_t, 256> table{};
  for (uint8_t& v : table) v = kInvalid;
  constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  for (size_t i = 0; i < kAlphabet.size(); ++i) {
    table[static_cast<unsigned char>(kAlphabet[i])] = static_cast<uint8_t>(i);
  }
  return table;
}

constexpr std::array<uint8_t, 256> kDecode = MakeDecodeTable();

uint8_t Sextet(char c) { return kDecode[static_cast<unsigned char>(c)]; }

// Only reached on bad input: names the first character outside the alphabet.
Status BadCharacterError(std::string_view text) {
  for (size_t i = 0; i < text.size(); ++i) {
    if (Sextet(text[i]) & kInvalid) {
      return InvalidArgumentError(
          "invalid base64url: byte 0x" + HexEncode(AsBytes(text.substr(i, 1))) + " at offset " +
          std::to_string(i) + " is not a base64url character (A-Z a-z 0-9 - _)");
    }
  }
  return InternalError("base64url: no bad character found after the decoder refused one");
}

}  // namespace

Result<size_t> PublicBase64UrlDecodedSize(size_t text_size) {
  if (text_size % 4 == 1) {
    return InvalidArgumentError("invalid base64url: " + std::to_string(text_size) +
                                " characters is not a length unpadded base64url can have "
                                "(4n+1 characters would end in a partial byte)");
  }
  return text_size / 4 * 3 + (text_size % 4 == 0 ? 0 : text_size % 4 - 1);
}

Status PublicBase64UrlDecodeInto(std::string_view text, std::span<uint8_t> out) {
  CUSTOS_ASSIGN_OR_RETURN(size_t size, PublicBase64UrlDecodedSize(text.size()));
  if (out.size() != size) {
    return InvalidArgumentError("base64url: output buffer of " + std::to_string(out.size()) +
                                " bytes for " + std::to_string(size) + " decoded bytes");
  }
  const char* in = text.data();
  uint8_t* o = out.data();
  const size_t full = text.size() / 4;
  for (size_t g = 0; g < full; ++g, in += 4, o += 3) {
    const uint32_t a = Sextet(in[0]);
    const uint32_t b = Sextet(in[1]);
    const uint32_t c = Sextet(in[2]);
    const uint32_t d = Sextet(in[3]);
    if ((a | b | c | d) & kInvalid) return BadCharacterError(text);
    const uint32_t v = a << 18 | b << 12 | c << 6 | d;
    o[0] = static_cast<uint8_t>(v >> 16);
    o[1] = static_cast<uint8_t>(v >> 8);
    o[2] = static_cast<uint8_t>(v);
  }
  // A partial group of 2 or 3 characters carries 1 or 2 bytes; its unused low bits must
  // be zero, or one byte string would have several encodings (PASETO refuses those).
  const size_t rest = text.size() % 4;
  if (rest == 0) return Status::Ok();
  const uint32_t a = Sextet(in[0]);
  const uint32_t b = Sextet(in[1]);
  const uint32_t c = rest == 3 ? Sextet(in[2]) : 0;
  if ((a | b | c) & kInvalid) return BadCharacterError(text);
  const uint32_t v = a << 12 | b << 6 | c;  // 18 bits, the low 2 (or 10) unused
  const uint32_t unused_mask = rest == 3 ? 0x3 : 0x3ff;
  if (v & unused_mask) {
    return InvalidArgumentError("invalid base64url: the last character (offset " +
                                std::to_string(text.size() - 1) +
                                ") has non-zero unused bits, so the text is not canonical");
  }
  o[0] = static_cast<uint8_t>(v >> 10);
  if (rest == 3) o[1] = static_cast<uint8_t>(v >> 2);
  return Status::Ok();
}

Result<Bytes> PublicBase64UrlDecode(std::string_view text) {
  CUSTOS_ASSIGN_OR_RETURN(size_t size, PublicBase64UrlDecodedSize(text.size()));
  Bytes out(size);
  CUSTOS_RETURN_IF_ERROR(PublicBase64UrlDecodeInto(text, out));
  return out;
}

Result<std::string> PublicBase64UrlDecodeToString(std::string_view text) {
  CUSTOS_ASSIGN_OR_RETURN(size_t size, PublicBase64UrlDecodedSize(text.size()));
  std::string out(size, '\0');
  CUSTOS_RETURN_IF_ERROR(PublicBase64UrlDecodeInto(
      text, std::span<uint8_t>(reinterpret_cast<uint8_t*>(out.data()), out.size())));
  return out;
}

}  // namespace custos::common
