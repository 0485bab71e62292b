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

  // The hash the cache files `token` under. A token is hashed once per verification:
  // callers that Find and then Insert pass it to both (a token is ~700 bytes).
  static size_t Hash(std::string_view token) { return std::hash<std::string_view>{}(token); }

  // The entry for exactly these token bytes, or nullptr. `hash` must be Hash(token).
  std::shared_ptr<Entry> Find(std::string_view token, size_t hash) const;
  std::shared_ptr<Entry> Find(std::string_view token) const { return Find(token, Hash(token)); }
  void Insert(std::string_view token, size_t hash, std::shared_ptr<const TokenClaims> claims,
              uint64_t checked_epoch, common::TimePoint now);
  void Insert(std::string_view token, std::shared_ptr<const TokenClaims> claims,
              uint64_t checked_epoch, common::TimePoint now) {
    Insert(token, Hash(token), std::move(claims), checked_epoch, now);
  }
  void Erase(std::string_view token);
  void Clear();
  size_t size() const;

 private:
  // Map keys carry their hash, so the map never hashes a token again.
  struct Key {
    size_t hash;
    std::string token;
  };
  struct KeyView {
    size_t hash;
    std::string_view token;
  };
  struct KeyHash {
    using is_transparent = void;
    size_t operator()(const Key& k) const { return k.hash; }
    size_t operator()(const KeyView& k) const { return k.hash; }
  };
  struct KeyEqual {
    using is_transparent = void;
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      return a.hash == b.hash && std::string_view(a.token) == std::string_view(b.token);
    }
  };
  struct Shard {
    mutable std::shared_mutex mu;
    std::unordered_map<Key, std::shared_ptr<Entry>, KeyHash, KeyEqual> map;
  };
  Shard& ShardFor(size_t hash) const;

  size_t per_shard_capacity_;
  std::unique_ptr<Shard[]> shards_;
  size_t shard_count_;
};

}  // namespace custos::identity
