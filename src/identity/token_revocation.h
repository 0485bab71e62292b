// Revoked access tokens: by token id (jti), or every token of a principal issued at or
// before a time. Persisted in the `identity` keyspace (token ids and principal uids are
// handles, not secrets) and mirrored in memory, so the check runs on every verification.
//
// The epoch: every revocation bumps epoch() after it is durable and visible to
// IsRevoked(). A verifier's cache remembers the epoch at which it last checked an entry,
// so a hit whose epoch is current skips the lookup, and any revocation that returned
// before a call forces that call to re-check (no stale cache).
// Thread-safety: safe for concurrent use; IsRevoked takes a shared lock.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/clock.h"
#include "common/status.h"
#include "identity/token_claims.h"
#include "storage/kv.h"

namespace custos::identity {

class TokenRevocationList {
 public:
  // Loads the persisted revocations; `kv` must outlive the list.
  static Result<std::unique_ptr<TokenRevocationList>> Load(storage::Kv& kv);

  // Revokes one token; `expires_at` (its exp) lets PurgeExpired forget it later.
  Status RevokeToken(std::string_view token_id, common::TimePoint expires_at);
  // Revokes every token of `subject` issued at or before `cutoff` (a later cutoff for
  // the same subject replaces an earlier one; an earlier one is ignored).
  Status RevokeSubject(std::string_view subject, common::TimePoint cutoff);

  // Why the token is revoked ("token tok_… was revoked"), or nullopt.
  std::optional<std::string> IsRevoked(const TokenClaims& claims) const;

  // Forgets token revocations whose tokens expired before `now` (they can no longer
  // verify anyway). Returns how many were removed.
  Result<size_t> PurgeExpired(common::TimePoint now);

  uint64_t epoch() const { return epoch_.load(std::memory_order_acquire); }
  size_t revoked_token_count() const;

 private:
  explicit TokenRevocationList(storage::Kv& kv) : kv_(kv) {}

  storage::Kv& kv_;
  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, common::TimePoint> tokens_;    // jti -> exp
  std::unordered_map<std::string, common::TimePoint> subjects_;  // sub -> cutoff
  std::atomic<uint64_t> epoch_{1};
};

}  // namespace custos::identity
