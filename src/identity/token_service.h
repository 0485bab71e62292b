// TokenService: issues, verifies and revokes custos access tokens (PASETO v4.public).
//
// Issue: claims (token_claims.h) signed with the current issuer key (token_keys.h); the
// footer is {"kid":"k4.pid.…"} and the audience is bound as the implicit assertion, so a
// token presented to another audience fails the signature check. The issue event is
// durable in the audit log before the token is returned (fail closed).
//
// Verify, in order: header (a v4.local token is refused by name), footer and key id,
// signature, strict claims, issuer and audience, time (exp strictly; nbf with the clock
// skew allowance), revocation. A token that verified is cached by its exact bytes;
// a hit re-checks expiry against the clock on every call and revocation whenever the
// revocation epoch moved, so a revoked token is refused from the very next call. Every
// refusal is Unauthenticated, with the failed check in the message, and is audited as
// "identity.token.verify" (if that append fails, the message says so as well).
//
// Audit events never carry a token or a key: only the token id's MAC under the audit
// salt ("token_id"), the principal uid, purpose and environment. The event's principal is
// the Caller's (identity_audit.h), or the token's subject when the caller is anonymous.
// Thread-safety: safe for concurrent use from any number of threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "audit/event.h"
#include "audit/log.h"
#include "common/clock.h"
#include "common/status.h"
#include "crypto/keyring.h"
#include "identity/identity_audit.h"
#include "identity/token_cache.h"
#include "identity/token_claims.h"
#include "identity/token_keys.h"
#include "identity/token_revocation.h"
#include "storage/kv.h"

namespace custos::identity {

struct TokenServiceOptions {
  // The iss claim this server writes and requires. Default "custos".
  std::string issuer = "custos";
  // The audience this server accepts, and the default audience of issued tokens.
  // Default "custos".
  std::string audience = "custos";
  // Allowance for a token whose nbf is slightly ahead of this clock (another server's
  // clock). exp is checked strictly. Default 30 s.
  std::chrono::seconds clock_skew{30};
  // Verified tokens kept in the cache, over this many shards. Defaults 65536 and 16.
  size_t cache_capacity = 65536;
  size_t cache_shards = 16;
};

struct TokenRequest {
  std::string subject;  // principal uid, already authenticated by the caller
  std::string purpose;
  Environment environment = Environment::kDev;
  std::string zone;
  std::vector<std::string> resources;  // see TokenScope for patterns
  std::vector<std::string> actions;
  // Default kDefaultTokenLifetime (15 min); more than kMaxTokenLifetime (1 h) is refused.
  std::chrono::seconds lifetime = kDefaultTokenLifetime;
  // Empty: the service's audience.
  std::string audience;
};

struct IssuedToken {
  std::string token;  // the bearer secret: hand it to the client, never log it
  TokenClaims claims;
};

class TokenService {
 public:
  // Opens (creating on first use) the issuer keys and loads the revocation list. Every
  // reference must outlive the service.
  static Result<std::unique_ptr<TokenService>> Open(storage::Kv& kv, crypto::Keyring& keyring,
                                                    audit::AuditLog& audit,
                                                    const audit::AuditSalt& salt,
                                                    const common::Clock& clock,
                                                    TokenServiceOptions options = {});

  // InvalidArgument for a bad request (empty field, unknown scope item, lifetime not in
  // (0, 1 h]); the audit error if the issue event cannot be appended.
  Result<IssuedToken> Issue(const TokenRequest& request, const Caller& caller = {});

  // The token's claims, or Unauthenticated saying which check failed.
  Result<std::shared_ptr<const TokenClaims>> Verify(std::string_view token,
                                                    const Caller& caller = {});

  // Revokes one token by id, effective for the next Verify on any thread. The
  // revocation is durable before the audit append; an audit failure is returned but
  // the revocation stands.
  Status RevokeToken(std::string_view token_id, const Caller& caller);
  // Revokes every token of `subject` issued at or before now.
  Status RevokeSubjectTokens(std::string_view subject, const Caller& caller);

  // New issuer key; tokens of the previous key keep verifying until they expire.
  Result<TokenKeyInfo> RotateSigningKey(const Caller& caller);

  TokenKeySet& keys() { return *keys_; }
  TokenRevocationList& revocations() { return *revocations_; }
  size_t cache_size() const { return cache_.size(); }
  const TokenServiceOptions& options() const { return options_; }

 private:
  TokenService(std::unique_ptr<TokenKeySet> keys, std::unique_ptr<TokenRevocationList> revocations,
               audit::AuditLog& audit, const audit::AuditSalt& salt, const common::Clock& clock,
               TokenServiceOptions options);
  // The uncached path: Ed25519 and the strict parse. `token_id` gets the jti once known.
  Result<std::shared_ptr<const TokenClaims>> VerifyUncached(std::string_view token,
                                                            size_t token_hash,
                                                            common::TimePoint now, uint64_t epoch,
                                                            std::string& token_id);
  Status CheckTime(const TokenClaims& claims, common::TimePoint now) const;
  Status Refuse(Status reason, const TokenClaims* claims, std::string_view token_id,
                const Caller& caller);
  Status Audit(std::string_view action, std::string_view principal, std::string_view token_id,
               const TokenClaims* claims, audit::Outcome outcome, std::string_view detail,
               const Caller& caller);

  std::unique_ptr<TokenKeySet> keys_;
  std::unique_ptr<TokenRevocationList> revocations_;
  audit::AuditLog& audit_;
  const audit::AuditSalt& salt_;
  const common::Clock& clock_;
  const TokenServiceOptions options_;
  TokenCache cache_;
};

// "{"kid":"<key id>"}": the footer of every custos access token.
std::string TokenFooter(std::string_view key_id);

}  // namespace custos::identity
