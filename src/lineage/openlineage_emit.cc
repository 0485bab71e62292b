// LineageRecord -> OpenLineage RunEvents, the sink configuration parser, the file and HTTP
// sinks, and the emitter's queue and delivery thread (see openlineage_emit.h).
#include "lineage/openlineage_emit.h"

#include <fcntl.h>
#include <spdlog/logger.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <iterator>
#include <optional>
#include <set>
#include <unordered_map>
#include <utility>

#include "common/bytes.h"
#include "common/clock.h"
#include "common/thread_name.h"
#include "crypto/hash.h"
#include "lineage/detail/http_client.h"
#include "lineage/detail/schema_formats.h"
#include "lineage/openlineage_names.h"

namespace custos::lineage {
namespace {

using Json = nlohmann::json;

constexpr std::string_view kDatasetVersionFacetSchemaUrl =
    "https://openlineage.io/spec/facets/1-0-1/DatasetVersionDatasetFacet.json"
    "#/$defs/DatasetVersionDatasetFacet";
constexpr std::string_view kLineagePath = "/api/v1/lineage";
constexpr std::string_view kAcceptedSinks =
    "file:/path/to/events.jsonl, http://host:port[/base] or https://host[:port][/base]";
// How much of a refusing answer goes into the log.
constexpr size_t kLoggedAnswerBytes = 200;

spdlog::logger& LoggerOr(const std::shared_ptr<spdlog::logger>& logger) {
  return logger ? *logger : *spdlog::default_logger_raw();
}

// ---- Conversion -------------------------------------------------------------------------

// A UUID from the SHA-256 of `text`: its first 16 bytes with the version (8, "custom", which
// RFC 9562 suggests for SHA-256 name-based UUIDs) and the RFC 4122 variant set.
std::string DerivedUuid(std::string_view text) {
  crypto::Digest digest = crypto::Sha256Of(common::AsBytes(text));
  digest[6] = static_cast<uint8_t>((digest[6] & 0x0f) | 0x80);
  digest[8] = static_cast<uint8_t>((digest[8] & 0x3f) | 0x80);
  const std::string hex = common::HexEncode(common::ByteView(digest.data(), 16));
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20, 12);
}

// RFC 3339 in UTC, always with six fraction digits.
std::string EventTime(common::TimePoint time) {
  std::string text = common::FormatRfc3339(time);
  if (text.find('.') == std::string::npos) text.insert(text.size() - 1, ".000000");
  return text;
}

Json BaseFacet(const EmitOptions& options, std::string_view schema_url) {
  return Json{{"_producer", options.producer}, {"_schemaURL", schema_url}};
}

// A node an edge names: the record's node when the record carries it, else what its id
// ("<kind>:<name>@<version>") says.
struct NodeView {
  NodeKind kind = NodeKind::kDataset;
  std::string name;
  std::string version;
  const Node* node = nullptr;
};

class NodeViews {
 public:
  explicit NodeViews(const LineageRecord& record) {
    for (const Node& node : record.nodes) nodes_.emplace(node.Id(), &node);
  }

  NodeView Of(const std::string& id) const {
    if (auto it = nodes_.find(id); it != nodes_.end()) {
      const Node& node = *it->second;
      return {node.kind, node.name, node.version, &node};
    }
    NodeView view;
    const size_t colon = id.find(':');
    const size_t at = id.rfind('@');
    if (colon != std::string::npos && at != std::string::npos && at > colon) {
      Result<NodeKind> kind = ParseNodeKind(std::string_view(id).substr(0, colon));
      if (kind.ok()) {
        view.kind = *kind;
        view.name = id.substr(colon + 1, at - colon - 1);
        view.version = id.substr(at + 1);
        return view;
      }
    }
    view.name = id;  // not an id custos makes: an outside dataset named by it
    return view;
  }

 private:
  std::unordered_map<std::string, const Node*> nodes_;
};

Json DatasetOf(const NodeView& view, const EmitOptions& options) {
  OpenLineageName name = OpenLineageNameOf(view.kind, view.name);
  if (view.node != nullptr && view.kind == NodeKind::kDataset) {
    const auto& attributes = view.node->attributes;
    const auto name_space = attributes.find("ol_namespace");
    const auto ol_name = attributes.find("ol_name");
    if (name_space != attributes.end() && ol_name != attributes.end()) {
      name = {name_space->second, ol_name->second};
    }
  }
  Json dataset{{"namespace", name.name_space}, {"name", name.name}};
  Json facets = Json::object();
  if (!view.version.empty()) {
    Json version = BaseFacet(options, kDatasetVersionFacetSchemaUrl);
    version["datasetVersion"] = view.version;
    facets["version"] = std::move(version);
  }
  if (view.node != nullptr && !view.node->content_sha256.empty()) {
    Json content = BaseFacet(options, kCustosContentFacetSchemaUrl);
    content["sha256"] = view.node->content_sha256;
    facets["custos_content"] = std::move(content);
  }
  if (!facets.empty()) dataset["facets"] = std::move(facets);
  return dataset;
}

Json JobOf(const NodeView& transformation, const EmitOptions& options) {
  const OpenLineageName name = OpenLineageNameOf(NodeKind::kTransformation, transformation.name);
  Json job{{"namespace", name.name_space}, {"name", name.name}};
  Json content = BaseFacet(options, kCustosContentFacetSchemaUrl);
  if (!transformation.version.empty()) content["version"] = transformation.version;
  if (transformation.node != nullptr && !transformation.node->content_sha256.empty()) {
    content["sha256"] = transformation.node->content_sha256;
  }
  if (content.size() > 2) job["facets"] = Json{{"custos_content", std::move(content)}};
  return job;
}

// Datasets in first-seen order, each once.
class DatasetList {
 public:
  void Add(const std::string& id, const NodeViews& views, const EmitOptions& options) {
    const NodeView view = views.Of(id);
    if (view.kind == NodeKind::kTransformation || !seen_.insert(id).second) return;
    list_.push_back(DatasetOf(view, options));
  }
  Json Take() { return std::move(list_); }

 private:
  std::set<std::string> seen_;
  Json list_ = Json::array();
};

// ---- Sink configuration -----------------------------------------------------------------

Status SinkSpecError(std::string_view text, std::string_view problem) {
  return InvalidArgumentError("openlineage sink '" + std::string(text) + "': " +
                              std::string(problem) + "; accepted: " + std::string(kAcceptedSinks));
}

bool HasSpaceOrControl(std::string_view text) {
  return std::any_of(text.begin(), text.end(),
                     [](char c) { return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f; });
}

bool IsHostCharacter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_';
}

// "host", "host:port", "[v6]" or "[v6]:port" into `spec`.
Status ParseAuthority(std::string_view text, std::string_view authority, SinkSpec& spec) {
  std::string_view host = authority;
  std::optional<std::string_view> port;
  bool bracketed = false;
  if (authority.starts_with('[')) {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return SinkSpecError(text, "'[' without ']' in the host");
    host = authority.substr(1, close - 1);
    bracketed = true;
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty() && after[0] != ':') {
      return SinkSpecError(text, "expected ':port' after the IPv6 address");
    }
    if (!after.empty()) port = after.substr(1);
  } else if (const size_t colon = authority.find(':'); colon != std::string_view::npos) {
    if (authority.find(':', colon + 1) != std::string_view::npos) {
      return SinkSpecError(text, "an IPv6 address goes in brackets, e.g. http://[::1]:5000");
    }
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (host.empty()) return SinkSpecError(text, "the host is missing");
  const bool host_ok = std::all_of(host.begin(), host.end(), [&](char c) {
    return IsHostCharacter(c) || (bracketed && c == ':');
  });
  if (!host_ok) {
    return SinkSpecError(text, "the host '" + std::string(host) +
                                   "' has characters a host name or IP address cannot have");
  }
  spec.host = std::string(host);
  spec.port = spec.tls ? 443 : 80;
  if (port) {
    unsigned value = 0;
    const auto [end, error] = std::from_chars(port->data(), port->data() + port->size(), value);
    if (port->empty() || error != std::errc() || end != port->data() + port->size() || value == 0 ||
        value > 65535) {
      return SinkSpecError(text, "the port must be a number from 1 to 65535");
    }
    spec.port = static_cast<uint16_t>(value);
  }
  return Status::Ok();
}

// ---- Sinks ------------------------------------------------------------------------------

class FileSink final : public EventSink {
 public:
  FileSink(std::string path, int fd, FileSinkOptions options)
      : path_(std::move(path)), fd_(fd), options_(std::move(options)) {}
  ~FileSink() override { ::close(fd_); }
  FileSink(const FileSink&) = delete;
  FileSink& operator=(const FileSink&) = delete;

  size_t Deliver(std::span<const OutgoingEvent> events) override {
    std::string lines;
    for (const OutgoingEvent& event : events) {
      lines += event.json;
      lines += '\n';
    }
    size_t written = 0;
    while (written < lines.size()) {
      const ssize_t n = ::write(fd_, lines.data() + written, lines.size() - written);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        LoggerOr(options_.logger)
            .error("openlineage: writing events to {} failed: {}", path_, std::strerror(errno));
        break;
      }
      written += static_cast<size_t>(n);
    }
    if (written == lines.size() && options_.fsync && ::fdatasync(fd_) != 0) {
      LoggerOr(options_.logger)
          .error("openlineage: fsync of {} failed: {}", path_, std::strerror(errno));
      return 0;
    }
    // A short write leaves whole lines before it delivered.
    size_t delivered = 0;
    size_t end = 0;
    for (const OutgoingEvent& event : events) {
      end += event.json.size() + 1;
      if (end > written) break;
      ++delivered;
    }
    return delivered;
  }

 private:
  const std::string path_;
  const int fd_;
  const FileSinkOptions options_;
};

class HttpSink final : public EventSink {
 public:
  HttpSink(const SinkSpec& spec, HttpSinkOptions options,
           std::unique_ptr<detail::HttpClient> client)
      : url_(spec.BaseUrl() + std::string(kLineagePath)),
        target_(spec.base_path + std::string(kLineagePath)),
        options_(std::move(options)),
        client_(std::move(client)) {
    if (!options_.bearer_token.empty()) {
      headers_.emplace_back("Authorization", "Bearer " + options_.bearer_token);
    }
  }

  size_t Deliver(std::span<const OutgoingEvent> events) override {
    size_t delivered = 0;
    for (size_t i = 0; i < events.size(); ++i) {
      if (IsCancelled()) {
        LoggerOr(options_.logger)
            .warn("openlineage: shutting down; {} event(s) for {} not sent", events.size() - i,
                  url_);
        break;
      }
      if (Send(events[i])) ++delivered;
    }
    return delivered;
  }

  void Cancel() override {
    {
      std::lock_guard lock(mutex_);
      cancelled_ = true;
    }
    wake_.notify_all();
    client_->Cancel();
  }

 private:
  // The start of an answer, with control characters blanked, for the log.
  static std::string Excerpt(std::string_view body) {
    std::string out(body.substr(0, kLoggedAnswerBytes));
    for (char& c : out) {
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
    }
    return out;
  }

  bool IsCancelled() {
    std::lock_guard lock(mutex_);
    return cancelled_;
  }

  // Waits `delay`; false when cancelled meanwhile.
  bool Sleep(std::chrono::milliseconds delay) {
    std::unique_lock lock(mutex_);
    return !wake_.wait_for(lock, delay, [&] { return cancelled_; });
  }

  bool Send(const OutgoingEvent& event) {
    spdlog::logger& log = LoggerOr(options_.logger);
    const int attempts = std::max(1, options_.max_attempts);
    std::chrono::milliseconds backoff = options_.initial_backoff;
    std::string problem;
    int attempt = 0;
    while (attempt < attempts) {
      if (attempt > 0) {
        if (!Sleep(backoff)) break;
        backoff = std::min(backoff * 2, options_.max_backoff);
      }
      ++attempt;
      Result<detail::HttpAnswer> answer =
          client_->Post(target_, "application/json", event.json, headers_);
      if (!answer.ok()) {
        problem = answer.status().message();
        continue;
      }
      if (answer->status >= 200 && answer->status < 300) return true;
      if (answer->status != 429 && answer->status < 500) {
        log.warn("openlineage: POST {} refused the event of run {} with status {}: {}", url_,
                 event.run_id, answer->status, Excerpt(answer->body));
        return false;
      }
      problem = "status " + std::to_string(answer->status) + ": " + Excerpt(answer->body);
    }
    log.warn("openlineage: POST {} failed for the event of run {} after {} attempt(s): {}", url_,
             event.run_id, attempt, problem.empty() ? "cancelled" : problem);
    return false;
  }

  const std::string url_;     // for messages
  const std::string target_;  // "<base>/api/v1/lineage"
  const HttpSinkOptions options_;
  std::vector<std::pair<std::string, std::string>> headers_;
  const std::unique_ptr<detail::HttpClient> client_;

  std::mutex mutex_;
  std::condition_variable wake_;
  bool cancelled_ = false;
};

}  // namespace

// ---- Conversion -------------------------------------------------------------------------

std::string OpenLineageRunId(std::string_view run_id) {
  if (detail::UuidProblem(run_id).empty()) return std::string(run_id);
  return DerivedUuid("custos-run:" + std::string(run_id));
}

nlohmann::json RunEventFromRecord(const LineageRecord& record, const EmitOptions& options,
                                  std::string_view run_id) {
  const NodeViews views(record);
  std::vector<const Edge*> edges;
  for (const Edge& edge : record.edges) {
    if (edge.run_id == run_id) edges.push_back(&edge);
  }

  // The job: the first transformation an edge of the run touches.
  std::optional<std::string> job_id;
  common::TimePoint time{};
  for (const Edge* edge : edges) {
    for (const std::string* id : {&edge->from, &edge->to}) {
      if (!job_id && views.Of(*id).kind == NodeKind::kTransformation) job_id = *id;
    }
    time = std::max(time, edge->time);
  }
  if (time == common::TimePoint{}) time = record.time;

  DatasetList inputs;
  DatasetList outputs;
  for (const Edge* edge : edges) {
    if (!job_id) {
      inputs.Add(edge->from, views, options);
      outputs.Add(edge->to, views, options);
    } else if (edge->to == *job_id) {
      inputs.Add(edge->from, views, options);
    } else if (edge->from == *job_id) {
      outputs.Add(edge->to, views, options);
    }
  }

  // A run-less derivation gets a run of its own, named after the record.
  const std::string ol_run_id = run_id.empty()
                                    ? DerivedUuid("custos-record:" + RecordDigest(record))
                                    : OpenLineageRunId(run_id);
  Json run{{"runId", ol_run_id}};
  if (ol_run_id != run_id) {
    Json custos_run = BaseFacet(options, kCustosRunFacetSchemaUrl);
    custos_run["runId"] = run_id;
    run["facets"] = Json{{"custos_run", std::move(custos_run)}};
  }
  Json job = job_id ? JobOf(views.Of(*job_id), options)
                    : Json{{"namespace", kOpenLineageNamespace}, {"name", record.origin}};
  return Json{{"eventType", "COMPLETE"},      {"eventTime", EventTime(time)},
              {"producer", options.producer}, {"schemaURL", kRunEventSchemaUrl},
              {"run", std::move(run)},        {"job", std::move(job)},
              {"inputs", inputs.Take()},      {"outputs", outputs.Take()}};
}

std::vector<nlohmann::json> RunEventsFromRecord(const LineageRecord& record,
                                                const EmitOptions& options) {
  std::vector<std::string_view> runs;
  std::set<std::string_view> seen;
  for (const Edge& edge : record.edges) {
    if (seen.insert(edge.run_id).second) runs.push_back(edge.run_id);
  }
  std::vector<nlohmann::json> events;
  events.reserve(runs.size());
  for (std::string_view run : runs) events.push_back(RunEventFromRecord(record, options, run));
  return events;
}

// ---- Sink configuration -----------------------------------------------------------------

std::string SinkSpec::BaseUrl() const {
  if (kind == Kind::kFile) return "file:" + path;
  const bool v6 = host.find(':') != std::string::npos;
  std::string url = tls ? "https://" : "http://";
  url += v6 ? "[" + host + "]" : host;
  if (port != (tls ? 443 : 80)) url += ":" + std::to_string(port);
  return url + base_path;
}

Result<SinkSpec> ParseSinkSpec(std::string_view text) {
  SinkSpec spec;
  if (text.starts_with("file:")) {
    std::string_view path = text.substr(5);
    if (path.starts_with("//")) {  // file:///path, a file URI with an empty host
      path.remove_prefix(2);
      if (!path.starts_with('/')) {
        return SinkSpecError(text, "a file URI names no host: write file:/path or file:///path");
      }
    }
    if (path.empty()) return SinkSpecError(text, "the file path is empty");
    if (std::any_of(path.begin(), path.end(), [](char c) { return c == '\0' || c == '\n'; })) {
      return SinkSpecError(text, "the file path has a NUL or newline character");
    }
    spec.kind = SinkSpec::Kind::kFile;
    spec.path = std::string(path);
    return spec;
  }
  std::string_view rest;
  if (text.starts_with("http://")) {
    rest = text.substr(7);
  } else if (text.starts_with("https://")) {
    spec.tls = true;
    rest = text.substr(8);
  } else {
    return SinkSpecError(text, "unknown kind of sink");
  }
  spec.kind = SinkSpec::Kind::kHttp;
  const size_t slash = rest.find('/');
  const std::string_view authority = rest.substr(0, slash);
  std::string_view base = slash == std::string_view::npos ? "" : rest.substr(slash);
  if (authority.find('@') != std::string_view::npos) {
    return SinkSpecError(text,
                         "credentials do not go in the URL; give a bearer token in the options");
  }
  if (base.find_first_of("?#") != std::string_view::npos || HasSpaceOrControl(base)) {
    return SinkSpecError(text, "the base path may not have a query, a fragment or spaces");
  }
  CUSTOS_RETURN_IF_ERROR(ParseAuthority(text, authority, spec));
  while (base.ends_with('/')) base.remove_suffix(1);
  spec.base_path = std::string(base);
  return spec;
}

// ---- Sinks ------------------------------------------------------------------------------

Result<std::unique_ptr<EventSink>> OpenFileSink(const std::string& path,
                                                const FileSinkOptions& options) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) {
    const int error = errno;
    const std::string message =
        "openlineage file sink: cannot open '" + path + "': " + std::strerror(error);
    if (error == ENOENT) return NotFoundError(message + "; create its folder first");
    if (error == EACCES || error == EPERM) return PermissionDeniedError(message);
    return UnavailableError(message);
  }
  return std::unique_ptr<EventSink>(new FileSink(path, fd, options));
}

Result<std::unique_ptr<EventSink>> OpenHttpSink(const SinkSpec& spec,
                                                const HttpSinkOptions& options) {
  if (spec.kind != SinkSpec::Kind::kHttp) {
    return InvalidArgumentError("OpenHttpSink needs an http:// or https:// sink, not " +
                                spec.BaseUrl());
  }
  CUSTOS_ASSIGN_OR_RETURN(std::unique_ptr<detail::HttpClient> http,
                          detail::HttpClient::Create({.host = spec.host,
                                                      .port = spec.port,
                                                      .tls = spec.tls,
                                                      .ca_file = options.ca_file,
                                                      .connect_timeout = options.connect_timeout,
                                                      .read_timeout = options.read_timeout}));
  return std::unique_ptr<EventSink>(new HttpSink(spec, options, std::move(http)));
}

Result<std::unique_ptr<EventSink>> OpenEventSink(std::string_view spec,
                                                 const FileSinkOptions& file_options,
                                                 const HttpSinkOptions& http_options) {
  CUSTOS_ASSIGN_OR_RETURN(SinkSpec parsed, ParseSinkSpec(spec));
  if (parsed.kind == SinkSpec::Kind::kFile) return OpenFileSink(parsed.path, file_options);
  return OpenHttpSink(parsed, http_options);
}

// ---- Emitter ----------------------------------------------------------------------------

OpenLineageEmitter::OpenLineageEmitter(std::unique_ptr<EventSink> sink,
                                       OpenLineageEmitterOptions options)
    : sink_(std::move(sink)), options_(std::move(options)) {
  deliverer_ = std::thread([this] { DeliverLoop(); });
}

OpenLineageEmitter::~OpenLineageEmitter() {
  const bool drained = Flush(options_.shutdown_timeout);
  size_t left = 0;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    left = queue_.size();
    queue_.clear();
  }
  dropped_ += left;
  if (!drained) sink_->Cancel();
  wake_.notify_all();
  deliverer_.join();
  if (left > 0) {
    LoggerOr(options_.logger)
        .warn("openlineage: stopped with {} event(s) undelivered after waiting {} ms", left,
              options_.shutdown_timeout.count());
  }
}

size_t OpenLineageEmitter::Emit(const LineageRecord& record) {
  std::vector<OutgoingEvent> events;
  for (const nlohmann::json& event : RunEventsFromRecord(record, options_.event)) {
    events.push_back({event["run"]["runId"].get<std::string>(),
                      event.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)});
  }
  if (events.empty()) return 0;
  size_t queued = 0;
  bool first_overflow = false;
  {
    std::lock_guard lock(mutex_);
    for (OutgoingEvent& event : events) {
      if (stopping_ || queue_.size() >= options_.max_queued_events) break;
      queue_.push_back(std::move(event));
      ++queued;
    }
    if (queued < events.size() && !overflowing_) {
      overflowing_ = true;
      first_overflow = true;
    }
  }
  dropped_ += events.size() - queued;
  if (queued > 0) wake_.notify_one();
  if (first_overflow) {
    LoggerOr(options_.logger)
        .warn(
            "openlineage: {} events wait for the sink (max_queued_events); dropping new events "
            "until the queue drains",
            options_.max_queued_events);
  }
  return queued;
}

bool OpenLineageEmitter::Flush(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return drained_.wait_for(lock, timeout, [&] { return queue_.empty() && in_flight_ == 0; });
}

size_t OpenLineageEmitter::queued() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

void OpenLineageEmitter::DeliverLoop() {
  common::SetCurrentThreadName("custos-ol-emit");
  const size_t max_batch = std::max<size_t>(1, options_.max_batch_events);
  std::vector<OutgoingEvent> batch;
  std::unique_lock lock(mutex_);
  while (true) {
    wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) break;  // stopping, and the destructor dropped what was left
    const auto end =
        queue_.begin() + static_cast<std::ptrdiff_t>(std::min(max_batch, queue_.size()));
    batch.assign(std::make_move_iterator(queue_.begin()), std::make_move_iterator(end));
    queue_.erase(queue_.begin(), end);
    in_flight_ = batch.size();
    lock.unlock();
    const size_t delivered = std::min(sink_->Deliver(batch), batch.size());
    // Counted before in_flight_ clears, so that a Flush that returns sees them.
    emitted_ += delivered;
    failed_ += batch.size() - delivered;
    batch.clear();
    lock.lock();
    in_flight_ = 0;
    if (queue_.empty()) {
      overflowing_ = false;
      drained_.notify_all();
    }
  }
}

}  // namespace custos::lineage
