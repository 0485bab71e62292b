// The types a feature or entity join key may have, and their values: the data model shared
// by the repository (catalog/), ingestion and the online and offline stores (features/).
// Types are spelled in repositories as int64, double, string, bool, timestamp, or
// list<T> with T one of the scalar types.
// Thread-safety: plain values; the functions are pure.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/status.h"

namespace custos::catalog {

enum class ScalarType : uint8_t { kInt64 = 0, kDouble = 1, kString = 2, kBool = 3, kTimestamp = 4 };

struct ValueType {
  ScalarType scalar = ScalarType::kString;
  bool is_list = false;  // list<scalar>
  friend bool operator==(const ValueType&, const ValueType&) = default;
};

std::string_view ScalarTypeName(ScalarType type);  // "int64", ...
std::string ValueTypeName(ValueType type);         // "int64", "list<string>", ...
// InvalidArgument naming the accepted spellings when `text` is none of them.
Result<ValueType> ParseValueType(std::string_view text);

// A point in time as UTC microseconds since the Unix epoch (distinct from int64 values).
struct Timestamp {
  int64_t micros = 0;
  friend auto operator<=>(const Timestamp&, const Timestamp&) = default;
};

using Scalar = std::variant<int64_t, double, std::string, bool, Timestamp>;

// A feature value: null (monostate), a scalar, or a list of scalars of one type.
using Value = std::variant<std::monostate, int64_t, double, std::string, bool, Timestamp,
                           std::vector<Scalar>>;

// Whether `value` is null or has type `type` (a list's elements must all be `type.scalar`).
bool ValueHasType(const Value& value, ValueType type);

// Parses the text form used in CSV cells and command lines: int64 and double in C locale
// decimal, bool as true/false (case-insensitive) or 1/0, timestamp as RFC 3339 or as
// integer Unix seconds. Lists have no text form here (they come from JSON Lines).
// InvalidArgument says what was expected; an empty string is null.
Result<Value> ParseScalarText(std::string_view text, ScalarType type);

// RFC 3339 in UTC with microseconds when non-zero ("2026-01-02T03:04:05.000006Z").
std::string FormatTimestamp(Timestamp t);
// Parses RFC 3339 (any offset, fractional seconds up to microseconds) into UTC micros.
Result<Timestamp> ParseTimestamp(std::string_view text);

}  // namespace custos::catalog
