// Aggregate-only access: exact aggregate values, the minimum group size and type checks.
#include "features/aggregate.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace custos::features {
namespace {

using catalog::ScalarType;
using catalog::Timestamp;
using catalog::Value;
using catalog::ValueType;

constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

ColumnVector Ints(const std::vector<std::optional<int64_t>>& cells) {
  ColumnVector c(ValueType{ScalarType::kInt64, false});
  for (const auto& v : cells) {
    if (v) {
      c.AppendInt64(*v);
    } else {
      c.AppendNull();
    }
  }
  return c;
}

ColumnVector Doubles(const std::vector<double>& cells) {
  ColumnVector c(ValueType{ScalarType::kDouble, false});
  for (double v : cells) c.AppendDouble(v);
  return c;
}

ColumnVector Times(const std::vector<int64_t>& micros) {
  ColumnVector c(ValueType{ScalarType::kTimestamp, false});
  for (int64_t v : micros) c.AppendTimestamp(v);
  return c;
}

ColumnVector Strings(const std::vector<std::string>& cells) {
  ColumnVector c(ValueType{ScalarType::kString, false});
  for (const auto& v : cells) c.AppendBytes(v);
  return c;
}

Value Agg(const ColumnVector& c, AggregateFn fn, size_t k = 1) {
  Result<AggregateResult> r = Aggregate(c, fn, k);
  EXPECT_TRUE(r.ok()) << AggregateFnName(fn) << ": " << r.status().ToString();
  return r.ok() ? r->value : Value{std::string("error")};
}

double AggDouble(const ColumnVector& c, AggregateFn fn) {
  Value v = Agg(c, fn);
  const auto* d = std::get_if<double>(&v);
  EXPECT_NE(d, nullptr) << AggregateFnName(fn);
  return d != nullptr ? *d : -12345;
}

TEST(AggregateFnNames, ParseAndNameRoundTrip) {
  for (AggregateFn fn : {AggregateFn::kCount, AggregateFn::kSum, AggregateFn::kMean,
                         AggregateFn::kMin, AggregateFn::kMax, AggregateFn::kStddev}) {
    Result<AggregateFn> parsed = ParseAggregateFn(AggregateFnName(fn));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, fn);
  }
  EXPECT_EQ(AggregateFnName(AggregateFn::kStddev), "stddev");
  Result<AggregateFn> bad = ParseAggregateFn("median");
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().message(),
            "unknown aggregate `median`; use count, sum, mean, min, max or stddev");
}

TEST(AggregateInt64, ExactValues) {
  ColumnVector c = Ints({1, 2, std::nullopt, 3, 4});
  Result<AggregateResult> count = Aggregate(c, AggregateFn::kCount, 4);
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(count->fn, AggregateFn::kCount);
  EXPECT_EQ(count->rows, 5u);
  EXPECT_EQ(count->non_null, 4u);
  EXPECT_EQ(count->value, Value{int64_t{4}});
  EXPECT_EQ(Agg(c, AggregateFn::kSum), Value{int64_t{10}});
  EXPECT_EQ(Agg(c, AggregateFn::kMean), Value{2.5});
  EXPECT_EQ(Agg(c, AggregateFn::kMin), Value{int64_t{1}});
  EXPECT_EQ(Agg(c, AggregateFn::kMax), Value{int64_t{4}});
  EXPECT_DOUBLE_EQ(AggDouble(c, AggregateFn::kStddev), std::sqrt(5.0 / 3.0));
  EXPECT_EQ(Agg(Ints({-7, -3}), AggregateFn::kMean), Value{-5.0});
  EXPECT_EQ(Agg(Ints({kMin, 0}), AggregateFn::kMin), Value{kMin});
}

TEST(AggregateInt64, SampleStddev) {
  ColumnVector c = Ints({2, 4, 4, 4, 5, 5, 7, 9});
  EXPECT_DOUBLE_EQ(AggDouble(c, AggregateFn::kStddev), std::sqrt(32.0 / 7.0));
  EXPECT_EQ(Agg(Ints({5, 5, 5}), AggregateFn::kStddev), Value{0.0});
  // One value has no sample deviation.
  EXPECT_EQ(Agg(Ints({5}), AggregateFn::kStddev), Value{});
  // Large values: Welford in long double keeps the spread exact.
  EXPECT_DOUBLE_EQ(AggDouble(Ints({kMax, kMax - 2}), AggregateFn::kStddev), std::sqrt(2.0));
}

TEST(AggregateInt64, SumWidensToDoubleOnOverflow) {
  EXPECT_EQ(Agg(Ints({kMax, kMax}), AggregateFn::kSum), Value{18446744073709551614.0});
  EXPECT_EQ(Agg(Ints({kMin, -1}), AggregateFn::kSum), Value{-9223372036854775809.0});
  // An intermediate overflow that cancels out stays an exact int64.
  EXPECT_EQ(Agg(Ints({kMax, 1, -1}), AggregateFn::kSum), Value{kMax});
  EXPECT_EQ(Agg(Ints({kMax, kMax, kMin, kMin}), AggregateFn::kSum), Value{int64_t{-2}});
  EXPECT_EQ(Agg(Ints({kMax, kMax}), AggregateFn::kMean), Value{static_cast<double>(kMax)});
}

TEST(AggregateDouble, ExactValues) {
  ColumnVector c = Doubles({1.5, -2.5, 4.0});
  EXPECT_EQ(Agg(c, AggregateFn::kSum), Value{3.0});
  EXPECT_EQ(Agg(c, AggregateFn::kMean), Value{1.0});
  EXPECT_EQ(Agg(c, AggregateFn::kMin), Value{-2.5});
  EXPECT_EQ(Agg(c, AggregateFn::kMax), Value{4.0});
  EXPECT_DOUBLE_EQ(AggDouble(c, AggregateFn::kStddev), std::sqrt(10.75));
  // A compensated sum: a plain left-to-right sum gives 0 here.
  EXPECT_EQ(Agg(Doubles({1e16, 1.0, -1e16}), AggregateFn::kSum), Value{1.0});
  EXPECT_EQ(Agg(Doubles({0.1, 0.2, 0.3}), AggregateFn::kSum), Value{0.6});
}

TEST(AggregateDouble, NanAndInfinity) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_EQ(Agg(Doubles({3.0, nan, 1.0}), AggregateFn::kMin), Value{1.0});
  EXPECT_EQ(Agg(Doubles({3.0, nan, 1.0}), AggregateFn::kMax), Value{3.0});
  EXPECT_TRUE(std::isnan(AggDouble(Doubles({nan, nan}), AggregateFn::kMin)));
  EXPECT_TRUE(std::isnan(AggDouble(Doubles({1.0, nan}), AggregateFn::kSum)));
  EXPECT_EQ(Agg(Doubles({1.0, inf}), AggregateFn::kSum), Value{inf});
  EXPECT_EQ(Agg(Doubles({1.0, inf}), AggregateFn::kMean), Value{inf});
  EXPECT_TRUE(std::isnan(AggDouble(Doubles({inf, -inf}), AggregateFn::kSum)));
}

TEST(AggregateTimestamp, MeanMinMaxStddev) {
  ColumnVector c = Times({1000, 3000, 2000});
  EXPECT_EQ(Agg(c, AggregateFn::kMean), Value{Timestamp{2000}});
  EXPECT_EQ(Agg(c, AggregateFn::kMin), Value{Timestamp{1000}});
  EXPECT_EQ(Agg(c, AggregateFn::kMax), Value{Timestamp{3000}});
  EXPECT_EQ(Agg(c, AggregateFn::kStddev), Value{1000.0});
  // The mean instant rounds to the nearest microsecond, halves away from zero.
  EXPECT_EQ(Agg(Times({1, 2}), AggregateFn::kMean), Value{Timestamp{2}});
  EXPECT_EQ(Agg(Times({-1, -2}), AggregateFn::kMean), Value{Timestamp{-2}});
  EXPECT_EQ(Agg(Times({1, 1, 2}), AggregateFn::kMean), Value{Timestamp{1}});
  EXPECT_EQ(Agg(Times({kMax, kMax}), AggregateFn::kMean), Value{Timestamp{kMax}});
}

TEST(AggregateString, MinMaxBytewise) {
  ColumnVector c = Strings({"banana", "Apple", "cherry", "apple"});
  EXPECT_EQ(Agg(c, AggregateFn::kMin), Value{std::string("Apple")});
  EXPECT_EQ(Agg(c, AggregateFn::kMax), Value{std::string("cherry")});
  EXPECT_EQ(Agg(c, AggregateFn::kCount), Value{int64_t{4}});
}

TEST(AggregateMinGroup, RefusesSmallGroupsForEveryFunction) {
  ColumnVector c = Ints({1, std::nullopt, 2, std::nullopt});  // 4 rows, 2 values
  for (AggregateFn fn : {AggregateFn::kCount, AggregateFn::kSum, AggregateFn::kMean,
                         AggregateFn::kMin, AggregateFn::kMax, AggregateFn::kStddev}) {
    Result<AggregateResult> r = Aggregate(c, fn, 3);
    ASSERT_FALSE(r.ok()) << AggregateFnName(fn);
    EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
    EXPECT_EQ(r.status().message(),
              "aggregate over 2 rows refused: at least 3 are required so that no individual "
              "stands out");
  }
  // Exactly k values pass.
  Result<AggregateResult> ok = Aggregate(c, AggregateFn::kSum, 2);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->value, Value{int64_t{3}});
  EXPECT_EQ(ok->rows, 4u);
  EXPECT_EQ(ok->non_null, 2u);
}

TEST(AggregateMinGroup, EmptyColumnWithoutMinimum) {
  ColumnVector ints = Ints({std::nullopt});
  EXPECT_EQ(Agg(ints, AggregateFn::kCount, 0), Value{int64_t{0}});
  EXPECT_EQ(Agg(ints, AggregateFn::kSum, 0), Value{int64_t{0}});
  EXPECT_EQ(Agg(Doubles({}), AggregateFn::kSum, 0), Value{0.0});
  EXPECT_EQ(Agg(ints, AggregateFn::kMean, 0), Value{});
  EXPECT_EQ(Agg(ints, AggregateFn::kMin, 0), Value{});
  EXPECT_EQ(Agg(ints, AggregateFn::kStddev, 0), Value{});
  Result<AggregateResult> refused = Aggregate(ints, AggregateFn::kCount, 1);
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(refused.status().message(),
            "aggregate over 0 rows refused: at least 1 are required so that no individual "
            "stands out");
}

TEST(AggregateTypes, FunctionThatDoesNotFitIsInvalidArgument) {
  Result<AggregateResult> r = Aggregate(Strings({"a", "b"}), AggregateFn::kSum, 1);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            "aggregate `sum` does not fit type string; it takes int64 and double columns, "
            "choose another aggregate (count takes every type)");

  r = Aggregate(Times({1, 2}), AggregateFn::kSum, 1);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);

  ColumnVector bools(ValueType{ScalarType::kBool, false});
  bools.AppendBool(true);
  bools.AppendBool(false);
  r = Aggregate(bools, AggregateFn::kMean, 1);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            "aggregate `mean` does not fit type bool; it takes int64, double and timestamp "
            "columns, choose another aggregate (count takes every type)");
  EXPECT_EQ(Agg(bools, AggregateFn::kCount), Value{int64_t{2}});

  ColumnVector lists(ValueType{ScalarType::kInt64, true});
  ASSERT_TRUE(lists.AppendValue(Value{std::vector<catalog::Scalar>{int64_t{1}}}).ok());
  r = Aggregate(lists, AggregateFn::kMax, 1);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            "aggregate `max` does not fit type list<int64>; it takes int64, double, timestamp "
            "and string columns, choose another aggregate (count takes every type)");
  EXPECT_EQ(Agg(lists, AggregateFn::kCount), Value{int64_t{1}});

  // The type is checked before the group size, so a misfit is never reported as too small.
  r = Aggregate(Strings({}), AggregateFn::kStddev, 10);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace custos::features
