// TokenCache: verified access tokens by their exact bytes, so a token seen before costs a
// hash lookup instead of an Ed25519 verification and a JSON parse.
//
// Only tokens that verified are inserted (so an attacker cannot fill it with junk, nor
// choose colliding keys without a valid signature). It is bounded: each shard holds at
// most capacity/shards entries, and a full shard first drops expired entries, then an
// arbitrary one. An entry records the revocation epoch at which it was last checked;
// callers (TokenService) re-check revocation whenever the epoch moved, and check expiry
// on every hit, so the cache never decides validity on its own.
// Thread-safety: safe for concurrent use; lookups take one shard's shared lock.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "identity/token_claims.h"

namespace custos::identity {

class TokenCache {
 public:
  struct Entry {
    Entry(std::shared_ptr<const TokenClaims> c, uint64_t epoch)
        : claims(std::move(c)), checked_epoch(epoch) {}
    const std::shared_ptr<const TokenClaims> claims;
    // The revocation epoch at which this entry was last found not revoked.
    std::atomic<uint64_t> checked_epoch;
  };

  // `capacity` entries in all (at least one per shard), over `shards` shards (>= 1).
  TokenCache(size_t capacity, size_t shards);

  // The entry for exactly these token bytes, or nullptr.
  std::shared_ptr<Entry> Find(std::string_view token) const;
  void Insert(std::string_view token, std::shared_ptr<const TokenClaims> claims,
              uint64_t checked_epoch, common::TimePoint now);
  void Erase(std::string_view token);
  void Clear();
  size_t size() const;

 private:
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  struct Shard {
    mutable std::shared_mutex mu;
    std::unordered_map<std::string, std::shared_ptr<Entry>, StringHash, std::equal_to<>> map;
  };
  Shard& ShardFor(std::string_view token, size_t hash) const;

  size_t per_shard_capacity_;
  std::unique_ptr<Shard[]> shards_;
  size_t shard_count_;
};

}  // namespace custos::identity
