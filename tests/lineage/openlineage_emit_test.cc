// OpenLineage emission: records become RunEvents (exact JSON, checked by the schema
// validator), sink strings are parsed or refused, and the emitter delivers through the file
// sink and the HTTP sink against an in-test endpoint (retries, refusals, timeouts, TLS).
#include "lineage/openlineage_emit.h"

#include <gtest/gtest.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <sys/stat.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <fstream>
#include <memory>
#include <mutex>
#include <ostream>
#include <regex>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "audit/log.h"
#include "identity/ca.h"
#include "identity/mtls.h"
#include "lineage/openlineage_schema.h"
#include "lineage_test_util.h"

namespace custos::lineage {
namespace {

using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
using testing::MakeEdge;
using testing::MakeNode;
using testing::MakeRecord;

constexpr char kSourceSha[] = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
constexpr char kCodeSha[] = "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae";
// OpenLineageRunId("run-1"): the first 16 bytes of SHA-256("custos-run:run-1") with the
// version and variant bits set (computed independently, with Python's hashlib).
constexpr char kRun1Uuid[] = "41c82f62-0241-8564-87e6-4fad84b0e8a5";

const OpenLineageValidator& Validator() {
  static const OpenLineageValidator* validator = [] {
    auto created = OpenLineageValidator::Create();
    if (!created.ok()) {
      ADD_FAILURE() << created.status().ToString();
      std::abort();
    }
    return new OpenLineageValidator(std::move(*created));
  }();
  return *validator;
}

void ExpectValid(const Json& event) {
  const Status status = Validator().ValidateRunEvent(event);
  EXPECT_TRUE(status.ok()) << status.ToString() << "\n" << event.dump(2);
}

// source -> transformation "custos/ingest" -> feature_view, in run `run`.
LineageRecord IngestRecord(const std::string& run = "run-1") {
  const Node source = MakeNode(NodeKind::kSource, "s3://bank/tx.csv",
                               std::string("sha256:") + kSourceSha, kSourceSha);
  const Node ingest = MakeNode(NodeKind::kTransformation, "custos/ingest", "v1.4.0", kCodeSha);
  const Node view = MakeNode(NodeKind::kFeatureView, "fraud", "3");
  LineageRecord record =
      MakeRecord({source, ingest, view},
                 {MakeEdge(source.Id(), ingest.Id(), run), MakeEdge(ingest.Id(), view.Id(), run)});
  record.origin = "custos:ingest";
  return record;
}

// ---- Conversion -------------------------------------------------------------------------

TEST(OpenLineageEmitTest, IngestRunBecomesOneExactEvent) {
  const std::vector<Json> events = RunEventsFromRecord(IngestRecord(), EmitOptions{});
  ASSERT_EQ(events.size(), 1u);
  const Json expected = Json::parse(R"({
    "eventType": "COMPLETE",
    "eventTime": "2027-01-15T08:00:00.000000Z",
    "producer": "https://github.com/custos-project/custos/tree/main/src/lineage",
    "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
    "run": {
      "runId": "41c82f62-0241-8564-87e6-4fad84b0e8a5",
      "facets": {"custos_run": {
        "_producer": "https://github.com/custos-project/custos/tree/main/src/lineage",
        "_schemaURL": "https://custos.dev/spec/openlineage/facets/1-0-0/CustosRunFacet.json#/$defs/CustosRunFacet",
        "runId": "run-1"}}
    },
    "job": {
      "namespace": "custos",
      "name": "custos/ingest",
      "facets": {"custos_content": {
        "_producer": "https://github.com/custos-project/custos/tree/main/src/lineage",
        "_schemaURL": "https://custos.dev/spec/openlineage/facets/1-0-0/CustosContentFacet.json#/$defs/CustosContentFacet",
        "version": "v1.4.0",
        "sha256": "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"}}
    },
    "inputs": [{
      "namespace": "custos",
      "name": "source:s3://bank/tx.csv",
      "facets": {
        "version": {
          "_producer": "https://github.com/custos-project/custos/tree/main/src/lineage",
          "_schemaURL": "https://openlineage.io/spec/facets/1-0-1/DatasetVersionDatasetFacet.json#/$defs/DatasetVersionDatasetFacet",
          "datasetVersion": "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"},
        "custos_content": {
          "_producer": "https://github.com/custos-project/custos/tree/main/src/lineage",
          "_schemaURL": "https://custos.dev/spec/openlineage/facets/1-0-0/CustosContentFacet.json#/$defs/CustosContentFacet",
          "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}
      }
    }],
    "outputs": [{
      "namespace": "custos",
      "name": "feature_view:fraud",
      "facets": {"version": {
        "_producer": "https://github.com/custos-project/custos/tree/main/src/lineage",
        "_schemaURL": "https://openlineage.io/spec/facets/1-0-1/DatasetVersionDatasetFacet.json#/$defs/DatasetVersionDatasetFacet",
        "datasetVersion": "3"}}
    }]
  })");
  EXPECT_EQ(events[0], expected) << events[0].dump(2);
  ExpectValid(events[0]);
  EXPECT_EQ(RunEventFromRecord(IngestRecord(), EmitOptions{}, "run-1"), expected);
}

TEST(OpenLineageEmitTest, ProducerOptionNamesEventAndFacets) {
  EmitOptions options;
  options.producer = "https://example.com/custos-staging";
  const Json event = RunEventFromRecord(IngestRecord(), options, "run-1");
  EXPECT_EQ(event["producer"], "https://example.com/custos-staging");
  EXPECT_EQ(event["run"]["facets"]["custos_run"]["_producer"],
            "https://example.com/custos-staging");
  EXPECT_EQ(event["inputs"][0]["facets"]["version"]["_producer"],
            "https://example.com/custos-staging");
  ExpectValid(event);
}

TEST(OpenLineageEmitTest, NonUuidRunIdsMapToTheSameUuidEveryTime) {
  EXPECT_EQ(OpenLineageRunId("run-1"), kRun1Uuid);
  EXPECT_EQ(OpenLineageRunId("run-1"), OpenLineageRunId("run-1"));
  EXPECT_NE(OpenLineageRunId("run-2"), OpenLineageRunId("run-1"));
  const std::regex uuid_v8("^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
  for (const std::string run : {"run-1", "run-2", "", "airflow/dag/2026-01-01", "ünïcode"}) {
    EXPECT_TRUE(std::regex_match(OpenLineageRunId(run), uuid_v8)) << run;
  }
  // A UUID is kept as it is (in its own case), with no custos_run facet.
  const std::string uuid = "0193A1B2-7c3d-7e4f-8a5b-6c7d8e9f0a1b";
  EXPECT_EQ(OpenLineageRunId(uuid), uuid);
  const Json event = RunEventFromRecord(IngestRecord(uuid), EmitOptions{}, uuid);
  EXPECT_EQ(event["run"], Json({{"runId", uuid}}));
  ExpectValid(event);
  // Not quite a UUID (a dash missing): mapped.
  EXPECT_NE(OpenLineageRunId("0193a1b2-7c3d-7e4f-8a5b6c7d8e9f0a1b"),
            "0193a1b2-7c3d-7e4f-8a5b6c7d8e9f0a1b");
}

TEST(OpenLineageEmitTest, RecordWithoutTransformationIsTheOriginsJob) {
  const Node model = MakeNode(NodeKind::kModel, "fraud-xgb", "7", kCodeSha);
  const Node deployment = MakeNode(NodeKind::kDeployment, "fraud-xgb/prod", "2");
  LineageRecord record = MakeRecord({deployment}, {MakeEdge(model.Id(), deployment.Id())});
  record.origin = "custos:deploy";
  const std::vector<Json> events = RunEventsFromRecord(record, EmitOptions{});
  ASSERT_EQ(events.size(), 1u);
  const Json& event = events[0];
  EXPECT_EQ(event["job"], Json({{"namespace", "custos"}, {"name", "custos:deploy"}}));
  ASSERT_EQ(event["inputs"].size(), 1u);
  EXPECT_EQ(event["inputs"][0]["namespace"], "custos");
  EXPECT_EQ(event["inputs"][0]["name"], "model:fraud-xgb");
  EXPECT_EQ(event["inputs"][0]["facets"]["version"]["datasetVersion"], "7");
  // The model is named only by the edge's id, so its content hash is unknown here.
  EXPECT_FALSE(event["inputs"][0]["facets"].contains("custos_content"));
  ASSERT_EQ(event["outputs"].size(), 1u);
  EXPECT_EQ(event["outputs"][0]["name"], "deployment:fraud-xgb/prod");
  EXPECT_EQ(event["outputs"][0]["facets"]["version"]["datasetVersion"], "2");
  // A run-less derivation gets a run named after the record: stable, and distinct per record.
  EXPECT_EQ(event["run"]["facets"]["custos_run"]["runId"], "");
  EXPECT_EQ(RunEventFromRecord(record, EmitOptions{}, "")["run"]["runId"], event["run"]["runId"]);
  record.edges[0].time += 1s;
  EXPECT_NE(RunEventFromRecord(record, EmitOptions{}, "")["run"]["runId"], event["run"]["runId"]);
  ExpectValid(event);
}

TEST(OpenLineageEmitTest, OneEventPerRunInFirstSeenOrder) {
  const Node a = MakeNode(NodeKind::kSource, "a.csv", "1");
  const Node t = MakeNode(NodeKind::kTransformation, "clean", "1");
  const Node b = MakeNode(NodeKind::kFeatureView, "b", "1");
  const Node c = MakeNode(NodeKind::kFeatureView, "c", "1");
  LineageRecord record =
      MakeRecord({a, t, b, c}, {MakeEdge(a.Id(), t.Id(), "r2"), MakeEdge(t.Id(), b.Id(), "r2"),
                                MakeEdge(a.Id(), t.Id(), "r1"), MakeEdge(t.Id(), c.Id(), "r1")});
  record.edges[3].time = common::FromUnixMicros(1'800'000'123'456'789);
  const std::vector<Json> events = RunEventsFromRecord(record, EmitOptions{});
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0]["run"]["facets"]["custos_run"]["runId"], "r2");
  EXPECT_EQ(events[0]["outputs"][0]["name"], "feature_view:b");
  EXPECT_EQ(events[0]["eventTime"], "2027-01-15T08:00:00.000000Z");
  EXPECT_EQ(events[1]["run"]["facets"]["custos_run"]["runId"], "r1");
  EXPECT_EQ(events[1]["outputs"][0]["name"], "feature_view:c");
  // The latest edge time of the run, to the microsecond.
  EXPECT_EQ(events[1]["eventTime"], "2027-01-15T08:02:03.456789Z");
  for (const Json& event : events) {
    EXPECT_EQ(event["inputs"].size(), 1u);
    ExpectValid(event);
  }
}

TEST(OpenLineageEmitTest, OutsideDatasetsKeepTheirOpenLineageNames) {
  Node table = MakeNode(NodeKind::kDataset, "postgres://db:5432/public.tx", "");
  table.attributes = {{"ol_namespace", "postgres://db:5432"}, {"ol_name", "public.tx"}};
  const Node job = MakeNode(NodeKind::kTransformation, "airflow/export", "");
  const std::string lake_id = MakeNodeId(NodeKind::kDataset, "s3://lake/exports/tx", "run:42");
  const LineageRecord record = MakeRecord(
      {table, job}, {MakeEdge(table.Id(), job.Id(), "r"), MakeEdge(job.Id(), lake_id, "r")});
  const Json event = RunEventFromRecord(record, EmitOptions{}, "r");
  EXPECT_EQ(event["job"], Json({{"namespace", "custos"}, {"name", "airflow/export"}}));
  EXPECT_EQ(event["inputs"], Json::parse(R"([{"namespace": "postgres://db:5432",
                                             "name": "public.tx"}])"));
  ASSERT_EQ(event["outputs"].size(), 1u);
  EXPECT_EQ(event["outputs"][0]["namespace"], "s3://lake");
  EXPECT_EQ(event["outputs"][0]["name"], "exports/tx");
  EXPECT_EQ(event["outputs"][0]["facets"]["version"]["datasetVersion"], "run:42");
  ExpectValid(event);
}

TEST(OpenLineageEmitTest, RecordWithoutEdgesEmitsNothing) {
  const LineageRecord record =
      MakeRecord({MakeNode(NodeKind::kSource, "a.csv", "1", kSourceSha)}, {});
  EXPECT_TRUE(RunEventsFromRecord(record, EmitOptions{}).empty());
}

// ---- Sink configuration -----------------------------------------------------------------

TEST(OpenLineageEmitSinkSpecTest, ParsesAcceptedForms) {
  auto file = ParseSinkSpec("file:/var/log/custos/events.jsonl");
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ(file->kind, SinkSpec::Kind::kFile);
  EXPECT_EQ(file->path, "/var/log/custos/events.jsonl");
  auto file_uri = ParseSinkSpec("file:///tmp/ol.jsonl");
  ASSERT_TRUE(file_uri.ok()) << file_uri.status().ToString();
  EXPECT_EQ(file_uri->path, "/tmp/ol.jsonl");

  auto http = ParseSinkSpec("http://marquez:5000");
  ASSERT_TRUE(http.ok()) << http.status().ToString();
  EXPECT_EQ(http->kind, SinkSpec::Kind::kHttp);
  EXPECT_FALSE(http->tls);
  EXPECT_EQ(http->host, "marquez");
  EXPECT_EQ(http->port, 5000);
  EXPECT_EQ(http->base_path, "");
  EXPECT_EQ(http->BaseUrl(), "http://marquez:5000");

  auto based = ParseSinkSpec("http://10.0.0.7:8080/lineage/v2/");
  ASSERT_TRUE(based.ok()) << based.status().ToString();
  EXPECT_EQ(based->host, "10.0.0.7");
  EXPECT_EQ(based->base_path, "/lineage/v2");
  EXPECT_EQ(based->BaseUrl(), "http://10.0.0.7:8080/lineage/v2");

  auto https = ParseSinkSpec("https://lineage.example.com");
  ASSERT_TRUE(https.ok()) << https.status().ToString();
  EXPECT_TRUE(https->tls);
  EXPECT_EQ(https->port, 443);
  EXPECT_EQ(https->BaseUrl(), "https://lineage.example.com");

  auto v6 = ParseSinkSpec("https://[::1]:8443/api");
  ASSERT_TRUE(v6.ok()) << v6.status().ToString();
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 8443);
  EXPECT_EQ(v6->base_path, "/api");
  EXPECT_EQ(v6->BaseUrl(), "https://[::1]:8443/api");
}

TEST(OpenLineageEmitSinkSpecTest, RefusesOtherFormsSayingWhatIsAccepted) {
  const std::string accepted =
      "; accepted: file:/path/to/events.jsonl, http://host:port[/base] or "
      "https://host[:port][/base]";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"ftp://marquez:21", "unknown kind of sink"},
      {"", "unknown kind of sink"},
      {"marquez:5000", "unknown kind of sink"},
      {"HTTP://marquez:5000", "unknown kind of sink"},
      {"file:", "the file path is empty"},
      {"file://server/share/x.jsonl", "a file URI names no host: write file:/path or file:///path"},
      {"http://", "the host is missing"},
      {"http://:5000", "the host is missing"},
      {"http://marquez:0", "the port must be a number from 1 to 65535"},
      {"http://marquez:65536", "the port must be a number from 1 to 65535"},
      {"http://marquez:", "the port must be a number from 1 to 65535"},
      {"http://marquez:50x", "the port must be a number from 1 to 65535"},
      {"https://user:secret@marquez",
       "credentials do not go in the URL; give a bearer token in the options"},
      {"http://marquez:5000/api?key=1", "the base path may not have a query, a fragment or spaces"},
      {"http://marquez:5000/a b", "the base path may not have a query, a fragment or spaces"},
      {"https://[::1:8443", "'[' without ']' in the host"},
      {"https://[::1]8443", "expected ':port' after the IPv6 address"},
      {"http://::1:5000", "an IPv6 address goes in brackets, e.g. http://[::1]:5000"},
      {"http://mar quez:5000",
       "the host 'mar quez' has characters a host name or IP address cannot have"},
      {"https://[fe80::1%eth0]:443",
       "the host 'fe80::1%eth0' has characters a host name or IP address cannot have"},
  };
  for (const auto& [text, problem] : cases) {
    auto parsed = ParseSinkSpec(text);
    ASSERT_FALSE(parsed.ok()) << text;
    EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument) << text;
    EXPECT_EQ(parsed.status().message(), "openlineage sink '" + text + "': " + problem + accepted);
  }
  auto opened = OpenEventSink("kafka://broker:9092/topic");
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().message(),
            "openlineage sink 'kafka://broker:9092/topic': unknown kind of sink" + accepted);
}

// ---- Emitter and sinks ------------------------------------------------------------------

// spdlog output kept in memory, to check what a failure logs.
struct CapturedLog {
  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> ring =
      std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(64);
  std::shared_ptr<spdlog::logger> logger = std::make_shared<spdlog::logger>("emit-test", ring);

  std::string Text() const {
    std::string out;
    for (const std::string& line : ring->last_formatted()) out += line;
    return out;
  }
};

std::vector<std::string> ReadLines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

TEST(OpenLineageEmitterTest, FileSinkAppendsOneParsableLinePerEvent) {
  custos::testing::TempDir tmp;
  const std::string path = tmp.Sub("events.jsonl");
  for (int round = 0; round < 2; ++round) {
    auto sink = OpenEventSink("file:" + path);
    ASSERT_TRUE(sink.ok()) << sink.status().ToString();
    OpenLineageEmitter emitter(std::move(*sink));
    for (int i = 0; i < 5; ++i) {
      EXPECT_EQ(emitter.Emit(IngestRecord("run-" + std::to_string(round * 5 + i))), 1u);
    }
    ASSERT_TRUE(emitter.Flush(3s));
    EXPECT_EQ(emitter.emitted(), 5u);
    EXPECT_EQ(emitter.failed(), 0u);
    EXPECT_EQ(emitter.dropped(), 0u);
  }
  const std::vector<std::string> lines = ReadLines(path);
  ASSERT_EQ(lines.size(), 10u);  // the second emitter appended
  for (size_t i = 0; i < lines.size(); ++i) {
    const Json event = Json::parse(lines[i], nullptr, false);
    ASSERT_FALSE(event.is_discarded()) << lines[i];
    EXPECT_EQ(event["run"]["facets"]["custos_run"]["runId"], "run-" + std::to_string(i));
    EXPECT_EQ(event["run"]["runId"], OpenLineageRunId("run-" + std::to_string(i)));
    ExpectValid(event);
  }
  struct stat info {};
  ASSERT_EQ(::stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
}

TEST(OpenLineageEmitterTest, FileSinkInMissingFolderIsRefused) {
  custos::testing::TempDir tmp;
  const std::string path = tmp.Sub("missing/events.jsonl");
  auto sink = OpenEventSink("file:" + path);
  ASSERT_FALSE(sink.ok());
  EXPECT_EQ(sink.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(sink.status().message(), "openlineage file sink: cannot open '" + path +
                                         "': No such file or directory; create its folder first");
}

// A sink that holds each batch until opened (or cancelled), counting what it was given.
class GateSink final : public EventSink {
 public:
  size_t Deliver(std::span<const OutgoingEvent> events) override {
    std::unique_lock lock(mutex_);
    received_ += events.size();
    changed_.notify_all();
    changed_.wait(lock, [&] { return open_ || cancelled_; });
    return cancelled_ ? 0 : events.size();
  }
  void Cancel() override {
    std::lock_guard lock(mutex_);
    cancelled_ = true;
    changed_.notify_all();
  }
  void Open() {
    std::lock_guard lock(mutex_);
    open_ = true;
    changed_.notify_all();
  }
  bool WaitReceived(size_t n) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, 3s, [&] { return received_ >= n; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  size_t received_ = 0;
  bool open_ = false;
  bool cancelled_ = false;
};

TEST(OpenLineageEmitterTest, FullQueueDropsAndCounts) {
  auto gate = std::make_unique<GateSink>();
  GateSink* sink = gate.get();
  CapturedLog log;
  OpenLineageEmitterOptions options;
  options.max_queued_events = 3;
  options.logger = log.logger;
  OpenLineageEmitter emitter(std::move(gate), options);
  EXPECT_EQ(emitter.Emit(IngestRecord("first")), 1u);
  ASSERT_TRUE(sink->WaitReceived(1));  // in flight: the queue is empty again
  for (int i = 0; i < 5; ++i) emitter.Emit(IngestRecord("r" + std::to_string(i)));
  EXPECT_EQ(emitter.queued(), 3u);
  EXPECT_EQ(emitter.dropped(), 2u);
  EXPECT_FALSE(emitter.Flush(20ms));
  EXPECT_NE(log.Text().find("openlineage: 3 events wait for the sink (max_queued_events); "
                            "dropping new events until the queue drains"),
            std::string::npos)
      << log.Text();
  sink->Open();
  ASSERT_TRUE(emitter.Flush(3s));
  EXPECT_EQ(emitter.emitted(), 4u);
  EXPECT_EQ(emitter.failed(), 0u);
  EXPECT_EQ(emitter.dropped(), 2u);
  EXPECT_EQ(emitter.queued(), 0u);
}

TEST(OpenLineageEmitterTest, ShutdownWaitsBoundedThenCancels) {
  auto gate = std::make_unique<GateSink>();
  GateSink* sink = gate.get();
  OpenLineageEmitterOptions options;
  options.shutdown_timeout = 100ms;
  options.logger = CapturedLog().logger;
  auto emitter = std::make_unique<OpenLineageEmitter>(std::move(gate), options);
  emitter->Emit(IngestRecord("a"));
  ASSERT_TRUE(sink->WaitReceived(1));
  emitter->Emit(IngestRecord("b"));
  const Clock::time_point start = Clock::now();
  emitter.reset();  // the sink never opens: the destructor cancels it
  EXPECT_LT(Clock::now() - start, 2s);
}

// ---- The HTTP sink against an in-test lineage endpoint -----------------------------------

namespace asio = boost::asio;
namespace http = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;

// A lineage endpoint on a loopback address (an ephemeral port), plain HTTP or TLS, served by
// one thread: it records every request and answers with the given statuses in turn, then 200.
// Status 0 means "never answer" (the connection stays open and silent).
class FakeLineageEndpoint {
 public:
  struct Request {
    std::string method;
    std::string target;
    std::string content_type;
    std::string authorization;
    std::string body;
  };

  explicit FakeLineageEndpoint(std::vector<int> statuses = {}, std::string answer = "{}",
                               ssl::context* tls = nullptr, const char* address = "127.0.0.1")
      : statuses_(std::move(statuses)),
        answer_(std::move(answer)),
        tls_(tls),
        acceptor_(io_, tcp::endpoint(asio::ip::make_address(address), 0)),
        port_(acceptor_.local_endpoint().port()) {
    Accept();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~FakeLineageEndpoint() {
    io_.stop();
    thread_.join();
  }

  uint16_t port() const { return port_; }
  size_t closed() const {
    std::lock_guard lock(mutex_);
    return closed_;
  }
  std::vector<Request> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }
  size_t connections() const {
    std::lock_guard lock(mutex_);
    return connections_;
  }
  // Closes each connection after its first answer, though the answer said keep-alive (as a
  // server does whose idle timeout ends a kept-alive connection).
  void CloseAfterAnswer() { close_after_answer_ = true; }
  bool WaitClosed(size_t n) const {
    for (int i = 0; i < 300 && closed() < n; ++i) std::this_thread::sleep_for(10ms);
    return closed() >= n;
  }

 private:
  template <typename Stream>
  class Session : public std::enable_shared_from_this<Session<Stream>> {
   public:
    Session(FakeLineageEndpoint& endpoint, Stream stream)
        : endpoint_(endpoint), stream_(std::move(stream)) {}

    void Start() {
      if constexpr (std::is_same_v<Stream, tcp::socket>) {
        Read();
      } else {
        stream_.async_handshake(ssl::stream_base::server, [self = this->shared_from_this()](
                                                              const boost::system::error_code& ec) {
          if (!ec) self->Read();
        });
      }
    }

   private:
    void Read() {
      request_ = {};
      http::async_read(
          stream_, buffer_, request_,
          [self = this->shared_from_this()](const boost::system::error_code& ec, size_t) {
            if (!ec) self->Answer();
          });
    }

    void Answer() {
      const int status = endpoint_.Record(request_);
      if (status == 0) {
        endpoint_.silent_.push_back(this->shared_from_this());
        return;
      }
      response_ = http::response<http::string_body>(static_cast<http::status>(status), 11);
      response_.set(http::field::content_type, "application/json");
      response_.body() = endpoint_.answer_;
      response_.keep_alive(request_.keep_alive());
      response_.prepare_payload();
      http::async_write(
          stream_, response_,
          [self = this->shared_from_this()](const boost::system::error_code& ec, size_t) {
            if (ec) return;
            if (!self->endpoint_.close_after_answer_) return self->Read();
            boost::system::error_code ignored;
            boost::beast::get_lowest_layer(self->stream_).close(ignored);
            std::lock_guard lock(self->endpoint_.mutex_);
            ++self->endpoint_.closed_;
          });
    }

    FakeLineageEndpoint& endpoint_;
    Stream stream_;
    boost::beast::flat_buffer buffer_;
    http::request<http::string_body> request_;
    http::response<http::string_body> response_;
  };

  void Accept() {
    acceptor_.async_accept([this](const boost::system::error_code& ec, tcp::socket socket) {
      if (ec) return;
      {
        std::lock_guard lock(mutex_);
        ++connections_;
      }
      if (tls_ != nullptr) {
        using TlsStream = ssl::stream<tcp::socket>;
        std::make_shared<Session<TlsStream>>(*this, TlsStream(std::move(socket), *tls_))->Start();
      } else {
        std::make_shared<Session<tcp::socket>>(*this, std::move(socket))->Start();
      }
      Accept();
    });
  }

  int Record(const http::request<http::string_body>& request) {
    auto text = [](boost::beast::string_view s) { return std::string(s.data(), s.size()); };
    std::lock_guard lock(mutex_);
    requests_.push_back({text(request.method_string()), text(request.target()),
                         text(request[http::field::content_type]),
                         text(request[http::field::authorization]), request.body()});
    return requests_.size() <= statuses_.size() ? statuses_[requests_.size() - 1] : 200;
  }

  const std::vector<int> statuses_;
  const std::string answer_;
  ssl::context* const tls_;
  asio::io_context io_;
  tcp::acceptor acceptor_;
  const uint16_t port_;
  std::vector<std::shared_ptr<void>> silent_;  // sessions that never answer (io thread only)
  std::atomic<bool> close_after_answer_{false};
  mutable std::mutex mutex_;
  std::vector<Request> requests_;
  size_t connections_ = 0;
  size_t closed_ = 0;  // connections closed by CloseAfterAnswer
  std::thread thread_;
};

// Short waits, so that failing paths end quickly.
HttpSinkOptions FastHttpOptions(const CapturedLog& log) {
  HttpSinkOptions options;
  options.connect_timeout = 1s;
  options.read_timeout = 1s;
  options.initial_backoff = 10ms;
  options.max_backoff = 40ms;
  options.logger = log.logger;
  return options;
}

std::unique_ptr<OpenLineageEmitter> HttpEmitter(const std::string& url,
                                                const HttpSinkOptions& options) {
  auto sink = OpenEventSink(url, {}, options);
  EXPECT_TRUE(sink.ok()) << sink.status().ToString();
  if (!sink.ok()) return nullptr;
  return std::make_unique<OpenLineageEmitter>(std::move(*sink));
}

// What an emitter's counters said once it delivered one event.
struct Outcome {
  uint64_t emitted = 0;
  uint64_t failed = 0;
  friend bool operator==(const Outcome&, const Outcome&) = default;
  friend std::ostream& operator<<(std::ostream& out, const Outcome& o) {
    return out << "{emitted " << o.emitted << ", failed " << o.failed << "}";
  }
};
constexpr Outcome kDelivered{1, 0};
constexpr Outcome kFailed{0, 1};

// IngestRecord(run) through a new emitter to `url`, waited for.
Outcome EmitOne(const std::string& url, const HttpSinkOptions& options,
                const std::string& run = "run-1") {
  auto emitter = HttpEmitter(url, options);
  if (emitter == nullptr) return {};
  emitter->Emit(IngestRecord(run));
  EXPECT_TRUE(emitter->Flush(3s));
  return {emitter->emitted(), emitter->failed()};
}

std::string LocalUrl(const FakeLineageEndpoint& endpoint, const std::string& base = "") {
  return "http://127.0.0.1:" + std::to_string(endpoint.port()) + base;
}

TEST(OpenLineageEmitHttpTest, PostsEachEventToTheLineageApi) {
  FakeLineageEndpoint endpoint;
  CapturedLog log;
  HttpSinkOptions options = FastHttpOptions(log);
  options.bearer_token = "s3cr3t-token";
  auto emitter = HttpEmitter(LocalUrl(endpoint, "/marquez/"), options);
  ASSERT_NE(emitter, nullptr);
  for (int i = 0; i < 3; ++i) emitter->Emit(IngestRecord("run-" + std::to_string(i)));
  ASSERT_TRUE(emitter->Flush(3s));
  EXPECT_EQ(emitter->emitted(), 3u);
  EXPECT_EQ(emitter->failed(), 0u);
  const std::vector<FakeLineageEndpoint::Request> requests = endpoint.requests();
  ASSERT_EQ(requests.size(), 3u);
  for (size_t i = 0; i < requests.size(); ++i) {
    const std::string run = "run-" + std::to_string(i);
    EXPECT_EQ(requests[i].method, "POST");
    EXPECT_EQ(requests[i].target, "/marquez/api/v1/lineage");
    EXPECT_EQ(requests[i].content_type, "application/json");
    EXPECT_EQ(requests[i].authorization, "Bearer s3cr3t-token");
    EXPECT_EQ(Json::parse(requests[i].body, nullptr, false),
              RunEventFromRecord(IngestRecord(run), EmitOptions{}, run));
  }
  EXPECT_EQ(endpoint.connections(), 1u);  // kept alive
  EXPECT_EQ(log.Text(), "");
}

TEST(OpenLineageEmitHttpTest, ReconnectsWhenTheServerClosedAnIdleConnection) {
  FakeLineageEndpoint endpoint;
  endpoint.CloseAfterAnswer();
  CapturedLog log;
  HttpSinkOptions options = FastHttpOptions(log);
  options.max_attempts = 1;  // the reconnection is not a retry
  auto emitter = HttpEmitter(LocalUrl(endpoint), options);
  ASSERT_NE(emitter, nullptr);
  emitter->Emit(IngestRecord("run-1"));
  ASSERT_TRUE(emitter->Flush(3s));
  ASSERT_TRUE(endpoint.WaitClosed(1));
  emitter->Emit(IngestRecord("run-2"));
  ASSERT_TRUE(emitter->Flush(3s));
  EXPECT_EQ(emitter->emitted(), 2u) << log.Text();
  EXPECT_EQ(endpoint.requests().size(), 2u);
  EXPECT_EQ(endpoint.connections(), 2u);
}

TEST(OpenLineageEmitHttpTest, RetriesServerErrorsAndTooManyRequests) {
  FakeLineageEndpoint endpoint({503, 429, 503});
  CapturedLog log;
  HttpSinkOptions options = FastHttpOptions(log);
  options.max_attempts = 4;
  EXPECT_EQ(EmitOne(LocalUrl(endpoint), options), kDelivered);
  const auto requests = endpoint.requests();
  ASSERT_EQ(requests.size(), 4u);
  EXPECT_EQ(requests[0].body, requests[3].body);
  EXPECT_EQ(requests[0].authorization, "");  // no token configured
}

TEST(OpenLineageEmitHttpTest, ServiceUnavailableTwiceThenOk) {
  FakeLineageEndpoint endpoint({503, 503});
  CapturedLog log;
  EXPECT_EQ(EmitOne(LocalUrl(endpoint), FastHttpOptions(log)), kDelivered);
  EXPECT_EQ(endpoint.requests().size(), 3u);
  EXPECT_EQ(log.Text(), "");
}

TEST(OpenLineageEmitHttpTest, ClientErrorFailsAtOnceAndLogsTheAnswerStart) {
  const std::string answer =
      R"({"code":400,"message":"eventTime missing",")" + std::string(200, 'x') + "\"}";
  FakeLineageEndpoint endpoint({400}, answer);
  CapturedLog log;
  HttpSinkOptions options = FastHttpOptions(log);
  options.bearer_token = "s3cr3t-token";
  EXPECT_EQ(EmitOne(LocalUrl(endpoint), options), kFailed);
  EXPECT_EQ(endpoint.requests().size(), 1u);  // not retried
  const std::string text = log.Text();
  const std::string expected = "openlineage: POST " + LocalUrl(endpoint) +
                               "/api/v1/lineage refused the event of run " + kRun1Uuid +
                               " with status 400: " + answer.substr(0, 200);
  EXPECT_NE(text.find(expected), std::string::npos) << text;
  EXPECT_EQ(text.find(answer.substr(0, 201)), std::string::npos);
  EXPECT_EQ(text.find("s3cr3t-token"), std::string::npos);
}

TEST(OpenLineageEmitHttpTest, UnreachableEndpointFailsAfterRetries) {
  uint16_t closed_port = 0;
  {
    asio::io_context io;
    tcp::acceptor probe(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    closed_port = probe.local_endpoint().port();
  }
  CapturedLog log;
  const Clock::time_point start = Clock::now();
  const std::string where = "127.0.0.1:" + std::to_string(closed_port);
  EXPECT_EQ(EmitOne("http://" + where, FastHttpOptions(log)), kFailed);
  EXPECT_LT(Clock::now() - start, 2s);
  const std::string expected =
      "after 3 attempt(s): connecting to " + where + ": Connection refused";
  EXPECT_NE(log.Text().find(expected), std::string::npos) << log.Text();
}

TEST(OpenLineageEmitHttpTest, SilentEndpointTimesOut) {
  FakeLineageEndpoint endpoint({0, 0});
  CapturedLog log;
  HttpSinkOptions options = FastHttpOptions(log);
  options.read_timeout = 150ms;
  options.max_attempts = 2;
  const Clock::time_point start = Clock::now();
  EXPECT_EQ(EmitOne(LocalUrl(endpoint), options), kFailed);
  EXPECT_LT(Clock::now() - start, 2s);
  EXPECT_EQ(endpoint.requests().size(), 2u);
  const std::string expected =
      "after 2 attempt(s): waiting for the answer of 127.0.0.1:" + std::to_string(endpoint.port()) +
      ": timed out after 150 ms";
  EXPECT_NE(log.Text().find(expected), std::string::npos) << log.Text();
}

// ---- https ------------------------------------------------------------------------------

// A CA and a server certificate for localhost, 127.0.0.1 and ::1, from custos's own CA.
struct TestPki {
  std::string ca_pem;
  std::string certificate_pem;
  std::string key_pem;
};

const TestPki& Pki() {
  static const TestPki* pki = [] {
    auto* out = new TestPki;
    custos::testing::TempDir tmp;
    audit::testing::TestDataDir data = audit::testing::CreateDataDir(tmp.Sub("d"));
    audit::LogOptions log_options;
    log_options.background_checkpoints = false;
    log_options.durability = audit::Durability::kOsBuffer;
    auto log = audit::AuditLog::Open(data.dir->kv(), data.dir->keyring(), log_options);
    auto salt = audit::AuditSalt::Create(crypto::SecretBytes::Random(32));
    // Valid from an hour ago by the real clock, which OpenSSL checks against.
    common::FakeClock clock(common::SystemClock().Now() - std::chrono::hours(1));
    if (!log.ok() || !salt.ok()) std::abort();
    auto ca = identity::CertificateAuthority::Create(data.dir->kv(), data.dir->keyring(), **log,
                                                     *salt, clock);
    if (!ca.ok()) std::abort();
    auto issued = (*ca)->IssueServerCertificate({});
    if (!issued.ok()) std::abort();
    out->ca_pem = (*ca)->certificate_pem();
    out->certificate_pem = issued->certificate_pem;
    out->key_pem = std::string(common::AsChars(issued->private_key_pem.span()));
    ca->reset();
    (*log)->Close();
    return out;
  }();
  return *pki;
}

class OpenLineageEmitHttpsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const TestPki& pki = Pki();
    const Status loaded =
        identity::UseCertificateAndKey(server_tls_.native_handle(), pki.certificate_pem,
                                       crypto::SecretBytes::CopyOf(common::AsBytes(pki.key_pem)));
    ASSERT_TRUE(loaded.ok()) << loaded.ToString();
    ca_file_ = tmp_.Sub("ca.pem");
    std::ofstream(ca_file_) << pki.ca_pem;
  }

  // One try; the CA file trusts the test CA, without it the system store is used.
  HttpSinkOptions Options(bool with_ca_file) {
    HttpSinkOptions options = FastHttpOptions(log_);
    options.max_attempts = 1;
    if (with_ca_file) options.ca_file = ca_file_;
    return options;
  }

  custos::testing::TempDir tmp_;
  ssl::context server_tls_{ssl::context::tls_server};
  std::string ca_file_;
  CapturedLog log_;
};

TEST_F(OpenLineageEmitHttpsTest, VerifiedServerGetsTheEvent) {
  FakeLineageEndpoint endpoint({}, "{}", &server_tls_);
  for (const std::string host : {"localhost", "127.0.0.1"}) {
    const std::string url = "https://" + host + ":" + std::to_string(endpoint.port());
    EXPECT_EQ(EmitOne(url, Options(true)), kDelivered) << host << ": " << log_.Text();
  }
  const auto requests = endpoint.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].target, "/api/v1/lineage");
  EXPECT_EQ(Json::parse(requests[0].body), RunEventFromRecord(IngestRecord(), {}, "run-1"));
}

TEST_F(OpenLineageEmitHttpsTest, CertificateForAnotherAddressIsRefused) {
  // Linux routes all of 127/8 to the loopback; the certificate names only 127.0.0.1.
  FakeLineageEndpoint endpoint({}, "{}", &server_tls_, "127.0.0.2");
  const std::string url = "https://127.0.0.2:" + std::to_string(endpoint.port());
  EXPECT_EQ(EmitOne(url, Options(true)), kFailed);
  EXPECT_TRUE(endpoint.requests().empty());
  EXPECT_NE(log_.Text().find("the server certificate was refused: IP address mismatch"),
            std::string::npos)
      << log_.Text();
}

TEST_F(OpenLineageEmitHttpsTest, UntrustedCaIsRefused) {
  FakeLineageEndpoint endpoint({}, "{}", &server_tls_);
  // The system's trust store does not hold the test CA.
  const std::string url = "https://localhost:" + std::to_string(endpoint.port());
  EXPECT_EQ(EmitOne(url, Options(false)), kFailed);
  EXPECT_TRUE(endpoint.requests().empty());
  EXPECT_NE(log_.Text().find(
                "the server certificate was refused: unable to get local issuer certificate"),
            std::string::npos)
      << log_.Text();
}

TEST_F(OpenLineageEmitHttpsTest, UnreadableCaFileIsRefused) {
  HttpSinkOptions options = Options(false);
  options.ca_file = tmp_.Sub("missing.pem");
  auto sink = OpenEventSink("https://localhost:8443", {}, options);
  ASSERT_FALSE(sink.ok());
  EXPECT_EQ(sink.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(sink.status().message().starts_with("https sink: cannot load the CA file '" +
                                                  options.ca_file + "' ("))
      << sink.status().message();
}

}  // namespace
}  // namespace custos::lineage
