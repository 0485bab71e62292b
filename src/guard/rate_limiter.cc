// Token buckets, refilled lazily on each Take from the elapsed time.
#include "guard/rate_limiter.h"

#include <algorithm>
#include <cmath>
#include <functional>

namespace custos::guard {

RateLimiter::RateLimiter(const common::Clock& clock, RateLimit limit, size_t max_keys)
    : clock_(clock), limit_(limit), max_keys_per_shard_(std::max<size_t>(1, max_keys / kShards)) {}

void RateLimiter::Refill(Bucket& bucket, common::TimePoint now) const {
  const double elapsed = std::chrono::duration<double>(now - bucket.refilled).count();
  if (elapsed > 0) {
    bucket.tokens = std::min(limit_.burst, bucket.tokens + elapsed * limit_.per_second);
    bucket.refilled = now;
  }
}

void RateLimiter::Evict(Shard& shard, common::TimePoint now) {
  // A full bucket holds no state worth keeping: dropping it changes no answer.
  for (auto it = shard.buckets.begin(); it != shard.buckets.end();) {
    Refill(it->second, now);
    it = it->second.tokens >= limit_.burst ? shard.buckets.erase(it) : std::next(it);
  }
  // Still full: every key is busy; drop an arbitrary half rather than grow without bound.
  if (shard.buckets.size() >= max_keys_per_shard_) {
    size_t drop = shard.buckets.size() / 2;
    for (auto it = shard.buckets.begin(); it != shard.buckets.end() && drop > 0; --drop) {
      it = shard.buckets.erase(it);
    }
  }
}

Admission RateLimiter::Take(std::string_view key) {
  const common::TimePoint now = clock_.Now();
  Shard& shard = shards_[std::hash<std::string_view>{}(key) % kShards];
  std::lock_guard lock(shard.mu);
  auto it = shard.buckets.find(std::string(key));
  if (it == shard.buckets.end()) {
    if (shard.buckets.size() >= max_keys_per_shard_) Evict(shard, now);
    it = shard.buckets.emplace(std::string(key), Bucket{limit_.burst, now}).first;
  }
  Bucket& bucket = it->second;
  Refill(bucket, now);
  if (bucket.tokens >= 1) {
    bucket.tokens -= 1;
    return {};
  }
  const double wait = (1 - bucket.tokens) / limit_.per_second;
  return {false, std::max<int64_t>(1, static_cast<int64_t>(std::ceil(wait)))};
}

}  // namespace custos::guard
