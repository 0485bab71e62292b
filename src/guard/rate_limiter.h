// Per-principal rate limits: one token bucket per key (a principal, or the client address
// before anyone is authenticated). A request takes one token; an empty bucket answers how
// long until the next token, which the server sends as Retry-After.
// Thread-safety: safe for concurrent use (sharded mutexes; buckets of different keys
// rarely contend).
#pragma once

#include <array>
#include <chrono>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/clock.h"

namespace custos::guard {

struct RateLimit {
  double per_second = 1000;  // sustained rate
  double burst = 2000;       // bucket size
};

// What Take answers.
struct Admission {
  bool admitted = true;
  // When refused: seconds until a token is available (at least 1, for Retry-After).
  int64_t retry_after_seconds = 0;
};

class RateLimiter {
 public:
  // `clock` must outlive the limiter. `max_keys` bounds memory: when a shard is full, its
  // full (idle) buckets are dropped first, so a flood of new keys cannot grow it without end.
  RateLimiter(const common::Clock& clock, RateLimit limit, size_t max_keys = 100000);

  Admission Take(std::string_view key);

  const RateLimit& limit() const { return limit_; }

 private:
  struct Bucket {
    double tokens = 0;
    common::TimePoint refilled;
  };
  struct Shard {
    std::mutex mu;
    std::unordered_map<std::string, Bucket> buckets;
  };
  static constexpr size_t kShards = 16;

  void Refill(Bucket& bucket, common::TimePoint now) const;
  void Evict(Shard& shard, common::TimePoint now);

  const common::Clock& clock_;
  const RateLimit limit_;
  const size_t max_keys_per_shard_;
  std::array<Shard, kShards> shards_;
};

}  // namespace custos::guard
