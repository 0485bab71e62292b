// Ingestion source readers (CSV, JSON Lines): typed cells, field_mapping, created
// timestamps, per-row rejects with exact rows and positions, whole-input errors, Summary.
#include "features/source_reader.h"

#include <gtest/gtest.h>

#include <fstream>

#include "../testing/temp_dir.h"

namespace custos::features {
namespace {

using catalog::Scalar;
using catalog::ScalarType;
using catalog::Timestamp;
using catalog::Value;
using catalog::ValueType;

constexpr int64_t kSecond = 1000000;
constexpr int64_t kJan1 = 1767225600;  // 2026-01-01T00:00:00Z
constexpr int64_t kJan2 = 1767312000;  // 2026-01-02T00:00:00Z

ValueType T(ScalarType s, bool list = false) { return ValueType{s, list}; }

// One of every type, scalar and list.
SourceColumns AllTypes() {
  SourceColumns c;
  c.join_keys = {{"driver_id", T(ScalarType::kInt64)}};
  c.features = {
      {"rate", T(ScalarType::kDouble)},         {"trips", T(ScalarType::kInt64)},
      {"name", T(ScalarType::kString)},         {"active", T(ScalarType::kBool)},
      {"seen", T(ScalarType::kTimestamp)},      {"tags", T(ScalarType::kString, true)},
      {"scores", T(ScalarType::kDouble, true)}, {"counts", T(ScalarType::kInt64, true)},
      {"flags", T(ScalarType::kBool, true)},    {"times", T(ScalarType::kTimestamp, true)}};
  c.timestamp_field = "event_ts";
  c.created_timestamp_field = "created";
  return c;
}

// driver_id (int64) key; trips (int64), rate (double) features; no created column.
SourceColumns Simple() {
  SourceColumns c;
  c.join_keys = {{"driver_id", T(ScalarType::kInt64)}};
  c.features = {{"trips", T(ScalarType::kInt64)}, {"rate", T(ScalarType::kDouble)}};
  c.timestamp_field = "event_ts";
  return c;
}

SourceReadOptions Options(int64_t default_created = 42) {
  SourceReadOptions o;
  o.default_created_ts = default_created;
  return o;
}

const std::map<std::string, std::string> kNoMapping;

std::vector<uint64_t> RejectRows(const SourceReadResult& r) {
  std::vector<uint64_t> rows;
  for (const RowReject& j : r.rejects) rows.push_back(j.row);
  return rows;
}

std::vector<std::string> RejectWheres(const SourceReadResult& r) {
  std::vector<std::string> out;
  for (const RowReject& j : r.rejects) out.push_back(j.where);
  return out;
}

// Every column of the batch has exactly batch.size() cells.
void ExpectAligned(const SourceReadResult& r) {
  for (const ColumnVector& c : r.batch.join_keys) EXPECT_EQ(c.size(), r.batch.size());
  for (const ColumnVector& c : r.batch.features) {
    EXPECT_EQ(c.size(), r.batch.size());
    EXPECT_EQ(c.fixed.size(), r.batch.size());
    if (IsVarlen(c.type)) {
      EXPECT_EQ(c.lengths.size(), r.batch.size());
    }
  }
  EXPECT_EQ(r.batch.created_ts.size(), r.batch.size());
}

// Checks row 0 of an AllTypes batch read from either format.
void ExpectAllTypesRow0(const SourceReadResult& r) {
  const OfflineBatch& b = r.batch;
  EXPECT_EQ(b.join_keys[0].Int64At(0), 1001);
  EXPECT_EQ(b.features[0].DoubleAt(0), 0.5);
  EXPECT_EQ(b.features[1].Int64At(0), -7);
  EXPECT_EQ(b.features[2].BytesAt(0), "Ann, B");
  EXPECT_TRUE(b.features[3].BoolAt(0));
  EXPECT_EQ(b.features[4].Int64At(0), (kJan2 + 3 * 3600 + 4 * 60 + 5) * kSecond);
  EXPECT_EQ(b.features[5].ValueAt(0), (Value{std::vector<Scalar>{"a", "b c"}}));
  EXPECT_EQ(b.features[6].ValueAt(0), (Value{std::vector<Scalar>{1.5, 2.0}}));
  EXPECT_EQ(b.features[7].ValueAt(0), (Value{std::vector<Scalar>{int64_t{1}, int64_t{-2}}}));
  EXPECT_EQ(b.features[8].ValueAt(0), (Value{std::vector<Scalar>{true, false}}));
  EXPECT_EQ(b.features[9].ValueAt(0),
            (Value{std::vector<Scalar>{Timestamp{kJan1 * kSecond}, Timestamp{3 * kSecond}}}));
  EXPECT_EQ(b.event_ts[0], kJan2 * kSecond);
  EXPECT_EQ(b.created_ts[0], kJan1 * kSecond);
}

// ---------------------------------------------------------------------------------- CSV

TEST(CsvSourceTest, EveryTypeListsAndNulls) {
  const std::string text =
      "driver_id,rate,trips,name,active,seen,tags,scores,counts,flags,times,event_ts,created,"
      "extra\n"
      "1001,0.5,-7,\"Ann, B\",true,2026-01-02T03:04:05Z,\"[\"\"a\"\",\"\"b c\"\"]\",\"[1.5,2]\","
      "\"[1,-2]\",\"[true,false]\",\"[\"\"2026-01-01T00:00:00Z\"\",3]\",2026-01-02T00:00:00Z,"
      "1767225600,ignored\n"
      "1002,,,,,,,,,,,1767312000,,x\n"
      "1003,-3e4,0,\"\",FALSE,0,[],[],[],[],[],2026-01-02T01:00:00+01:00,,\n";
  auto r = ReadCsvSource(text, "all.csv", kNoMapping, AllTypes(), Options());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->batch.size(), 3u);
  EXPECT_EQ(r->rejected, 0u);
  EXPECT_EQ(r->rows_read, 3u);
  ExpectAligned(*r);
  ExpectAllTypesRow0(*r);
  const OfflineBatch& b = r->batch;
  EXPECT_EQ(b.join_keys[0].Int64At(1), 1002);
  for (size_t f = 0; f < b.features.size(); ++f) EXPECT_TRUE(b.features[f].IsNull(1)) << f;
  EXPECT_EQ(b.event_ts[1], kJan2 * kSecond);
  EXPECT_EQ(b.created_ts[1], 42);  // empty created cell: the default
  EXPECT_EQ(b.features[0].DoubleAt(2), -30000.0);
  EXPECT_EQ(b.features[1].Int64At(2), 0);
  // A quoted empty cell is still empty, i.e. null.
  EXPECT_TRUE(b.features[2].IsNull(2));
  EXPECT_FALSE(b.features[3].BoolAt(2));
  EXPECT_EQ(b.features[4].Int64At(2), 0);
  EXPECT_EQ(b.features[5].ValueAt(2), (Value{std::vector<Scalar>{}}));
  EXPECT_EQ(b.event_ts[2], kJan2 * kSecond);  // +01:00 offset normalized to UTC
  EXPECT_EQ(r->Summary(), "read 3 rows: 3 accepted, 0 rejected");
}

TEST(CsvSourceTest, FieldMappingRenamesSourceColumns) {
  SourceColumns c = Simple();
  const std::map<std::string, std::string> mapping = {
      {"id", "driver_id"}, {"ts", "event_ts"}, {"conv", "rate"}};
  auto r =
      ReadCsvSource("id,trips,conv,ts,rate_old\n7,3,0.25,100,9\n", "m.csv", mapping, c, Options());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->batch.size(), 1u);
  EXPECT_EQ(r->batch.join_keys[0].Int64At(0), 7);
  EXPECT_EQ(r->batch.features[0].Int64At(0), 3);
  EXPECT_EQ(r->batch.features[1].DoubleAt(0), 0.25);
  EXPECT_EQ(r->batch.event_ts[0], 100 * kSecond);
  EXPECT_EQ(r->batch.created_ts[0], 42);
}

TEST(CsvSourceTest, CreatedTimestampDefaultWithoutColumnAndExplicitWithOne) {
  auto r = ReadCsvSource("driver_id,trips,rate,event_ts\n1,2,3,10\n", "d.csv", kNoMapping, Simple(),
                         Options(777));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->batch.created_ts, std::vector<int64_t>{777});
  SourceColumns c = Simple();
  c.created_timestamp_field = "created";
  r = ReadCsvSource("driver_id,trips,rate,event_ts,created\n1,2,3,10,20\n2,2,3,10,\n", "d.csv",
                    kNoMapping, c, Options(777));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->batch.created_ts, (std::vector<int64_t>{20 * kSecond, 777}));
  // A malformed created timestamp rejects the row at its cell.
  r = ReadCsvSource("driver_id,trips,rate,event_ts,created\n1,2,3,10,soon\n", "d.csv", kNoMapping,
                    c, Options(777));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->rejects.size(), 1u);
  EXPECT_EQ(r->rejects[0].where, "d.csv:2:10");
  EXPECT_EQ(r->rejects[0].message,
            "malformed created timestamp: column 'created': expected timestamp (RFC 3339 such as "
            "2026-01-02T03:04:05Z, or integer Unix seconds), got 'soon'");
  auto j = ReadJsonLinesSource(R"({"driver_id":1,"event_ts":1,"created":true})", "d.jsonl",
                               kNoMapping, c, Options(777));
  ASSERT_TRUE(j.ok()) << j.status().ToString();
  ASSERT_EQ(j->rejects.size(), 1u);
  EXPECT_EQ(j->rejects[0].where, "d.jsonl:1:29");
  EXPECT_EQ(j->rejects[0].message,
            "malformed created timestamp: column 'created': expected timestamp (an RFC 3339 "
            "string or integer Unix seconds), got JSON boolean true");
}

TEST(CsvSourceTest, EachRejectKindWithRowAndPosition) {
  const std::string text =
      "driver_id,trips,rate,event_ts\n"       // line 1
      "1,5,0.5,2026-01-02T00:00:00Z\n"        // row 1: good
      ",5,0.5,2026-01-02T00:00:00Z\n"         // row 2: empty key
      "x,5,0.5,2026-01-02T00:00:00Z\n"        // row 3: key of the wrong type
      "2,5.5,0.5,2026-01-02T00:00:00Z\n"      // row 4: int64 feature of the wrong type
      "3,5,0.5,\n"                            // row 5: empty event timestamp
      "4,5,0.5,yesterday\n"                   // row 6: malformed event timestamp
      "5,5\n"                                 // row 7: too few fields
      "6,5,0.5,2026-01-02T00:00:00Z,extra\n"  // row 8: too many fields
      "\n"                                    // blank: not a record
      "7,9223372036854775808,0.5,10\n"        // row 9: int64 out of range
      "8,5,NaN,10\n"                          // row 10: NaN double
      "9,NaN,0.5,10\n"                        // row 11: NaN for int64
      "10,5,1e999,10\n"                       // row 12: double out of range
      "11,5,0.5,2026-01-02T00:00:00Z\n";      // row 13: good
  auto r = ReadCsvSource(text, "bad.csv", kNoMapping, Simple(), Options());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ExpectAligned(*r);
  EXPECT_EQ(r->batch.size(), 2u);
  EXPECT_EQ(r->rows_read, 13u);
  EXPECT_EQ(r->rejected, 11u);
  EXPECT_EQ(RejectRows(*r), (std::vector<uint64_t>{2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}));
  EXPECT_EQ(RejectWheres(*r),
            (std::vector<std::string>{"bad.csv:3:1", "bad.csv:4:1", "bad.csv:5:3", "bad.csv:6:9",
                                      "bad.csv:7:9", "bad.csv:8:3", "bad.csv:9:30", "bad.csv:11:3",
                                      "bad.csv:12:5", "bad.csv:13:3", "bad.csv:14:6"}));
  EXPECT_EQ(r->rejects[0].message, "join key 'driver_id' is empty; every row needs its join keys");
  EXPECT_EQ(r->rejects[1].message,
            "join key column 'driver_id': expected int64 (a whole number between "
            "-9223372036854775808 and 9223372036854775807), got 'x'");
  EXPECT_EQ(r->rejects[2].message,
            "column 'trips': expected int64 (a whole number between -9223372036854775808 and "
            "9223372036854775807), got '5.5'");
  EXPECT_EQ(r->rejects[3].message, "event timestamp 'event_ts' is empty; every row needs one");
  EXPECT_EQ(r->rejects[4].message,
            "malformed event timestamp: column 'event_ts': expected timestamp (RFC 3339 such as "
            "2026-01-02T03:04:05Z, or integer Unix seconds), got 'yesterday'");
  EXPECT_EQ(r->rejects[5].message, "row has 2 fields but the header has 4");
  EXPECT_EQ(r->rejects[6].message, "row has 5 fields but the header has 4");
  EXPECT_NE(r->rejects[7].message.find("got '9223372036854775808'"), std::string::npos);
  EXPECT_EQ(r->rejects[8].message,
            "column 'rate': expected double (a finite decimal number such as 0.25 or -3e4), got "
            "'NaN'");
  EXPECT_NE(r->rejects[9].message.find("column 'trips': expected int64"), std::string::npos);
  EXPECT_NE(r->rejects[10].message.find("got '1e999'"), std::string::npos);
  EXPECT_EQ(r->batch.join_keys[0].Int64At(1), 11);
  EXPECT_EQ(r->Summary(),
            "read 13 rows: 2 accepted, 11 rejected (rows 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 and 1 "
            "more)");
}

TEST(CsvSourceTest, RejectedRowLeavesNoTraceInColumns) {
  SourceColumns c;
  c.join_keys = {{"k", T(ScalarType::kString)}};
  c.features = {{"s", T(ScalarType::kString)}, {"l", T(ScalarType::kInt64, true)}};
  c.timestamp_field = "ts";
  // Row 2 fails on the list after its key and string were appended.
  auto r = ReadCsvSource("k,s,l,ts\na,first,[1],1\nbbbb,second,\"[1,\"\"x\"\"]\",2\nc,third,,3\n",
                         "t.csv", kNoMapping, c, Options());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ExpectAligned(*r);
  ASSERT_EQ(r->batch.size(), 2u);
  EXPECT_EQ(r->batch.join_keys[0].arena, "ac");
  EXPECT_EQ(r->batch.features[0].arena, "firstthird");
  EXPECT_EQ(r->batch.features[0].BytesAt(1), "third");
  EXPECT_TRUE(r->batch.features[1].IsNull(1));
  ASSERT_EQ(r->rejects.size(), 1u);
  EXPECT_EQ(r->rejects[0].where, "t.csv:3:13");
  EXPECT_EQ(r->rejects[0].message,
            "column 'l': expected list<int64> (element 2 must be an integer), got JSON string "
            "\"x\"");
  EXPECT_EQ(r->Summary(), "read 3 rows: 2 accepted, 1 rejected (row 2)");
}

TEST(CsvSourceTest, ListCellRejects) {
  SourceColumns c;
  c.join_keys = {{"k", T(ScalarType::kInt64)}};
  c.features = {{"l", T(ScalarType::kDouble, true)}};
  c.timestamp_field = "ts";
  auto r = ReadCsvSource("k,l,ts\n1,[1,1\n2,\"{\"\"a\"\":1}\",1\n3,\"[1,null]\",1\n4,[1e999],1\n",
                         "l.csv", kNoMapping, c, Options());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->batch.size(), 0u);
  ASSERT_EQ(r->rejects.size(), 4u);
  EXPECT_EQ(r->rejects[0].message,
            "column 'l': expected list<double> (a JSON array such as [1,2] or [\"a\",\"b\"]), got "
            "'[1'");
  EXPECT_EQ(r->rejects[0].where, "l.csv:2:3");
  EXPECT_EQ(r->rejects[1].message,
            "column 'l': expected list<double> (a JSON array such as [1,2] or [\"a\",\"b\"]), got "
            "{\"a\":1}");
  EXPECT_EQ(r->rejects[2].message,
            "column 'l': element 2 is null; lists cannot hold nulls (drop the element)");
  EXPECT_NE(r->rejects[3].message.find("got '[1e999]'"), std::string::npos);
}

TEST(CsvSourceTest, BadTextIsTruncatedTo64Bytes) {
  const std::string long_text(100, 'z');
  auto r = ReadCsvSource("driver_id,trips,rate,event_ts\n1," + long_text + ",1,1\n", "x.csv",
                         kNoMapping, Simple(), Options());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->rejects.size(), 1u);
  EXPECT_NE(r->rejects[0].message.find("got '" + std::string(64, 'z') + "...'"), std::string::npos);
  EXPECT_EQ(r->rejects[0].message.find(std::string(65, 'z')), std::string::npos);
  // A multi-byte character straddling the cut is dropped whole, never split.
  EXPECT_EQ(source_detail::Excerpt(std::string(63, 'a') + "\xC3\xA9tail"),
            std::string(63, 'a') + "...");
}

TEST(CsvSourceTest, MaxRejectsKeptCountsTheRest) {
  SourceReadOptions o = Options();
  o.max_rejects_kept = 2;
  auto r = ReadCsvSource("driver_id,trips,rate,event_ts\nx,1,1,1\ny,1,1,1\n1,1,1,1\nz,1,1,1\n",
                         "m.csv", kNoMapping, Simple(), o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->rejected, 3u);
  EXPECT_EQ(RejectRows(*r), (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(r->Summary(), "read 4 rows: 1 accepted, 3 rejected (rows 1, 2 and 1 more)");
  o.max_rejects_kept = 0;
  r = ReadCsvSource("driver_id,trips,rate,event_ts\nx,1,1,1\n", "m.csv", kNoMapping, Simple(), o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->Summary(), "read 1 row: 0 accepted, 1 rejected");
}

TEST(CsvSourceTest, MissingColumnNamesItAndListsTheHeader) {
  auto r = ReadCsvSource("driver_id,trips,when\n1,2,3\n", "h.csv", {{"when", "at"}}, Simple(),
                         Options());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            "h.csv:1:1: missing column 'rate' (the header has: driver_id, trips, when; "
            "field_mapping: when -> at); add the column or map a source column to it with "
            "field_mapping");
}

TEST(CsvSourceTest, DuplicateHeaderNames) {
  auto r = ReadCsvSource("driver_id,trips,rate,trips,event_ts\n", "d.csv", kNoMapping, Simple(),
                         Options());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            "d.csv:1:22: duplicate column 'trips' in the header; column names must be unique");
  r = ReadCsvSource("driver_id,trips,rate,n,event_ts\n", "d.csv", {{"n", "trips"}}, Simple(),
                    Options());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "d.csv:1:22: columns 'trips' and 'n' both become 'trips' after field_mapping; rename "
            "or drop one of them");
}

TEST(CsvSourceTest, UnterminatedQuoteIsAWholeInputError) {
  auto r = ReadCsvSource("driver_id,trips,rate,event_ts\n1,2,3,4\n2,\"3,4,5\n", "q.csv", kNoMapping,
                         Simple(), Options());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(r.status().message().starts_with("q.csv:3:3: quoted field is never closed"))
      << r.status().message();
}

TEST(CsvSourceTest, InputTooLargeAndEmptyInput) {
  SourceReadOptions o = Options();
  o.max_input_bytes = 10;
  auto r = ReadCsvSource("driver_id,trips,rate,event_ts\n", "big.csv", kNoMapping, Simple(), o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(r.status().message(),
            "big.csv: input is 30 bytes, more than the limit of 10 "
            "(SourceReadOptions::max_input_bytes); split the source or raise the limit");
  r = ReadCsvSource("", "e.csv", kNoMapping, Simple(), Options());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "e.csv:1:1: empty input; expected a header row naming the columns");
}

TEST(CsvSourceTest, ListJoinKeyAndDoubleRoleAreRefused) {
  SourceColumns c = Simple();
  c.join_keys[0].type = T(ScalarType::kInt64, true);
  auto r = ReadCsvSource("x\n", "k.csv", kNoMapping, c, Options());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "join key 'driver_id' is a list (list<int64>); join keys are scalar");
  c = Simple();
  c.features.push_back({"event_ts", T(ScalarType::kTimestamp)});
  r = ReadCsvSource("x\n", "k.csv", kNoMapping, c, Options());
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().message().starts_with("column 'event_ts' is requested twice"));
}

TEST(CsvSourceTest, HeaderOnlyReadsNothing) {
  auto r =
      ReadCsvSource("driver_id,trips,rate,event_ts\r\n", "h.csv", kNoMapping, Simple(), Options());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->batch.size(), 0u);
  EXPECT_EQ(r->Summary(), "read 0 rows: 0 accepted, 0 rejected");
}

// ------------------------------------------------------------------------------ JSON Lines

TEST(JsonLinesSourceTest, EveryTypeListsAndNulls) {
  const std::string text =
      R"({"driver_id":1001,"rate":0.5,"trips":-7,"name":"Ann, B","active":true,)"
      R"("seen":"2026-01-02T03:04:05Z","tags":["a","b c"],"scores":[1.5,2],"counts":[1,-2],)"
      R"("flags":[true,false],"times":["2026-01-01T00:00:00Z",3],)"
      R"("event_ts":"2026-01-02T00:00:00Z","created":1767225600,"extra":{"x":1}})"
      "\n\n   \n"
      R"({"driver_id":1002,"rate":null,"tags":null,"event_ts":1767312000})"
      "\r\n"
      R"({"driver_id":1003,"rate":3,"seen":0,"counts":[],"event_ts":1767312000,"created":null})";
  auto r = ReadJsonLinesSource(text, "all.jsonl", kNoMapping, AllTypes(), Options());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->batch.size(), 3u);
  EXPECT_EQ(r->rejected, 0u);
  ExpectAligned(*r);
  ExpectAllTypesRow0(*r);
  const OfflineBatch& b = r->batch;
  for (size_t f = 0; f < b.features.size(); ++f) EXPECT_TRUE(b.features[f].IsNull(1)) << f;
  EXPECT_EQ(b.created_ts[1], 42);
  EXPECT_EQ(b.features[0].DoubleAt(2), 3.0);  // an integer is a fine double
  EXPECT_EQ(b.features[4].Int64At(2), 0);
  EXPECT_EQ(b.features[7].ValueAt(2), (Value{std::vector<Scalar>{}}));
  EXPECT_EQ(b.created_ts[2], 42);
}

TEST(JsonLinesSourceTest, FieldMappingAndCreatedTimestamp) {
  SourceColumns c = Simple();
  c.created_timestamp_field = "created";
  const std::map<std::string, std::string> mapping = {{"id", "driver_id"}, {"at", "event_ts"}};
  auto r = ReadJsonLinesSource(
      R"({"id":5,"trips":1,"rate":2.5,"at":10,"created":"1970-01-01T00:00:20Z"})", "m.jsonl",
      mapping, c, Options());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->batch.size(), 1u);
  EXPECT_EQ(r->batch.join_keys[0].Int64At(0), 5);
  EXPECT_EQ(r->batch.event_ts[0], 10 * kSecond);
  EXPECT_EQ(r->batch.created_ts[0], 20 * kSecond);
}

TEST(JsonLinesSourceTest, EachRejectKindWithRowAndPosition) {
  const std::string text = R"({"driver_id":1,"trips":2,"rate":0.5,"event_ts":10})"
                           "\n"  // row 1: good
                           R"({"driver_id":1,"trips":2,)"
                           "\n"  // row 2: invalid JSON
                           R"([1,2])"
                           "\n"  // row 3: not an object
                           R"({"trips":2,"event_ts":10})"
                           "\n"  // row 4: missing key
                           R"({"driver_id":null,"event_ts":10})"
                           "\n"  // row 5: null key
                           R"({"driver_id":"7","event_ts":10})"
                           "\n"  // row 6: key wrong type
                           R"({"driver_id":1,"trips":2})"
                           "\n"  // row 7: missing ts
                           R"({"driver_id":1,"event_ts":"noon"})"
                           "\n"  // row 8: malformed ts
                           "\n"  // blank line
                           R"({"driver_id":1,"trips":"x","event_ts":10})"
                           "\n"  // row 9: wrong type
                           R"({"driver_id":1,"trips":9223372036854775808,"event_ts":10})"
                           "\n"  // row 10: int64 range
                           R"({"driver_id":1,"trips":1.5,"event_ts":10})"
                           "\n"  // row 11: double for int64
                           R"({"driver_id":1,"rate":1e999,"event_ts":10})"
                           "\n"                                 // row 12: 1e999
                           R"({"driver_id":2,"event_ts":10})";  // row 13: good
  auto r = ReadJsonLinesSource(text, "bad.jsonl", kNoMapping, Simple(), Options());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ExpectAligned(*r);
  EXPECT_EQ(r->batch.size(), 2u);
  EXPECT_EQ(r->rows_read, 13u);
  EXPECT_EQ(RejectRows(*r), (std::vector<uint64_t>{2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}));
  EXPECT_EQ(RejectWheres(*r),
            (std::vector<std::string>{"bad.jsonl:2:26", "bad.jsonl:3:1", "bad.jsonl:4:1",
                                      "bad.jsonl:5:2", "bad.jsonl:6:2", "bad.jsonl:7:1",
                                      "bad.jsonl:8:16", "bad.jsonl:10:16", "bad.jsonl:11:16",
                                      "bad.jsonl:12:16", "bad.jsonl:13:1"}));
  EXPECT_TRUE(r->rejects[0].message.starts_with("invalid JSON: ")) << r->rejects[0].message;
  EXPECT_EQ(r->rejects[1].message, "expected a JSON object per line, got array");
  EXPECT_EQ(r->rejects[2].message,
            "join key 'driver_id' is missing; every row needs its join keys");
  EXPECT_EQ(r->rejects[3].message, "join key 'driver_id' is null; every row needs its join keys");
  EXPECT_EQ(r->rejects[4].message,
            "join key column 'driver_id': expected int64 (an integer), got JSON string \"7\"");
  EXPECT_EQ(r->rejects[5].message, "event timestamp 'event_ts' is missing; every row needs one");
  EXPECT_EQ(r->rejects[6].message,
            "malformed event timestamp: column 'event_ts': expected timestamp (an RFC 3339 string "
            "such as 2026-01-02T03:04:05Z), got JSON string \"noon\"");
  EXPECT_EQ(r->rejects[7].message,
            "column 'trips': expected int64 (an integer), got JSON string \"x\"");
  EXPECT_EQ(r->rejects[8].message,
            "column 'trips': expected int64 (an integer within int64 range), got JSON number "
            "9223372036854775808");
  EXPECT_EQ(r->rejects[9].message,
            "column 'trips': expected int64 (an integer), got JSON number 1.5");
  EXPECT_TRUE(r->rejects[10].message.starts_with("invalid JSON: ")) << r->rejects[10].message;
  EXPECT_EQ(r->batch.join_keys[0].Int64At(1), 2);
  EXPECT_TRUE(r->batch.features[0].IsNull(1));
}

TEST(JsonLinesSourceTest, ListElementRejects) {
  SourceColumns c;
  c.join_keys = {{"k", T(ScalarType::kString)}};
  c.features = {{"l", T(ScalarType::kTimestamp, true)}};
  c.timestamp_field = "ts";
  auto r = ReadJsonLinesSource(
      "{\"k\":\"a\",\"l\":[1,true],\"ts\":1}\n{\"k\":\"b\",\"l\":5,\"ts\":1}\n"
      "{\"k\":\"c\",\"l\":[null],\"ts\":1}\n{\"k\":\"d\",\"l\":[\"2026-01-01T00:00:00Z\"],\"ts\":"
      "1}",
      "l.jsonl", kNoMapping, c, Options());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->batch.size(), 1u);
  EXPECT_EQ(r->batch.features[0].ValueAt(0),
            (Value{std::vector<Scalar>{Timestamp{kJan1 * kSecond}}}));
  ASSERT_EQ(r->rejects.size(), 3u);
  EXPECT_EQ(r->rejects[0].where, "l.jsonl:1:10");
  EXPECT_EQ(r->rejects[0].message,
            "column 'l': expected list<timestamp> (element 2 must be an RFC 3339 string or "
            "integer Unix seconds), got JSON boolean true");
  EXPECT_EQ(r->rejects[1].message,
            "column 'l': expected list<timestamp> (a JSON array such as [1,2] or [\"a\",\"b\"]), "
            "got 5");
  EXPECT_EQ(r->rejects[2].message,
            "column 'l': element 1 is null; lists cannot hold nulls (drop the element)");
}

TEST(JsonLinesSourceTest, TwoMembersMappedToOneColumnRejectTheRow) {
  auto r = ReadJsonLinesSource(R"({"driver_id":1,"id":2,"event_ts":1})", "d.jsonl",
                               {{"id", "driver_id"}}, Simple(), Options());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->rejects.size(), 1u);
  EXPECT_EQ(r->rejects[0].where, "d.jsonl:1:16");
  EXPECT_EQ(r->rejects[0].message,
            "members 'driver_id' and 'id' both become 'driver_id' after field_mapping; keep one "
            "of them");
}

TEST(JsonLinesSourceTest, SummaryAndTooLarge) {
  auto r = ReadJsonLinesSource("{\"driver_id\":1,\"event_ts\":1}\nnope\n", "s.jsonl", kNoMapping,
                               Simple(), Options());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->Summary(), "read 2 rows: 1 accepted, 1 rejected (row 2)");
  SourceReadOptions o = Options();
  o.max_input_bytes = 3;
  r = ReadJsonLinesSource("{}\n{}", "s.jsonl", kNoMapping, Simple(), o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted);
}

// ------------------------------------------------------------------------------ files

TEST(SourceFileTest, ReadsCsvAndJsonLinesFilesByKind) {
  custos::testing::TempDir dir;
  {
    std::ofstream(dir.Sub("a.csv")) << "driver_id,trips,rate,event_ts\n1,2,3,4\nx,2,3,4\n";
    std::ofstream(dir.Sub("a.jsonl")) << "{\"driver_id\":1,\"event_ts\":4}\n";
  }
  catalog::DataSource source;
  source.name = "drivers";
  source.kind = catalog::SourceKind::kCsv;
  auto r = ReadSourceFile(source, dir.Sub("a.csv"), Simple(), Options());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->batch.size(), 1u);
  ASSERT_EQ(r->rejects.size(), 1u);
  EXPECT_EQ(r->rejects[0].where, dir.Sub("a.csv") + ":3:1");
  source.kind = catalog::SourceKind::kJsonLines;
  r = ReadSourceFile(source, dir.Sub("a.jsonl"), Simple(), Options());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->batch.size(), 1u);
  EXPECT_EQ(r->batch.event_ts[0], 4 * kSecond);
  r = ReadSourceFile(source, dir.Sub("missing.jsonl"), Simple(), Options());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_NE(r.status().message().find("'" + dir.Sub("missing.jsonl") + "'"), std::string::npos);
  SourceReadOptions small = Options();
  small.max_input_bytes = 5;
  r = ReadSourceFile(source, dir.Sub("a.jsonl"), Simple(), small);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted);
  source.kind = catalog::SourceKind::kPostgres;
  r = ReadSourceFile(source, dir.Sub("a.csv"), Simple(), Options());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace custos::features
