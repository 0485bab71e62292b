// SHA-256 (OpenSSL, which uses the CPU's SHA extensions where present) and
// HMAC-SHA256 (libsodium).
// Thread-safety: free functions are safe from any thread; a Sha256 object is for
// one thread at a time.
#pragma once

#include <array>
#include <cstdint>
#include <memory>

#include "common/bytes.h"
#include "crypto/secret.h"

namespace custos::crypto {

using Digest = std::array<uint8_t, 32>;

Digest Sha256Of(common::ByteView data);

// Incremental SHA-256.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;

  Sha256& Update(common::ByteView data);
  Sha256& Update(uint8_t byte) { return Update(common::ByteView(&byte, 1)); }
  // Returns the digest and resets the object for reuse.
  Digest Finish();

 private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
};

Digest HmacSha256(common::ByteView key, common::ByteView message);

// Checks a MAC in constant time.
bool HmacSha256Verify(common::ByteView key, common::ByteView message, common::ByteView mac);

}  // namespace custos::crypto
