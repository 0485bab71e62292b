// A fast base64url decoder (RFC 4648 section 5, unpadded) for PUBLIC data only, such as
// the body and footer of a PASETO token, which is decoded on every token verification.
//
// It runs in variable time: how long it takes, and which branches it takes, depend on the
// input. Never give it a secret (a key, an API key secret, a PASERK local key): those go
// through common::Base64UrlDecode (bytes.h), which uses libsodium's constant-time codec.
// It is exactly as strict as that one (no padding, no character outside A-Z a-z 0-9 - _,
// no length of 4n+1, zero trailing bits), so both accept the same texts and decode them to
// the same bytes; tests/crypto/paseto_public_base64url_test.cc compares them.
// Thread-safety: free functions over values; safe from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "common/bytes.h"
#include "common/status.h"

namespace custos::common {

// The number of bytes `text_size` base64url characters decode to, or InvalidArgument
// for a length that no unpadded base64url text has (4n+1).
Result<size_t> PublicBase64UrlDecodedSize(size_t text_size);

// Decodes `text` into `out`, whose size must be PublicBase64UrlDecodedSize(text.size())
// (InvalidArgument otherwise). On error, InvalidArgument saying what is wrong and at which
// offset, and `out` holds unspecified bytes.
Status PublicBase64UrlDecodeInto(std::string_view text, std::span<uint8_t> out);

// The same into a new buffer.
Result<Bytes> PublicBase64UrlDecode(std::string_view text);
// The same into a string (for text such as a PASETO footer).
Result<std::string> PublicBase64UrlDecodeToString(std::string_view text);

}  // namespace custos::common
