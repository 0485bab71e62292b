// The lineage benchmark's PostgreSQL side through libpq (see lineage_pg_peer.h).
#include "lineage_pg_peer.h"

#include <libpq-fe.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <string_view>
#include <thread>

#include "cpu_clock.h"

namespace custos::lineage::bench {
namespace {

using custos::bench::CpuSeconds;
using custos::bench::CpuSecondsOfProcess;
using custos::bench::SecondsSince;
using SteadyClock = std::chrono::steady_clock;

constexpr size_t kCopyChunkBytes = 1 << 20;
// Events whose statements go out before their answers are read: far below what fills the
// socket buffers either way (about 14 statements and 300 bytes of answers per event).
constexpr size_t kEventsPerFlush = 50;
constexpr int kMaxAttempts = 20;
constexpr std::string_view kQueryCanceled = "57014";

struct ResultFree {
  void operator()(PGresult* r) const { PQclear(r); }
};
using PgResultPtr = std::unique_ptr<PGresult, ResultFree>;

std::string WithoutNewline(const char* text) {
  std::string out = text == nullptr ? "" : text;
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

std::string SqlState(const PGresult* result) {
  const char* state = result == nullptr ? nullptr : PQresultErrorField(result, PG_DIAG_SQLSTATE);
  return state == nullptr ? "" : state;
}

// The walk as one recursive CTE. `toward` is the column the walk moves to (src upstream,
// dst downstream). The scope is the run a transformation was entered through (NULL: any).
std::string WalkSql(Direction direction) {
  const bool up = direction == Direction::kUpstream;
  const std::string toward = up ? "src" : "dst";
  const std::string from = up ? "dst" : "src";
  return "WITH RECURSIVE walk(node, scope, depth) AS ("
         " SELECT $1::bigint, NULL::uuid, 0"
         " UNION"
         " SELECT e." +
         toward +
         ", CASE WHEN n.kind = 'transformation' THEN e.run_id END,"
         " w.depth + 1"
         " FROM walk w"
         " JOIN lineage_edges e ON e." +
         from +
         " = w.node"
         "  AND (w.scope IS NULL OR e.run_id = w.scope)"
         " JOIN lineage_nodes n ON n.id = e." +
         toward +
         " WHERE w.depth < $2::int)"
         " SELECT n.id, n.kind, n.name, n.version, r.depth"
         " FROM (SELECT node, min(depth) AS depth FROM walk GROUP BY node) r"
         " JOIN lineage_nodes n ON n.id = r.node";
}

// Ingestion tables: a node's id is custos's id text, so statements need no ids back;
// `seq` orders the versions of a name (the newest is an input's version).
constexpr std::string_view kIngestTables =
    "DROP TABLE IF EXISTS ol_edges, ol_nodes, ol_runs;"
    "CREATE TABLE ol_nodes (id text PRIMARY KEY, kind text NOT NULL, name text NOT NULL,"
    " version text NOT NULL, seq bigserial NOT NULL);"
    "CREATE INDEX ol_nodes_name_seq ON ol_nodes (name, seq);"
    "CREATE TABLE ol_edges (src text NOT NULL, dst text NOT NULL, run_id uuid NOT NULL,"
    " time timestamptz NOT NULL);"
    "CREATE INDEX ol_edges_dst ON ol_edges (dst);"
    "CREATE INDEX ol_edges_src ON ol_edges (src);"
    "CREATE TABLE ol_runs (run_id uuid PRIMARY KEY, job text NOT NULL, event_type text NOT NULL,"
    " event_time timestamptz NOT NULL)";

struct IngestStatement {
  const char* name;
  const char* sql;
  int params;
};
constexpr IngestStatement kRunInsert = {
    "ol_run", "INSERT INTO ol_runs (run_id, job, event_type, event_time) VALUES ($1, $2, $3, $4)",
    4};
constexpr IngestStatement kJobInsert = {
    "ol_job",
    "INSERT INTO ol_nodes (id, kind, name, version) VALUES ($1, 'transformation', $2, $3)"
    " ON CONFLICT (id) DO NOTHING",
    3};
// An input never seen before becomes an unversioned dataset node.
constexpr IngestStatement kInputNodeInsert = {
    "ol_input_node",
    "INSERT INTO ol_nodes (id, kind, name, version) SELECT $1::text, 'dataset', $2::text, ''"
    " WHERE NOT EXISTS (SELECT 1 FROM ol_nodes WHERE name = $2::text)"
    " ON CONFLICT (id) DO NOTHING",
    2};
constexpr IngestStatement kInputEdgeInsert = {
    "ol_input_edge",
    "INSERT INTO ol_edges (src, dst, run_id, time) SELECT id, $2, $3, $4 FROM ol_nodes"
    " WHERE name = $1 ORDER BY seq DESC LIMIT 1",
    4};
constexpr IngestStatement kOutputNodeInsert = {
    "ol_output_node",
    "INSERT INTO ol_nodes (id, kind, name, version) VALUES ($1, 'dataset', $2, $3)"
    " ON CONFLICT (id) DO NOTHING",
    3};
constexpr IngestStatement kOutputEdgeInsert = {
    "ol_output_edge", "INSERT INTO ol_edges (src, dst, run_id, time) VALUES ($1, $2, $3, $4)", 4};

// What the peer takes from an event: custos's ids for its job and outputs, and its inputs'
// dataset names.
struct EventRows {
  std::string run_id;
  std::string event_type;
  std::string event_time;
  std::string job_name;
  std::string job_version;
  std::string job_id;
  std::vector<std::string> input_names;
  std::vector<std::string> input_ids;  // the unversioned node, if the name is new
  std::vector<std::string> output_names;
  std::vector<std::string> output_ids;
  std::string output_version;
};

std::string StringAt(const nlohmann::json& object, const char* key) {
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

Result<EventRows> ParseEventRows(const std::string& text) {
  nlohmann::json event = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (event.is_discarded() || !event.contains("run") || !event.contains("job")) {
    return InvalidArgumentError("an event is not a RunEvent in JSON");
  }
  EventRows rows;
  rows.run_id = StringAt(event["run"], "runId");
  rows.event_type = StringAt(event, "eventType");
  rows.event_time = StringAt(event, "eventTime");
  const nlohmann::json& job = event["job"];
  rows.job_name = StringAt(job, "namespace") + "/" + StringAt(job, "name");
  if (job.contains("facets") && job["facets"].contains("sourceCodeLocation")) {
    rows.job_version = StringAt(job["facets"]["sourceCodeLocation"], "version");
  }
  rows.job_id = "transformation:" + rows.job_name + "@" + rows.job_version;
  rows.output_version = "run:" + rows.run_id;
  for (const nlohmann::json& input : event.value("inputs", nlohmann::json::array())) {
    rows.input_names.push_back(StringAt(input, "namespace") + "/" + StringAt(input, "name"));
    rows.input_ids.push_back("dataset:" + rows.input_names.back() + "@");
  }
  for (const nlohmann::json& output : event.value("outputs", nlohmann::json::array())) {
    rows.output_names.push_back(StringAt(output, "namespace") + "/" + StringAt(output, "name"));
    rows.output_ids.push_back("dataset:" + rows.output_names.back() + "@" + rows.output_version);
  }
  return rows;
}

}  // namespace

// One connection and what to do with it.
class PgPeer::Session {
 public:
  static Result<std::unique_ptr<Session>> Open(const std::string& conninfo) {
    PGconn* conn = PQconnectdb(conninfo.c_str());
    auto session = std::unique_ptr<Session>(new Session(conn));
    if (conn == nullptr || PQstatus(conn) != CONNECTION_OK) {
      return UnavailableError(
          "cannot connect to PostgreSQL with '" + conninfo +
          "': " + WithoutNewline(conn == nullptr ? "out of memory" : PQerrorMessage(conn)) +
          "; start a server (scripts/bench-lineage.sh starts a temporary one) or pass "
          "--conninfo");
    }
    CUSTOS_RETURN_IF_ERROR(session->Run("SET client_min_messages TO warning"));
    return session;
  }
  ~Session() { PQfinish(conn_); }

  PGconn* conn() const { return conn_; }

  // Runs `sql` (one or more statements, no parameters) and returns the last result.
  Result<PgResultPtr> Query(const std::string& sql) {
    PgResultPtr result(PQexec(conn_, sql.c_str()));
    const ExecStatusType status = PQresultStatus(result.get());
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
      return Failure(result.get(), sql);
    }
    return result;
  }
  Status Run(const std::string& sql) { return Query(sql).status(); }
  Result<std::string> Setting(const std::string& name) {
    CUSTOS_ASSIGN_OR_RETURN(PgResultPtr result, Query("SHOW " + name));
    return std::string(PQgetvalue(result.get(), 0, 0));
  }

  Status Prepare(const char* name, const std::string& sql, int params) {
    PgResultPtr result(PQprepare(conn_, name, sql.c_str(), params, nullptr));
    if (PQresultStatus(result.get()) != PGRES_COMMAND_OK) return Failure(result.get(), sql);
    return Status::Ok();
  }

  // COPY ... FROM STDIN with the rows `next` appends to its buffer until it returns false.
  Status CopyIn(const std::string& sql, const std::function<bool(std::string&)>& next) {
    PgResultPtr started(PQexec(conn_, sql.c_str()));
    if (PQresultStatus(started.get()) != PGRES_COPY_IN) return Failure(started.get(), sql);
    std::string buffer;
    bool more = true;
    while (more) {
      buffer.clear();
      while (buffer.size() < kCopyChunkBytes && (more = next(buffer))) {
      }
      if (!buffer.empty() &&
          PQputCopyData(conn_, buffer.data(), static_cast<int>(buffer.size())) != 1) {
        return UnavailableError("COPY: sending rows failed: " +
                                WithoutNewline(PQerrorMessage(conn_)));
      }
    }
    if (PQputCopyEnd(conn_, nullptr) != 1) {
      return UnavailableError("COPY: ending it failed: " + WithoutNewline(PQerrorMessage(conn_)));
    }
    PgResultPtr done(PQgetResult(conn_));
    if (PQresultStatus(done.get()) != PGRES_COMMAND_OK) return Failure(done.get(), sql);
    while (PgResultPtr extra{PQgetResult(conn_)}) {
    }
    return Status::Ok();
  }

  Status Failure(const PGresult* result, const std::string& sql) const {
    const std::string state = SqlState(result);
    const std::string message =
        result != nullptr ? WithoutNewline(PQresultErrorMessage(result)) : "";
    return InternalError("PostgreSQL refused a statement (SQLSTATE " +
                         (state.empty() ? std::string("none") : state) + "): " +
                         (message.empty() ? WithoutNewline(PQerrorMessage(conn_)) : message) +
                         "; statement: " + sql.substr(0, 300) +
                         "; the role needs rights to create and drop tables in its database");
  }

 private:
  explicit Session(PGconn* conn) : conn_(conn) {}
  PGconn* conn_;
};

PgPeer::PgPeer(std::unique_ptr<Session> session, std::string conninfo, std::string description)
    : session_(std::move(session)),
      conninfo_(std::move(conninfo)),
      description_(std::move(description)) {}

PgPeer::~PgPeer() = default;

Result<std::unique_ptr<PgPeer>> PgPeer::Connect(const std::string& conninfo,
                                                int statement_timeout_ms) {
  CUSTOS_ASSIGN_OR_RETURN(std::unique_ptr<Session> session, Session::Open(conninfo));
  // JIT compiles a plan per execution once its estimated cost is high, which the recursive
  // walk's often is: tens of milliseconds a tuned deployment turns off for short queries.
  CUSTOS_RETURN_IF_ERROR(session->Run("SET jit = off"));
  CUSTOS_RETURN_IF_ERROR(
      session->Run("SET statement_timeout = " + std::to_string(statement_timeout_ms)));
  std::string description = "PostgreSQL";
  for (const char* name :
       {"server_version", "fsync", "synchronous_commit", "shared_buffers", "jit"}) {
    CUSTOS_ASSIGN_OR_RETURN(std::string value, session->Setting(name));
    description += std::string(name == std::string_view("server_version") ? " " : ", ") +
                   (name == std::string_view("server_version") ? "" : std::string(name) + "=") +
                   value;
  }
  if (description.find("fsync=on") == std::string::npos ||
      description.find("synchronous_commit=on") == std::string::npos) {
    std::fprintf(stderr,
                 "lineage bench: warning: %s: commits are not durable, so the ingestion peer is "
                 "not the peer of custos's fsynced audit log (set fsync and synchronous_commit "
                 "on)\n",
                 description.c_str());
  }
  return std::unique_ptr<PgPeer>(new PgPeer(std::move(session), conninfo, std::move(description)));
}

Result<PgLoadTimes> PgPeer::LoadGraph(const Graph& graph) {
  walks_prepared_ = false;
  CUSTOS_RETURN_IF_ERROR(DropGraph());
  CUSTOS_RETURN_IF_ERROR(session_->Run(
      "CREATE TABLE lineage_nodes (id bigint NOT NULL, kind text NOT NULL, name text NOT NULL,"
      " version text NOT NULL);"
      "CREATE TABLE lineage_edges (src bigint NOT NULL, dst bigint NOT NULL, run_id uuid)"));
  PgLoadTimes times;
  auto start = SteadyClock::now();
  uint32_t node = 0;
  CUSTOS_RETURN_IF_ERROR(session_->CopyIn(
      "COPY lineage_nodes (id, kind, name, version) FROM STDIN", [&](std::string& out) {
        if (node == graph.node_count()) return false;
        const Node n = NodeOf(graph, node);
        out += std::to_string(node++) + '\t' + std::string(NodeKindName(n.kind)) + '\t' + n.name +
               '\t' + n.version + '\n';
        return true;
      }));
  size_t edge = 0;
  CUSTOS_RETURN_IF_ERROR(
      session_->CopyIn("COPY lineage_edges (src, dst, run_id) FROM STDIN", [&](std::string& out) {
        if (edge == graph.edges.size()) return false;
        const GraphEdge& e = graph.edges[edge++];
        out += std::to_string(e.from) + '\t' + std::to_string(e.to) + '\t' +
               (e.run == 0 ? std::string("\\N") : RunUuid(graph.options.seed, e.run)) + '\n';
        return true;
      }));
  times.copy_seconds = SecondsSince(start);
  // Indexes after the rows: what anyone bulk-loading PostgreSQL does.
  start = SteadyClock::now();
  CUSTOS_RETURN_IF_ERROR(
      session_->Run("ALTER TABLE lineage_nodes ADD PRIMARY KEY (id);"
                    "CREATE INDEX lineage_edges_dst ON lineage_edges (dst);"
                    "CREATE INDEX lineage_edges_src ON lineage_edges (src)"));
  times.index_seconds = SecondsSince(start);
  start = SteadyClock::now();
  CUSTOS_RETURN_IF_ERROR(session_->Run("VACUUM ANALYZE lineage_nodes"));
  CUSTOS_RETURN_IF_ERROR(session_->Run("VACUUM ANALYZE lineage_edges"));
  times.analyze_seconds = SecondsSince(start);
  return times;
}

Result<PgWalkAnswer> PgPeer::Walk(Direction direction, uint32_t start, uint32_t max_depth) {
  if (!walks_prepared_) {
    CUSTOS_RETURN_IF_ERROR(session_->Prepare("walk_up", WalkSql(Direction::kUpstream), 2));
    CUSTOS_RETURN_IF_ERROR(session_->Prepare("walk_down", WalkSql(Direction::kDownstream), 2));
    walks_prepared_ = true;
  }
  const std::string start_text = std::to_string(start);
  const std::string depth_text = std::to_string(max_depth);
  const char* values[2] = {start_text.c_str(), depth_text.c_str()};
  const char* name = direction == Direction::kUpstream ? "walk_up" : "walk_down";
  PgResultPtr result(PQexecPrepared(session_->conn(), name, 2, values, nullptr, nullptr, 0));
  PgWalkAnswer answer;
  if (PQresultStatus(result.get()) == PGRES_TUPLES_OK) {
    answer.nodes = static_cast<size_t>(PQntuples(result.get()));
    return answer;
  }
  if (SqlState(result.get()) == kQueryCanceled) {
    answer.timed_out = true;
    return answer;
  }
  return session_->Failure(result.get(), WalkSql(direction));
}

Status PgPeer::DropGraph() {
  return session_->Run("DROP TABLE IF EXISTS lineage_edges, lineage_nodes");
}

namespace {

// One ingesting connection in pipeline mode.
class IngestClient {
 public:
  explicit IngestClient(PGconn* conn) : conn_(conn) {}

  // BEGIN, the events' statements, COMMIT; redone from the start when PostgreSQL aborts
  // it for a deadlock or a serialization failure (two clients upserting the same job).
  Status Transaction(const std::vector<std::string>& events) {
    rows_.clear();
    for (const std::string& event : events) {
      CUSTOS_ASSIGN_OR_RETURN(EventRows rows, ParseEventRows(event));
      rows_.push_back(std::move(rows));
    }
    for (int attempt = 1;; ++attempt) {
      CUSTOS_ASSIGN_OR_RETURN(std::string state, TryTransaction());
      if (state.empty()) return Status::Ok();
      if ((state != "40P01" && state != "40001") || attempt == kMaxAttempts) {
        return InternalError("an ingest transaction failed (SQLSTATE " + state + "): " + error_);
      }
      ++retried_;
    }
  }

  uint64_t retried() const { return retried_; }

 private:
  // "" when committed, else the SQLSTATE of the first failure (the transaction is then
  // rolled back).
  Result<std::string> TryTransaction() {
    error_.clear();
    std::string state;
    CUSTOS_RETURN_IF_ERROR(SendText("BEGIN"));
    for (size_t first = 0; first < rows_.size() && state.empty(); first += kEventsPerFlush) {
      const size_t end = std::min(rows_.size(), first + kEventsPerFlush);
      for (size_t i = first; i < end; ++i) CUSTOS_RETURN_IF_ERROR(SendEvent(rows_[i]));
      if (PQsendFlushRequest(conn_) != 1 || PQflush(conn_) != 0) return ConnectionLost();
      CUSTOS_ASSIGN_OR_RETURN(state, ReadAnswers());
    }
    if (state.empty()) CUSTOS_RETURN_IF_ERROR(SendText("COMMIT"));
    if (PQpipelineSync(conn_) != 1) return ConnectionLost();
    CUSTOS_ASSIGN_OR_RETURN(std::string end_state, ReadAnswers());
    if (state.empty()) state = end_state;
    CUSTOS_RETURN_IF_ERROR(ReadSync());
    if (!state.empty()) {
      // The failed transaction block stays open past the sync until rolled back.
      CUSTOS_RETURN_IF_ERROR(SendText("ROLLBACK"));
      if (PQpipelineSync(conn_) != 1) return ConnectionLost();
      CUSTOS_RETURN_IF_ERROR(ReadAnswers().status());
      CUSTOS_RETURN_IF_ERROR(ReadSync());
    }
    return state;
  }

  Status SendText(const char* sql) {
    if (PQsendQueryParams(conn_, sql, 0, nullptr, nullptr, nullptr, nullptr, 0) != 1) {
      return ConnectionLost();
    }
    ++unanswered_;
    return Status::Ok();
  }

  Status Send(const IngestStatement& statement, std::initializer_list<const std::string*> params) {
    const char* values[4];
    size_t n = 0;
    for (const std::string* p : params) values[n++] = p->c_str();
    if (PQsendQueryPrepared(conn_, statement.name, statement.params, values, nullptr, nullptr, 0) !=
        1) {
      return ConnectionLost();
    }
    ++unanswered_;
    return Status::Ok();
  }

  Status SendEvent(const EventRows& e) {
    CUSTOS_RETURN_IF_ERROR(Send(kRunInsert, {&e.run_id, &e.job_id, &e.event_type, &e.event_time}));
    CUSTOS_RETURN_IF_ERROR(Send(kJobInsert, {&e.job_id, &e.job_name, &e.job_version}));
    for (size_t i = 0; i < e.input_names.size(); ++i) {
      CUSTOS_RETURN_IF_ERROR(Send(kInputNodeInsert, {&e.input_ids[i], &e.input_names[i]}));
      CUSTOS_RETURN_IF_ERROR(
          Send(kInputEdgeInsert, {&e.input_names[i], &e.job_id, &e.run_id, &e.event_time}));
    }
    for (size_t i = 0; i < e.output_names.size(); ++i) {
      CUSTOS_RETURN_IF_ERROR(
          Send(kOutputNodeInsert, {&e.output_ids[i], &e.output_names[i], &e.output_version}));
      CUSTOS_RETURN_IF_ERROR(
          Send(kOutputEdgeInsert, {&e.job_id, &e.output_ids[i], &e.run_id, &e.event_time}));
    }
    return Status::Ok();
  }

  // Reads the answers to every statement sent so far; returns the SQLSTATE of the first
  // that failed, or "" (after a failure the rest come back PGRES_PIPELINE_ABORTED).
  Result<std::string> ReadAnswers() {
    std::string state;
    for (; unanswered_ > 0; --unanswered_) {
      PgResultPtr result(PQgetResult(conn_));
      if (result == nullptr) return ConnectionLost();
      const ExecStatusType status = PQresultStatus(result.get());
      if (status != PGRES_COMMAND_OK && status != PGRES_PIPELINE_ABORTED && state.empty()) {
        state = SqlState(result.get());
        if (state.empty()) state = "none";
        error_ = WithoutNewline(PQresultErrorMessage(result.get()));
      }
      PgResultPtr end(PQgetResult(conn_));  // each answer ends with a null
    }
    return state;
  }

  Status ReadSync() {
    PgResultPtr sync(PQgetResult(conn_));
    if (PQresultStatus(sync.get()) != PGRES_PIPELINE_SYNC) {
      return InternalError("the pipeline did not end with its sync: " +
                           WithoutNewline(PQerrorMessage(conn_)));
    }
    return Status::Ok();
  }

  Status ConnectionLost() const {
    return UnavailableError("the connection to PostgreSQL failed while ingesting: " +
                            WithoutNewline(PQerrorMessage(conn_)));
  }

  PGconn* conn_;
  std::vector<EventRows> rows_;
  size_t unanswered_ = 0;
  uint64_t retried_ = 0;
  std::string error_;
};

}  // namespace

Result<PgIngestRun> PgPeer::Ingest(const std::vector<std::vector<std::string>>& transactions,
                                   int threads) {
  CUSTOS_RETURN_IF_ERROR(session_->Run(std::string(kIngestTables)));
  // Each run starts with no dirty pages from the one before (needs superuser or
  // pg_checkpoint; without, the runs are only less alike).
  if (Status checkpoint = session_->Run("CHECKPOINT"); !checkpoint.ok()) {
    std::fprintf(stderr, "lineage bench: warning: %s\n", checkpoint.message().c_str());
  }
  struct Client {
    std::unique_ptr<Session> session;
    Status status;
    double cpu_seconds = 0;
    double backend_cpu_seconds = 0;
    uint64_t retried = 0;
  };
  std::vector<Client> clients(static_cast<size_t>(threads));
  for (Client& client : clients) {
    CUSTOS_ASSIGN_OR_RETURN(client.session, Session::Open(conninfo_));
    for (const IngestStatement* s : {&kRunInsert, &kJobInsert, &kInputNodeInsert, &kInputEdgeInsert,
                                     &kOutputNodeInsert, &kOutputEdgeInsert}) {
      CUSTOS_RETURN_IF_ERROR(client.session->Prepare(s->name, s->sql, s->params));
    }
    if (PQenterPipelineMode(client.session->conn()) != 1) {
      return FailedPreconditionError(
          "cannot enter libpq pipeline mode (needs libpq and server "
          "14 or later): " +
          WithoutNewline(PQerrorMessage(client.session->conn())));
    }
  }
  const auto start = SteadyClock::now();
  std::vector<std::thread> workers;
  for (size_t t = 0; t < clients.size(); ++t) {
    workers.emplace_back([&, t] {
      Client& client = clients[t];
      const int backend = PQbackendPID(client.session->conn());
      const double backend_before = CpuSecondsOfProcess(backend);
      const double cpu_before = CpuSeconds(CLOCK_THREAD_CPUTIME_ID);
      IngestClient ingest(client.session->conn());
      for (size_t c = t; c < transactions.size() && client.status.ok(); c += clients.size()) {
        client.status = ingest.Transaction(transactions[c]);
      }
      client.cpu_seconds = CpuSeconds(CLOCK_THREAD_CPUTIME_ID) - cpu_before;
      client.backend_cpu_seconds = CpuSecondsOfProcess(backend) - backend_before;
      client.retried = ingest.retried();
    });
  }
  for (std::thread& worker : workers) worker.join();
  PgIngestRun run;
  run.seconds = SecondsSince(start);
  for (const Client& client : clients) {
    CUSTOS_RETURN_IF_ERROR(client.status);
    run.client_cpu_seconds += client.cpu_seconds;
    run.backend_cpu_seconds += client.backend_cpu_seconds;
    run.retried_transactions += client.retried;
  }
  CUSTOS_ASSIGN_OR_RETURN(PgResultPtr count, session_->Query("SELECT count(*) FROM ol_runs"));
  const uint64_t runs = std::stoull(PQgetvalue(count.get(), 0, 0));
  uint64_t events = 0;
  for (const auto& transaction : transactions) events += transaction.size();
  if (runs != events) {
    return DataLossError("PostgreSQL holds " + std::to_string(runs) + " runs after ingesting " +
                         std::to_string(events) + " events");
  }
  CUSTOS_RETURN_IF_ERROR(session_->Run("DROP TABLE IF EXISTS ol_edges, ol_nodes, ol_runs"));
  return run;
}

}  // namespace custos::lineage::bench
