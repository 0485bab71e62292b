// Token buckets: burst, refill, Retry-After, independence of keys, bounded memory.
#include "guard/rate_limiter.h"

#include <gtest/gtest.h>

namespace custos::guard {
namespace {

using std::chrono::milliseconds;

common::FakeClock MakeClock() {
  return common::FakeClock(common::TimePoint(std::chrono::seconds(1000)));
}

TEST(RateLimiter, BurstThenRefusalWithRetryAfter) {
  common::FakeClock clock = MakeClock();
  RateLimiter limiter(clock, {.per_second = 2, .burst = 3});
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.Take("User::\"alice\"").admitted) << i;
  Admission refused = limiter.Take("User::\"alice\"");
  EXPECT_FALSE(refused.admitted);
  EXPECT_EQ(refused.retry_after_seconds, 1);
}

TEST(RateLimiter, RefillsAtTheSustainedRate) {
  common::FakeClock clock = MakeClock();
  RateLimiter limiter(clock, {.per_second = 2, .burst = 2});
  EXPECT_TRUE(limiter.Take("k").admitted);
  EXPECT_TRUE(limiter.Take("k").admitted);
  EXPECT_FALSE(limiter.Take("k").admitted);
  clock.Advance(milliseconds(499));
  EXPECT_FALSE(limiter.Take("k").admitted);  // 0.998 tokens
  clock.Advance(milliseconds(2));
  EXPECT_TRUE(limiter.Take("k").admitted);
  clock.Advance(std::chrono::seconds(60));  // never above the burst
  EXPECT_TRUE(limiter.Take("k").admitted);
  EXPECT_TRUE(limiter.Take("k").admitted);
  EXPECT_FALSE(limiter.Take("k").admitted);
}

TEST(RateLimiter, RetryAfterCoversASlowRate) {
  common::FakeClock clock = MakeClock();
  RateLimiter limiter(clock, {.per_second = 0.1, .burst = 1});
  EXPECT_TRUE(limiter.Take("k").admitted);
  EXPECT_EQ(limiter.Take("k").retry_after_seconds, 10);
}

TEST(RateLimiter, KeysAreIndependent) {
  common::FakeClock clock = MakeClock();
  RateLimiter limiter(clock, {.per_second = 1, .burst = 1});
  EXPECT_TRUE(limiter.Take("a").admitted);
  EXPECT_FALSE(limiter.Take("a").admitted);
  EXPECT_TRUE(limiter.Take("b").admitted);
}

TEST(RateLimiter, ManyKeysStayBoundedAndBusyKeysKeepTheirState) {
  common::FakeClock clock = MakeClock();
  RateLimiter limiter(clock, {.per_second = 1, .burst = 1}, /*max_keys=*/160);
  EXPECT_TRUE(limiter.Take("busy").admitted);
  // Idle (full) buckets are evicted first, so a flood of one-off keys cannot reset "busy"
  // unless every bucket is busy.
  for (int i = 0; i < 100; ++i) {
    limiter.Take("once-" + std::to_string(i));
    clock.Advance(milliseconds(1));
  }
  EXPECT_FALSE(limiter.Take("busy").admitted);
}

}  // namespace
}  // namespace custos::guard
