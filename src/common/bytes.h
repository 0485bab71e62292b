// Byte strings and their text encodings: hex, base64 (RFC 4648 section 4) and
// base64url without padding (section 5, as PASETO and C2SP use it).
// Thread-safety: free functions over values; safe from any thread.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace custos::common {

using Bytes = std::vector<uint8_t>;
using ByteView = std::span<const uint8_t>;

inline ByteView AsBytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}
inline std::string_view AsChars(ByteView b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}
inline Bytes ToBytes(std::string_view s) { return Bytes(s.begin(), s.end()); }

std::string HexEncode(ByteView data);
// Accepts upper and lower case; rejects odd length and non-hex characters.
Result<Bytes> HexDecode(std::string_view hex);

std::string Base64Encode(ByteView data);  // with '=' padding
// Strict: canonical padding required, no whitespace, no non-zero trailing bits.
Result<Bytes> Base64Decode(std::string_view text);

std::string Base64UrlEncode(ByteView data);  // no padding
// Strict: no padding, no non-zero trailing bits (PASETO requires rejecting those).
Result<Bytes> Base64UrlDecode(std::string_view text);

}  // namespace custos::common
