// Entity-row readers: RFC 4180 tokenizing, typed CSV and JSON Lines parsing, and errors at
// file:line:column.
#include "features/entity_rows.h"

#include <gtest/gtest.h>

#include "features_test_util.h"

namespace custos::features::testing {
namespace {

EntityRowsSpec DriverSpec() {
  EntityRowsSpec spec;
  spec.join_keys = {{"driver_id", Int64()}};
  return spec;
}

std::vector<std::vector<std::string>> AllRecords(std::string_view text) {
  CsvReader reader(text, "t.csv");
  std::vector<std::vector<std::string>> out;
  std::vector<std::string_view> fields;
  while (true) {
    auto more = reader.Next(fields);
    EXPECT_TRUE(more.ok()) << more.status().ToString();
    if (!more.ok() || !*more) break;
    out.emplace_back(fields.begin(), fields.end());
  }
  return out;
}

TEST(CsvReaderTest, Rfc4180Quoting) {
  auto records = AllRecords("a,\"b,c\",\"say \"\"hi\"\"\"\r\n\"multi\nline\",,x\n\"\"");
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0], (std::vector<std::string>{"a", "b,c", "say \"hi\""}));
  EXPECT_EQ(records[1], (std::vector<std::string>{"multi\nline", "", "x"}));
  EXPECT_EQ(records[2], (std::vector<std::string>{""}));
}

TEST(CsvReaderTest, PositionsCountLinesInsideQuotes) {
  CsvReader reader("\"a\nb\",c\nd,\"e\"", "p.csv");
  std::vector<std::string_view> fields;
  ASSERT_TRUE(*reader.Next(fields));
  EXPECT_EQ(reader.line(), 1u);
  EXPECT_EQ(reader.Where(1), "p.csv:2:4");
  ASSERT_TRUE(*reader.Next(fields));
  EXPECT_EQ(reader.line(), 3u);
  EXPECT_EQ(reader.Where(1), "p.csv:3:3");
}

TEST(CsvReaderTest, Errors) {
  CsvReader open("a,\"never closed\n", "bad.csv");
  std::vector<std::string_view> fields;
  auto r = open.Next(fields);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "bad.csv:1:3: quoted field is never closed; add the closing '\"' (a quote inside a "
            "quoted field is written \"\")");
  CsvReader after("x\n\"a\"b,c\n", "bad.csv");
  ASSERT_TRUE(*after.Next(fields));
  r = after.Next(fields);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().message().starts_with("bad.csv:2:4: unexpected text after a closing"))
      << r.status().message();
}

TEST(EntityRowsCsvTest, ReadsKeysTimestampsAndExtras) {
  auto rows = ReadEntityRowsCsv(
      "label,driver_id,event_timestamp\r\n"
      "1,1001,2026-01-02T03:04:05Z\r\n"
      ",1002,1767225600\r\n"
      "\"x,y\",-3,2026-01-02T03:04:05.5+01:00\r\n",
      "rows.csv", DriverSpec());
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 3u);
  EXPECT_EQ(rows->keys[0].Int64At(0), 1001);
  EXPECT_EQ(rows->keys[0].Int64At(2), -3);
  EXPECT_EQ(rows->ts[0], 1767323045LL * kSecond);
  EXPECT_EQ(rows->ts[1], 1767225600LL * kSecond);
  EXPECT_EQ(rows->ts[2], (1767323045LL - 3600) * kSecond + 500000);
  ASSERT_EQ(rows->extra_names, std::vector<std::string>{"label"});
  EXPECT_EQ(rows->extras[0].BytesAt(0), "1");
  EXPECT_TRUE(rows->extras[0].IsNull(1));
  EXPECT_EQ(rows->extras[0].BytesAt(2), "x,y");
}

Status CsvError(std::string_view text, EntityRowsSpec spec = DriverSpec()) {
  auto r = ReadEntityRowsCsv(text, "e.csv", spec);
  return r.ok() ? Status::Ok() : r.status();
}

TEST(EntityRowsCsvTest, ErrorsNameFileLineColumn) {
  EXPECT_EQ(CsvError("id,event_timestamp\n1,2026-01-01T00:00:00Z\n").message(),
            "e.csv:1:1: missing column 'driver_id' (the header has: id, event_timestamp)");
  EXPECT_EQ(CsvError("driver_id,ts\n1,2\n").message(),
            "e.csv:1:1: missing column 'event_timestamp' (the header has: driver_id, ts)");
  EXPECT_EQ(CsvError("driver_id,event_timestamp\n1,2026-01-01T00:00:00Z\nabc,5\n").message(),
            "e.csv:3:1: join key 'driver_id' has the wrong type: 'abc' is not a valid int64 "
            "(expected a whole number between -9223372036854775808 and 9223372036854775807)");
  Status ts = CsvError("driver_id,event_timestamp\n1,2026-13-01T00:00:00Z\n");
  EXPECT_EQ(ts.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(
      ts.message().starts_with("e.csv:2:3: malformed timestamp in column "
                               "'event_timestamp': "))
      << ts.message();
  EXPECT_EQ(CsvError("driver_id,event_timestamp\n1,5,6\n").message(),
            "e.csv:2:5: row has 3 fields but the header has 2");
  EXPECT_EQ(CsvError("driver_id,event_timestamp\n1\n").message(),
            "e.csv:2:1: row has 1 fields but the header has 2");
  EXPECT_EQ(CsvError("driver_id,event_timestamp\n,5\n").message(),
            "e.csv:2:1: join key 'driver_id' is empty; every entity row needs it");
  EXPECT_EQ(CsvError("driver_id,driver_id,event_timestamp\n").message(),
            "e.csv:1:11: duplicate column 'driver_id' in the header");
  EXPECT_EQ(CsvError("").message(),
            "e.csv:1:1: empty file; expected a header row naming the columns");
}

TEST(EntityRowsCsvTest, BlankLinesAreSkipped) {
  auto rows = ReadEntityRowsCsv("driver_id,event_timestamp\n\n1,5\n\n", "e.csv", DriverSpec());
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->size(), 1u);
  EXPECT_EQ(rows->ts[0], 5 * kSecond);
}

TEST(EntityRowsJsonlTest, ReadsTypedMembers) {
  EntityRowsSpec spec;
  spec.join_keys = {{"driver_id", Int64()}, {"city", String()}};
  auto rows = ReadEntityRowsJsonl(
      "{\"driver_id\": 1, \"city\": \"Paris\", \"event_timestamp\": \"2026-01-02T03:04:05Z\", "
      "\"label\": true}\n"
      "\n"
      "{\"driver_id\": 2, \"city\": \"Oslo\", \"event_timestamp\": 1767225600, \"note\": "
      "\"n\"}\r\n",
      "rows.jsonl", spec);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ(rows->keys[1].BytesAt(1), "Oslo");
  EXPECT_EQ(rows->ts[1], 1767225600LL * kSecond);
  ASSERT_EQ(rows->extra_names, (std::vector<std::string>{"label", "note"}));
  EXPECT_EQ(rows->extras[0].BytesAt(0), "true");
  EXPECT_TRUE(rows->extras[0].IsNull(1));
  EXPECT_TRUE(rows->extras[1].IsNull(0));
  EXPECT_EQ(rows->extras[1].BytesAt(1), "n");
}

Status JsonlError(std::string_view text) {
  auto r = ReadEntityRowsJsonl(text, "e.jsonl", DriverSpec());
  return r.ok() ? Status::Ok() : r.status();
}

TEST(EntityRowsJsonlTest, ErrorsNameFileLineColumn) {
  EXPECT_EQ(JsonlError("{\"driver_id\": 1, \"event_timestamp\": 5}\n{\"event_timestamp\": 5}\n")
                .message(),
            "e.jsonl:2:1: missing column 'driver_id' (join key)");
  EXPECT_EQ(JsonlError("{\"event_timestamp\": 5, \"driver_id\": \"7\"}").message(),
            "e.jsonl:1:24: join key 'driver_id' has the wrong type: expected an integer "
            "(int64), got JSON string");
  EXPECT_EQ(JsonlError("{\"driver_id\": 1}").message(),
            "e.jsonl:1:1: missing column 'event_timestamp' (entity timestamp)");
  Status ts = JsonlError("{\"driver_id\": 1, \"event_timestamp\": \"yesterday\"}");
  EXPECT_TRUE(
      ts.message().starts_with("e.jsonl:1:18: malformed timestamp in column "
                               "'event_timestamp'"))
      << ts.message();
  Status json = JsonlError("{\"driver_id\": 1,, }");
  EXPECT_TRUE(json.message().starts_with("e.jsonl:1:17: invalid JSON")) << json.message();
  // A number no double holds: nlohmann-json reports it as out_of_range, not parse_error
  // (found by features_rows_fuzz).
  Status huge = JsonlError("{\"driver_id\": 1, \"event_timestamp\": 1e999}");
  EXPECT_EQ(huge.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(huge.message().starts_with("e.jsonl:1:1: invalid JSON: number overflow"))
      << huge.message();
  EXPECT_EQ(JsonlError("[1,2]").message(),
            "e.jsonl:1:1: expected a JSON object per line, got array");
  EXPECT_EQ(JsonlError("{\"driver_id\": null, \"event_timestamp\": 5}").message(),
            "e.jsonl:1:2: join key 'driver_id' is null; every entity row needs it");
}

TEST(EntityRowsFileTest, UnknownExtensionAndMissingFile) {
  EXPECT_EQ(ReadEntityRowsFile("/nonexistent/rows.csv", DriverSpec()).status().code(),
            StatusCode::kNotFound);
  custos::testing::TempDir dir;
  std::string path = dir.Sub("rows.txt");
  FILE* f = fopen(path.c_str(), "w");
  ASSERT_NE(f, nullptr);
  fputs("driver_id,event_timestamp\n1,2\n", f);
  fclose(f);
  EXPECT_EQ(ReadEntityRowsFile(path, DriverSpec()).status().code(), StatusCode::kInvalidArgument);
  std::string csv = dir.Sub("rows.csv");
  std::rename(path.c_str(), csv.c_str());
  auto rows = ReadEntityRowsFile(csv, DriverSpec());
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->size(), 1u);
}

}  // namespace
}  // namespace custos::features::testing
