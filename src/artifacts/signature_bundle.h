// Artifact signatures and their portable JSON forms: the signature bundle (a version's
// statement plus its signatures) and the trusted-keys document a verifier holds.
//
// Bundle JSON:
//   {"format":"custos-artifact-bundle/v1",
//    "statement":{"name","version","kind","sha256":"<hex>","size","media_type"},
//    "signatures":[{"signer","key_id","signature":"<base64url, no padding>"}]}
// Trusted keys JSON:
//   {"format":"custos-artifact-keys/v1",
//    "keys":[{"signer","key_id","public_key":"<base64url, no padding>"}]}
// Parsing is strict: unknown or duplicate members, wrong types, bad hex or base64url and
// documents over 64 KiB are rejected with InvalidArgument naming the JSON path
// (e.g. "signatures[0].key_id: ..."). A signature is Ed25519 over CanonicalStatement.
// Thread-safety: plain values and free functions; safe from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "artifacts/statement.h"
#include "common/status.h"
#include "crypto/ed25519.h"

namespace custos::artifacts {

inline constexpr std::string_view kBundleFormat = "custos-artifact-bundle/v1";
inline constexpr std::string_view kTrustedKeysFormat = "custos-artifact-keys/v1";
inline constexpr size_t kMaxBundleJsonBytes = 64 * 1024;
// The signer name of the server's own key.
inline constexpr std::string_view kServerSigner = "custos-server";
inline constexpr size_t kMaxSignerBytes = 256;

// "ed25519:" + lowercase hex of the first 8 bytes of SHA-256(public key).
std::string KeyIdOf(const crypto::Ed25519PublicKey& key);

struct ArtifactSignature {
  std::string signer;  // "custos-server" or a principal uid text, e.g. ServiceAccount::"trainer"
  std::string key_id;
  std::array<uint8_t, 64> signature{};
  friend bool operator==(const ArtifactSignature&, const ArtifactSignature&) = default;
};

// The portable proof of one version: statement + signature(s).
struct SignatureBundle {
  ArtifactStatement statement;
  std::vector<ArtifactSignature> signatures;
  friend bool operator==(const SignatureBundle&, const SignatureBundle&) = default;
};

std::string BundleToJson(const SignatureBundle& bundle);
Result<SignatureBundle> ParseBundle(std::string_view json);

// A public key the verifier trusts, and for whom.
struct TrustedKey {
  std::string signer;
  std::string key_id;
  crypto::Ed25519PublicKey key;
  friend bool operator==(const TrustedKey&, const TrustedKey&) = default;
};

std::string TrustedKeysToJson(const std::vector<TrustedKey>& keys);
// key_id must equal KeyIdOf(public_key) (InvalidArgument otherwise).
Result<std::vector<TrustedKey>> ParseTrustedKeys(std::string_view json);

// Signs CanonicalStatement(statement) with `key`; key_id is KeyIdOf(key.public_key()).
ArtifactSignature SignStatement(const ArtifactStatement& statement, std::string signer,
                                const crypto::Ed25519PrivateKey& key);

// True iff the signature verifies over CanonicalStatement(statement) with the trusted key
// whose key_id and signer both match the signature's.
bool VerifySignature(const ArtifactStatement& statement, const ArtifactSignature& signature,
                     const std::vector<TrustedKey>& trusted);

}  // namespace custos::artifacts
