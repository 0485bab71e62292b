// How custos nodes and OpenLineage datasets and jobs name each other, in one place, so
// that what custos emits and what it ingests agree (custos -> Marquez -> custos keeps ids).
//
// - A custos node that is data (source, feature view, training set, model, deployment,
//   prediction) is the OpenLineage dataset {namespace: "custos", name: "<kind>:<name>"}
//   with its version in the `version` dataset facet (datasetVersion).
// - A custos transformation is the job {namespace: "custos", name: <name>}.
// - Any other dataset {namespace, name} is a `dataset` node named "<namespace>/<name>";
//   any other job is a transformation named "<namespace>/<name>".
// Thread-safety: free functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "lineage/graph.h"

namespace custos::lineage {

inline constexpr std::string_view kOpenLineageNamespace = "custos";

struct OpenLineageName {
  std::string name_space;  // "namespace" in OpenLineage
  std::string name;
};

// The OpenLineage dataset (or, for a transformation, job) that stands for a node.
OpenLineageName OpenLineageNameOf(NodeKind kind, std::string_view name);

// The node kind and name for an OpenLineage dataset.
struct NodeName {
  NodeKind kind = NodeKind::kDataset;
  std::string name;
};
NodeName NodeNameOfDataset(std::string_view name_space, std::string_view name);
// The transformation name for an OpenLineage job.
std::string TransformationNameOfJob(std::string_view name_space, std::string_view name);

}  // namespace custos::lineage
