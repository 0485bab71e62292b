// Masking rules on values and columns: every rule on every type it fits, with exact outputs.
#include "features/masking.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace custos::features {
namespace {

using catalog::MaskKind;
using catalog::MaskRule;
using catalog::ScalarType;
using catalog::Timestamp;
using catalog::Value;
using catalog::ValueType;

constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kSecond = 1000000;

MaskRule Rule(std::string_view text) {
  Result<MaskRule> r = catalog::ParseMaskRule(text);
  EXPECT_TRUE(r.ok()) << text << ": " << r.status().ToString();
  return r.ok() ? *r : MaskRule{};
}

// The masked value as text; "null" for null, so failures print readably.
std::string Masked(std::string_view rule, const Value& v) {
  Value out = ApplyMask(Rule(rule), v);
  if (std::holds_alternative<std::monostate>(out)) return "null";
  if (const auto* s = std::get_if<std::string>(&out)) return *s;
  ADD_FAILURE() << "not a string";
  return "?";
}

Value Str(std::string s) { return Value{std::move(s)}; }
Value Ts(int64_t micros) { return Value{Timestamp{micros}}; }

Timestamp TsOf(std::string_view rfc3339) {
  Result<Timestamp> t = catalog::ParseTimestamp(rfc3339);
  EXPECT_TRUE(t.ok()) << rfc3339;
  return t.ok() ? *t : Timestamp{};
}

// The masked timestamp's micros; kMax when the result is not a timestamp.
int64_t YearOf(int64_t micros) {
  Value out = ApplyMask(Rule("year"), Ts(micros));
  const auto* t = std::get_if<Timestamp>(&out);
  return t != nullptr ? t->micros : kMax;
}

TEST(MaskTypes, OutputTypeOfEachRule) {
  const ValueType i64{ScalarType::kInt64, false};
  const ValueType str_list{ScalarType::kString, true};
  const ValueType ts{ScalarType::kTimestamp, false};
  const ValueType string{ScalarType::kString, false};
  EXPECT_EQ(MaskedType(Rule("redact"), string), string);
  EXPECT_EQ(MaskedType(Rule("show_last:4"), str_list), str_list);
  EXPECT_EQ(MaskedType(Rule("show_first:2"), string), string);
  EXPECT_EQ(MaskedType(Rule("hash"), i64), string);
  EXPECT_EQ(MaskedType(Rule("range:10"), i64), string);
  EXPECT_EQ(MaskedType(Rule("range:0.5"), (ValueType{ScalarType::kDouble, false})), string);
  EXPECT_EQ(MaskedType(Rule("null"), i64), i64);
  EXPECT_EQ(MaskedType(Rule("null"), (ValueType{ScalarType::kBool, true})),
            (ValueType{ScalarType::kBool, true}));
  EXPECT_EQ(MaskedType(Rule("year"), ts), ts);
  EXPECT_EQ(MaskedType(Rule("year"), (ValueType{ScalarType::kTimestamp, true})),
            (ValueType{ScalarType::kTimestamp, true}));
}

TEST(MaskRedact, LettersDigitsAndOtherBytes) {
  EXPECT_EQ(Masked("redact", Str("Ab9-é z_Z0")), "Xxn-é x_Xn");
  EXPECT_EQ(Masked("redact", Str("john.doe@example.com")), "xxxx.xxx@xxxxxxx.xxx");
  EXPECT_EQ(Masked("redact", Str("")), "");
  EXPECT_EQ(Masked("redact", Str("日本 42")), "日本 nn");
}

TEST(MaskShowLast, KeepsTheLastNCodePoints) {
  EXPECT_EQ(Masked("show_last:4", Str("4111-1111-1111-1234")), "nnnn-nnnn-nnnn-1234");
  EXPECT_EQ(Masked("show_last:2", Str("héllo wörld")), "xéxxx xöxld");
  // Four code points are all shown; counting bytes would redact the '1'.
  EXPECT_EQ(Masked("show_last:4", Str("1€ab")), "1€ab");
  EXPECT_EQ(Masked("show_last:3", Str("a1€ab")), "xn€ab");
  EXPECT_EQ(Masked("show_last:1", Str("abcé")), "xxxé");
  EXPECT_EQ(Masked("show_last:10", Str("abc")), "abc");  // N longer than the string
  EXPECT_EQ(Masked("show_last:3", Str("abc")), "abc");
  EXPECT_EQ(Masked("show_last:4", Str("")), "");
}

TEST(MaskShowFirst, KeepsTheFirstNCodePoints) {
  EXPECT_EQ(Masked("show_first:3", Str("Alice Smith")), "Alixx Xxxxx");
  // Three code points: é, é, 1; counting bytes would stop inside the second é.
  EXPECT_EQ(Masked("show_first:3", Str("éé1234")), "éé1nnn");
  EXPECT_EQ(Masked("show_first:1", Str("€9a")), "€nx");
  EXPECT_EQ(Masked("show_first:10", Str("abc")), "abc");
  EXPECT_EQ(Masked("show_first:3", Str("abc")), "abc");
  EXPECT_EQ(Masked("show_first:2", Str("")), "");
}

TEST(MaskShow, StrayContinuationBytesStayWithTheirCharacter) {
  // "\x80" is not a character start: it belongs to 'a', so the last code point is "a\x80".
  EXPECT_EQ(Masked("show_last:1", Str("ba\x80")), "xa\x80");
  EXPECT_EQ(Masked("show_first:1", Str("a\x80"
                                       "b")),
            "a\x80x");
}

TEST(MaskHash, Sha256OfTheText) {
  EXPECT_EQ(Masked("hash", Str("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Masked("hash", Str("")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Masked("hash", Str("héllo")),
            "3c48591d8d098a4538f5e013dfcf406e948eac4d3277b10bf614e295d6068179");
  EXPECT_EQ(Masked("hash", Value{int64_t{42}}),
            "73475cb40a568e8da8a045ced110137e159f890ac4da883b6b17dc651b3a8049");
  EXPECT_EQ(Masked("hash", Value{int64_t{-1}}),
            "1bad6b8cf97131fceab8543e81f7757195fbb1d36b376ee994ad1cf17699c464");
  EXPECT_EQ(Masked("hash", Value{kMin}),
            "85386477f3af47e4a0b308ee3b3a688df16e8b2228105dd7d4dcd42a9807cb78");
  // The int64 42 hashes like the string "42": hash masks text, it is not a pseudonym.
  EXPECT_EQ(Masked("hash", Str("42")), Masked("hash", Value{int64_t{42}}));
}

TEST(MaskRange, Int64WithWholeWidthIsExact) {
  auto i = [](int64_t v) { return Value{v}; };
  EXPECT_EQ(Masked("range:100", i(150)), "[100, 200)");
  EXPECT_EQ(Masked("range:100", i(100)), "[100, 200)");
  EXPECT_EQ(Masked("range:100", i(199)), "[100, 200)");
  EXPECT_EQ(Masked("range:100", i(0)), "[0, 100)");
  EXPECT_EQ(Masked("range:100", i(-1)), "[-100, 0)");
  EXPECT_EQ(Masked("range:100", i(-100)), "[-100, 0)");
  EXPECT_EQ(Masked("range:100", i(-101)), "[-200, -100)");
  EXPECT_EQ(Masked("range:1", i(-7)), "[-7, -6)");
  EXPECT_EQ(Masked("range:100", i(kMin)), "[-9223372036854775900, -9223372036854775800)");
  EXPECT_EQ(Masked("range:100", i(kMax)), "[9223372036854775800, 9223372036854775900)");
  EXPECT_EQ(Masked("range:1", i(kMin)), "[-9223372036854775808, -9223372036854775807)");
  EXPECT_EQ(Masked("range:1", i(kMax)), "[9223372036854775807, 9223372036854775808)");
  // A width beyond 2^63 falls back to doubles.
  EXPECT_EQ(Masked("range:1e19", i(5)), "[0, 1e+19)");
  EXPECT_EQ(Masked("range:1e19", i(-5)), "[-1e+19, 0)");
}

TEST(MaskRange, FractionalWidthAndDoubles) {
  auto d = [](double v) { return Value{v}; };
  EXPECT_EQ(Masked("range:0.5", Value{int64_t{7}}), "[7, 7.5)");
  EXPECT_EQ(Masked("range:2.5", Value{int64_t{-1}}), "[-2.5, 0)");
  EXPECT_EQ(Masked("range:0.5", d(7.3)), "[7, 7.5)");
  EXPECT_EQ(Masked("range:0.5", d(-0.25)), "[-0.5, 0)");
  EXPECT_EQ(Masked("range:0.5", d(-0.0)), "[0, 0.5)");  // never "-0"
  EXPECT_EQ(Masked("range:100", d(150.5)), "[100, 200)");
  EXPECT_EQ(Masked("range:100", d(-0.5)), "[-100, 0)");
  // Beyond 2^53 * W, k + 1 rounds back to k: the documented degenerate range.
  EXPECT_EQ(Masked("range:10", d(1e22)), "[1e+22, 1e+22)");
  // lo = floor(v / W) * W in doubles: 0.3 / 0.1 is 2.9999999999999996.
  EXPECT_EQ(Masked("range:0.1", d(0.3)), "[0.2, 0.30000000000000004)");
}

TEST(MaskRange, NonFiniteGivesNull) {
  EXPECT_EQ(Masked("range:10", Value{std::nan("")}), "null");
  EXPECT_EQ(Masked("range:10", Value{std::numeric_limits<double>::infinity()}), "null");
  EXPECT_EQ(Masked("range:10", Value{-std::numeric_limits<double>::infinity()}), "null");
  // v / W overflows to infinity.
  EXPECT_EQ(Masked("range:1e-300", Value{1e300}), "null");
}

TEST(MaskYear, FirstInstantOfTheYear) {
  EXPECT_EQ(YearOf(TsOf("2026-03-04T05:06:07.123456Z").micros),
            TsOf("2026-01-01T00:00:00Z").micros);
  EXPECT_EQ(YearOf(TsOf("2026-01-01T00:00:00Z").micros), 1767225600LL * kSecond);
  EXPECT_EQ(YearOf(TsOf("2000-12-31T23:59:59.999999Z").micros), 946684800LL * kSecond);
  EXPECT_EQ(YearOf(TsOf("2024-02-29T12:00:00Z").micros), 1704067200LL * kSecond);
  EXPECT_EQ(YearOf(0), 0);
  EXPECT_EQ(YearOf(-1), -31536000LL * kSecond);  // 1969-12-31T23:59:59.999999Z
  EXPECT_EQ(YearOf(TsOf("1900-06-01T00:00:00Z").micros), -2208988800LL * kSecond);
  EXPECT_EQ(YearOf(TsOf("1600-12-31T23:00:00Z").micros), -11676096000LL * kSecond);
  EXPECT_EQ(YearOf(kMax), 9223371244800000000LL);  // 294247-01-01
  // Year -290307 starts at the lowest representable year start.
  EXPECT_EQ(YearOf(-9223371158400000000LL + 1), -9223371158400000000LL);
  // INT64_MIN lies in year -290308, whose first instant is below the int64 range.
  Value v = ApplyMask(Rule("year"), Ts(kMin));
  EXPECT_TRUE(std::holds_alternative<std::monostate>(v));
}

TEST(MaskYear, AgreesWithStdChronoOnRandomInstants) {
  using namespace std::chrono;
  std::mt19937_64 rng(20261123);
  // About 1970 +- 28500 years, inside std::chrono::year's range (+-32767).
  std::uniform_int_distribution<int64_t> dist(-900000000000LL * kSecond, 900000000000LL * kSecond);
  for (int i = 0; i < 2000; ++i) {
    const int64_t micros = dist(rng);
    const sys_days day = floor<days>(sys_time<microseconds>(microseconds(micros)));
    const year_month_day ymd(day);
    const int64_t expected =
        duration_cast<microseconds>(sys_days(ymd.year() / January / 1).time_since_epoch()).count();
    ASSERT_EQ(YearOf(micros), expected) << micros;
  }
}

TEST(MaskHandBuilt, OutOfRangeParametersFailClosed) {
  // ParseMaskRule never yields these; a rule built in code must still not leak.
  EXPECT_EQ(ApplyMask(MaskRule{MaskKind::kRange, 0}, Value{int64_t{5}}), Value{});
  EXPECT_EQ(ApplyMask(MaskRule{MaskKind::kRange, -10}, Value{5.0}), Value{});
  EXPECT_EQ(ApplyMask(MaskRule{MaskKind::kRange, std::nan("")}, Value{int64_t{5}}), Value{});
  EXPECT_EQ(
      ApplyMask(MaskRule{MaskKind::kRange, std::numeric_limits<double>::infinity()}, Value{5.0}),
      Value{});
  EXPECT_EQ(ApplyMask(MaskRule{MaskKind::kShowLast, 0}, Str("ab1")), Str("xxn"));
  EXPECT_EQ(ApplyMask(MaskRule{MaskKind::kShowFirst, std::nan("")}, Str("ab1")), Str("xxn"));
  EXPECT_EQ(ApplyMask(MaskRule{MaskKind::kShowFirst, 1e300}, Str("ab1")), Str("ab1"));
}

TEST(MaskNull, EveryTypeBecomesNull) {
  const MaskRule null_rule = Rule("null");
  for (const Value& v : {Value{int64_t{1}}, Value{2.5}, Str("x"), Value{true}, Ts(5),
                         Value{std::vector<catalog::Scalar>{int64_t{1}}}}) {
    EXPECT_TRUE(std::holds_alternative<std::monostate>(ApplyMask(null_rule, v)));
  }
}

TEST(MaskNull, NullInGivesNullOutForEveryRule) {
  for (std::string_view r :
       {"redact", "null", "show_last:2", "show_first:2", "hash", "range:5", "year"}) {
    EXPECT_TRUE(std::holds_alternative<std::monostate>(ApplyMask(Rule(r), Value{}))) << r;
  }
}

TEST(MaskMisfit, ValueOfAnotherTypeBecomesNull) {
  EXPECT_EQ(Masked("redact", Value{int64_t{42}}), "null");
  EXPECT_EQ(Masked("hash", Value{2.5}), "null");
  EXPECT_EQ(Masked("range:10", Str("12")), "null");
  EXPECT_EQ(Masked("show_last:2", Value{true}), "null");
  EXPECT_TRUE(std::holds_alternative<std::monostate>(ApplyMask(Rule("year"), Value{int64_t{5}})));
}

TEST(MaskList, RuleAppliesToEachElement) {
  using L = std::vector<catalog::Scalar>;
  EXPECT_EQ(ApplyMask(Rule("redact"), Value{L{std::string("ab"), std::string("C1")}}),
            (Value{L{std::string("xx"), std::string("Xn")}}));
  EXPECT_EQ(ApplyMask(Rule("range:10"), Value{L{int64_t{5}, int64_t{-5}}}),
            (Value{L{std::string("[0, 10)"), std::string("[-10, 0)")}}));
  EXPECT_EQ(ApplyMask(Rule("year"), Value{L{Timestamp{-1}, Timestamp{1}}}),
            (Value{L{Timestamp{-31536000LL * kSecond}, Timestamp{0}}}));
  EXPECT_EQ(ApplyMask(Rule("redact"), Value{L{}}), Value{L{}});
  // An element without a masked form nulls the whole list (a list has no null elements).
  EXPECT_EQ(ApplyMask(Rule("range:10"), Value{L{1.0, std::nan("")}}), Value{});
}

ColumnVector StringColumn(const std::vector<std::optional<std::string>>& cells) {
  ColumnVector c(ValueType{ScalarType::kString, false});
  for (const auto& s : cells) {
    if (s) {
      c.AppendBytes(*s);
    } else {
      c.AppendNull();
    }
  }
  return c;
}

TEST(MaskColumn, StringColumnKeepsNulls) {
  ColumnVector in = StringColumn({"Alice", std::nullopt, "", "Bob-42"});
  ColumnVector out;
  ASSERT_TRUE(MaskColumn(Rule("show_first:1"), in, out).ok());
  EXPECT_EQ(out.type, (ValueType{ScalarType::kString, false}));
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out.BytesAt(0), "Axxxx");
  EXPECT_TRUE(out.IsNull(1));
  EXPECT_EQ(out.BytesAt(2), "");
  EXPECT_EQ(out.BytesAt(3), "Bxx-nn");
}

TEST(MaskColumn, NumericAndTimestampColumns) {
  ColumnVector ints(ValueType{ScalarType::kInt64, false});
  ints.AppendInt64(150);
  ints.AppendNull();
  ints.AppendInt64(kMin);
  ColumnVector out;
  ASSERT_TRUE(MaskColumn(Rule("range:100"), ints, out).ok());
  EXPECT_EQ(out.type, (ValueType{ScalarType::kString, false}));
  EXPECT_EQ(out.BytesAt(0), "[100, 200)");
  EXPECT_TRUE(out.IsNull(1));
  EXPECT_EQ(out.BytesAt(2), "[-9223372036854775900, -9223372036854775800)");

  ColumnVector doubles(ValueType{ScalarType::kDouble, false});
  doubles.AppendDouble(7.3);
  doubles.AppendDouble(std::numeric_limits<double>::infinity());
  ASSERT_TRUE(MaskColumn(Rule("range:0.5"), doubles, out).ok());
  EXPECT_EQ(out.BytesAt(0), "[7, 7.5)");
  EXPECT_TRUE(out.IsNull(1));

  ColumnVector times(ValueType{ScalarType::kTimestamp, false});
  times.AppendTimestamp(-1);
  times.AppendTimestamp(kMin);
  ASSERT_TRUE(MaskColumn(Rule("year"), times, out).ok());
  EXPECT_EQ(out.type, (ValueType{ScalarType::kTimestamp, false}));
  EXPECT_EQ(out.Int64At(0), -31536000LL * kSecond);
  EXPECT_TRUE(out.IsNull(1));

  ASSERT_TRUE(MaskColumn(Rule("hash"), ints, out).ok());
  EXPECT_EQ(out.BytesAt(0), Masked("hash", Value{int64_t{150}}));
}

TEST(MaskColumn, NullRuleKeepsTypeAndLength) {
  ColumnVector bools(ValueType{ScalarType::kBool, false});
  bools.AppendBool(true);
  bools.AppendBool(false);
  ColumnVector out;
  ASSERT_TRUE(MaskColumn(Rule("null"), bools, out).ok());
  EXPECT_EQ(out.type, bools.type);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_TRUE(out.IsNull(0));
  EXPECT_TRUE(out.IsNull(1));
}

TEST(MaskColumn, MisfitIsInvalidArgument) {
  ColumnVector ints(ValueType{ScalarType::kInt64, false});
  ints.AppendInt64(1);
  ColumnVector out;
  Status s = MaskColumn(Rule("redact"), ints, out);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "mask `redact` does not fit type int64; it masks string values only (lists take "
            "`null`); choose another mask or type");
}

TEST(MaskColumn, ListColumnAndInPlace) {
  using L = std::vector<catalog::Scalar>;
  ColumnVector lists(ValueType{ScalarType::kString, true});
  ASSERT_TRUE(lists.AppendValue(Value{L{std::string("ab1"), std::string("é")}}).ok());
  lists.AppendNull();
  ASSERT_TRUE(MaskColumn(Rule("redact"), lists, lists).ok());  // out aliases in
  EXPECT_EQ(lists.type, (ValueType{ScalarType::kString, true}));
  EXPECT_EQ(lists.ValueAt(0), (Value{L{std::string("xxn"), std::string("é")}}));
  EXPECT_TRUE(lists.IsNull(1));
}

TEST(MaskColumn, AgreesWithApplyMaskCellByCell) {
  ColumnVector in = StringColumn({"a", "Zz9 ü", std::nullopt, "0123456789", "ñandú"});
  for (std::string_view r : {"redact", "show_last:2", "show_first:2", "hash", "null"}) {
    ColumnVector out;
    ASSERT_TRUE(MaskColumn(Rule(r), in, out).ok()) << r;
    ASSERT_EQ(out.size(), in.size());
    for (size_t i = 0; i < in.size(); ++i) {
      EXPECT_EQ(out.ValueAt(i), ApplyMask(Rule(r), in.ValueAt(i))) << r << " row " << i;
    }
  }
}

}  // namespace
}  // namespace custos::features
