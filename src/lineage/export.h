// Lineage export: a subgraph (a walk's answer, or the whole graph) as JSON for programs
// and as Graphviz DOT for people (`custos lineage export --format dot | dot -Tsvg`).
// Thread-safety: free functions over a thread-safe store.
#pragma once

#include <string>

#include "common/status.h"
#include "lineage/lineage_store.h"

namespace custos::lineage {

// Every node and edge, in record order, up to `max_nodes` nodes (truncated beyond).
Result<Subgraph> WholeGraph(LineageStore& store, size_t max_nodes = 100000);

// {"nodes": [{"id", "kind", "name", "version", "content_sha256", "attributes", "depth"}],
//  "edges": [{"from", "to", "run_id", "time"}], "truncated": bool}. Node details and edge
// times are read from the store.
Result<std::string> ExportJson(LineageStore& store, Subgraph graph);

// A digraph with one box per node (shape and colour by kind, label name@version) and
// one arrow per edge in data-flow direction, labelled with the run.
Result<std::string> ExportDot(LineageStore& store, const Subgraph& graph);

}  // namespace custos::lineage
