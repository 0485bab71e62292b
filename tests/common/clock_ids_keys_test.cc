// Clock and RFC 3339, ids, and the order-preserving key encoding.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "common/clock.h"
#include "common/ids.h"
#include "common/key_encoding.h"

namespace custos::common {
namespace {

TEST(ClockTest, FakeClockMovesOnlyWhenTold) {
  FakeClock clock(FromUnixSeconds(100));
  EXPECT_EQ(ToUnixSeconds(clock.Now()), 100);
  clock.Advance(std::chrono::seconds(5));
  EXPECT_EQ(ToUnixSeconds(clock.Now()), 105);
}

TEST(ClockTest, Rfc3339RoundTrip) {
  EXPECT_EQ(FormatRfc3339(FromUnixSeconds(0)), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatRfc3339(FromUnixSeconds(1'800'000'000)), "2027-01-15T08:00:00Z");
  EXPECT_EQ(FormatRfc3339(FromUnixMicros(1'500'000)), "1970-01-01T00:00:01.500000Z");
  EXPECT_EQ(FormatRfc3339(FromUnixSeconds(-1)), "1969-12-31T23:59:59Z");
  EXPECT_EQ(ToUnixSeconds(*ParseRfc3339("2024-02-29T12:00:00+02:00")),
            ToUnixSeconds(*ParseRfc3339("2024-02-29T10:00:00Z")));
  EXPECT_EQ(ToUnixMicros(*ParseRfc3339("1970-01-01T00:00:00.25Z")), 250000);
  EXPECT_EQ(FormatRfc3339(FromUnixMicros(-62135596800000000)), "0001-01-01T00:00:00Z");
  EXPECT_EQ(FormatRfc3339(FromUnixMicros(253402300799999999)), "9999-12-31T23:59:59.999999Z");
  EXPECT_EQ(FormatRfc3339(FromUnixSeconds(253402300800)), "10000-01-01T00:00:00Z");
  // Every microsecond-precision time from year 1 to 9999 reads back to itself.
  uint64_t state = 88172645463325252ull;
  for (int i = 0; i < 20000; ++i) {
    state ^= state << 13, state ^= state >> 7, state ^= state << 17;
    const int64_t us = -62135596800000000 + static_cast<int64_t>(state % 315537897600000000ull);
    const std::string text = FormatRfc3339(FromUnixMicros(us));
    auto back = ParseRfc3339(text);
    ASSERT_TRUE(back.ok()) << text;
    ASSERT_EQ(ToUnixMicros(*back), us) << text;
  }
}

TEST(ClockTest, Rfc3339ErrorsSayWhere) {
  EXPECT_EQ(ParseRfc3339("2023-02-29T00:00:00Z").status().message(),
            "invalid RFC 3339 timestamp '2023-02-29T00:00:00Z': expected a valid day of month "
            "at offset 10 (expected e.g. 2026-01-31T12:00:00Z)");
  EXPECT_FALSE(ParseRfc3339("2024-01-01").ok());
  EXPECT_FALSE(ParseRfc3339("2024-01-01T25:00:00Z").ok());
  EXPECT_FALSE(ParseRfc3339("2024-01-01T00:00:00Zjunk").ok());
}

TEST(IdsTest, ShapeAndUniqueness) {
  std::string a = NewId("req");
  std::string b = NewId("req");
  EXPECT_NE(a, b);
  EXPECT_EQ(a.size(), 4u + 26u);
  EXPECT_TRUE(ValidateId(a, "req").ok());
  EXPECT_EQ(ValidateId(a, "tok").message(), "id '" + a + "' must start with 'tok_'");
  EXPECT_FALSE(ValidateId("req_short", "req").ok());
  EXPECT_FALSE(ValidateId("req_" + std::string(26, 'u'), "req").ok());  // 'u' not in alphabet
}

TEST(KeyEncodingTest, ByteOrderMatchesValueOrder) {
  std::mt19937_64 rng(7);
  std::vector<std::pair<int64_t, std::string>> parts;
  for (int i = 0; i < 500; ++i) {
    int64_t n = static_cast<int64_t>(rng());
    std::string s(rng() % 4, '\0');
    for (auto& c : s) c = "a\0\xff"[rng() % 3];
    parts.emplace_back(n, s);
  }
  auto encode = [](const std::pair<int64_t, std::string>& p) {
    return KeyBuilder().AddString(p.second).AddInt64(p.first).Release();
  };
  std::vector<std::pair<int64_t, std::string>> by_value = parts;
  std::sort(by_value.begin(), by_value.end(), [](auto& x, auto& y) {
    return x.second != y.second ? x.second < y.second : x.first < y.first;
  });
  std::sort(parts.begin(), parts.end(), [&](auto& x, auto& y) { return encode(x) < encode(y); });
  EXPECT_EQ(parts, by_value);
}

TEST(KeyEncodingTest, ReadBackAndMalformed) {
  std::string key = KeyBuilder()
                        .AddString(std::string("a\0b", 3))
                        .AddUint64(9)
                        .AddInt64(-4)
                        .AddUint32(7)
                        .Release();
  KeyReader r(key);
  EXPECT_EQ(*r.ReadString(), std::string("a\0b", 3));
  EXPECT_EQ(*r.ReadUint64(), 9u);
  EXPECT_EQ(*r.ReadInt64(), -4);
  EXPECT_EQ(*r.ReadUint32(), 7u);
  EXPECT_TRUE(r.Done());
  EXPECT_EQ(KeyReader("abc").ReadString().status().message(),
            "malformed string in key: missing terminator");
  EXPECT_EQ(KeyReader("ab").ReadUint64().status().message(),
            "key too short: expected 8 bytes for uint64, have 2");
  EXPECT_EQ(PrefixSuccessor("ab\xff"), "ac");
  EXPECT_EQ(PrefixSuccessor("\xff\xff"), "");
}

}  // namespace
}  // namespace custos::common
