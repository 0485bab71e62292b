// Random ids: prefix + '_' + 26 base32 characters (128 bits from libsodium's CSPRNG).
#include "common/ids.h"

#include <sodium.h>

#include <array>

namespace custos::common {
namespace {
constexpr char kAlphabet[] = "0123456789abcdefghjkmnpqrstvwxyz";  // Crockford base32
constexpr size_t kIdChars = 26;
}  // namespace

std::string NewId(std::string_view prefix) {
  std::array<uint8_t, 17> random{};  // 128 bits used; one spare byte simplifies the loop
  randombytes_buf(random.data(), 16);
  std::string id(prefix);
  id.push_back('_');
  // 26 characters * 5 bits = 130 bits: 128 random bits, then two zero bits.
  unsigned bits = 0;
  uint32_t acc = 0;
  size_t byte = 0;
  for (size_t i = 0; i < kIdChars; ++i) {
    while (bits < 5) {
      acc = (acc << 8) | random[byte++];
      bits += 8;
    }
    id.push_back(kAlphabet[(acc >> (bits - 5)) & 31]);
    bits -= 5;
  }
  return id;
}

Status ValidateId(std::string_view id, std::string_view prefix) {
  std::string expected_prefix(prefix);
  expected_prefix.push_back('_');
  if (id.substr(0, expected_prefix.size()) != expected_prefix) {
    return InvalidArgumentError("id '" + std::string(id) + "' must start with '" + expected_prefix +
                                "'");
  }
  std::string_view rest = id.substr(expected_prefix.size());
  if (rest.size() != kIdChars) {
    return InvalidArgumentError("id '" + std::string(id) + "' must have " +
                                std::to_string(kIdChars) + " characters after the prefix");
  }
  for (char c : rest) {
    if (std::string_view(kAlphabet).find(c) == std::string_view::npos) {
      return InvalidArgumentError("id '" + std::string(id) + "' has invalid character '" +
                                  std::string(1, c) + "'");
    }
  }
  return Status::Ok();
}

}  // namespace custos::common
