// AES-256-GCM authenticated encryption (OpenSSL). Callers hold an Aead built from a
// key handle and never see the key again (after Tink's primitive interface).
//
// Sealed form: nonce (12 random bytes) | ciphertext | tag (16 bytes). Random 96-bit
// nonces keep the collision chance below 2^-32 for 2^32 messages per key; DEKs are
// per owner, far below that.
// Thread-safety: an Aead is immutable after construction and safe for concurrent use.
// Each thread keeps one encryption and one decryption context keyed for the Aead it
// used last, so repeated calls with the same key only set the nonce.
#pragma once

#include <memory>
#include <string>

#include "common/bytes.h"
#include "common/status.h"
#include "crypto/secret.h"

namespace custos::crypto {

class Aead {
 public:
  static constexpr size_t kKeySize = 32;
  static constexpr size_t kNonceSize = 12;
  static constexpr size_t kTagSize = 16;
  static constexpr size_t kOverhead = kNonceSize + kTagSize;

  // The key must be 32 bytes.
  static Result<Aead> Create(const SecretBytes& key);

  Aead(Aead&&) noexcept;
  Aead& operator=(Aead&&) noexcept;
  ~Aead();

  common::Bytes Seal(common::ByteView plaintext, common::ByteView associated_data) const;
  // Appends to `out` instead of allocating (hot paths reuse one buffer).
  void SealTo(common::ByteView plaintext, common::ByteView associated_data,
              common::Bytes& out) const;

  void SealTo(common::ByteView plaintext, common::ByteView associated_data, std::string& out) const;

  // DataLoss when the tag does not verify (wrong key, tampered bytes, or moved to
  // another record); InvalidArgument when the input is too short to be sealed.
  // On failure `out` is left as it was.
  Result<common::Bytes> Open(common::ByteView sealed, common::ByteView associated_data) const;
  Status OpenTo(common::ByteView sealed, common::ByteView associated_data,
                common::Bytes& out) const;
  Status OpenTo(common::ByteView sealed, common::ByteView associated_data, std::string& out) const;

 private:
  struct Impl;
  explicit Aead(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace custos::crypto
