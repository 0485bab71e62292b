// Ed25519 signatures (libsodium). This is the one verifier custos uses for
// everything: checkpoints, signed notes, PASETO v4.public, artifact signatures.
// Its verdicts on the CCTV edge cases are pinned by tests/crypto.
// Keys are distinct types: a private key can only sign, a public key only verify.
// Thread-safety: immutable values; safe for concurrent use.
#pragma once

#include <array>
#include <cstdint>

#include "common/bytes.h"
#include "common/status.h"
#include "crypto/secret.h"

namespace custos::crypto {

using Ed25519Signature = std::array<uint8_t, 64>;

class Ed25519PublicKey {
 public:
  static constexpr size_t kSize = 32;
  static Result<Ed25519PublicKey> FromBytes(common::ByteView bytes);

  bool Verify(common::ByteView message, common::ByteView signature) const;
  const std::array<uint8_t, kSize>& bytes() const { return bytes_; }

  friend bool operator==(const Ed25519PublicKey&, const Ed25519PublicKey&) = default;

 private:
  std::array<uint8_t, kSize> bytes_{};
};

class Ed25519PrivateKey {
 public:
  static Ed25519PrivateKey Generate();
  // From the 32-byte seed (RFC 8032's private key).
  static Result<Ed25519PrivateKey> FromSeed(const SecretBytes& seed);
  // From libsodium's 64-byte form (seed | public key), as PASETO vectors give it.
  static Result<Ed25519PrivateKey> FromSecretKey(common::ByteView secret_key);

  Ed25519Signature Sign(common::ByteView message) const;
  const Ed25519PublicKey& public_key() const { return public_key_; }
  // The 32-byte seed, for sealing into the keyring.
  SecretBytes Seed() const;

  Ed25519PrivateKey Clone() const;

 private:
  Ed25519PrivateKey() = default;
  SecretBytes secret_key_;  // libsodium's 64-byte form
  Ed25519PublicKey public_key_;
};

}  // namespace custos::crypto
