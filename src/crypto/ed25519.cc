// Ed25519 over libsodium's crypto_sign_* API.
#include "crypto/ed25519.h"

#include <sodium.h>

#include <cstring>

#include "crypto/random.h"

namespace custos::crypto {

Result<Ed25519PublicKey> Ed25519PublicKey::FromBytes(common::ByteView bytes) {
  if (bytes.size() != kSize) {
    return InvalidArgumentError("Ed25519 public key must be 32 bytes, got " +
                                std::to_string(bytes.size()));
  }
  Ed25519PublicKey key;
  std::memcpy(key.bytes_.data(), bytes.data(), kSize);
  return key;
}

bool Ed25519PublicKey::Verify(common::ByteView message, common::ByteView signature) const {
  if (signature.size() != crypto_sign_BYTES) return false;
  InitCrypto();
  return crypto_sign_verify_detached(signature.data(), message.data(), message.size(),
                                     bytes_.data()) == 0;
}

Ed25519PrivateKey Ed25519PrivateKey::Generate() {
  SecretBytes seed = SecretBytes::Random(crypto_sign_SEEDBYTES);
  return *FromSeed(seed);
}

Result<Ed25519PrivateKey> Ed25519PrivateKey::FromSeed(const SecretBytes& seed) {
  if (seed.size() != crypto_sign_SEEDBYTES) {
    return InvalidArgumentError("Ed25519 seed must be 32 bytes, got " +
                                std::to_string(seed.size()));
  }
  InitCrypto();
  Ed25519PrivateKey key;
  key.secret_key_ = SecretBytes(crypto_sign_SECRETKEYBYTES);
  std::array<uint8_t, crypto_sign_PUBLICKEYBYTES> pk{};
  crypto_sign_seed_keypair(pk.data(), key.secret_key_.span().data(), seed.span().data());
  key.public_key_ = *Ed25519PublicKey::FromBytes(pk);
  return key;
}

Result<Ed25519PrivateKey> Ed25519PrivateKey::FromSecretKey(common::ByteView secret_key) {
  if (secret_key.size() != crypto_sign_SECRETKEYBYTES) {
    return InvalidArgumentError("Ed25519 secret key must be 64 bytes, got " +
                                std::to_string(secret_key.size()));
  }
  CUSTOS_ASSIGN_OR_RETURN(Ed25519PrivateKey key,
                          FromSeed(SecretBytes::CopyOf(secret_key.first(32))));
  // The second half must be the public key of the seed, or the key is inconsistent.
  if (!ConstantTimeEquals(key.public_key_.bytes(), secret_key.subspan(32))) {
    return InvalidArgumentError("Ed25519 secret key: public half does not match the seed");
  }
  return key;
}

Ed25519Signature Ed25519PrivateKey::Sign(common::ByteView message) const {
  Ed25519Signature sig{};
  crypto_sign_detached(sig.data(), nullptr, message.data(), message.size(),
                       secret_key_.span().data());
  return sig;
}

SecretBytes Ed25519PrivateKey::Seed() const {
  return SecretBytes::CopyOf(secret_key_.span().first(crypto_sign_SEEDBYTES));
}

Ed25519PrivateKey Ed25519PrivateKey::Clone() const {
  Ed25519PrivateKey key;
  key.secret_key_ = secret_key_.Clone();
  key.public_key_ = public_key_;
  return key;
}

}  // namespace custos::crypto
