// Aggregates over one column with a minimum group size (see aggregate.h).
#include "features/aggregate.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>

namespace custos::features {
namespace {

// GCC's 128-bit integer, for exact sums and bounds of int64 values (pedantic-clean).
__extension__ typedef __int128 Int128;

using catalog::ScalarType;
using catalog::ValueType;

constexpr std::string_view kNames[] = {"count", "sum", "mean", "min", "max", "stddev"};

std::string_view FitsText(AggregateFn fn) {
  switch (fn) {
    case AggregateFn::kCount:
      return "every type";
    case AggregateFn::kSum:
      return "int64 and double";
    case AggregateFn::kMean:
    case AggregateFn::kStddev:
      return "int64, double and timestamp";
    case AggregateFn::kMin:
    case AggregateFn::kMax:
      return "int64, double, timestamp and string";
  }
  return "";
}

bool Fits(AggregateFn fn, ValueType type) {
  if (fn == AggregateFn::kCount) return true;
  if (type.is_list) return false;
  const ScalarType s = type.scalar;
  const bool numeric = s == ScalarType::kInt64 || s == ScalarType::kDouble;
  switch (fn) {
    case AggregateFn::kSum:
      return numeric;
    case AggregateFn::kMean:
    case AggregateFn::kStddev:
      return numeric || s == ScalarType::kTimestamp;
    case AggregateFn::kMin:
    case AggregateFn::kMax:
      return numeric || s == ScalarType::kTimestamp || s == ScalarType::kString;
    case AggregateFn::kCount:
      break;
  }
  return true;
}

// Signed 128-bit division rounded to the nearest integer, halves away from zero.
Int128 RoundedDiv(Int128 sum, Int128 n) {
  Int128 q = sum / n;
  Int128 r = sum % n;
  if (r < 0) r = -r;
  if (2 * r >= n) q += sum < 0 ? -1 : 1;
  return q;
}

// Sum of the int64 (or timestamp micros) cells, exact: 2^64 cells of magnitude 2^63 fit.
Int128 ExactSum(const ColumnVector& c) {
  Int128 sum = 0;
  for (size_t i = 0; i < c.size(); ++i) {
    if (!c.IsNull(i)) sum += c.Int64At(i);
  }
  return sum;
}

// Neumaier's compensated sum; the plain sum when it is not finite (the compensation of an
// infinity is NaN).
double CompensatedSum(const ColumnVector& c) {
  double sum = 0;
  double compensation = 0;
  for (size_t i = 0; i < c.size(); ++i) {
    if (c.IsNull(i)) continue;
    const double x = c.DoubleAt(i);
    const double t = sum + x;
    compensation += std::fabs(sum) >= std::fabs(x) ? (sum - t) + x : (x - t) + sum;
    sum = t;
  }
  return std::isfinite(sum) ? sum + compensation : sum;
}

// Sample standard deviation by Welford's update, in long double (exact for int64 inputs).
std::optional<double> SampleStddev(const ColumnVector& c) {
  long double mean = 0;
  long double m2 = 0;
  size_t n = 0;
  for (size_t i = 0; i < c.size(); ++i) {
    if (c.IsNull(i)) continue;
    const long double x = c.type.scalar == ScalarType::kDouble
                              ? static_cast<long double>(c.DoubleAt(i))
                              : static_cast<long double>(c.Int64At(i));
    ++n;
    const long double delta = x - mean;
    mean += delta / static_cast<long double>(n);
    m2 += delta * (x - mean);
  }
  if (n < 2) return std::nullopt;
  return static_cast<double>(std::sqrt(m2 / static_cast<long double>(n - 1)));
}

catalog::Value MinMax(const ColumnVector& c, bool want_min) {
  std::optional<size_t> best;
  bool saw_nan = false;
  for (size_t i = 0; i < c.size(); ++i) {
    if (c.IsNull(i)) continue;
    bool better = false;
    switch (c.type.scalar) {
      case ScalarType::kInt64:
      case ScalarType::kTimestamp:
        better =
            !best || (want_min ? c.Int64At(i) < c.Int64At(*best) : c.Int64At(i) > c.Int64At(*best));
        break;
      case ScalarType::kDouble: {
        const double x = c.DoubleAt(i);
        if (std::isnan(x)) {
          saw_nan = true;
          continue;
        }
        better = !best || (want_min ? x < c.DoubleAt(*best) : x > c.DoubleAt(*best));
        break;
      }
      case ScalarType::kString:
        better =
            !best || (want_min ? c.BytesAt(i) < c.BytesAt(*best) : c.BytesAt(i) > c.BytesAt(*best));
        break;
      case ScalarType::kBool:
        break;
    }
    if (better) best = i;
  }
  if (!best) {
    return saw_nan ? catalog::Value{std::numeric_limits<double>::quiet_NaN()} : catalog::Value{};
  }
  return c.ValueAt(*best);
}

}  // namespace

Result<AggregateFn> ParseAggregateFn(std::string_view name) {
  for (size_t i = 0; i < std::size(kNames); ++i) {
    if (kNames[i] == name) return static_cast<AggregateFn>(i);
  }
  return InvalidArgumentError("unknown aggregate `" + std::string(name) +
                              "`; use count, sum, mean, min, max or stddev");
}

std::string_view AggregateFnName(AggregateFn fn) { return kNames[static_cast<size_t>(fn)]; }

Result<AggregateResult> Aggregate(const ColumnVector& column, AggregateFn fn,
                                  size_t min_group_size) {
  if (!Fits(fn, column.type)) {
    return InvalidArgumentError("aggregate `" + std::string(AggregateFnName(fn)) +
                                "` does not fit type " + catalog::ValueTypeName(column.type) +
                                "; it takes " + std::string(FitsText(fn)) +
                                " columns, choose another aggregate (count takes every type)");
  }
  AggregateResult result;
  result.fn = fn;
  result.rows = column.size();
  for (uint8_t v : column.valid) result.non_null += v != 0 ? 1 : 0;
  if (result.non_null < min_group_size) {
    return FailedPreconditionError("aggregate over " + std::to_string(result.non_null) +
                                   " rows refused: at least " + std::to_string(min_group_size) +
                                   " are required so that no individual stands out");
  }
  const size_t n = result.non_null;
  const ScalarType scalar = column.type.scalar;
  switch (fn) {
    case AggregateFn::kCount:
      result.value = static_cast<int64_t>(n);
      break;
    case AggregateFn::kSum:
      if (scalar == ScalarType::kDouble) {
        result.value = CompensatedSum(column);
      } else {
        const Int128 sum = ExactSum(column);
        if (sum >= std::numeric_limits<int64_t>::min() &&
            sum <= std::numeric_limits<int64_t>::max()) {
          result.value = static_cast<int64_t>(sum);
        } else {
          result.value = static_cast<double>(sum);
        }
      }
      break;
    case AggregateFn::kMean:
      if (n == 0) break;
      if (scalar == ScalarType::kDouble) {
        result.value = CompensatedSum(column) / static_cast<double>(n);
      } else if (scalar == ScalarType::kTimestamp) {
        result.value = catalog::Timestamp{
            static_cast<int64_t>(RoundedDiv(ExactSum(column), static_cast<Int128>(n)))};
      } else {
        result.value = static_cast<double>(static_cast<long double>(ExactSum(column)) /
                                           static_cast<long double>(n));
      }
      break;
    case AggregateFn::kMin:
    case AggregateFn::kMax:
      result.value = MinMax(column, fn == AggregateFn::kMin);
      break;
    case AggregateFn::kStddev:
      if (std::optional<double> sd = SampleStddev(column)) result.value = *sd;
      break;
  }
  return result;
}

}  // namespace custos::features
