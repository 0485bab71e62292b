// JsonWriter against nlohmann's parser: what it writes must parse back to the same values,
// separators must be right at every nesting level, and no byte string may make it write
// invalid JSON.
#include "common/json_writer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>

namespace custos::common {
namespace {

std::string Str(std::string_view text) {
  std::string out;
  AppendJsonString(out, text);
  return out;
}

std::string Dbl(double value) {
  std::string out;
  AppendJsonDouble(out, value);
  return out;
}

TEST(JsonWriterTest, NestedSeparators) {
  std::string out;
  JsonWriter w(out);
  w.BeginObject();
  w.Key("a");
  w.BeginArray();
  w.Int(1);
  w.BeginObject();
  w.EndObject();
  w.BeginArray();
  w.EndArray();
  w.Null();
  w.EndArray();
  w.Key("b");
  w.BeginObject();
  w.Key("c");
  w.Bool(true);
  w.Key("d");
  w.Bool(false);
  w.EndObject();
  w.Key("e");
  w.String("x");
  w.EndObject();
  EXPECT_EQ(out, R"({"a":[1,{},[],null],"b":{"c":true,"d":false},"e":"x"})");
  EXPECT_TRUE(nlohmann::json::accept(out));
}

TEST(JsonWriterTest, EscapesWhatJsonRequires) {
  EXPECT_EQ(Str("plain"), R"("plain")");
  EXPECT_EQ(Str("q\"b\\"), R"("q\"b\\")");
  EXPECT_EQ(Str("\b\f\n\r\t"), R"("\b\f\n\r\t")");
  EXPECT_EQ(Str(std::string("\x00\x01\x1f", 3)), R"("\u0000\u0001\u001f")");
  EXPECT_EQ(Str("é€😀"), "\"é€😀\"");  // valid UTF-8 passes through
}

TEST(JsonWriterTest, InvalidUtf8BecomesReplacementCharacter) {
  EXPECT_EQ(Str("a\xff"
                "b"),
            R"("a\ufffdb")");
  EXPECT_EQ(Str("\xc0\xaf"), R"("\ufffd\ufffd")");                      // overlong '/'
  EXPECT_EQ(Str("\xed\xa0\x80"), R"("\ufffd\ufffd\ufffd")");            // a surrogate
  EXPECT_EQ(Str("\xf4\x90\x80\x80"), R"("\ufffd\ufffd\ufffd\ufffd")");  // above U+10FFFF
  EXPECT_EQ(Str("\xe2\x82"), R"("\ufffd\ufffd")");                      // cut short at the end
}

TEST(JsonWriterTest, DoublesReadBackExactlyAndStayFloatingPoint) {
  EXPECT_EQ(Dbl(1.0), "1.0");
  EXPECT_EQ(Dbl(-0.5), "-0.5");
  EXPECT_EQ(Dbl(0.1), "0.1");
  EXPECT_EQ(Dbl(1e300), "1e+300");
  EXPECT_EQ(Dbl(std::nan("")), "null");
  EXPECT_EQ(Dbl(std::numeric_limits<double>::infinity()), "null");
  std::mt19937_64 random(7);
  for (int i = 0; i < 10000; ++i) {
    const uint64_t bits = random();
    double value;
    std::memcpy(&value, &bits, sizeof value);
    if (!std::isfinite(value)) continue;
    const nlohmann::json parsed = nlohmann::json::parse(Dbl(value));
    ASSERT_TRUE(parsed.is_number_float()) << Dbl(value);
    ASSERT_EQ(parsed.get<double>(), value) << Dbl(value);
  }
}

TEST(JsonWriterTest, RandomBytesAlwaysMakeValidJson) {
  std::mt19937 random(11);
  for (int i = 0; i < 2000; ++i) {
    std::string bytes(random() % 24, '\0');
    for (char& c : bytes) c = static_cast<char>(random());
    const std::string text = Str(bytes);
    nlohmann::json parsed;
    ASSERT_NO_THROW(parsed = nlohmann::json::parse(text)) << text;
    ASSERT_TRUE(parsed.is_string());
    if (nlohmann::json(bytes).dump(-1, ' ', false, nlohmann::json::error_handler_t::ignore) ==
        nlohmann::json(bytes).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)) {
      // Valid UTF-8: it must read back unchanged.
      ASSERT_EQ(parsed.get<std::string>(), bytes);
    }
  }
}

TEST(JsonWriterTest, Integers) {
  std::string out;
  JsonWriter w(out);
  w.BeginArray();
  w.Int(0);
  w.Int(std::numeric_limits<int64_t>::min());
  w.Int(std::numeric_limits<int64_t>::max());
  w.EndArray();
  EXPECT_EQ(out, "[0,-9223372036854775808,9223372036854775807]");
}

}  // namespace
}  // namespace custos::common
