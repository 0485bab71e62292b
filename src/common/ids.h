// Identifiers: random, URL-safe ids for requests, tokens, grants and keys.
// Form: a short prefix naming the kind, '_', then 128 random bits in base32
// (lower case, 26 characters), e.g. "req_6gq3d2v4m0...". Prefixes make ids
// self-describing in logs and audit events.
// Thread-safety: free functions; safe from any thread (libsodium's RNG is thread-safe).
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace custos::common {

std::string NewId(std::string_view prefix);

// Checks the shape of an id with the given prefix; says what is wrong if it is not one.
Status ValidateId(std::string_view id, std::string_view prefix);

}  // namespace custos::common
