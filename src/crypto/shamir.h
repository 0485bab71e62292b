// Shamir secret sharing of the root key over GF(2^8) (libgfshare, with libsodium's
// CSPRNG plugged in as its randomness source), and the text form of a share that
// operators copy around.
//
// Text form: "custos-share-v1:" + base64url(tag[4] | threshold | x | y[n] | check[4]),
// where tag identifies the data directory's seal, x is the share's coordinate and
// check = SHA-256("custos-share-v1" | the preceding bytes)[0..4]. The check catches
// typos; the tag catches shares from another data directory; the root-key canary
// (root_key.h) catches anything else.
// Thread-safety: free functions; safe from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "crypto/secret.h"

namespace custos::crypto {

struct Share {
  std::array<uint8_t, 4> tag{};
  uint8_t threshold = 0;
  uint8_t x = 0;  // 1..255, distinct per share
  SecretBytes y;  // same length as the secret
};

// Splits `secret` into `count` shares, any `threshold` of which rebuild it.
// 2 <= threshold <= count <= 255.
Result<std::vector<Share>> SplitSecret(const SecretBytes& secret, int count, int threshold,
                                       const std::array<uint8_t, 4>& tag);

// Rebuilds the secret from at least `threshold` distinct shares. The result is only
// as right as the shares: callers must check it (see RootKeyCanary).
Result<SecretBytes> CombineShares(const std::vector<Share>& shares);

std::string EncodeShare(const Share& share);
// `position` (1-based) names the share in error messages.
Result<Share> DecodeShare(std::string_view text, int position);

}  // namespace custos::crypto
