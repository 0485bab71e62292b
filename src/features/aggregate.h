// Aggregate-only feature access: a column is answered only with an aggregate, and only over
// at least k non-null values, so that no single row can be read back.
// Thread-safety: pure functions over values; safe from any thread.
#pragma once

#include <cstddef>
#include <string_view>

#include "catalog/value_type.h"
#include "common/status.h"
#include "features/offline_columns.h"

namespace custos::features {

// Which aggregate, and the types it fits (scalar columns unless said otherwise):
//   count   any type, lists included: the number of non-null cells, as int64.
//   sum     int64: exact (in 128 bits); the int64 sum when it fits, otherwise the double
//           nearest to the exact sum (a documented widening, never a wrapped value).
//           double: compensated (Neumaier) sum, IEEE rules for NaN and infinities.
//   mean    int64: double (exact sum divided by count in long double). double: double.
//           timestamp: the mean instant as a timestamp, rounded to the nearest microsecond.
//   min/max int64, double (NaN cells are skipped; all NaN gives NaN), timestamp, and string
//           (bytewise order); the result has the column's type.
//   stddev  int64, double: sample standard deviation (n - 1, as SQL's STDDEV), as double;
//           timestamp: the same in microseconds, as double. Null when fewer than 2 values.
// Over no values (only possible with min_group_size 0): count 0, sum 0 of the column's
// type, every other aggregate null.
enum class AggregateFn { kCount, kSum, kMean, kMin, kMax, kStddev };

// "count", "sum", "mean", "min", "max", "stddev"; InvalidArgument listing them otherwise.
Result<AggregateFn> ParseAggregateFn(std::string_view name);
std::string_view AggregateFnName(AggregateFn fn);

struct AggregateResult {
  AggregateFn fn = AggregateFn::kCount;
  size_t rows = 0;      // cells in the column
  size_t non_null = 0;  // cells with a value (the group size that k is checked against)
  catalog::Value value;
};

// Computes `fn` over the non-null cells of `column`. InvalidArgument naming the function and
// the type when `fn` does not fit the column's type (checked first); FailedPrecondition
// "aggregate over N rows refused: at least K are required so that no individual stands out"
// when non_null < min_group_size, count included.
Result<AggregateResult> Aggregate(const ColumnVector& column, AggregateFn fn,
                                  size_t min_group_size);

}  // namespace custos::features
