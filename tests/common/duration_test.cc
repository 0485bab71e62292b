// Human durations: units, sums, refusals and the shortest format.
#include "common/duration.h"

#include <gtest/gtest.h>

namespace custos::common {
namespace {

TEST(DurationTest, ParsesUnitsAndSums) {
  EXPECT_EQ(ParseDuration("90d").value(), std::chrono::hours(24 * 90));
  EXPECT_EQ(ParseDuration("1h30m").value(), std::chrono::minutes(90));
  EXPECT_EQ(ParseDuration("500ms").value(), std::chrono::milliseconds(500));
  EXPECT_EQ(ParseDuration("2w").value(), std::chrono::hours(24 * 14));
  EXPECT_EQ(ParseDuration("0").value(), std::chrono::milliseconds(0));
}

TEST(DurationTest, RefusesBadText) {
  for (std::string_view bad :
       {"", "d", "5", "5x", "-5m", "1.5h", "99999999999999999999s", "1d1d", "1h1d"}) {
    auto r = ParseDuration(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find("invalid duration"), std::string::npos);
  }
}

TEST(DurationTest, FormatsShortestAndRoundTrips) {
  EXPECT_EQ(FormatDuration(std::chrono::hours(24 * 7)), "7d");
  EXPECT_EQ(FormatDuration(std::chrono::minutes(90)), "1h30m");
  EXPECT_EQ(FormatDuration(std::chrono::milliseconds(0)), "0s");
  EXPECT_EQ(FormatDuration(std::chrono::milliseconds(1500)), "1s500ms");
  EXPECT_EQ(ParseDuration(FormatDuration(std::chrono::milliseconds(93784005))).value().count(),
            93784005);
}

}  // namespace
}  // namespace custos::common
