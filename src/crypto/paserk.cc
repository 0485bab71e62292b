// PASERK k4 plain keys and ids. Base64url is done here with libsodium directly (not
// common::Base64Url*) so that key text and decoded key bytes stay in zeroizing buffers.
#include "crypto/paserk.h"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "crypto/random.h"

namespace custos::crypto {
namespace {

constexpr std::string_view kLocalPrefix = "k4.local.";
constexpr std::string_view kPublicPrefix = "k4.public.";
constexpr std::string_view kSecretPrefix = "k4.secret.";
constexpr std::string_view kLocalIdPrefix = "k4.lid.";
constexpr std::string_view kPublicIdPrefix = "k4.pid.";
constexpr std::string_view kSecretIdPrefix = "k4.sid.";
constexpr size_t kIdHashSize = 33;  // BLAKE2b-264
constexpr int kVariant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;

// prefix || base64url(data), in a zeroizing buffer.
SecretBytes EncodeSecret(std::string_view prefix, common::ByteView data) {
  const size_t encoded_with_nul = sodium_base64_encoded_len(data.size(), kVariant);
  SecretBytes scratch(prefix.size() + encoded_with_nul);
  std::memcpy(scratch.span().data(), prefix.data(), prefix.size());
  sodium_bin2base64(reinterpret_cast<char*>(scratch.span().data() + prefix.size()),
                    encoded_with_nul, data.data(), data.size(), kVariant);
  // Drop the NUL libsodium writes; `scratch` is wiped when it goes.
  return SecretBytes::CopyOf(scratch.span().first(scratch.size() - 1));
}

// Checks `prefix` and decodes exactly `size` bytes from the rest, into a zeroizing
// buffer.
Result<SecretBytes> DecodeSecret(std::string_view paserk, std::string_view prefix, size_t size) {
  if (!paserk.starts_with(prefix)) {
    std::string got(paserk.substr(0, std::min(paserk.size(), prefix.size())));
    for (char& c : got) {
      if (c < 0x20 || c > 0x7e) c = '?';
    }
    std::string hint;
    if (paserk.starts_with("k4.")) {
      hint = " (a PASERK of another type: use the parser for that type)";
    } else if (paserk.size() > 2 && paserk[0] == 'k' && paserk[2] == '.') {
      hint = " (only version 4 PASERKs are accepted)";
    }
    return InvalidArgumentError("PASERK: expected prefix '" + std::string(prefix) + "', got '" +
                                got + "'" + hint);
  }
  std::string_view text = paserk.substr(prefix.size());
  SecretBytes scratch(text.size() / 4 * 3 + 3);
  size_t decoded = 0;
  const char* end = nullptr;
  if (sodium_base642bin(scratch.span().data(), scratch.size(), text.data(), text.size(), nullptr,
                        &decoded, &end, kVariant) != 0 ||
      end != text.data() + text.size()) {
    size_t at = end ? static_cast<size_t>(end - text.data()) : 0;
    return InvalidArgumentError("PASERK " + std::string(prefix) +
                                ": not canonical unpadded base64url near offset " +
                                std::to_string(prefix.size() + at));
  }
  if (decoded != size) {
    return InvalidArgumentError("PASERK " + std::string(prefix) + ": key is " +
                                std::to_string(decoded) + " bytes, expected " +
                                std::to_string(size));
  }
  return SecretBytes::CopyOf(scratch.span().first(size));
}

std::string IdOf(std::string_view id_prefix, common::ByteView paserk) {
  InitCrypto();
  crypto_generichash_state state;
  crypto_generichash_init(&state, nullptr, 0, kIdHashSize);
  crypto_generichash_update(&state, reinterpret_cast<const uint8_t*>(id_prefix.data()),
                            id_prefix.size());
  crypto_generichash_update(&state, paserk.data(), paserk.size());
  std::array<uint8_t, kIdHashSize> digest{};
  crypto_generichash_final(&state, digest.data(), digest.size());
  return std::string(id_prefix) + common::Base64UrlEncode(digest);
}

SecretBytes SecretKeyBytes(const PasetoV4SecretKey& key) {
  // libsodium's 64-byte form: seed || public key.
  SecretBytes seed = key.ed25519().Seed();
  SecretBytes out(seed.size() + Ed25519PublicKey::kSize);
  std::memcpy(out.span().data(), seed.span().data(), seed.size());
  const auto& pk = key.ed25519().public_key().bytes();
  std::memcpy(out.span().data() + seed.size(), pk.data(), pk.size());
  return out;
}

}  // namespace

SecretBytes ToPaserk(const PasetoV4LocalKey& key) {
  return EncodeSecret(kLocalPrefix, key.key_material().span());
}

std::string ToPaserk(const PasetoV4PublicKey& key) {
  return std::string(kPublicPrefix) + common::Base64UrlEncode(key.ed25519().bytes());
}

SecretBytes ToPaserk(const PasetoV4SecretKey& key) {
  return EncodeSecret(kSecretPrefix, SecretKeyBytes(key).span());
}

Result<PasetoV4LocalKey> PaserkToLocalKey(std::string_view paserk) {
  CUSTOS_ASSIGN_OR_RETURN(SecretBytes bytes,
                          DecodeSecret(paserk, kLocalPrefix, PasetoV4LocalKey::kSize));
  return PasetoV4LocalKey::FromSecret(std::move(bytes));
}

Result<PasetoV4PublicKey> PaserkToPublicKey(std::string_view paserk) {
  CUSTOS_ASSIGN_OR_RETURN(SecretBytes bytes,
                          DecodeSecret(paserk, kPublicPrefix, Ed25519PublicKey::kSize));
  return PasetoV4PublicKey::FromBytes(bytes.span());
}

Result<PasetoV4SecretKey> PaserkToSecretKey(std::string_view paserk) {
  CUSTOS_ASSIGN_OR_RETURN(SecretBytes bytes,
                          DecodeSecret(paserk, kSecretPrefix, 2 * Ed25519PublicKey::kSize));
  Result<Ed25519PrivateKey> key = Ed25519PrivateKey::FromSecretKey(bytes.span());
  if (!key.ok()) return key.status().WithContext("PASERK k4.secret");
  return PasetoV4SecretKey(std::move(key).value());
}

std::string PaserkId(const PasetoV4LocalKey& key) {
  return IdOf(kLocalIdPrefix, ToPaserk(key).span());
}

std::string PaserkId(const PasetoV4PublicKey& key) {
  return IdOf(kPublicIdPrefix, common::AsBytes(ToPaserk(key)));
}

std::string PaserkId(const PasetoV4SecretKey& key) {
  return IdOf(kSecretIdPrefix, ToPaserk(key).span());
}

}  // namespace custos::crypto
