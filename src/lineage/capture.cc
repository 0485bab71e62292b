// Lineage records for apply, ingestion, training-set builds and artifact uploads
// (see capture.h).
#include "lineage/capture.h"

#include <filesystem>
#include <set>
#include <utility>
#include <vector>

#include "catalog/governance.h"
#include "lineage/detail/file_sha256.h"

namespace custos::lineage {
namespace {

// The release whose code the built-in transformations are.
constexpr std::string_view kCustosRelease = "0.1.0";

Node Transformation(std::string_view name) {
  Node node;
  node.kind = NodeKind::kTransformation;
  node.name = std::string(name);
  node.version = std::string(kCustosRelease);
  return node;
}

// "<view>:v<N>" (a store version id) -> {view, N}.
Result<std::pair<std::string, std::string>> SplitVersionId(std::string_view version_id) {
  const size_t sep = version_id.rfind(":v");
  if (sep == std::string_view::npos || sep + 2 >= version_id.size()) {
    return InternalError("unexpected feature-view version id '" + std::string(version_id) + "'");
  }
  return std::pair{std::string(version_id.substr(0, sep)), std::string(version_id.substr(sep + 2))};
}

// Adds the feature-view version's node to `record` unless it is recorded: its apply
// records it, but a data directory from before lineage has versions without nodes.
Status EnsureViewNode(LineageService& lineage, LineageRecord& record, std::string_view view,
                      std::string_view version) {
  Node node;
  node.kind = NodeKind::kFeatureView;
  node.name = std::string(view);
  node.version = std::string(version);
  CUSTOS_ASSIGN_OR_RETURN(auto stored, lineage.store().GetNode(node.Id()));
  if (!stored) record.nodes.push_back(std::move(node));
  return Status::Ok();
}

std::string RunOf(std::string_view what, uint64_t audit_index) {
  return std::string(what) + "-" + std::to_string(audit_index);
}

}  // namespace

std::string FeatureViewNodeId(std::string_view view, uint64_t version) {
  return MakeNodeId(NodeKind::kFeatureView, view, std::to_string(version));
}

Result<uint64_t> CaptureApply(LineageService& lineage, const catalog::ApplyPlan& plan,
                              std::string_view principal) {
  LineageRecord record;
  record.origin = "custos:apply";
  record.principal = std::string(principal);
  for (const catalog::PlannedChange& change : plan.changes) {
    if (change.kind != catalog::ObjectKind::kView) continue;
    if (change.action != catalog::ChangeAction::kCreate &&
        change.action != catalog::ChangeAction::kNewVersion) {
      continue;
    }
    Node node;
    node.kind = NodeKind::kFeatureView;
    node.name = change.name;
    node.version = std::to_string(change.to_version);
    if (const catalog::FeatureView* view = plan.repository.FindView(change.name)) {
      node.attributes["source"] = view->source;
      node.attributes["classification"] =
          std::string(catalog::ClassificationName(view->classification));
    }
    record.nodes.push_back(std::move(node));
  }
  if (record.nodes.empty()) return uint64_t{0};
  return lineage.Record(std::move(record));
}

Result<uint64_t> CaptureIngest(LineageService& lineage, const features::SourceIngestReport& report,
                               std::string_view principal) {
  const uint64_t audit_index = report.outcome.audit_index;
  Node source;
  source.kind = NodeKind::kSource;
  if (report.source.starts_with("postgres:")) {
    // A table has no content hash to keep: the snapshot is named by the ingest that read it.
    source.name = report.source;
    source.version = "audit:" + std::to_string(audit_index);
  } else {
    std::error_code ec;
    const std::string path = std::filesystem::absolute(report.source, ec).lexically_normal();
    CUSTOS_ASSIGN_OR_RETURN(source.content_sha256, detail::FileSha256(path));
    source.name = "file://" + path;
    source.version = "sha256:" + source.content_sha256;
    source.attributes["path"] = path;
  }
  const Node ingest = Transformation(kIngestTransformation);
  const std::string view = FeatureViewNodeId(report.outcome.view, report.outcome.version);
  const std::string run = RunOf("ingest", audit_index);

  LineageRecord record;
  record.origin = "custos:ingest";
  record.principal = std::string(principal);
  CUSTOS_RETURN_IF_ERROR(
      EnsureViewNode(lineage, record, report.outcome.view, std::to_string(report.outcome.version)));
  record.edges.push_back(Edge{source.Id(), ingest.Id(), run, {}});
  record.edges.push_back(Edge{ingest.Id(), view, run, {}});
  record.nodes.push_back(std::move(source));
  record.nodes.push_back(ingest);
  return lineage.Record(std::move(record));
}

Result<CapturedTrainingSet> CaptureTrainingSet(LineageService& lineage,
                                               const features::TrainingSetManifest& manifest,
                                               std::string_view name, std::string_view path) {
  Node training;
  training.kind = NodeKind::kTrainingSet;
  training.name = name.empty() ? manifest.purpose : std::string(name);
  if (training.name.empty()) training.name = "training-set";
  training.version = "sha256:" + manifest.output_sha256;
  training.content_sha256 = manifest.output_sha256;
  training.attributes["purpose"] = manifest.purpose;
  training.attributes["rows"] = std::to_string(manifest.rows);
  training.attributes["entity_set_sha256"] = manifest.entity_set_sha256;
  if (!path.empty()) {
    std::error_code ec;
    training.attributes["path"] = std::filesystem::absolute(path, ec).lexically_normal().string();
  }
  const Node build = Transformation(kTrainingSetTransformation);
  const std::string run = RunOf("training-set", manifest.audit_index);

  LineageRecord record;
  record.origin = "custos:training-set";
  record.principal = manifest.principal;
  for (const std::string& version_id : manifest.view_versions) {
    CUSTOS_ASSIGN_OR_RETURN(auto view, SplitVersionId(version_id));
    CUSTOS_RETURN_IF_ERROR(EnsureViewNode(lineage, record, view.first, view.second));
    record.edges.push_back(
        Edge{MakeNodeId(NodeKind::kFeatureView, view.first, view.second), build.Id(), run, {}});
  }
  CapturedTrainingSet captured;
  captured.node_id = training.Id();
  record.edges.push_back(Edge{build.Id(), captured.node_id, run, {}});
  record.nodes.push_back(build);
  record.nodes.push_back(std::move(training));
  CUSTOS_ASSIGN_OR_RETURN(captured.audit_index, lineage.Record(std::move(record)));
  return captured;
}

namespace {

Node ArtifactNode(const ArtifactCapture& capture) {
  Node node;
  node.kind = capture.kind;
  node.name = capture.name;
  node.version = capture.version;
  node.content_sha256 = capture.content_sha256;
  node.attributes = capture.attributes;
  node.attributes["size"] = std::to_string(capture.size);
  node.attributes["media_type"] = capture.media_type;
  return node;
}

}  // namespace

std::string ArtifactNodeId(const ArtifactCapture& capture) {
  return MakeNodeId(capture.kind, capture.name, capture.version);
}

Status CheckArtifactCapture(LineageService& lineage, const ArtifactCapture& capture) {
  if (capture.kind != NodeKind::kModel && capture.kind != NodeKind::kDataset) {
    return InvalidArgumentError("artifact lineage for '" + capture.name + "': node kind '" +
                                std::string(NodeKindName(capture.kind)) +
                                "' is not an artifact kind; use model or dataset");
  }
  const Node node = ArtifactNode(capture);
  if (Status valid = ValidateNode(node); !valid.ok()) {
    return valid.WithContext("artifact lineage node " + node.Id());
  }
  std::set<std::string_view> seen;
  for (const std::string& input : capture.inputs) {
    if (!seen.insert(input).second) {
      return InvalidArgumentError("artifact lineage for " + node.Id() + ": input '" + input +
                                  "' is listed twice; list each input once");
    }
    CUSTOS_ASSIGN_OR_RETURN(auto stored, lineage.store().GetNode(input));
    if (!stored) {
      return NotFoundError("artifact lineage for " + node.Id() + ": input node '" + input +
                           "' is not in the lineage graph; record it first (e.g. the training "
                           "set or source it came from) or remove it from the inputs");
    }
  }
  return Status::Ok();
}

Result<uint64_t> CaptureArtifact(LineageService& lineage, const ArtifactCapture& capture) {
  CUSTOS_RETURN_IF_ERROR(CheckArtifactCapture(lineage, capture));
  Node artifact = ArtifactNode(capture);
  const std::string artifact_id = artifact.Id();

  LineageRecord record;
  record.origin = "custos:artifact-upload";
  record.principal = capture.principal;
  record.time = capture.time;
  if (!capture.inputs.empty()) {
    const Node upload = Transformation(kArtifactUploadTransformation);
    for (const std::string& input : capture.inputs) {
      record.edges.push_back(Edge{input, upload.Id(), capture.run_id, capture.time});
    }
    record.edges.push_back(Edge{upload.Id(), artifact_id, capture.run_id, capture.time});
    // Shared by every upload: the store drops it when it is already recorded.
    record.nodes.push_back(upload);
  }
  record.nodes.push_back(std::move(artifact));
  return lineage.Record(std::move(record));
}

}  // namespace custos::lineage
