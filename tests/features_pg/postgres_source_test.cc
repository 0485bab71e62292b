// PostgreSQL sources against a real server started by the CTest fixture (pg_start runs
// scripts/pg-test-server.sh): tables, queries, every type, rejects, errors, entity rows.
#include "features/postgres_source.h"

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <sstream>

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

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// The fixture's DSN, or a failure that shows why the server is not there.
std::string TestDsn() {
  std::string dsn = ReadText(CUSTOS_PG_DSN_FILE);
  while (!dsn.empty() && (dsn.back() == '\n' || dsn.back() == ' ')) dsn.pop_back();
  if (dsn.empty()) {
    const std::string dir = CUSTOS_PG_TEST_DIR;
    ADD_FAILURE() << "no PostgreSQL DSN in " << CUSTOS_PG_DSN_FILE
                  << "; the pg_start fixture (scripts/pg-test-server.sh start " << dir
                  << ") did not start the server. Run the tests with ctest so the fixture runs.\n"
                  << "--- initdb.log\n"
                  << ReadText(dir + "/initdb.log") << "--- pg_ctl.log\n"
                  << ReadText(dir + "/pg_ctl.log") << "--- server.log\n"
                  << ReadText(dir + "/server.log");
  }
  return dsn;
}

// Each test gets its own schema, so cases can run in parallel against one server.
class PostgresSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dsn_ = TestDsn();
    ASSERT_FALSE(dsn_.empty());
    conn_ = PQconnectdb(dsn_.c_str());
    ASSERT_EQ(PQstatus(conn_), CONNECTION_OK) << PQerrorMessage(conn_);
    schema_ = std::string("t_") + ::testing::UnitTest::GetInstance()->current_test_info()->name();
    for (char& c : schema_) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    Exec("SET client_min_messages TO warning");
    Exec("DROP SCHEMA IF EXISTS " + schema_ + " CASCADE; CREATE SCHEMA " + schema_ +
         "; SET search_path TO " + schema_);
  }
  void TearDown() override {
    if (conn_ != nullptr) {
      Exec("DROP SCHEMA IF EXISTS " + schema_ + " CASCADE");
      PQfinish(conn_);
    }
  }
  void Exec(const std::string& sql) {
    PGresult* r = PQexec(conn_, sql.c_str());
    const ExecStatusType status = PQresultStatus(r);
    EXPECT_TRUE(status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK)
        << sql << ": " << PQresultErrorMessage(r);
    PQclear(r);
  }
  catalog::DataSource TableSource(const std::string& table) const {
    catalog::DataSource s;
    s.name = "pg_drivers";
    s.kind = catalog::SourceKind::kPostgres;
    s.table = schema_ + "." + table;
    s.dsn_env = "CUSTOS_TEST_PG_DSN";
    return s;
  }
  catalog::DataSource QuerySource(const std::string& query) const {
    catalog::DataSource s = TableSource("");
    s.table.clear();
    s.query = query;
    return s;
  }

  std::string dsn_;
  std::string schema_;
  PGconn* conn_ = nullptr;
};

SourceColumns Simple() {
  SourceColumns c;
  c.join_keys = {{"driver_id", T(ScalarType::kInt64)}};
  c.features = {{"trips", T(ScalarType::kInt64)}, {"rate", T(ScalarType::kDouble)}};
  c.timestamp_field = "event_ts";
  return c;
}

SourceReadOptions Options() {
  SourceReadOptions o;
  o.default_created_ts = 42;
  return o;
}

TEST_F(PostgresSourceTest, TableSourceWithEveryTypeArraysAndNulls) {
  // A mixed-case table name checks the identifier quoting of schema.table.
  Exec(R"(CREATE TABLE "Drivers" (
          driver_id bigint, name_key varchar(20), rate float8, r4 real, amount numeric,
          trips int4, small int2, name text, active bool, seen timestamptz,
          seen_local timestamp, day date, tags text[], scores float8[], counts int8[],
          flags bool[], times timestamptz[], event_ts timestamptz, created timestamptz,
          unused text))");
  Exec(R"(INSERT INTO "Drivers" VALUES
          (1001, 'k1', 0.25, 0.5, 12.25, -7, 3, 'Ann, B', true,
           '2026-01-02 05:04:05.123456+02', '2026-01-02 03:04:05', '2026-01-01',
           ARRAY['a b', 'c,d', 'say "hi"', 'NULL', ''], '{1.5,-2e3}', '{1,-2}', '{t,f}',
           ARRAY['2026-01-01 00:00:00+00'::timestamptz], '2026-01-02 00:00:00+00',
           '2026-01-01 00:00:00+00', 'x'),
          (1002, 'k2', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
           NULL, '{}', NULL, NULL, '2026-01-02 01:00:00+01', NULL, NULL))");
  SourceColumns c;
  c.join_keys = {{"driver_id", T(ScalarType::kInt64)}, {"name_key", T(ScalarType::kString)}};
  c.features = {{"rate", T(ScalarType::kDouble)},          {"r4", T(ScalarType::kDouble)},
                {"amount", T(ScalarType::kDouble)},        {"trips", T(ScalarType::kInt64)},
                {"small", T(ScalarType::kInt64)},          {"name", T(ScalarType::kString)},
                {"active", T(ScalarType::kBool)},          {"seen", T(ScalarType::kTimestamp)},
                {"seen_local", T(ScalarType::kTimestamp)}, {"day", T(ScalarType::kTimestamp)},
                {"tags", T(ScalarType::kString, true)},    {"scores", T(ScalarType::kDouble, true)},
                {"counts", T(ScalarType::kInt64, true)},   {"flags", T(ScalarType::kBool, true)},
                {"times", T(ScalarType::kTimestamp, true)}};
  c.timestamp_field = "event_ts";
  c.created_timestamp_field = "created";
  auto r = ReadPostgresSource(TableSource("Drivers"), dsn_, c, Options());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->batch.size(), 2u);
  EXPECT_EQ(r->rejected, 0u);
  const OfflineBatch& b = r->batch;
  EXPECT_EQ(b.join_keys[0].Int64At(0), 1001);
  EXPECT_EQ(b.join_keys[1].BytesAt(0), "k1");
  EXPECT_EQ(b.features[0].DoubleAt(0), 0.25);
  EXPECT_EQ(b.features[1].DoubleAt(0), 0.5);
  EXPECT_EQ(b.features[2].DoubleAt(0), 12.25);
  EXPECT_EQ(b.features[3].Int64At(0), -7);
  EXPECT_EQ(b.features[4].Int64At(0), 3);
  EXPECT_EQ(b.features[5].BytesAt(0), "Ann, B");
  EXPECT_TRUE(b.features[6].BoolAt(0));
  const int64_t t030405 = (kJan2 + 3 * 3600 + 4 * 60 + 5) * kSecond;
  EXPECT_EQ(b.features[7].Int64At(0), t030405 + 123456);  // +02 normalized to UTC
  EXPECT_EQ(b.features[8].Int64At(0), t030405);           // no zone: taken as UTC
  EXPECT_EQ(b.features[9].Int64At(0), kJan1 * kSecond);   // a date is its midnight
  EXPECT_EQ(b.features[10].ValueAt(0),
            (Value{std::vector<Scalar>{"a b", "c,d", "say \"hi\"", "NULL", ""}}));
  EXPECT_EQ(b.features[11].ValueAt(0), (Value{std::vector<Scalar>{1.5, -2000.0}}));
  EXPECT_EQ(b.features[12].ValueAt(0), (Value{std::vector<Scalar>{int64_t{1}, int64_t{-2}}}));
  EXPECT_EQ(b.features[13].ValueAt(0), (Value{std::vector<Scalar>{true, false}}));
  EXPECT_EQ(b.features[14].ValueAt(0), (Value{std::vector<Scalar>{Timestamp{kJan1 * kSecond}}}));
  EXPECT_EQ(b.event_ts[0], kJan2 * kSecond);
  EXPECT_EQ(b.created_ts[0], kJan1 * kSecond);
  // Row 2: SQL NULL is null, '{}' an empty list, a NULL created timestamp the default.
  for (size_t f = 0; f < b.features.size(); ++f) {
    if (f == 12) continue;
    EXPECT_TRUE(b.features[f].IsNull(1)) << c.features[f].name;
  }
  EXPECT_EQ(b.features[12].ValueAt(1), (Value{std::vector<Scalar>{}}));
  EXPECT_EQ(b.event_ts[1], kJan2 * kSecond);
  EXPECT_EQ(b.created_ts[1], 42);
  EXPECT_EQ(r->Summary(), "read 2 rows: 2 accepted, 0 rejected");
}

TEST_F(PostgresSourceTest, QuerySourceWithFieldMapping) {
  Exec("CREATE TABLE stats (id bigint, n int, conv float8, at timestamptz)");
  Exec(
      "INSERT INTO stats SELECT g, g * 10, g / 4.0, to_timestamp(1000 + g) "
      "FROM generate_series(1, 500) g");
  catalog::DataSource source =
      QuerySource("SELECT id, n AS trips, conv, at, 2000 + id AS made FROM " + schema_ +
                  ".stats WHERE id > 100 ORDER BY id");
  source.field_mapping = {{"id", "driver_id"}, {"conv", "rate"}, {"at", "event_ts"}};
  SourceColumns c = Simple();
  c.created_timestamp_field = "made";  // integer Unix seconds are timestamps too
  auto r = ReadPostgresSource(source, dsn_, c, Options());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->batch.size(), 400u);
  EXPECT_EQ(r->batch.join_keys[0].Int64At(0), 101);
  EXPECT_EQ(r->batch.features[0].Int64At(0), 1010);
  EXPECT_EQ(r->batch.features[1].DoubleAt(0), 25.25);
  EXPECT_EQ(r->batch.event_ts[0], 1101 * kSecond);
  EXPECT_EQ(r->batch.join_keys[0].Int64At(399), 500);
  EXPECT_EQ(r->batch.event_ts[399], 1500 * kSecond);
  EXPECT_EQ(r->batch.created_ts[0], 2101 * kSecond);
}

TEST_F(PostgresSourceTest, BadRowsAreRejectedWithTheirRowNumbers) {
  Exec(
      "CREATE TABLE d (driver_id bigint, trips text, rate float8, event_ts timestamptz, "
      "tags int[], ord int)");
  Exec(
      "INSERT INTO d VALUES "
      "(1, '5', 0.5, '2026-01-02 00:00:00+00', '{1}', 1),"
      "(2, 'many', 0.5, '2026-01-02 00:00:00+00', '{1}', 2),"
      "(NULL, '5', 0.5, '2026-01-02 00:00:00+00', '{1}', 3),"
      "(4, '5', 'NaN', '2026-01-02 00:00:00+00', '{1}', 4),"
      "(5, '5', 0.5, NULL, '{1}', 5),"
      "(6, '5', 0.5, 'infinity', '{1}', 6),"
      "(7, '5', 0.5, '2026-01-02 00:00:00+00', '{1,NULL}', 7),"
      "(8, '9223372036854775808', 0.5, '2026-01-02 00:00:00+00', '{}', 8),"
      "(9, '5', 0.5, '2026-01-02 00:00:00+00', '{2,3}', 9)");
  SourceColumns c = Simple();
  c.features.push_back({"tags", T(ScalarType::kInt64, true)});
  auto r = ReadPostgresSource(QuerySource("SELECT * FROM " + schema_ + ".d ORDER BY ord"), dsn_, c,
                              Options());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->rows_read, 9u);
  ASSERT_EQ(r->batch.size(), 2u);
  EXPECT_EQ(r->batch.join_keys[0].Int64At(1), 9);
  EXPECT_EQ(r->batch.features[2].ValueAt(1), (Value{std::vector<Scalar>{int64_t{2}, int64_t{3}}}));
  ASSERT_EQ(r->rejects.size(), 7u);
  std::vector<std::string> wheres;
  for (const RowReject& j : r->rejects) wheres.push_back(j.where);
  EXPECT_EQ(wheres, (std::vector<std::string>{
                        "pg_drivers row 2, column trips", "pg_drivers row 3, column driver_id",
                        "pg_drivers row 4, column rate", "pg_drivers row 5, column event_ts",
                        "pg_drivers row 6, column event_ts", "pg_drivers row 7, column tags",
                        "pg_drivers row 8, column trips"}));
  EXPECT_EQ(r->rejects[0].row, 2u);
  EXPECT_EQ(r->rejects[0].message,
            "column 'trips': expected int64 (a whole number between -9223372036854775808 and "
            "9223372036854775807), got 'many'");
  EXPECT_EQ(r->rejects[1].message, "join key 'driver_id' is NULL; every row needs its join keys");
  EXPECT_EQ(r->rejects[2].message,
            "column 'rate': expected double (a finite decimal number such as 0.25 or -3e4), got "
            "'NaN'");
  EXPECT_EQ(r->rejects[3].message, "event timestamp 'event_ts' is NULL; every row needs one");
  EXPECT_EQ(r->rejects[4].message,
            "malformed event timestamp: column 'event_ts': expected timestamp (an ISO time such "
            "as 2026-01-02 03:04:05+00), got 'infinity'");
  EXPECT_EQ(r->rejects[5].message,
            "column 'tags': element 2 is NULL; lists cannot hold nulls (filter them out, e.g. "
            "array_remove(col, NULL))");
  EXPECT_EQ(r->rejects[6].row, 8u);
  EXPECT_EQ(r->Summary(), "read 9 rows: 2 accepted, 7 rejected (rows 2, 3, 4, 5, 6, 7, 8)");
}

TEST_F(PostgresSourceTest, MissingColumnNamesItAndListsTheResult) {
  Exec("CREATE TABLE m (driver_id bigint, trips int, event_ts timestamptz)");
  auto r = ReadPostgresSource(TableSource("m"), dsn_, Simple(), Options());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            "source 'pg_drivers': missing column 'rate' (the result has: driver_id, trips, "
            "event_ts; field_mapping: none); select the column or map a result column to it "
            "with field_mapping");
}

TEST_F(PostgresSourceTest, QuerySyntaxErrorCarriesPostgresMessageAndPosition) {
  auto r =
      ReadPostgresSource(QuerySource("SELECT driver_id FORM drivers"), dsn_, Simple(), Options());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            "source 'pg_drivers': PostgreSQL error: syntax error at or near \"drivers\" at "
            "character 23 of the query [SQLSTATE 42601]");
}

TEST_F(PostgresSourceTest, QueryMustBeOneSelect) {
  Exec("CREATE TABLE one (driver_id bigint, trips int, rate float8, event_ts timestamptz)");
  Exec("INSERT INTO one VALUES (1, 2, 3, now())");
  auto r = ReadPostgresSource(QuerySource("SELECT * FROM " + schema_ + ".one; SELECT 1 AS x"), dsn_,
                              Simple(), Options());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "source 'pg_drivers': the query returned more than one result set; a source query "
            "must be a single SELECT statement");
  r = ReadPostgresSource(QuerySource("SET work_mem = '8MB'"), dsn_, Simple(), Options());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "source 'pg_drivers': a statement of the query returned no rows description; a "
            "source query must be a single SELECT statement");
}

TEST_F(PostgresSourceTest, QueryErrorCarriesDetailAndHint) {
  Exec(
      "CREATE FUNCTION fail() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION "
      "'boom' USING DETAIL = 'the detail', HINT = 'the hint'; END $$");
  auto r = ReadPostgresSource(QuerySource("SELECT " + schema_ + ".fail() AS x"), dsn_, Simple(),
                              Options());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "source 'pg_drivers': PostgreSQL error: boom (detail: the detail) (hint: the hint) "
            "[SQLSTATE P0001]");
  // An error after rows have streamed leaves nothing partial: the whole read fails.
  Exec("CREATE TABLE z (driver_id bigint, trips int, rate float8, event_ts timestamptz)");
  Exec("INSERT INTO z SELECT g, g, g, now() FROM generate_series(1, 100) g");
  r = ReadPostgresSource(
      QuerySource("SELECT driver_id, 1 / (50 - trips) AS trips, rate, event_ts FROM " + schema_ +
                  ".z ORDER BY driver_id"),
      dsn_, Simple(), Options());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "source 'pg_drivers': PostgreSQL error: division by zero [SQLSTATE 22012]");
}

TEST_F(PostgresSourceTest, EmptyResultAndInputLimit) {
  Exec("CREATE TABLE e (driver_id bigint, trips int, rate float8, event_ts timestamptz)");
  auto r = ReadPostgresSource(TableSource("e"), dsn_, Simple(), Options());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->Summary(), "read 0 rows: 0 accepted, 0 rejected");
  Exec("INSERT INTO e SELECT g, g, g, now() FROM generate_series(1, 100) g");
  SourceReadOptions o = Options();
  o.max_input_bytes = 200;
  r = ReadPostgresSource(TableSource("e"), dsn_, Simple(), o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(r.status().message().find("exceeds 200 bytes"), std::string::npos);
}

// A TCP port on 127.0.0.1 with nobody listening.
int ClosedPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    return 1;
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

TEST(PostgresConnectTest, ConnectionRefusedNeverShowsTheDsn) {
  const std::string password = "s3cr3t-Pa55word";
  const std::string dsn = "host=127.0.0.1 port=" + std::to_string(ClosedPort()) +
                          " user=custos_user password=" + password +
                          " dbname=features connect_timeout=5";
  catalog::DataSource source;
  source.name = "pg_drivers";
  source.kind = catalog::SourceKind::kPostgres;
  source.table = "drivers";
  source.dsn_env = "FEATURES_PG_DSN";
  auto r = ReadPostgresSource(source, dsn, Simple(), Options());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  const std::string m = r.status().message();
  EXPECT_TRUE(
      m.starts_with("source 'pg_drivers': cannot connect to PostgreSQL with the DSN from "
                    "environment variable FEATURES_PG_DSN (not shown): "))
      << m;
  EXPECT_NE(m.find("Connection refused"), std::string::npos) << m;
  std::cout << "connection error as reported: " << m << "\n";
  EXPECT_EQ(m.find(dsn), std::string::npos);
  EXPECT_EQ(m.find(password), std::string::npos);
  EXPECT_EQ(m.find("custos_user"), std::string::npos) << m;

  auto rows = ReadEntityRowsPostgres(dsn, "SELECT 1", EntityRowsSpec{});
  ASSERT_FALSE(rows.ok());
  EXPECT_EQ(rows.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(rows.status().message().find(password), std::string::npos);

  // A malformed DSN: libpq's own message would quote it, so it is not passed on.
  r = ReadPostgresSource(source, "host=x password=" + password + " bogus", Simple(), Options());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message().find(password), std::string::npos);
  EXPECT_NE(r.status().message().find("FEATURES_PG_DSN"), std::string::npos);
}

TEST_F(PostgresSourceTest, EntityRowsFromAQuery) {
  Exec(
      "CREATE TABLE labels (driver_id bigint, city text, at timestamptz, label int, "
      "note text)");
  Exec(
      "INSERT INTO labels VALUES (1, 'Oslo', '2026-01-02 00:00:00+00', 1, 'x'), "
      "(2, 'Rome', '2026-01-01 00:00:00+00', 0, NULL)");
  EntityRowsSpec spec;
  spec.join_keys = {{"driver_id", T(ScalarType::kInt64)}, {"city", T(ScalarType::kString)}};
  spec.timestamp_column = "at";
  auto rows =
      ReadEntityRowsPostgres(dsn_, "SELECT * FROM " + schema_ + ".labels ORDER BY driver_id", spec);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ(rows->keys[0].Int64At(1), 2);
  EXPECT_EQ(rows->keys[1].BytesAt(0), "Oslo");
  EXPECT_EQ(rows->ts, (std::vector<int64_t>{kJan2 * kSecond, kJan1 * kSecond}));
  EXPECT_EQ(rows->extra_names, (std::vector<std::string>{"label", "note"}));
  EXPECT_EQ(rows->extras[0].BytesAt(0), "1");
  EXPECT_TRUE(rows->extras[1].IsNull(1));

  Exec("INSERT INTO labels VALUES (NULL, 'Oslo', '2026-01-02 00:00:00+00', 1, 'x')");
  rows = ReadEntityRowsPostgres(
      dsn_, "SELECT * FROM " + schema_ + ".labels ORDER BY driver_id NULLS LAST", spec);
  ASSERT_FALSE(rows.ok());
  EXPECT_EQ(rows.status().message(),
            "query row 3, column driver_id: join key 'driver_id' is NULL; every entity row "
            "needs it");
  spec.timestamp_column = "when";
  rows = ReadEntityRowsPostgres(dsn_, "SELECT * FROM " + schema_ + ".labels", spec);
  ASSERT_FALSE(rows.ok());
  EXPECT_EQ(rows.status().message(),
            "entity rows query: missing column 'when' (entity timestamp; the result has: "
            "driver_id, city, at, label, note); select it in the query");
}

TEST(PostgresArrayTest, ParsesTextOutput) {
  using Elements = std::vector<std::optional<std::string>>;
  auto a = ParsePostgresArray(R"({1,2,-3})");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(*a, (Elements{"1", "2", "-3"}));
  a = ParsePostgresArray(R"({"a b",NULL,"NULL",null,"say \"hi\"","back\\slash", x y })");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(*a, (Elements{"a b", std::nullopt, "NULL", std::nullopt, "say \"hi\"", "back\\slash",
                          "x y"}));
  a = ParsePostgresArray("{}");
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(a->empty());
  a = ParsePostgresArray("[0:1]={5,6}");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(*a, (Elements{"5", "6"}));
  a = ParsePostgresArray(R"({"",\N})");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(*a, (Elements{"", "N"}));
}

TEST(PostgresArrayTest, RejectsMalformedLiterals) {
  auto expect_error = [](std::string_view text, std::string_view fragment) {
    auto a = ParsePostgresArray(text);
    ASSERT_FALSE(a.ok()) << text;
    EXPECT_EQ(a.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(a.status().message().find(fragment), std::string::npos) << a.status().message();
  };
  expect_error("1,2", "at byte 1: expected '{'");
  expect_error("{1,2", "at byte 5: unterminated array");
  expect_error("{{1},{2}}", "at byte 2: nested arrays are not supported");
  expect_error("{1,,2}", "at byte 4: empty element");
  expect_error("{\"a}", "unterminated quoted element");
  expect_error("{1} x", "at byte 5: text after the closing '}'");
  expect_error("{\"a\"b}", "at byte 5: expected ',' or '}'");
  expect_error("[1:2{1}", "dimension decoration without '='");
}

}  // namespace
}  // namespace custos::features
