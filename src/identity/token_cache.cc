// TokenCache: a sharded, bounded map from token bytes to verified claims.
#include "identity/token_cache.h"

#include <algorithm>

namespace custos::identity {

TokenCache::TokenCache(size_t capacity, size_t shards)
    : per_shard_capacity_(std::max<size_t>(1, capacity / std::max<size_t>(1, shards))),
      shards_(std::make_unique<Shard[]>(std::max<size_t>(1, shards))),
      shard_count_(std::max<size_t>(1, shards)) {}

TokenCache::Shard& TokenCache::ShardFor(size_t hash) const {
  // The low bits pick the bucket inside the shard's map; use the high bits here.
  return shards_[(hash >> 32) % shard_count_];
}

std::shared_ptr<TokenCache::Entry> TokenCache::Find(std::string_view token, size_t hash) const {
  Shard& shard = ShardFor(hash);
  std::shared_lock lock(shard.mu);
  auto it = shard.map.find(KeyView{hash, token});
  if (it == shard.map.end()) return nullptr;
  return it->second;
}

void TokenCache::Insert(std::string_view token, size_t hash,
                        std::shared_ptr<const TokenClaims> claims, uint64_t checked_epoch,
                        common::TimePoint now) {
  Shard& shard = ShardFor(hash);
  auto entry = std::make_shared<Entry>(std::move(claims), checked_epoch);
  std::unique_lock lock(shard.mu);
  if (shard.map.size() >= per_shard_capacity_ && !shard.map.contains(KeyView{hash, token})) {
    std::erase_if(shard.map, [&](const auto& kv) { return kv.second->claims->expires_at <= now; });
    if (shard.map.size() >= per_shard_capacity_) shard.map.erase(shard.map.begin());
  }
  // One walk of the bucket when the token is new (the common case).
  auto [it, inserted] = shard.map.emplace(Key{hash, std::string(token)}, entry);
  if (!inserted) it->second = std::move(entry);
}

void TokenCache::Erase(std::string_view token) {
  const size_t hash = Hash(token);
  Shard& shard = ShardFor(hash);
  std::unique_lock lock(shard.mu);
  auto it = shard.map.find(KeyView{hash, token});
  if (it != shard.map.end()) shard.map.erase(it);
}

void TokenCache::Clear() {
  for (size_t i = 0; i < shard_count_; ++i) {
    std::unique_lock lock(shards_[i].mu);
    shards_[i].map.clear();
  }
}

size_t TokenCache::size() const {
  size_t n = 0;
  for (size_t i = 0; i < shard_count_; ++i) {
    std::shared_lock lock(shards_[i].mu);
    n += shards_[i].map.size();
  }
  return n;
}

}  // namespace custos::identity
