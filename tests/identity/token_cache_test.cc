// TokenCache: exact-bytes lookup, the bound per shard (expired entries go first), erase,
// and the per-entry revocation epoch.
#include "identity/token_cache.h"

#include <gtest/gtest.h>

namespace custos::identity {
namespace {

using namespace std::chrono_literals;

const common::TimePoint kNow = common::FromUnixSeconds(1'900'000'000);

std::shared_ptr<const TokenClaims> Claims(std::string id, common::TimePoint exp) {
  auto c = std::make_shared<TokenClaims>();
  c->token_id = std::move(id);
  c->expires_at = exp;
  return c;
}

TEST(TokenCacheTest, FindsOnlyTheExactBytes) {
  TokenCache cache(16, 4);
  cache.Insert("v4.public.abc", Claims("tok_a", kNow + 1min), 7, kNow);
  auto hit = cache.Find("v4.public.abc");
  ASSERT_NE(hit, nullptr);
  EXPECT_EQ(hit->claims->token_id, "tok_a");
  EXPECT_EQ(hit->checked_epoch.load(), 7u);
  EXPECT_EQ(cache.Find("v4.public.abd"), nullptr);
  EXPECT_EQ(cache.Find("v4.public.ab"), nullptr);
  cache.Erase("v4.public.abc");
  EXPECT_EQ(cache.Find("v4.public.abc"), nullptr);
  EXPECT_EQ(cache.size(), 0u);
}

TEST(TokenCacheTest, BoundedAndDropsExpiredEntriesFirst) {
  TokenCache cache(3, 1);
  cache.Insert("t1", Claims("tok_1", kNow + 1min), 1, kNow);
  cache.Insert("t2", Claims("tok_2", kNow + 1s), 1, kNow);
  cache.Insert("t3", Claims("tok_3", kNow + 1min), 1, kNow);
  EXPECT_EQ(cache.size(), 3u);
  // Full: at kNow + 2s the expired t2 makes room, the live ones stay.
  cache.Insert("t4", Claims("tok_4", kNow + 1min), 1, kNow + 2s);
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_EQ(cache.Find("t2"), nullptr);
  EXPECT_NE(cache.Find("t1"), nullptr);
  EXPECT_NE(cache.Find("t3"), nullptr);
  EXPECT_NE(cache.Find("t4"), nullptr);
  // Still full and nothing expired: one arbitrary entry goes.
  cache.Insert("t5", Claims("tok_5", kNow + 1min), 1, kNow + 2s);
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_NE(cache.Find("t5"), nullptr);
  // Re-inserting a present token replaces it without evicting another.
  cache.Insert("t5", Claims("tok_5b", kNow + 1min), 2, kNow + 2s);
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_EQ(cache.Find("t5")->claims->token_id, "tok_5b");
  cache.Clear();
  EXPECT_EQ(cache.size(), 0u);
}

TEST(TokenCacheTest, ManyShardsHoldTheirShare) {
  TokenCache cache(64, 8);
  for (int i = 0; i < 1000; ++i) {
    cache.Insert("token-" + std::to_string(i), Claims("tok", kNow + 1min), 1, kNow);
  }
  EXPECT_LE(cache.size(), 64u);
  EXPECT_GE(cache.size(), 56u);  // every shard fills up to its 8
}

}  // namespace
}  // namespace custos::identity
