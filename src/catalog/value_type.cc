// Feature value types: names, parsing, and the text form of scalars.
#include "catalog/value_type.h"

#include <charconv>
#include <cmath>

#include "common/clock.h"

namespace custos::catalog {
namespace {

constexpr std::string_view kAccepted =
    "int64, double, string, bool, timestamp, or list<T> with T one of those";

bool IsScalarOf(const Scalar& s, ScalarType type) {
  switch (type) {
    case ScalarType::kInt64:
      return std::holds_alternative<int64_t>(s);
    case ScalarType::kDouble:
      return std::holds_alternative<double>(s);
    case ScalarType::kString:
      return std::holds_alternative<std::string>(s);
    case ScalarType::kBool:
      return std::holds_alternative<bool>(s);
    case ScalarType::kTimestamp:
      return std::holds_alternative<Timestamp>(s);
  }
  return false;
}

std::string LowerAscii(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace

std::string_view ScalarTypeName(ScalarType type) {
  switch (type) {
    case ScalarType::kInt64:
      return "int64";
    case ScalarType::kDouble:
      return "double";
    case ScalarType::kString:
      return "string";
    case ScalarType::kBool:
      return "bool";
    case ScalarType::kTimestamp:
      return "timestamp";
  }
  return "unknown";
}

std::string ValueTypeName(ValueType type) {
  std::string scalar(ScalarTypeName(type.scalar));
  return type.is_list ? "list<" + scalar + ">" : scalar;
}

Result<ValueType> ParseValueType(std::string_view text) {
  ValueType out;
  std::string_view inner = text;
  if (inner.starts_with("list<") && inner.ends_with(">")) {
    out.is_list = true;
    inner = inner.substr(5, inner.size() - 6);
  }
  for (ScalarType t : {ScalarType::kInt64, ScalarType::kDouble, ScalarType::kString,
                       ScalarType::kBool, ScalarType::kTimestamp}) {
    if (inner == ScalarTypeName(t)) {
      out.scalar = t;
      return out;
    }
  }
  return InvalidArgumentError("unknown type '" + std::string(text) + "'; use " +
                              std::string(kAccepted));
}

bool ValueHasType(const Value& value, ValueType type) {
  if (std::holds_alternative<std::monostate>(value)) return true;
  if (type.is_list) {
    const auto* list = std::get_if<std::vector<Scalar>>(&value);
    if (list == nullptr) return false;
    for (const Scalar& s : *list) {
      if (!IsScalarOf(s, type.scalar)) return false;
    }
    return true;
  }
  return std::visit(
      [&](const auto& v) -> bool {
        using V = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<V, std::monostate> || std::is_same_v<V, std::vector<Scalar>>) {
          return false;
        } else {
          return IsScalarOf(Scalar(v), type.scalar);
        }
      },
      value);
}

Result<Value> ParseScalarText(std::string_view text, ScalarType type) {
  if (text.empty()) return Value{};
  auto fail = [&](std::string_view expected) {
    return InvalidArgumentError("'" + std::string(text) + "' is not a valid " +
                                std::string(ScalarTypeName(type)) + " (expected " +
                                std::string(expected) + ")");
  };
  switch (type) {
    case ScalarType::kInt64: {
      int64_t v = 0;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      if (ec != std::errc() || end != text.data() + text.size()) {
        return fail("a whole number between -9223372036854775808 and 9223372036854775807");
      }
      return Value{v};
    }
    case ScalarType::kDouble: {
      double v = 0;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(v)) {
        return fail("a finite decimal number such as 0.25 or -3e4");
      }
      return Value{v};
    }
    case ScalarType::kString:
      return Value{std::string(text)};
    case ScalarType::kBool: {
      std::string lower = LowerAscii(text);
      if (lower == "true" || lower == "1") return Value{true};
      if (lower == "false" || lower == "0") return Value{false};
      return fail("true, false, 1 or 0");
    }
    case ScalarType::kTimestamp: {
      int64_t seconds = 0;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
      if (ec == std::errc() && end == text.data() + text.size()) {
        if (seconds > INT64_MAX / 1000000 || seconds < INT64_MIN / 1000000) {
          return fail("Unix seconds within the representable range");
        }
        return Value{Timestamp{seconds * 1000000}};
      }
      auto parsed = ParseTimestamp(text);
      if (!parsed.ok()) return parsed.status();
      return Value{*parsed};
    }
  }
  return fail("a known type");
}

std::string FormatTimestamp(Timestamp t) {
  return common::FormatRfc3339(common::FromUnixMicros(t.micros));
}

Result<Timestamp> ParseTimestamp(std::string_view text) {
  CUSTOS_ASSIGN_OR_RETURN(common::TimePoint tp, common::ParseRfc3339(text));
  return Timestamp{common::ToUnixMicros(tp)};
}

}  // namespace custos::catalog
