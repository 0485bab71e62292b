// The PostgreSQL peer of the audit append benchmark (issue 4): inserts the same events as
// audit_bench.cc (audit_workload.h) through libpq, one row per event, and prints rows/s.
// scripts/bench-audit.sh starts the server and prints the ratios.
//
// What a strong client does: each client thread has its own connection and a prepared
// INSERT; with --rows-per-txn 1 every row is its own (autocommit) transaction, with K > 1
// the client sends BEGIN, K INSERTs and COMMIT in one pipeline (libpq pipeline mode, PG 14+)
// and waits for the COMMIT. The table has its primary key and no other index: custos's
// per-event query indexes are written asynchronously, outside the durable path, so the
// peer's durable path carries none either.
#include <libpq-fe.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <latch>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "audit_workload.h"
#include "common/bytes.h"
#include "common/clock.h"
#include "crypto/random.h"

namespace custos::audit::bench {
namespace {

constexpr std::string_view kTable = "custos_audit_peer";
constexpr int kMaxRowsPerTxn = 1000;  // keeps one pipeline's replies far below socket buffers
constexpr uint64_t kMaxEvents = 100'000'000;
// How to fix a failed statement: the usual causes are the role's rights and the server.
constexpr std::string_view kStatementHint =
    "; the peer needs a database where the role of --conninfo may create, fill and drop the "
    "table custos_audit_peer (the server's log says more)";

struct PgConnDeleter {
  void operator()(PGconn* c) const { PQfinish(c); }
};
struct PgResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using PgConn = std::unique_ptr<PGconn, PgConnDeleter>;
using PgResult = std::unique_ptr<PGresult, PgResultDeleter>;

// libpq messages end with a newline; the reports put them inside a sentence.
std::string Trimmed(const char* message) {
  std::string s = message == nullptr ? "" : message;
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// The connection string without its password, for messages.
std::string DescribeConninfo(const std::string& conninfo) {
  char* parse_error = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &parse_error);
  if (options == nullptr) {
    if (parse_error != nullptr) PQfreemem(parse_error);
    return "(unparsable)";
  }
  std::string out;
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (o->val == nullptr || std::string_view(o->keyword) == "password") continue;
    if (!out.empty()) out += ' ';
    out += std::string(o->keyword) + "=" + o->val;
  }
  PQconninfoFree(options);
  return out.empty() ? "(libpq defaults)" : out;
}

Result<PgConn> Connect(const std::string& conninfo) {
  char* parse_error = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &parse_error);
  if (options == nullptr) {
    std::string why = parse_error != nullptr ? Trimmed(parse_error) : "out of memory";
    if (parse_error != nullptr) PQfreemem(parse_error);
    return InvalidArgumentError("--conninfo '" + conninfo + "' is not a libpq connection " +
                                "string: " + why +
                                "; write it as 'host=127.0.0.1 port=5432 user=postgres "
                                "dbname=postgres' or a postgresql:// URI");
  }
  PQconninfoFree(options);
  PgConn conn(PQconnectdb(conninfo.c_str()));
  if (conn == nullptr || PQstatus(conn.get()) != CONNECTION_OK) {
    std::string why = conn == nullptr ? "out of memory" : Trimmed(PQerrorMessage(conn.get()));
    return UnavailableError("cannot connect to PostgreSQL at '" + DescribeConninfo(conninfo) +
                            "': " + why +
                            "; check that the server is running and that host, port, user "
                            "and dbname in --conninfo are right and that max_connections "
                            "leaves room for --clients plus one (scripts/bench-audit.sh "
                            "starts a temporary server)");
  }
  return conn;
}

// Runs one statement outside a pipeline; `what` names it in errors.
Result<PgResult> Exec(PGconn* conn, const std::string& sql, std::string_view what) {
  PgResult res(PQexec(conn, sql.c_str()));
  ExecStatusType status = res == nullptr ? PGRES_FATAL_ERROR : PQresultStatus(res.get());
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    const char* sqlstate =
        res == nullptr ? nullptr : PQresultErrorField(res.get(), PG_DIAG_SQLSTATE);
    return InternalError(std::string(what) + " failed (SQLSTATE " +
                         (sqlstate != nullptr ? sqlstate : "none") +
                         "): " + Trimmed(PQerrorMessage(conn)) + "; statement: " + sql +
                         std::string(kStatementHint));
  }
  return res;
}

Result<std::string> Show(PGconn* conn, std::string_view setting) {
  CUSTOS_ASSIGN_OR_RETURN(
      PgResult res, Exec(conn, "SHOW " + std::string(setting), "SHOW " + std::string(setting)));
  if (PQntuples(res.get()) != 1) return InternalError("SHOW " + std::string(setting) + ": no row");
  return std::string(PQgetvalue(res.get(), 0, 0));
}

std::string CreateTableSql() {
  // resources, feature_modes and hashed_values are text (a JSON document, a list): the
  // cheaper choice for PostgreSQL than jsonb, so the ratio does not flatter custos.
  return "DROP TABLE IF EXISTS " + std::string(kTable) + "; CREATE TABLE " + std::string(kTable) +
         " ("
         "id bigserial PRIMARY KEY, "
         "time timestamptz NOT NULL, "
         "request_id text NOT NULL, "
         "principal text NOT NULL, "
         "auth_method text NOT NULL, "
         "token_id_mac bytea, "
         "action text NOT NULL, "
         "resources text NOT NULL, "
         "purpose text NOT NULL, "
         "environment text NOT NULL, "
         "decision text NOT NULL, "
         "determining_policies text[] NOT NULL, "
         "policy_set_version bigint NOT NULL, "
         "grant_id text NOT NULL, "
         "feature_modes text NOT NULL, "
         "rows_returned bigint NOT NULL, "
         "client_address_mac bytea, "
         "risk_score int NOT NULL, "
         "outcome text NOT NULL, "
         "outcome_detail text NOT NULL, "
         "hashed_values text NOT NULL)";
}

constexpr int kParams = 20;

std::string InsertSql() {
  std::string sql = "INSERT INTO " + std::string(kTable) +
                    " (time, request_id, principal, auth_method, token_id_mac, action, "
                    "resources, purpose, environment, decision, determining_policies, "
                    "policy_set_version, grant_id, feature_modes, rows_returned, "
                    "client_address_mac, risk_score, outcome, outcome_detail, hashed_values) "
                    "VALUES (";
  for (int i = 1; i <= kParams; ++i) sql += (i > 1 ? ", $" : "$") + std::to_string(i);
  return sql + ")";
}

std::string_view AuthMethodName(AuthMethod m) {
  switch (m) {
    case AuthMethod::kNone:
      return "none";
    case AuthMethod::kToken:
      return "token";
    case AuthMethod::kMtls:
      return "mtls";
    case AuthMethod::kEmbedded:
      return "embedded";
  }
  return "unknown";
}

std::string_view AccessModeName(AccessMode m) {
  switch (m) {
    case AccessMode::kRaw:
      return "raw";
    case AccessMode::kPseudonymized:
      return "pseudonymized";
    case AccessMode::kMasked:
      return "masked";
    case AccessMode::kAggregateOnly:
      return "aggregate_only";
    case AccessMode::kDenied:
      return "denied";
  }
  return "unknown";
}

std::string_view OutcomeName(Outcome o) {
  switch (o) {
    case Outcome::kOk:
      return "ok";
    case Outcome::kDenied:
      return "denied";
    case Outcome::kError:
      return "error";
  }
  return "unknown";
}

// Appends `s` quoted with backslash escapes for '"' and '\', which both JSON strings and
// PostgreSQL array literals accept (the events' strings hold no control characters).
void AppendQuoted(std::string& out, std::string_view s) {
  out += '"';
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
}

// One event as the INSERT's parameters: text format, except the MACs, sent as 32 raw bytes
// in binary format (no hex round trip). Thread-compatible: one per client thread; the
// pointers it hands out stay valid until the next Fill.
class EventParams {
 public:
  void Fill(const AuditEvent& e) {
    text_[0] = common::FormatRfc3339(e.time);
    text_[1] = e.request_id;
    text_[2] = e.principal_id;
    text_[3] = AuthMethodName(e.auth_method);
    SetMac(4, e.token_id_mac);
    text_[5] = e.action;
    std::string& resources = text_[6];
    resources = "[";
    for (const ResourceRef& r : e.resources) {
      if (resources.size() > 1) resources += ',';
      resources += "{\"type\":";
      AppendQuoted(resources, r.type);
      resources += ",\"id\":";
      AppendQuoted(resources, r.id);
      resources += ",\"version\":" + std::to_string(r.version) + "}";
    }
    resources += ']';
    text_[7] = e.purpose;
    text_[8] = e.environment;
    text_[9] = e.decision == Decision::kAllow ? "allow" : "deny";
    std::string& policies = text_[10];
    policies = "{";
    for (const std::string& p : e.determining_policies) {
      if (policies.size() > 1) policies += ',';
      AppendQuoted(policies, p);
    }
    policies += '}';
    text_[11] = std::to_string(e.policy_set_version);
    text_[12] = e.grant_id;
    std::string& modes = text_[13];
    modes.clear();
    for (const FeatureAccess& f : e.feature_modes) {
      if (!modes.empty()) modes += ',';
      modes += f.feature + "=" + std::string(AccessModeName(f.mode));
    }
    text_[14] = std::to_string(e.rows_returned);
    SetMac(15, e.client_address_mac);
    text_[16] = std::to_string(e.risk_score);
    text_[17] = OutcomeName(e.outcome);
    text_[18] = e.outcome_detail;
    std::string& hashed = text_[19];
    hashed.clear();
    for (const HashedValue& h : e.hashed_values) {
      if (!hashed.empty()) hashed += ',';
      hashed += h.field + "=" + common::HexEncode(h.mac);
    }
    for (int i = 0; i < kParams; ++i) {
      if (formats_[i] == 0) values_[i] = text_[i].c_str();
    }
  }

  const char* const* values() const { return values_.data(); }
  const int* lengths() const { return lengths_.data(); }
  const int* formats() const { return formats_.data(); }

 private:
  void SetMac(int i, const std::optional<Hash>& mac) {
    if (mac.has_value()) {
      macs_[i] = *mac;
      values_[i] = reinterpret_cast<const char*>(macs_[i].data());
      lengths_[i] = static_cast<int>(macs_[i].size());
      formats_[i] = 1;
    } else {
      values_[i] = nullptr;  // SQL NULL
      lengths_[i] = 0;
      formats_[i] = 1;
    }
  }

  std::array<std::string, kParams> text_;
  std::array<Hash, kParams> macs_{};
  std::array<const char*, kParams> values_{};
  std::array<int, kParams> lengths_{};
  std::array<int, kParams> formats_{};
};

struct PeerOptions {
  std::string conninfo = "host=127.0.0.1 port=5432 user=postgres dbname=postgres";
  int clients = 1;
  int rows_per_txn = 1;
  uint64_t events = 10'000;
  int repetitions = 1;
  bool json = false;
};

// Sends BEGIN, the rows' INSERTs and COMMIT in one pipeline and reads every reply; the
// transaction is durable when this returns OK (synchronous_commit on).
Status InsertPipelined(PGconn* conn, uint64_t first, uint64_t count, EventParams& params) {
  auto send_plain = [&](const char* sql) {
    return PQsendQueryParams(conn, sql, 0, nullptr, nullptr, nullptr, nullptr, 0) == 1;
  };
  bool sent = send_plain("BEGIN");
  for (uint64_t n = first; sent && n < first + count; ++n) {
    params.Fill(WorkloadEvent(n));
    sent = PQsendQueryPrepared(conn, "insert_event", kParams, params.values(), params.lengths(),
                               params.formats(), 0) == 1;
  }
  sent = sent && send_plain("COMMIT") && PQpipelineSync(conn) == 1;
  if (!sent) {
    return UnavailableError("sending a pipelined transaction failed: " +
                            Trimmed(PQerrorMessage(conn)));
  }
  // Replies: one result and a NULL per statement (BEGIN, count INSERTs, COMMIT), then
  // the sync. After a failed statement the rest come back PGRES_PIPELINE_ABORTED.
  std::string first_error;
  for (uint64_t i = 0; i < count + 2; ++i) {
    PgResult res(PQgetResult(conn));
    if (res == nullptr) {
      return UnavailableError("the connection closed during a pipelined transaction: " +
                              Trimmed(PQerrorMessage(conn)));
    }
    ExecStatusType status = PQresultStatus(res.get());
    if (status != PGRES_COMMAND_OK && first_error.empty()) {
      const char* what = i == 0 ? "BEGIN" : i == count + 1 ? "COMMIT" : "INSERT";
      const char* sqlstate = PQresultErrorField(res.get(), PG_DIAG_SQLSTATE);
      std::string event =
          i == 0 || i == count + 1 ? "" : " of event " + std::to_string(first + i - 1);
      first_error = std::string(what) + event + " (statement " + std::to_string(i + 1) + " of " +
                    std::to_string(count + 2) + " in the pipeline, SQLSTATE " +
                    (sqlstate != nullptr ? sqlstate : "none") +
                    "): " + Trimmed(PQresultErrorMessage(res.get())) + std::string(kStatementHint);
    }
    PgResult end(PQgetResult(conn));
    if (end != nullptr) {
      return InternalError("unexpected extra result in the pipeline after statement " +
                           std::to_string(i + 1));
    }
  }
  PgResult sync(PQgetResult(conn));
  if (sync == nullptr || PQresultStatus(sync.get()) != PGRES_PIPELINE_SYNC) {
    return InternalError("the pipeline did not end with its sync: " +
                         Trimmed(PQerrorMessage(conn)));
  }
  if (!first_error.empty()) return InternalError(first_error);
  return Status::Ok();
}

Status InsertOne(PGconn* conn, uint64_t n, EventParams& params) {
  params.Fill(WorkloadEvent(n));
  PgResult res(PQexecPrepared(conn, "insert_event", kParams, params.values(), params.lengths(),
                              params.formats(), 0));
  if (res == nullptr || PQresultStatus(res.get()) != PGRES_COMMAND_OK) {
    const char* sqlstate =
        res == nullptr ? nullptr : PQresultErrorField(res.get(), PG_DIAG_SQLSTATE);
    return InternalError("INSERT of event " + std::to_string(n) + " failed (SQLSTATE " +
                         (sqlstate != nullptr ? sqlstate : "none") +
                         "): " + Trimmed(PQerrorMessage(conn)) + std::string(kStatementHint));
  }
  return Status::Ok();
}

// One client: connects and prepares before the start signal, then inserts events
// [first, first + count) in transactions of rows_per_txn rows.
Status RunClient(const PeerOptions& options, int client, uint64_t first, uint64_t count,
                 std::latch& ready, std::latch& go) {
  bool counted = false;
  Status result = [&]() -> Status {
    CUSTOS_ASSIGN_OR_RETURN(PgConn conn, Connect(options.conninfo));
    PgResult prepared(PQprepare(conn.get(), "insert_event", InsertSql().c_str(), kParams, nullptr));
    if (prepared == nullptr || PQresultStatus(prepared.get()) != PGRES_COMMAND_OK) {
      return InternalError("PREPARE of the INSERT failed: " + Trimmed(PQerrorMessage(conn.get())) +
                           "; statement: " + InsertSql() + std::string(kStatementHint));
    }
    if (options.rows_per_txn > 1 && PQenterPipelineMode(conn.get()) != 1) {
      return FailedPreconditionError(
          "cannot enter libpq pipeline mode: " + Trimmed(PQerrorMessage(conn.get())) +
          "; it needs libpq and a server of version 14 or later");
    }
    ready.count_down();
    counted = true;
    go.wait();
    EventParams params;
    for (uint64_t done = 0; done < count;) {
      uint64_t rows = std::min<uint64_t>(static_cast<uint64_t>(options.rows_per_txn), count - done);
      if (options.rows_per_txn == 1) {
        CUSTOS_RETURN_IF_ERROR(InsertOne(conn.get(), first + done, params));
      } else {
        CUSTOS_RETURN_IF_ERROR(InsertPipelined(conn.get(), first + done, rows, params));
      }
      done += rows;
    }
    return Status::Ok();
  }();
  if (!result.ok()) {
    // A client that failed before the start must not leave the others waiting for it.
    if (!counted) ready.count_down();
    return Status(result.code(), "client " + std::to_string(client) + ": " + result.message());
  }
  return result;
}

struct RunResult {
  double seconds = 0;
  double rows_per_second = 0;
};

// One repetition on a freshly created table.
Result<RunResult> RunOnce(const PeerOptions& options, PGconn* admin) {
  CUSTOS_RETURN_IF_ERROR(Exec(admin, CreateTableSql(), "creating the table").status());
  // Each run starts with no dirty pages from the last one. CHECKPOINT needs a superuser
  // or pg_checkpoint; without either the runs go on, less alike.
  Result<PgResult> checkpoint = Exec(admin, "CHECKPOINT", "CHECKPOINT before the run");
  if (!checkpoint.ok()) {
    std::fprintf(stderr, "custos_audit_pg_peer: warning: %s\n",
                 checkpoint.status().message().c_str());
  }
  const int n = options.clients;
  std::latch ready(n);
  std::latch go(1);
  std::vector<Status> statuses(static_cast<size_t>(n), Status::Ok());
  std::vector<std::thread> threads;
  uint64_t first = 0;
  for (int c = 0; c < n; ++c) {
    // Shares differ by at most one event.
    uint64_t count = options.events / static_cast<uint64_t>(n) +
                     (static_cast<uint64_t>(c) < options.events % static_cast<uint64_t>(n) ? 1 : 0);
    threads.emplace_back([&, c, first, count] {
      statuses[static_cast<size_t>(c)] = RunClient(options, c, first, count, ready, go);
    });
    first += count;
  }
  ready.wait();
  auto start = std::chrono::steady_clock::now();
  go.count_down();
  for (auto& t : threads) t.join();
  auto end = std::chrono::steady_clock::now();
  for (const Status& s : statuses) CUSTOS_RETURN_IF_ERROR(s);

  CUSTOS_ASSIGN_OR_RETURN(PgResult count, Exec(admin, "SELECT count(*) FROM " + std::string(kTable),
                                               "counting the inserted rows"));
  uint64_t rows = std::stoull(PQgetvalue(count.get(), 0, 0));
  if (rows != options.events) {
    return DataLossError("the table holds " + std::to_string(rows) + " rows after inserting " +
                         std::to_string(options.events) + " events");
  }
  RunResult r;
  r.seconds = std::chrono::duration<double>(end - start).count();
  r.rows_per_second = static_cast<double>(options.events) / r.seconds;
  return r;
}

std::string JsonString(std::string_view s) {
  std::string out;
  AppendQuoted(out, s);
  return out;
}

int Run(const PeerOptions& options) {
  auto fail = [](const Status& s) {
    std::fprintf(stderr, "custos_audit_pg_peer: %s\n", s.message().c_str());
    return 1;
  };
  Result<PgConn> admin = Connect(options.conninfo);
  if (!admin.ok()) return fail(admin.status());
  PGconn* conn = admin->get();
  // DROP TABLE IF EXISTS would print a NOTICE on every first run.
  Result<PgResult> quiet = Exec(conn, "SET client_min_messages TO warning", "SET");
  if (!quiet.ok()) return fail(quiet.status());
  std::array<std::string, 4> names = {"fsync", "synchronous_commit", "wal_sync_method",
                                      "server_version"};
  std::array<std::string, 4> settings;
  for (size_t i = 0; i < names.size(); ++i) {
    Result<std::string> v = Show(conn, names[i]);
    if (!v.ok()) return fail(v.status());
    settings[i] = *v;
  }
  if (settings[0] != "on" || settings[1] != "on") {
    std::fprintf(stderr,
                 "custos_audit_pg_peer: warning: the server runs with fsync=%s, "
                 "synchronous_commit=%s; commits are not durable, so the figure is not the "
                 "peer of custos's fsync mode (set both to on)\n",
                 settings[0].c_str(), settings[1].c_str());
  }
  const std::string& version = settings[3];

  std::vector<double> rates;
  std::vector<double> seconds;
  for (int rep = 0; rep < options.repetitions; ++rep) {
    Result<RunResult> r = RunOnce(options, conn);
    if (!r.ok()) return fail(r.status());
    rates.push_back(r->rows_per_second);
    seconds.push_back(r->seconds);
  }
  std::vector<double> sorted = rates;
  std::sort(sorted.begin(), sorted.end());
  size_t mid = sorted.size() / 2;
  double median = sorted.size() % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  // Leave no data behind in the server's database.
  Result<PgResult> dropped =
      Exec(conn, "DROP TABLE IF EXISTS " + std::string(kTable), "dropping the table");
  if (!dropped.ok())
    std::fprintf(stderr, "custos_audit_pg_peer: warning: %s\n", dropped.status().message().c_str());

  const char* indexes =
      "primary key only (custos writes its per-event query indexes "
      "asynchronously, outside the durable path)";
  if (options.json) {
    std::string runs;
    for (double r : rates) runs += (runs.empty() ? "" : ",") + std::to_string(r);
    std::printf(
        "{\"peer\":\"postgresql\",\"server_version\":%s,\"clients\":%d,"
        "\"rows_per_txn\":%d,\"events\":%llu,\"repetitions\":%d,\"rows_per_second\":%.1f,"
        "\"runs_rows_per_second\":[%s],\"fsync\":%s,\"synchronous_commit\":%s,"
        "\"wal_sync_method\":%s,\"indexes\":%s}\n",
        JsonString(version).c_str(), options.clients, options.rows_per_txn,
        static_cast<unsigned long long>(options.events), options.repetitions, median, runs.c_str(),
        JsonString(settings[0]).c_str(), JsonString(settings[1]).c_str(),
        JsonString(settings[2]).c_str(), JsonString(indexes).c_str());
  } else {
    std::printf("PostgreSQL %s (fsync=%s, synchronous_commit=%s, wal_sync_method=%s)\n",
                version.c_str(), settings[0].c_str(), settings[1].c_str(), settings[2].c_str());
    std::printf("table %s: %s\n", std::string(kTable).c_str(), indexes);
    std::printf("%d client(s), %d row(s) per transaction%s, %llu events\n", options.clients,
                options.rows_per_txn,
                options.rows_per_txn == 1 ? " (autocommit)" : " (BEGIN, INSERTs, COMMIT pipelined)",
                static_cast<unsigned long long>(options.events));
    for (size_t i = 0; i < rates.size(); ++i) {
      std::printf("  run %zu: %.3f s, %.0f rows/s\n", i + 1, seconds[i], rates[i]);
    }
    std::printf("rows/s: %.0f (median of %d)\n", median, options.repetitions);
  }
  return 0;
}

}  // namespace
}  // namespace custos::audit::bench

int main(int argc, char** argv) {
  custos::audit::bench::PeerOptions options;
  CLI::App app{
      "Inserts the audit benchmark's events into PostgreSQL, as custos_bench_audit appends them "
      "to the audit log, and prints rows/s. Recreates the table custos_audit_peer."};
  app.add_option("--conninfo", options.conninfo, "libpq connection string")->capture_default_str();
  app.add_option("--clients", options.clients, "client threads, one connection each")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  app.add_option("--rows-per-txn", options.rows_per_txn,
                 "rows per transaction: 1 is autocommit; more is BEGIN, INSERTs, COMMIT in one "
                 "pipeline")
      ->check(CLI::Range(1, custos::audit::bench::kMaxRowsPerTxn))
      ->capture_default_str();
  app.add_option("--events", options.events, "events in total, shared among the clients")
      ->check(CLI::Range(uint64_t{1}, custos::audit::bench::kMaxEvents))
      ->capture_default_str();
  app.add_option("--repetitions", options.repetitions,
                 "runs, each on a fresh table; the median is printed")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  app.add_flag("--json", options.json, "print one JSON line");
  CLI11_PARSE(app, argc, argv);
  custos::crypto::InitCrypto();
  return custos::audit::bench::Run(options);
}
