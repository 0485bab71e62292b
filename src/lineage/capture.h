// Lineage captured from custos's own work, so nobody has to report it: an apply records
// the feature-view versions it made, an ingestion records source snapshot -> ingest ->
// feature-view version, a training-set build records feature-view versions -> build ->
// training set (by its manifest), an artifact upload records inputs -> upload -> the artifact
// version (model or dataset). The CLI and the server call these right after the
// operation succeeds, with the operation's audit index as the run id.
// Thread-safety: free functions over a thread-safe service.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/apply_plan.h"
#include "common/status.h"
#include "features/source_ingest.h"
#include "features/training_set.h"
#include "lineage/lineage_service.h"

namespace custos::lineage {

// The transformations custos itself runs (their version is the custos release).
inline constexpr std::string_view kIngestTransformation = "custos/ingest";
inline constexpr std::string_view kTrainingSetTransformation = "custos/training-set";
inline constexpr std::string_view kArtifactUploadTransformation = "custos/artifact-upload";

// The node id of a feature view's version: "feature_view:<name>@<version>".
std::string FeatureViewNodeId(std::string_view view, uint64_t version);

// One node per feature-view version the apply created (classification and source name as
// attributes). Nothing to record (no new view version) answers 0 without recording.
Result<uint64_t> CaptureApply(LineageService& lineage, const catalog::ApplyPlan& plan,
                              std::string_view principal);

// The source snapshot (a file: its SHA-256 and absolute path, so `lineage verify` can
// re-hash it; PostgreSQL: the table, versioned by the ingest's audit index), the ingest
// transformation and the feature-view version the rows went into.
Result<uint64_t> CaptureIngest(LineageService& lineage, const features::SourceIngestReport& report,
                               std::string_view principal);

// The training set (named `name`, else by its purpose; its output's SHA-256 is version and
// content hash; `path` when it was written to a local file) derived from the manifest's
// view versions by one build run.
struct CapturedTrainingSet {
  std::string node_id;
  uint64_t audit_index = 0;
};
Result<CapturedTrainingSet> CaptureTrainingSet(LineageService& lineage,
                                               const features::TrainingSetManifest& manifest,
                                               std::string_view name, std::string_view path);

// One committed artifact version (the artifact vault fills this in; lineage/ cannot name
// artifacts/ types, which live below it).
struct ArtifactCapture {
  NodeKind kind = NodeKind::kModel;  // kModel or kDataset only
  std::string name;                  // e.g. "fraud/scorer"
  std::string version;               // decimal, e.g. "3"
  std::string content_sha256;        // lowercase hex of the artifact's bytes
  uint64_t size = 0;
  std::string media_type;
  std::string principal;  // who committed it, e.g. User::"dana"
  common::TimePoint time{};
  // Ids of nodes the artifact was derived from; each must already be recorded.
  std::vector<std::string> inputs;
  std::string run_id;  // e.g. "artifact-commit-<audit index>"
  // Extra node attributes (e.g. labels); "size" and "media_type" are always set.
  std::map<std::string, std::string> attributes;
};

// The node id the capture records: "model:<name>@<version>" or "dataset:<name>@<version>".
std::string ArtifactNodeId(const ArtifactCapture& capture);

// Checks what Record would refuse before anything is recorded: InvalidArgument for a kind
// other than model or dataset, a duplicate input or a malformed node; NotFound naming the
// first input id that is not in the store.
Status CheckArtifactCapture(LineageService& lineage, const ArtifactCapture& capture);

// Records the artifact version's node (content SHA-256, size and media type as attributes)
// and, when it has inputs, the upload transformation "transformation:custos/artifact-upload
// @0.1.0" with edges input -> transformation -> artifact under `run_id`. Returns the
// record's audit index. Refuses as CheckArtifactCapture does, recording nothing.
Result<uint64_t> CaptureArtifact(LineageService& lineage, const ArtifactCapture& capture);

}  // namespace custos::lineage
