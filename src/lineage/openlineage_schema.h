// Validation of OpenLineage events (RunEvent, DatasetEvent, JobEvent) and their standard
// facets against the spec's JSON Schemas, which are compiled into the binary.
#pragma once

#include <array>
#include <map>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>

#include "common/status.h"
#include "lineage/json_schema.h"

namespace custos::lineage {

// A file carried inside the binary.
struct EmbeddedFile {
  std::string_view path;  // relative to its source folder, e.g. "facets/SQLJobFacet.json"
  std::string_view contents;
};

// The OpenLineage spec files from third_party/openlineage, byte for byte: "OpenLineage.json",
// "LICENSE" and "facets/<Name>.json" (generated at build time by cmake/EmbedFiles.cmake).
std::span<const EmbeddedFile> OpenLineageSpecFiles();

// Checks OpenLineage events before anything is stored. An event must satisfy the core
// schema (OpenLineage.json), and each facet whose key a standard facet schema defines for
// that place must satisfy it: run.facets, job.facets, dataset facets (inputs[].facets,
// outputs[].facets, dataset.facets), inputs[].inputFacets and outputs[].outputFacets; e.g.
// run.facets.nominalTime against facets/NominalTimeRunFacet.json's
// "#/properties/nominalTime". Custom facet keys get only the core schema's generic facet
// checks. Errors are InvalidArgument with the failing path in the event, e.g.
//   /run/facets/nominalTime: missing required property "nominalStartTime" [schema ...]
// (see SchemaRegistry for the message format).
// Thread-safety: immutable after Create; all methods are safe to call concurrently.
class OpenLineageValidator {
 public:
  // Compiles the embedded schemas (a few milliseconds; do it once). Internal if the bundle
  // is broken, which is a bug in the build.
  static Result<OpenLineageValidator> Create();

  // A RunEvent: the core schema's RunEvent (it needs "run" and "job"), then the facets.
  Status ValidateRunEvent(const nlohmann::json& event) const;

  // Any event: the core schema (exactly one of RunEvent, DatasetEvent, JobEvent), then the
  // facets. A refusal is explained against the kind the event's shape suggests: "run" and
  // "job" -> RunEvent, else "dataset" -> DatasetEvent, else "job" -> JobEvent.
  Status ValidateEvent(const nlohmann::json& event) const;

  // `container` (e.g. {"nominalTime": {...}}) against the root schema of
  // facets/<facet_file_stem>.json (e.g. "NominalTimeRunFacet"); NotFound for another stem.
  Status ValidateFacetContainer(std::string_view facet_file_stem,
                                const nlohmann::json& container) const;

 private:
  using SchemasByName = std::map<std::string, SchemaHandle, std::less<>>;
  static constexpr size_t kFacetPlaces = 5;  // see FacetPlace in openlineage_schema.cc

  explicit OpenLineageValidator(SchemaRegistry registry) : registry_(std::move(registry)) {}

  Status ValidateFacets(const nlohmann::json& event) const;
  Status ValidateFacetMap(const nlohmann::json& holder, std::string_view member, size_t place,
                          std::string_view holder_path) const;

  SchemaRegistry registry_;
  SchemaHandle any_event_;
  SchemaHandle run_event_;
  SchemaHandle dataset_event_;
  SchemaHandle job_event_;
  std::array<SchemasByName, kFacetPlaces> facets_;  // facet key -> schema, per place
  SchemasByName facet_files_;                       // file stem -> root schema
};

}  // namespace custos::lineage
