// Extension type tests: the exact acceptance rules of ip, decimal, datetime and duration
// literals, and the arithmetic of their methods.
#include "policy/extensions.h"

#include <gtest/gtest.h>

namespace custos::policy {
namespace {

TEST(IpAddrTest, Parsing) {
  auto a = ParseIpAddr("192.168.0.1");
  ASSERT_TRUE(a.ok());
  EXPECT_FALSE(a->v6);
  EXPECT_EQ(a->prefix, 32);
  EXPECT_EQ(FormatIpAddr(*a), "192.168.0.1/32");
  auto b = ParseIpAddr("fe80::1:2/64");
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(b->v6);
  EXPECT_EQ(b->prefix, 64);
  EXPECT_EQ(FormatIpAddr(*b), "fe80:0:0:0:0:0:1:2/64");
  EXPECT_TRUE(ParseIpAddr("::").ok());
  EXPECT_TRUE(ParseIpAddr("1:2:3:4:5:6:7::").ok());
  EXPECT_TRUE(ParseIpAddr("1:2:3:4:5:6:7:8").ok());
  for (const char* bad :
       {"", "1.2.3", "1.2.3.4.5", "01.2.3.4", "256.0.0.0", "1.2.3.4/33", "1.2.3.4/08", "1.2.3.4/",
        "::ffff:1.2.3.4", "1:2:3:4:5:6:7:8:9", "1::2::3", "12345::", "::/129", "1.2.3.4/+8",
        " 1.2.3.4", "1:2:3:4:5:6:7:8::"}) {
    EXPECT_FALSE(ParseIpAddr(bad).ok()) << bad;
  }
}

TEST(IpAddrTest, Predicates) {
  auto ip = [](const char* s) { return ParseIpAddr(s).value(); };
  EXPECT_TRUE(IpIsLoopback(ip("127.5.0.1")));
  EXPECT_FALSE(IpIsLoopback(ip("127.0.0.0/7")));
  EXPECT_TRUE(IpIsLoopback(ip("::1")));
  EXPECT_FALSE(IpIsLoopback(ip("::1/127")));
  EXPECT_TRUE(IpIsMulticast(ip("224.0.0.1")));
  EXPECT_FALSE(IpIsMulticast(ip("224.0.0.0/3")));
  EXPECT_TRUE(IpIsMulticast(ip("ff02::1")));
  EXPECT_TRUE(IpIsInRange(ip("10.1.0.0/16"), ip("10.0.0.0/8")));
  EXPECT_FALSE(IpIsInRange(ip("10.0.0.0/8"), ip("10.1.0.0/16")));
  EXPECT_TRUE(IpIsInRange(ip("0.0.0.0/0"), ip("0.0.0.0/0")));
  EXPECT_FALSE(IpIsInRange(ip("::1"), ip("0.0.0.0/0")));
  // Addresses keep their host bits: equal only if written the same way.
  EXPECT_NE(ip("10.0.0.1/24"), ip("10.0.0.0/24"));
}

TEST(DecimalTest, Parsing) {
  EXPECT_EQ(ParseDecimal("1.5")->scaled, 15000);
  EXPECT_EQ(ParseDecimal("-12.3456")->scaled, -123456);
  EXPECT_EQ(ParseDecimal("922337203685477.5807")->scaled, INT64_MAX);
  EXPECT_EQ(ParseDecimal("-922337203685477.5808")->scaled, INT64_MIN);
  EXPECT_FALSE(ParseDecimal("922337203685477.5808").ok());
  EXPECT_FALSE(ParseDecimal("1.23456").ok());
  EXPECT_FALSE(ParseDecimal("1").ok());
  EXPECT_FALSE(ParseDecimal(".5").ok());
  EXPECT_FALSE(ParseDecimal("1.").ok());
  EXPECT_FALSE(ParseDecimal("+1.0").ok());
  EXPECT_EQ(FormatDecimal(Decimal{-5}), "-0.0005");
  EXPECT_EQ(FormatDecimal(Decimal{123450}), "12.3450");
}

TEST(DatetimeTest, Parsing) {
  EXPECT_EQ(ParseDatetime("1970-01-01")->ms, 0);
  EXPECT_EQ(ParseDatetime("1970-01-02T00:00:01.001Z")->ms, 86401001);
  EXPECT_EQ(ParseDatetime("2024-10-15T11:38:02.101+1134")->ms,
            ParseDatetime("2024-10-15T00:04:02.101Z")->ms);
  EXPECT_EQ(ParseDatetime("1969-12-31T23:59:59Z")->ms, -1000);
  EXPECT_TRUE(ParseDatetime("2024-02-29").ok());
  for (const char* bad :
       {"2023-02-29", "2024-13-01", "2024-01-00", "24-01-01", "2024-01-01T", "2024-01-01T00:00:00",
        "2024-01-01T24:00:00Z", "2024-01-01T00:60:00Z", "2024-01-01T00:00:60Z",
        "2024-01-01T00:00:00+2400", "2024-01-01T00:00:00.1Z", "10000-01-01", "2024-01-01Z"}) {
    EXPECT_FALSE(ParseDatetime(bad).ok()) << bad;
  }
}

TEST(DurationTest, ParsingAndMethods) {
  EXPECT_EQ(ParseDuration("1d2h3m4s5ms")->ms, 93784005);
  EXPECT_EQ(ParseDuration("-1ms")->ms, -1);
  EXPECT_EQ(ParseDuration("-9223372036854775808ms")->ms, INT64_MIN);
  EXPECT_FALSE(ParseDuration("9223372036854775808ms").ok());
  EXPECT_FALSE(ParseDuration("106751991167301d").ok());
  for (const char* bad : {"", "-", "1", "1s1m", "1x", "d", "1d-1h", "1h 1m", "--1d"}) {
    EXPECT_FALSE(ParseDuration(bad).ok()) << bad;
  }
  Datetime t{-1};
  EXPECT_EQ(DatetimeToDate(t)->ms, -86400000);
  EXPECT_EQ(DatetimeToTime(t).ms, 86399999);
  EXPECT_FALSE(DatetimeOffset(Datetime{INT64_MAX}, Duration{1}).has_value());
  EXPECT_FALSE(DatetimeDurationSince(Datetime{INT64_MIN}, Datetime{1}).has_value());
}

}  // namespace
}  // namespace custos::policy
