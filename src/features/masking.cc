// Masking rules applied to values and columns (see masking.h for the exact semantics).
#include "features/masking.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/bytes.h"
#include "crypto/hash.h"

namespace custos::features {
namespace {

// GCC's 128-bit integer: range bounds of int64 values may fall outside int64.
__extension__ typedef __int128 Int128;

using catalog::MaskKind;
using catalog::MaskRule;
using catalog::ScalarType;
using catalog::Timestamp;
using catalog::ValueType;

constexpr int64_t kMicrosPerDay = 86400LL * 1000000LL;

char RedactByte(char c) {
  if (c >= 'a' && c <= 'z') return 'x';
  if (c >= 'A' && c <= 'Z') return 'X';
  if (c >= '0' && c <= '9') return 'n';
  return c;
}

void RedactInPlace(std::string& s, size_t begin, size_t end) {
  for (size_t i = begin; i < end; ++i) s[i] = RedactByte(s[i]);
}

bool StartsCodePoint(char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }

// Byte offset where the first `n` code points of `s` end.
size_t PrefixBytes(std::string_view s, size_t n) {
  size_t seen = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (StartsCodePoint(s[i])) {
      if (seen == n) return i;
      ++seen;
    }
  }
  return s.size();
}

// Byte offset where the last `n` code points of `s` begin.
size_t SuffixStart(std::string_view s, size_t n) {
  if (n == 0) return s.size();
  size_t seen = 0;
  for (size_t i = s.size(); i > 0; --i) {
    if (StartsCodePoint(s[i - 1]) && ++seen == n) return i - 1;
  }
  return 0;
}

// The byte range [first, second) of `in` that a redact/show_* rule redacts.
std::pair<size_t, size_t> RedactedSpan(const MaskRule& rule, std::string_view in) {
  // ParseMaskRule bounds N to 1..1024; a hand-built rule's other values are clamped, and a
  // NaN or N below 1 shows nothing.
  const double p = rule.param;
  const size_t n = p >= 1 ? static_cast<size_t>(std::min(p, 1e6)) : 0;
  switch (rule.kind) {
    case MaskKind::kShowLast:
      return {0, SuffixStart(in, n)};
    case MaskKind::kShowFirst:
      return {PrefixBytes(in, n), in.size()};
    default:
      return {0, in.size()};
  }
}

bool IsRedaction(MaskKind kind) {
  return kind == MaskKind::kRedact || kind == MaskKind::kShowLast || kind == MaskKind::kShowFirst;
}

std::string MaskString(const MaskRule& rule, std::string_view in) {
  std::string out(in);
  auto [begin, end] = RedactedSpan(rule, in);
  RedactInPlace(out, begin, end);
  return out;
}

std::string HashText(std::string_view text) {
  return common::HexEncode(crypto::Sha256Of(common::AsBytes(text)));
}

std::string DoubleText(double v) {
  v += 0.0;  // -0.0 + 0.0 is +0.0, so a bound is never printed as "-0"
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  return ec == std::errc() ? std::string(buf, end) : std::string();
}

std::string Int128Text(Int128 v) {
  if (v >= std::numeric_limits<int64_t>::min() && v <= std::numeric_limits<int64_t>::max()) {
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), static_cast<int64_t>(v));
    return std::string(buf, end);
  }
  const bool negative = v < 0;
  // Beyond int64: peel digits off by magnitude (the remainder has the value's sign).
  std::string digits;
  while (v != 0) {
    int d = static_cast<int>(v % 10);
    digits.push_back(static_cast<char>('0' + (d < 0 ? -d : d)));
    v /= 10;
  }
  if (negative) digits.push_back('-');
  return std::string(digits.rbegin(), digits.rend());
}

std::optional<std::string> RangeOfDouble(double v, double width) {
  if (!std::isfinite(v) || !(width > 0) || !std::isfinite(width)) return std::nullopt;
  const double k = std::floor(v / width);
  const double lo = k * width;
  const double hi = (k + 1) * width;
  if (!std::isfinite(lo) || !std::isfinite(hi)) return std::nullopt;
  return "[" + DoubleText(lo) + ", " + DoubleText(hi) + ")";
}

std::optional<std::string> RangeOfInt64(int64_t v, double width) {
  // 2^63: every whole double below it converts to int64 exactly.
  constexpr double kTwoTo63 = 9223372036854775808.0;
  if (width >= 1 && width < kTwoTo63 && std::floor(width) == width) {
    const Int128 w = static_cast<int64_t>(width);
    Int128 k = v / w;
    if (v % w != 0 && v < 0) --k;  // floor, not truncation, for negative values
    const Int128 lo = k * w;
    return "[" + Int128Text(lo) + ", " + Int128Text(lo + w) + ")";
  }
  return RangeOfDouble(static_cast<double>(v), width);
}

// Floor division that rounds toward negative infinity.
int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if (a % b != 0 && (a < 0) != (b < 0)) --q;
  return q;
}

// Days since 1970-01-01 of January 1st of the proleptic Gregorian year that holds `days`.
// Counts in 400-year eras of 146097 days starting on March 1st, 0000, where leap days fall
// at the end of each era-year.
int64_t StartOfYearDays(int64_t days) {
  constexpr int64_t kEraDays = 146097;
  constexpr int64_t kEpochShift = 719468;  // days from 0000-03-01 to 1970-01-01
  const int64_t z = days + kEpochShift;
  const int64_t era = FloorDiv(z, kEraDays);
  const int64_t day_of_era = z - era * kEraDays;  // [0, 146096]
  const int64_t year_of_era =
      (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  const int64_t day_of_year =
      day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  // Months from March: January and February (day_of_year >= 306) belong to the next year.
  const int64_t year = year_of_era + era * 400 + (day_of_year >= 306 ? 1 : 0);
  // January 1st of `year` is day 306 of the March-based year year - 1.
  const int64_t y = year - 1;
  const int64_t y_era = FloorDiv(y, 400);
  const int64_t y_of_era = y - y_era * 400;
  return y_era * kEraDays + 365 * y_of_era + y_of_era / 4 - y_of_era / 100 + 306 - kEpochShift;
}

std::optional<Timestamp> StartOfYear(Timestamp t) {
  const int64_t days = FloorDiv(t.micros, kMicrosPerDay);
  const int64_t first = StartOfYearDays(days);
  int64_t micros = 0;
  if (__builtin_mul_overflow(first, kMicrosPerDay, &micros)) return std::nullopt;
  return Timestamp{micros};
}

// Masks one scalar; nullopt when the result is null (the rule is null, does not fit the
// scalar's type, or the value has no masked form).
std::optional<catalog::Scalar> MaskScalar(const MaskRule& rule, const catalog::Scalar& s) {
  switch (rule.kind) {
    case MaskKind::kNull:
      return std::nullopt;
    case MaskKind::kRedact:
    case MaskKind::kShowLast:
    case MaskKind::kShowFirst:
      if (const auto* str = std::get_if<std::string>(&s)) return MaskString(rule, *str);
      return std::nullopt;
    case MaskKind::kHash:
      if (const auto* str = std::get_if<std::string>(&s)) return HashText(*str);
      if (const auto* i = std::get_if<int64_t>(&s)) return HashText(std::to_string(*i));
      return std::nullopt;
    case MaskKind::kRange: {
      std::optional<std::string> text;
      if (const auto* i = std::get_if<int64_t>(&s)) text = RangeOfInt64(*i, rule.param);
      if (const auto* d = std::get_if<double>(&s)) text = RangeOfDouble(*d, rule.param);
      if (!text) return std::nullopt;
      return std::move(*text);
    }
    case MaskKind::kYear:
      if (const auto* t = std::get_if<Timestamp>(&s)) {
        std::optional<Timestamp> year = StartOfYear(*t);
        if (year) return *year;
      }
      return std::nullopt;
  }
  return std::nullopt;
}

catalog::Value ToValue(catalog::Scalar s) {
  return std::visit([](auto&& v) -> catalog::Value { return std::forward<decltype(v)>(v); },
                    std::move(s));
}

}  // namespace

ValueType MaskedType(const MaskRule& rule, ValueType type) {
  switch (rule.kind) {
    case MaskKind::kNull:
      return type;
    case MaskKind::kYear:
      return {ScalarType::kTimestamp, type.is_list};
    default:
      return {ScalarType::kString, type.is_list};
  }
}

catalog::Value ApplyMask(const MaskRule& rule, const catalog::Value& value) {
  if (std::holds_alternative<std::monostate>(value) || rule.kind == MaskKind::kNull) {
    return catalog::Value{};
  }
  if (const auto* list = std::get_if<std::vector<catalog::Scalar>>(&value)) {
    std::vector<catalog::Scalar> out;
    out.reserve(list->size());
    for (const catalog::Scalar& s : *list) {
      std::optional<catalog::Scalar> masked = MaskScalar(rule, s);
      // A list cannot hold a null element: one unmaskable element nulls the whole list.
      if (!masked) return catalog::Value{};
      out.push_back(std::move(*masked));
    }
    return catalog::Value{std::move(out)};
  }
  catalog::Scalar scalar = std::visit(
      [](const auto& v) -> catalog::Scalar {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::monostate> ||
                      std::is_same_v<T, std::vector<catalog::Scalar>>) {
          return int64_t{0};  // unreachable: handled above
        } else {
          return v;
        }
      },
      value);
  std::optional<catalog::Scalar> masked = MaskScalar(rule, scalar);
  if (!masked) return catalog::Value{};
  return ToValue(std::move(*masked));
}

Status MaskColumn(const MaskRule& rule, const ColumnVector& in, ColumnVector& out) {
  CUSTOS_RETURN_IF_ERROR(catalog::CheckMaskFits(rule, {in.type.scalar, false}));
  ColumnVector result(MaskedType(rule, in.type));
  const size_t n = in.size();
  if (rule.kind == MaskKind::kNull) {
    result.Resize(n);
    out = std::move(result);
    return Status::Ok();
  }
  result.Reserve(n);
  if (in.type.is_list) {
    for (size_t i = 0; i < n; ++i) {
      if (in.IsNull(i)) {
        result.AppendNull();
        continue;
      }
      Result<std::vector<catalog::Scalar>> list = DecodeList(in.BytesAt(i), in.type.scalar);
      if (!list.ok()) {
        return DataLossError("masking row " + std::to_string(i) + ": " + list.status().message());
      }
      CUSTOS_RETURN_IF_ERROR(result.AppendValue(ApplyMask(rule, catalog::Value{std::move(*list)})));
    }
    out = std::move(result);
    return Status::Ok();
  }
  for (size_t i = 0; i < n; ++i) {
    if (in.IsNull(i)) {
      result.AppendNull();
      continue;
    }
    std::optional<catalog::Scalar> masked;
    switch (in.type.scalar) {
      case ScalarType::kString: {
        const std::string_view cell = in.BytesAt(i);
        if (IsRedaction(rule.kind)) {
          // Redacts in the output arena: no per-cell string.
          const size_t at = result.arena.size();
          result.AppendBytes(cell);
          auto [begin, end] = RedactedSpan(rule, cell);
          for (size_t b = at + begin; b < at + end; ++b) {
            result.arena[b] = RedactByte(result.arena[b]);
          }
          continue;
        }
        masked = MaskScalar(rule, std::string(cell));
        break;
      }
      case ScalarType::kInt64:
        masked = MaskScalar(rule, in.Int64At(i));
        break;
      case ScalarType::kDouble:
        masked = MaskScalar(rule, in.DoubleAt(i));
        break;
      case ScalarType::kTimestamp:
        masked = MaskScalar(rule, Timestamp{in.Int64At(i)});
        break;
      case ScalarType::kBool:
        break;  // only `null` fits bool, handled above
    }
    if (!masked) {
      result.AppendNull();
    } else if (const auto* s = std::get_if<std::string>(&*masked)) {
      result.AppendBytes(*s);
    } else if (const auto* t = std::get_if<Timestamp>(&*masked)) {
      result.AppendTimestamp(t->micros);
    } else {
      return InternalError("masking produced a value of an unexpected type");
    }
  }
  out = std::move(result);
  return Status::Ok();
}

}  // namespace custos::features
