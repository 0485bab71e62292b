// RunEvent -> LineageRecord mapping and the ingest entry points (see openlineage_ingest.h).
#include "lineage/openlineage_ingest.h"

#include <future>
#include <unordered_map>
#include <utility>

#include "common/bytes.h"
#include "common/clock.h"
#include "crypto/hash.h"
#include "lineage/openlineage_names.h"

namespace custos::lineage {
namespace {

using nlohmann::json;

const json* Member(const json& object, std::string_view key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

std::string StringMember(const json& object, std::string_view key) {
  const json* value = Member(object, key);
  return value != nullptr && value->is_string() ? value->get<std::string>() : std::string();
}

const json& Facet(const json& holder, std::string_view facet) {
  static const json kNull;
  const json* facets = Member(holder, "facets");
  if (facets == nullptr) return kNull;
  const json* value = Member(*facets, facet);
  return value != nullptr ? *value : kNull;
}

std::string Sha256Hex(std::string_view text) {
  return common::HexEncode(crypto::Sha256Of(common::AsBytes(text)));
}

// A version usable in a node id as it is, or a digest of it when it has characters node
// versions do not allow (or is too long).
std::string VersionToken(std::string_view text) {
  bool plain = !text.empty() && text.size() <= kMaxVersionBytes;
  for (char c : text) {
    plain = plain && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '.' || c == '_' || c == '-' || c == ':' || c == '+');
  }
  return plain ? std::string(text) : "sha256:" + Sha256Hex(text);
}

std::string VersionOfId(std::string_view id) {
  const size_t at = id.rfind('@');
  return at == std::string_view::npos ? std::string() : std::string(id.substr(at + 1));
}

Node JobNode(const json& job) {
  Node node;
  node.kind = NodeKind::kTransformation;
  const std::string name_space = StringMember(job, "namespace");
  const std::string name = StringMember(job, "name");
  node.name = TransformationNameOfJob(name_space, name);
  const json& location = Facet(job, "sourceCodeLocation");
  const json& code = Facet(job, "sourceCode");
  const std::string code_version = StringMember(location, "version");
  const std::string code_text = StringMember(code, "sourceCode");
  if (!code_text.empty()) node.content_sha256 = Sha256Hex(code_text);
  if (!code_version.empty()) {
    node.version = VersionToken(code_version);
  } else if (!code_text.empty()) {
    node.version = "sha256:" + node.content_sha256;
  }
  // An unversioned job keeps no attributes: they could change from run to run while
  // its id stays the same, and a node id names immutable content.
  if (!node.version.empty()) {
    const std::string url = StringMember(location, "url");
    const std::string path = StringMember(location, "path");
    if (!url.empty()) node.attributes["code_ref"] = url + (path.empty() ? "" : "#" + path);
    const std::string language = StringMember(code, "language");
    if (!language.empty()) node.attributes["language"] = language;
  }
  return node;
}

struct DatasetNode {
  Node node;
  bool known = false;  // the version is already recorded (reference it, do not add it)
};

// The node an OpenLineage dataset names (version not yet set), and its version facet.
DatasetNode DatasetNodeOf(const json& dataset, std::string* version_facet) {
  const std::string name_space = StringMember(dataset, "namespace");
  const std::string name = StringMember(dataset, "name");
  const NodeName node_name = NodeNameOfDataset(name_space, name);
  DatasetNode out;
  out.node.kind = node_name.kind;
  out.node.name = node_name.name;
  if (node_name.kind == NodeKind::kDataset) {
    out.node.attributes = {{"ol_namespace", name_space}, {"ol_name", name}};
  }
  *version_facet = StringMember(Facet(dataset, "version"), "datasetVersion");
  return out;
}

Result<DatasetNode> InputNode(const json& dataset, size_t index,
                              const LatestVersionLookup& latest) {
  std::string version;
  DatasetNode out = DatasetNodeOf(dataset, &version);
  const bool outside = out.node.kind == NodeKind::kDataset;
  if (!version.empty()) {
    out.node.version = VersionToken(version);
    out.known = !outside;  // a custos node must be recorded already
    return out;
  }
  CUSTOS_ASSIGN_OR_RETURN(std::optional<std::string> newest, latest(out.node.kind, out.node.name));
  if (newest) {
    out.node.version = VersionOfId(*newest);
    out.known = true;
    return out;
  }
  if (!outside) {
    return InvalidArgumentError(
        "/inputs/" + std::to_string(index) + ": custos " +
        std::string(NodeKindName(out.node.kind)) + " '" + out.node.name +
        "' has no recorded version; record it in custos first or name its version in the "
        "input's `version` facet (datasetVersion)");
  }
  return out;  // first sight of an outside dataset: an unversioned node
}

DatasetNode OutputNode(const json& dataset, std::string_view run_id) {
  std::string version;
  DatasetNode out = DatasetNodeOf(dataset, &version);
  out.node.version = version.empty() ? "run:" + std::string(run_id) : VersionToken(version);
  return out;
}

Result<json> ParseEvent(std::string_view text) {
  if (text.size() > kMaxOpenLineageEventBytes) {
    return InvalidArgumentError("the OpenLineage event has " + std::to_string(text.size()) +
                                " bytes; at most " + std::to_string(kMaxOpenLineageEventBytes) +
                                " are accepted (move large facets out of the event)");
  }
  try {
    return json::parse(text);
  } catch (const json::exception& e) {
    // nlohmann's message names the byte position and what it expected there.
    return InvalidArgumentError(std::string("the OpenLineage event is not valid JSON: ") +
                                e.what());
  }
}

}  // namespace

Result<LineageRecord> RecordFromRunEvent(const json& event, std::string_view principal,
                                         const LatestVersionLookup& latest) {
  const json* run = Member(event, "run");
  const json* job = Member(event, "job");
  if (run == nullptr || job == nullptr) {
    return InvalidArgumentError(
        "the OpenLineage event is not a RunEvent: it needs \"run\" and "
        "\"job\"");
  }
  const std::string run_id = StringMember(*run, "runId");
  const std::string event_type = StringMember(event, "eventType");
  auto time_or = common::ParseRfc3339(StringMember(event, "eventTime"));
  if (!time_or.ok()) return time_or.status().WithContext("/eventTime");
  const common::TimePoint time = *time_or;

  LineageRecord record;
  record.origin = "openlineage:" + StringMember(event, "producer");
  record.principal = std::string(principal);
  record.time = time;
  const Node job_node = JobNode(*job);
  const std::string job_id = job_node.Id();
  record.nodes.push_back(job_node);

  const bool complete = event_type == "COMPLETE";
  if (const json* inputs = Member(event, "inputs"); inputs != nullptr && inputs->is_array()) {
    for (size_t i = 0; i < inputs->size(); ++i) {
      CUSTOS_ASSIGN_OR_RETURN(DatasetNode input, InputNode((*inputs)[i], i, latest));
      const std::string id = input.node.Id();
      if (!input.known) record.nodes.push_back(std::move(input.node));
      if (complete) record.edges.push_back(Edge{id, job_id, run_id, time});
    }
  }
  if (const json* outputs = Member(event, "outputs");
      complete && outputs != nullptr && outputs->is_array()) {
    for (const json& dataset : *outputs) {
      DatasetNode output = OutputNode(dataset, run_id);
      record.edges.push_back(Edge{job_id, output.node.Id(), run_id, time});
      record.nodes.push_back(std::move(output.node));
    }
  }
  return record;
}

namespace {

// Records handed to the service at a time while a batch is mapped: the committer checks,
// audits and stores one part while the caller parses and validates the next, so a single
// caller keeps both of a small machine's cores busy. Later parts still see the earlier
// ones (the service commits in queue order), and `latest` below covers the batch itself.
constexpr size_t kRecordsPerSubmit = 128;

// One IngestAll/IngestParsed call: validates and maps events one at a time (so each
// event's DOM can be dropped while it is still in cache), submits the records in parts,
// then answers every event.
class BatchIngest {
 public:
  BatchIngest(LineageService& service, const OpenLineageValidator& validator,
              std::string_view principal, size_t events)
      : service_(service), validator_(validator), principal_(principal) {
    results_.reserve(events);
    latest_ = [this](NodeKind kind, std::string_view name) -> Result<std::optional<std::string>> {
      key_.assign(NodeKindName(kind));
      key_ += ':';
      key_ += name;
      auto it = batch_latest_.find(key_);
      if (it != batch_latest_.end()) return std::optional<std::string>(it->second);
      return service_.store().LatestVersion(kind, name);
    };
  }

  // Event number results_.size(), parsed (or refused by the parser).
  void Add(const Result<json>& event) {
    const size_t i = results_.size();
    if (!event.ok()) {
      results_.emplace_back(event.status());
      return;
    }
    if (Status valid = validator_.ValidateRunEvent(*event); !valid.ok()) {
      results_.emplace_back(std::move(valid));
      return;
    }
    auto record = RecordFromRunEvent(*event, principal_, latest_);
    if (!record.ok()) {
      results_.emplace_back(record.status());
      return;
    }
    IngestedEvent summary;
    summary.run_id = StringMember(*Member(*event, "run"), "runId");
    summary.event_type = StringMember(*event, "eventType");
    summary.nodes = record->nodes.size();
    summary.edges = record->edges.size();
    // Outputs mapped earlier in this batch are the newest versions for later inputs.
    for (const Node& node : record->nodes) {
      if (node.kind != NodeKind::kTransformation) {
        batch_latest_[std::string(NodeKindName(node.kind)) + ":" + node.name] = node.Id();
      }
    }
    results_.emplace_back(std::move(summary));
    pending_.push_back(std::move(*record));
    pending_of_.push_back(i);
    if (pending_.size() >= kRecordsPerSubmit) Submit();
  }

  std::vector<Result<IngestedEvent>> Finish() {
    Submit();
    for (size_t r = 0; r < answers_.size(); ++r) {
      Result<uint64_t> recorded = answers_[r].future.get();
      Result<IngestedEvent>& result = results_[answers_[r].event];
      if (!recorded.ok()) {
        result = recorded.status();
        continue;
      }
      result->audit_index = *recorded;
    }
    return std::move(results_);
  }

 private:
  struct Answer {
    size_t event;
    std::future<Result<uint64_t>> future;
  };

  void Submit() {
    if (pending_.empty()) return;
    std::vector<std::future<Result<uint64_t>>> futures =
        service_.RecordAllAsync(std::move(pending_));
    for (size_t r = 0; r < futures.size(); ++r) {
      answers_.push_back(Answer{pending_of_[r], std::move(futures[r])});
    }
    pending_.clear();
    pending_of_.clear();
  }

  LineageService& service_;
  const OpenLineageValidator& validator_;
  std::string_view principal_;
  LatestVersionLookup latest_;
  std::string key_;                                            // scratch for latest_
  std::unordered_map<std::string, std::string> batch_latest_;  // "kind:name" -> node id
  std::vector<Result<IngestedEvent>> results_;                 // mapped events hold their summary
  std::vector<LineageRecord> pending_;                         // mapped, not yet submitted
  std::vector<size_t> pending_of_;  // event number of each pending record
  std::vector<Answer> answers_;
};

}  // namespace

Result<IngestedEvent> OpenLineageIngest::Ingest(std::string_view json_text,
                                                std::string_view principal) {
  BatchIngest batch(service_, validator_, principal, 1);
  batch.Add(ParseEvent(json_text));
  return std::move(batch.Finish().front());
}

std::vector<Result<IngestedEvent>> OpenLineageIngest::IngestAll(
    const std::vector<std::string>& json_texts, std::string_view principal) {
  BatchIngest batch(service_, validator_, principal, json_texts.size());
  // Parsed one at a time and dropped once mapped: a batch of DOMs alive at once costs
  // more in allocation and cache misses than parsing itself.
  for (const std::string& text : json_texts) batch.Add(ParseEvent(text));
  return batch.Finish();
}

std::vector<Result<IngestedEvent>> OpenLineageIngest::IngestParsed(std::vector<Result<json>> events,
                                                                   std::string_view principal) {
  BatchIngest batch(service_, validator_, principal, events.size());
  for (Result<json>& event : events) {
    batch.Add(event);
    event = json();  // freed while the rest is mapped
  }
  return batch.Finish();
}

}  // namespace custos::lineage
