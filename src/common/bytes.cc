// Hex and base64 codecs. Base64 uses libsodium's constant-time codec, which also
// rejects non-canonical trailing bits.
#include "common/bytes.h"

#include <sodium.h>

namespace custos::common {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string SodiumBase64Encode(ByteView data, int variant) {
  std::string out(sodium_base64_encoded_len(data.size(), variant), '\0');
  sodium_bin2base64(out.data(), out.size(), data.data(), data.size(), variant);
  out.resize(out.size() - 1);  // drop the terminating NUL sodium writes
  return out;
}

// libsodium 1.0.18 compares characters as signed chars, so it decodes some bytes above
// 0x7f as alphabet characters (0x8b as '_'): one value would have several encodings.
// Anything outside ASCII is refused before it gets there.
size_t FirstNonAscii(std::string_view text) {
  for (size_t i = 0; i < text.size(); ++i) {
    if (static_cast<unsigned char>(text[i]) > 0x7f) return i;
  }
  return text.size();
}

Result<Bytes> SodiumBase64Decode(std::string_view text, int variant, std::string_view name) {
  if (size_t bad = FirstNonAscii(text); bad < text.size()) {
    return InvalidArgumentError(
        "invalid " + std::string(name) + ": byte 0x" + HexEncode(AsBytes(text.substr(bad, 1))) +
        " at offset " + std::to_string(bad) + " is not a " + std::string(name) + " character");
  }
  Bytes out(text.size() / 4 * 3 + 3);
  size_t out_len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(out.data(), out.size(), text.data(), text.size(), nullptr, &out_len, &end,
                        variant) != 0 ||
      end != text.data() + text.size()) {
    size_t at = end ? static_cast<size_t>(end - text.data()) : 0;
    return InvalidArgumentError("invalid " + std::string(name) + " near offset " +
                                std::to_string(at) + " of " + std::to_string(text.size()) +
                                " characters");
  }
  out.resize(out_len);
  return out;
}

}  // namespace

std::string HexEncode(ByteView data) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(data.size() * 2);
  for (uint8_t b : data) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0xf]);
  }
  return out;
}

Result<Bytes> HexDecode(std::string_view hex) {
  if (hex.size() % 2 != 0) {
    return InvalidArgumentError("hex string has odd length " + std::to_string(hex.size()));
  }
  Bytes out(hex.size() / 2);
  for (size_t i = 0; i < out.size(); ++i) {
    int hi = HexValue(hex[2 * i]);
    int lo = HexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      return InvalidArgumentError("invalid hex character at offset " +
                                  std::to_string(hi < 0 ? 2 * i : 2 * i + 1));
    }
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return out;
}

std::string Base64Encode(ByteView data) {
  return SodiumBase64Encode(data, sodium_base64_VARIANT_ORIGINAL);
}
Result<Bytes> Base64Decode(std::string_view text) {
  return SodiumBase64Decode(text, sodium_base64_VARIANT_ORIGINAL, "base64");
}
std::string Base64UrlEncode(ByteView data) {
  return SodiumBase64Encode(data, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}
Result<Bytes> Base64UrlDecode(std::string_view text) {
  return SodiumBase64Decode(text, sodium_base64_VARIANT_URLSAFE_NO_PADDING, "base64url");
}

}  // namespace custos::common
