// OpenLineage in: RunEvents from Airflow, Spark, dbt or any OpenLineage client become
// lineage records. An event is parsed, validated against the OpenLineage schemas (the
// failing JSON Pointer named), mapped, and recorded through LineageService (so audited).
//
// Mapping (names per openlineage_names.h):
// - the job is a transformation; its version is the sourceCodeLocation facet's version,
//   else "sha256:<hex>" of the sourceCode facet's text, else empty (unversioned);
// - an input is the version its `version` facet names, else the newest recorded version
//   of that dataset, else (first sight of an outside dataset) an unversioned node; a
//   custos node (namespace "custos") must already be recorded;
// - an output is the version its `version` facet names, else "run:<runId>": each run
//   makes a new version, so a job that rewrites its own input is not a cycle;
// - edges input -> job -> output, in the run, only from COMPLETE events (a run that
//   failed or is still running produced nothing to derive from); other events record
//   the job and inputs they name.
// Thread-safety: safe for concurrent use.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "lineage/graph.h"
#include "lineage/lineage_service.h"
#include "lineage/lineage_store.h"
#include "lineage/openlineage_schema.h"

namespace custos::lineage {

// Most bytes of one event's JSON text.
inline constexpr size_t kMaxOpenLineageEventBytes = 1 << 20;

struct IngestedEvent {
  uint64_t audit_index = 0;
  std::string run_id;
  std::string event_type;
  size_t nodes = 0;  // nodes the record names (the job, new inputs, outputs)
  size_t edges = 0;
};

// The newest recorded version of kind:name (nullopt: none), for inputs without a
// version facet.
using LatestVersionLookup =
    std::function<Result<std::optional<std::string>>(NodeKind kind, std::string_view name)>;

// The record for one already-validated RunEvent.
Result<LineageRecord> RecordFromRunEvent(const nlohmann::json& event, std::string_view principal,
                                         const LatestVersionLookup& latest);

class OpenLineageIngest {
 public:
  OpenLineageIngest(LineageService& service, const OpenLineageValidator& validator)
      : service_(service), validator_(validator) {}

  // One event as JSON text. InvalidArgument for malformed JSON (line and column), a
  // schema violation (JSON Pointer and schema location) or a mapping problem; then
  // nothing is stored.
  Result<IngestedEvent> Ingest(std::string_view json_text, std::string_view principal);
  // Many events, recorded in order (a later event may use an earlier one's outputs);
  // each answered on its own. The records go to the service in parts as they are mapped,
  // so committing overlaps parsing.
  std::vector<Result<IngestedEvent>> IngestAll(const std::vector<std::string>& json_texts,
                                               std::string_view principal);
  // The same for events already parsed (the server's JSON bodies).
  std::vector<Result<IngestedEvent>> IngestParsed(std::vector<Result<nlohmann::json>> events,
                                                  std::string_view principal);

 private:
  LineageService& service_;
  const OpenLineageValidator& validator_;
};

}  // namespace custos::lineage
