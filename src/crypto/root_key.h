// The root key and how it is sealed. The root key (256 bits) wraps every KEK in the
// software backend; it is never stored in clear. A SealConfig, stored in the data
// directory, says how to rebuild it:
// - "shamir": split into k-of-n unseal shares printed once by `custos init`; rebuilt
//   from any k of them and checked against a canary (the root key's AEAD seal of a
//   fixed string), so wrong or too few shares give an error, never a wrong key.
// - "passphrase" (development): sealed by a key derived with Argon2id.
// - "pkcs11": no root key at all; KEKs live in the token (pkcs11_kek_backend.h).
// Thread-safety: free functions over values; safe from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/status.h"
#include "crypto/secret.h"

namespace custos::crypto {

enum class SealMode { kShamir, kPassphrase, kPkcs11 };
std::string_view SealModeName(SealMode mode);

// Argon2id cost for the passphrase mode. Defaults: libsodium's "moderate" limits.
struct PassphraseCost {
  uint64_t ops_limit = 3;
  uint64_t mem_limit_bytes = 256ull << 20;
  static PassphraseCost Interactive() { return {2, 64ull << 20}; }
};

struct SealConfig {
  SealMode mode = SealMode::kShamir;
  // shamir
  int shares = 0;
  int threshold = 0;
  std::array<uint8_t, 4> share_tag{};
  // shamir and passphrase: AEAD of a fixed string under the root key.
  common::Bytes canary;
  // passphrase
  common::Bytes salt;
  PassphraseCost cost;
  common::Bytes sealed_root_key;
  // pkcs11
  std::string pkcs11_module;
  std::string pkcs11_token_label;
  // Label prefix of this directory's KEK objects ("custos-<random>-kek-v"), so several
  // data directories can share one token without touching each other's keys.
  std::string pkcs11_key_prefix;

  std::string ToJson() const;
  // `source` names the file in error messages.
  static Result<SealConfig> FromJson(std::string_view json, std::string_view source);
};

struct ShamirInit {
  SealConfig config;
  std::vector<std::string> shares;  // text form; shown to the operator once
  SecretBytes root_key;
};
Result<ShamirInit> InitShamir(int shares, int threshold);
// Shares in any order; extra shares beyond the threshold are fine.
Result<SecretBytes> UnsealShamir(const SealConfig& config,
                                 const std::vector<std::string>& share_texts);

struct PassphraseInit {
  SealConfig config;
  SecretBytes root_key;
};
Result<PassphraseInit> InitPassphrase(const SecretBytes& passphrase, PassphraseCost cost = {});
// Unauthenticated on a wrong passphrase.
Result<SecretBytes> UnsealPassphrase(const SealConfig& config, const SecretBytes& passphrase);

SealConfig InitPkcs11(std::string module_path, std::string token_label);

}  // namespace custos::crypto
