// OpenLineage out: custos's own lineage records as OpenLineage RunEvents, delivered in the
// background to a JSON Lines file or to an endpoint that speaks Marquez's POST /api/v1/lineage.
//
// Mapping (names per openlineage_names.h, so that custos -> Marquez -> custos keeps ids):
// - one COMPLETE RunEvent per distinct run among a record's edges (edges without a run form
//   one run of their own, whose UUID derives from the record's digest); a record without
//   edges emits nothing;
// - the job is the run's transformation node: edges into it give the inputs, edges out of it
//   the outputs (a run has one; with several, the first an edge names is the job and edges
//   that do not touch it are left out). A run without a transformation is the job
//   {"custos", record.origin} with the edges' sources as inputs and their targets as outputs;
// - run.runId is the custos run id when that is a UUID; otherwise a UUID derived from it
//   (SHA-256, RFC 9562 version 8), with the custos run id in the custom run facet
//   "custos_run" {"runId": ...};
// - a dataset carries its node version in the standard `version` facet (datasetVersion) and
//   its content SHA-256 in the custom facet "custos_content" {"sha256": ...}; a job carries
//   its transformation's version and SHA-256 in a "custos_content" job facet.
// Thread-safety: the free functions are safe from any thread; each class says its own.
#pragma once

#include <spdlog/fwd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/status.h"
#include "lineage/graph.h"

namespace custos::lineage {

inline constexpr std::string_view kDefaultOpenLineageProducer =
    "https://github.com/custos-project/custos/tree/main/src/lineage";
inline constexpr std::string_view kRunEventSchemaUrl =
    "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent";
// Where the custom facets this file writes are described.
inline constexpr std::string_view kCustosRunFacetSchemaUrl =
    "https://custos.dev/spec/openlineage/facets/1-0-0/CustosRunFacet.json#/$defs/CustosRunFacet";
inline constexpr std::string_view kCustosContentFacetSchemaUrl =
    "https://custos.dev/spec/openlineage/facets/1-0-0/CustosContentFacet.json"
    "#/$defs/CustosContentFacet";

struct EmitOptions {
  // A URI naming what produced the events: the events' `producer` and every facet's
  // `_producer`. Default kDefaultOpenLineageProducer.
  std::string producer = std::string(kDefaultOpenLineageProducer);
};

// The OpenLineage runId for a custos run id: `run_id` itself when it has the UUID form
// (8-4-4-4-12 hex digits), else a UUID (version 8, RFC 4122 variant) from the SHA-256 of
// `run_id`; the same run id always gives the same UUID.
std::string OpenLineageRunId(std::string_view run_id);

// The RunEvent for the edges of `record` whose run is `run_id` (see the mapping above). The
// event time is the latest of those edges' times (the record's time when they have none), as
// RFC 3339 UTC with microseconds.
nlohmann::json RunEventFromRecord(const LineageRecord& record, const EmitOptions& options,
                                  std::string_view run_id);

// One RunEvent per distinct run among the record's edges, in the order runs first appear.
std::vector<nlohmann::json> RunEventsFromRecord(const LineageRecord& record,
                                                const EmitOptions& options);

// One event ready for a sink.
struct OutgoingEvent {
  std::string run_id;  // the event's run.runId, for messages
  std::string json;    // the event as one line of JSON (no newline)
};

// Where an emitter delivers events.
// Thread-safety: Deliver is called by one thread at a time (the emitter's); Cancel may be
// called from any thread.
class EventSink {
 public:
  virtual ~EventSink() = default;
  // Delivers `events` in order and returns how many were delivered; the sink logs why the
  // others were not.
  virtual size_t Deliver(std::span<const OutgoingEvent> events) = 0;
  // Makes a Deliver in progress, and every later one, give up soon (waits end, nothing more
  // is attempted). For shutdown.
  virtual void Cancel() {}
};

struct FileSinkOptions {
  // fsync after each batch, so that delivered events survive a power loss. Default false
  // (the batch is written with one write(2) and so survives a crash of custos).
  bool fsync = false;
  // Where failed writes are logged. Default null: spdlog's default logger.
  std::shared_ptr<spdlog::logger> logger;
};

struct HttpSinkOptions {
  // PEM file with the CAs that may sign an https endpoint's certificate. Default empty: the
  // system's trust store.
  std::string ca_file;
  // Sent as "Authorization: Bearer <token>" when not empty; never logged. Default empty.
  std::string bearer_token;
  // Resolving the host, connecting and the TLS handshake, together. Default 5 s.
  std::chrono::milliseconds connect_timeout{5000};
  // Sending one event and reading the answer. Default 5 s.
  std::chrono::milliseconds read_timeout{5000};
  // Tries per event on connection errors, timeouts, 5xx and 429. Default 3.
  int max_attempts = 3;
  // Wait before the second try, doubled before each further one up to max_backoff.
  // Defaults 200 ms and 5 s.
  std::chrono::milliseconds initial_backoff{200};
  std::chrono::milliseconds max_backoff{5000};
  // Where failed deliveries are logged. Default null: spdlog's default logger.
  std::shared_ptr<spdlog::logger> logger;
};

// A sink as configured by a string.
struct SinkSpec {
  enum class Kind : uint8_t { kFile, kHttp };
  Kind kind = Kind::kFile;
  std::string path;       // kFile: the file events are appended to
  bool tls = false;       // kHttp: https
  std::string host;       // kHttp: a name or an IP address (IPv6 without brackets)
  uint16_t port = 0;      // kHttp: 80 / 443 unless given
  std::string base_path;  // kHttp: "" or "/base", without a trailing '/'

  // "http://host:port/base" (the form it was parsed from, normalized).
  std::string BaseUrl() const;
};

// Accepts "file:/path/to/events.jsonl", "http://host:port[/base]" and
// "https://host[:port][/base]"; InvalidArgument otherwise, saying what is accepted.
// Credentials do not go in the URL (see HttpSinkOptions::bearer_token).
Result<SinkSpec> ParseSinkSpec(std::string_view text);

// Appends each event as one line to `path`, created with mode 0600 when missing; each batch
// is written at once and flushed (fsync as options say).
Result<std::unique_ptr<EventSink>> OpenFileSink(const std::string& path,
                                                const FileSinkOptions& options = {});

// POSTs each event as application/json to `<base url>/api/v1/lineage`, as Marquez's API
// takes it, over one keep-alive connection. https verifies the server's certificate (CA
// file or system store) and its host name, with SNI. Connection errors, timeouts, 5xx and
// 429 are retried with exponential backoff; any other non-2xx answer fails that event at
// once. A failure is logged with the status and the answer's first 200 bytes.
// InvalidArgument when `spec` is not kHttp or the CA file cannot be loaded.
Result<std::unique_ptr<EventSink>> OpenHttpSink(const SinkSpec& spec,
                                                const HttpSinkOptions& options = {});

// The sink a configuration string names (ParseSinkSpec), with the options of its kind.
Result<std::unique_ptr<EventSink>> OpenEventSink(std::string_view spec,
                                                 const FileSinkOptions& file_options = {},
                                                 const HttpSinkOptions& http_options = {});

struct OpenLineageEmitterOptions {
  EmitOptions event;
  // Events waiting for the sink; events beyond are dropped and counted. Default 10,000.
  size_t max_queued_events = 10000;
  // Most events handed to the sink at once. Default 500.
  size_t max_batch_events = 500;
  // How long the destructor waits for the queue to drain before it drops what is left
  // and cancels the delivery in progress. Default 5 s.
  std::chrono::milliseconds shutdown_timeout{5000};
  // Where a full queue is logged (once until it drains). Default null: spdlog's default
  // logger.
  std::shared_ptr<spdlog::logger> logger;
};

// Converts lineage records to RunEvents and delivers them through a sink from a background
// thread, so that Emit never waits on I/O. Delivery is at most once: an event the sink fails
// (after its retries) or that finds the queue full is counted and dropped.
// Thread-safety: safe for concurrent use.
class OpenLineageEmitter {
 public:
  explicit OpenLineageEmitter(std::unique_ptr<EventSink> sink,
                              OpenLineageEmitterOptions options = {});
  ~OpenLineageEmitter();  // drains for at most shutdown_timeout, then stops
  OpenLineageEmitter(const OpenLineageEmitter&) = delete;
  OpenLineageEmitter& operator=(const OpenLineageEmitter&) = delete;

  // Converts `record` (RunEventsFromRecord) and queues its events; returns how many were
  // queued (the rest found the queue full and were dropped).
  size_t Emit(const LineageRecord& record);

  // Waits until every queued event has been handed to the sink and answered, for at most
  // `timeout`; false if events were still waiting then.
  [[nodiscard]] bool Flush(std::chrono::milliseconds timeout);

  // Counters for metrics.
  uint64_t emitted() const { return emitted_.load(); }  // delivered by the sink
  uint64_t failed() const { return failed_.load(); }    // refused or undeliverable
  uint64_t dropped() const { return dropped_.load(); }  // queue full, or left at shutdown
  size_t queued() const;

 private:
  void DeliverLoop();

  const std::unique_ptr<EventSink> sink_;
  const OpenLineageEmitterOptions options_;

  std::atomic<uint64_t> emitted_{0};
  std::atomic<uint64_t> failed_{0};
  std::atomic<uint64_t> dropped_{0};

  mutable std::mutex mutex_;
  std::condition_variable wake_;     // events queued, or stopping
  std::condition_variable drained_;  // a batch answered
  std::deque<OutgoingEvent> queue_;
  size_t in_flight_ = 0;      // events handed to the sink and not yet answered
  bool overflowing_ = false;  // a drop was logged and the queue has not drained since
  bool stopping_ = false;
  std::thread deliverer_;
};

}  // namespace custos::lineage
