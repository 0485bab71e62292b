// API keys: long-lived credentials of users and service accounts, used only to obtain
// short-lived access tokens. A key is 256 random bits shown once as
//
//   custos_ak_<26-character key id>_<43-character base64url secret>   (80 characters)
//
// and never stored: the store keeps HMAC-SHA256(pepper, domain | key id | secret), where
// the pepper is a 256-bit key kept sealed by the keyring, so a copy of the database alone
// cannot test guesses. Each key has an expiry (required), a revoked flag and a last-use time.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.h"
#include "common/clock.h"
#include "common/status.h"
#include "crypto/keyring.h"
#include "crypto/secret.h"
#include "identity/directory.h"
#include "identity/identity_audit.h"
#include "storage/encrypted_keyspace.h"
#include "storage/kv.h"

namespace custos::identity {

inline constexpr std::string_view kApiKeyPrefix = "custos_ak_";
inline constexpr size_t kApiKeyIdChars = 26;      // Crockford base32, 128 bits
inline constexpr size_t kApiKeySecretBytes = 32;  // 256 bits
inline constexpr size_t kApiKeySecretChars = 43;  // base64url, unpadded
inline constexpr std::string_view kApiKeyIdAlphabet = "0123456789abcdefghjkmnpqrstvwxyz";
inline constexpr size_t kApiKeyTextLength =
    kApiKeyPrefix.size() + kApiKeyIdChars + 1 + kApiKeySecretChars;

// A key's text split into its parts. `key_id` is the public handle ("ak_<26 chars>").
struct ParsedApiKey {
  std::string key_id;
  crypto::SecretBytes secret;
};

// Strict parse of the presented text: exact length, prefix, key id alphabet, separator and
// canonical base64url. InvalidArgument says which part is wrong, by character position,
// and never repeats the text (it may be a real key with a typo). Defined at the end of this
// header (it needs only common/ and crypto/), so the fuzz harness links it on its own.
Result<ParsedApiKey> ParseApiKey(std::string_view text);

struct ApiKeyInfo {
  std::string key_id;  // "ak_..."
  PrincipalId principal;
  std::string description;  // what the key is for, as given at creation
  common::TimePoint created;
  common::TimePoint expires;
  bool revoked = false;
  std::optional<common::TimePoint> revoked_at;
  std::optional<common::TimePoint> last_used;
};

// Returned once by Create: the only time the key text exists outside the caller's hands.
struct NewApiKey {
  ApiKeyInfo info;
  crypto::SecretBytes text;  // the full "custos_ak_..." text; show once, never log or store
};

struct ApiKeyOptions {
  // Keyring owner of the DEK that seals key records and the pepper. Default "identity".
  std::string key_owner = "identity";
  // Lifetime when the caller gives none. Default 90 days.
  std::chrono::seconds default_ttl = std::chrono::hours(24 * 90);
  // Longest lifetime a caller may ask for. Default 365 days.
  std::chrono::seconds max_ttl = std::chrono::hours(24 * 365);
  // Longest description, in bytes. Default 256.
  size_t max_description_bytes = 256;
};

// Thread-safety: safe for concurrent use. The last-use time lives in its own record, so
// authentication never rewrites (and so can never undo) a concurrent revocation.
// Fail closed: creation and revocation append their audit event before writing; each
// authentication (success or failure) is audited before its answer is returned, and an
// authentication whose event cannot be appended fails.
class ApiKeys {
 public:
  // Loads the pepper (creating it on first use). `kv`, `keyring`, `directory` and `auditor`
  // must outlive the object.
  static Result<std::unique_ptr<ApiKeys>> Open(storage::Kv& kv, crypto::Keyring& keyring,
                                               const Directory& directory, IdentityAuditor& auditor,
                                               ApiKeyOptions options = {});

  // Creates a key for a user or service account that exists and is enabled. `ttl`
  // defaults to options.default_ttl; InvalidArgument if it is not positive or above
  // options.max_ttl.
  Result<NewApiKey> Create(const Caller& caller, const PrincipalId& principal,
                           std::string_view description,
                           std::optional<std::chrono::seconds> ttl = std::nullopt);

  // The principal the key belongs to. Every failure is Unauthenticated with a reason:
  // malformed key text, unknown key id, wrong secret, revoked, expired, principal disabled,
  // deleted, or deleted and created again (a key never passes to a new principal that
  // reuses an id). The state of a key (revoked, expired) is told only to a caller that
  // presented its correct secret.
  Result<PrincipalId> Authenticate(const Caller& caller, std::string_view text);

  // Revokes at once; NotFound for an unknown key id, FailedPrecondition if already revoked.
  Status Revoke(const Caller& caller, std::string_view key_id);

  // Revokes every unrevoked key of `principal` (e.g. when someone leaves) and returns how
  // many; each revocation is audited like Revoke.
  Result<size_t> RevokeAllFor(const Caller& caller, const PrincipalId& principal);

  // Key metadata (never secrets or MACs); NotFound for an unknown key id.
  Result<ApiKeyInfo> Get(std::string_view key_id);
  // Every key, or those of `principal`, ordered by key id.
  Result<std::vector<ApiKeyInfo>> List(const std::optional<PrincipalId>& principal = std::nullopt);

 private:
  struct Record;
  ApiKeys(storage::Kv& kv, storage::EncryptedKeyspace space, const Directory& directory,
          IdentityAuditor& auditor, ApiKeyOptions options, crypto::SecretBytes pepper)
      : kv_(kv),
        space_(std::move(space)),
        directory_(directory),
        auditor_(auditor),
        options_(std::move(options)),
        pepper_(std::move(pepper)) {}
  crypto::Digest Mac(std::string_view key_id, const crypto::SecretBytes& secret) const;
  Result<std::optional<Record>> Load(std::string_view key_id);
  Result<ApiKeyInfo> ToInfo(std::string_view key_id, const Record& record);
  // Audits a refused authentication and returns `reason` (or the audit failure).
  Status Refuse(const Caller& caller, std::string_view key_id, const std::string& principal,
                std::string_view detail, Status reason);

  storage::Kv& kv_;
  storage::EncryptedKeyspace space_;
  const Directory& directory_;
  IdentityAuditor& auditor_;
  const ApiKeyOptions options_;
  const crypto::SecretBytes pepper_;
  std::mutex revoke_mu_;  // serializes Revoke's read-modify-write
};

// ---------------------------------------------------------------------------------------

inline Result<ParsedApiKey> ParseApiKey(std::string_view text) {
  auto malformed = [](const std::string& what) {
    return InvalidArgumentError(
        "API key is malformed: " + what + " (expected custos_ak_<key id>_<secret>, " +
        std::to_string(kApiKeyTextLength) + " characters, exactly as it was shown at creation)");
  };
  if (text.size() != kApiKeyTextLength) {
    return malformed("it has " + std::to_string(text.size()) + " characters, not " +
                     std::to_string(kApiKeyTextLength));
  }
  if (text.substr(0, kApiKeyPrefix.size()) != kApiKeyPrefix) {
    return malformed("it does not start with '" + std::string(kApiKeyPrefix) + "'");
  }
  const std::string_view id_body = text.substr(kApiKeyPrefix.size(), kApiKeyIdChars);
  for (size_t i = 0; i < id_body.size(); ++i) {
    if (kApiKeyIdAlphabet.find(id_body[i]) == std::string_view::npos) {
      return malformed("character " + std::to_string(kApiKeyPrefix.size() + i + 1) +
                       " is not a key id character (0-9 and lower-case base32)");
    }
  }
  const size_t sep = kApiKeyPrefix.size() + kApiKeyIdChars;
  if (text[sep] != '_') {
    return malformed("character " + std::to_string(sep + 1) +
                     " must be '_' between the key id and the secret");
  }
  // The alphabet is checked here, not left to the decoder: libsodium 1.0.18 takes bytes
  // >= 0x80 as aliases of alphabet characters, which would give one key several texts.
  for (size_t i = sep + 1; i < text.size(); ++i) {
    const char c = text[i];
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
    if (!ok) {
      return malformed("character " + std::to_string(i + 1) +
                       " is not a base64url character (A-Z a-z 0-9 - _)");
    }
  }
  auto secret = common::Base64UrlDecode(text.substr(sep + 1));
  if (!secret.ok() || secret->size() != kApiKeySecretBytes) {
    if (secret.ok()) crypto::Zeroize(*secret);
    return malformed("the secret (characters " + std::to_string(sep + 2) + " to " +
                     std::to_string(text.size()) + ") is not canonical base64url of 32 bytes");
  }
  ParsedApiKey parsed;
  parsed.key_id = "ak_" + std::string(id_body);
  parsed.secret = crypto::SecretBytes::CopyOf(*secret);
  crypto::Zeroize(*secret);
  return parsed;
}

}  // namespace custos::identity
