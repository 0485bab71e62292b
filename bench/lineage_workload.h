// The lineage benchmark's data (issue 8), deterministic from a seed so that custos and its
// PostgreSQL peer see exactly the same graph and events: a provenance graph shaped like an
// ML platform's, and OpenLineage RunEvents as an Airflow deployment emits them.
//
// The graph: layers sources -> transformations -> feature views -> training sets -> models
// -> deployments -> prediction batches. Every derived node but a deployment is the output
// of one run of a transformation: its inputs -> transformation -> it, every edge of the run
// carrying the run's UUID, about 5 inputs per run. A transformation is one version of one
// job's code and is shared by the hundreds of runs of that version. Each run's inputs come
// from lower layers or from lower ordinals of its own layer (feature views built on
// feature views, models fine-tuned from models), so the graph is acyclic by construction,
// under custos's run rule too (a walk leaves a transformation only through the run it
// entered by). Inputs are mostly recent (near the output's own position in time).
// Thread-safety: plain values and free functions.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "lineage/graph.h"

namespace custos::lineage::bench {

// The layers in data-flow order; node numbers run through them in this order.
enum Layer : uint8_t {
  kSources,
  kTransformations,
  kFeatureViews,
  kTrainingSets,
  kModels,
  kDeployments,
  kPredictions,
  kLayerCount,
};

struct GraphOptions {
  uint64_t nodes = 1'000'000;  // at least 10,000
  // Between one input per run and 16 (GenerateGraph says the range for the node count);
  // the default gives about 5 inputs per run.
  uint64_t edges = 5'000'000;
  uint64_t seed = 42;
};

struct GraphEdge {
  uint32_t from = 0;  // node numbers
  uint32_t to = 0;
  uint32_t run = 0;  // 0: no run (a deployment of a model); else RunUuid(seed, run)
};

// Node n is the PostgreSQL peer's row id n and custos's node NodeOf(graph, n).
struct Graph {
  GraphOptions options;
  // Layer l holds node numbers [layer_begin[l], layer_begin[l + 1]).
  std::array<uint32_t, kLayerCount + 1> layer_begin{};
  // Transformations of the four kinds of job (feature views, training sets, training,
  // scoring), as transformation ordinals [stage_begin[s], stage_begin[s + 1]).
  std::array<uint32_t, 5> stage_begin{};
  // The derived nodes' in-edges, node by node from the first feature view on: derived
  // node d (node number layer_begin[kFeatureViews] + d) has edges [edges_end[d - 1],
  // edges_end[d]), its run's inputs first and the edge into it last.
  std::vector<GraphEdge> edges;
  std::vector<uint64_t> edges_end;
  uint32_t runs = 0;

  uint32_t node_count() const { return layer_begin[kLayerCount]; }
  uint32_t layer_size(Layer l) const { return layer_begin[l + 1] - layer_begin[l]; }
  Layer LayerOf(uint32_t node) const;
  // The mean number of inputs of the runs making a derived layer's nodes (not deployments).
  double InputsPerRun(Layer layer) const;
};

// InvalidArgument (with the admissible range) when the edge count cannot fit the nodes.
Result<Graph> GenerateGraph(const GraphOptions& options);

// The node numbered `node`: kind, name, version, content hash and attributes, e.g.
// "feature_view:fv_payments_17@12" or "source:s3://lake/raw/payments/table_3@sha256:...".
Node NodeOf(const Graph& graph, uint32_t node);

// A run's id: a version-4 UUID drawn from the seed.
std::string RunUuid(uint64_t seed, uint64_t run);

// The time of an edge of `run` (runs are a minute apart from a fixed start).
common::TimePoint RunTime(uint32_t run);

struct EventOptions {
  uint64_t events = 200'000;
  uint64_t seed = 42;
};

// COMPLETE RunEvents of Airflow tasks as JSON text, in event-time order: 2-5 inputs (raw
// tables and other tasks' outputs), 1-2 outputs, UUID run ids, the facets nominalTime,
// parent, sourceCodeLocation, jobType, schema, dataSource and outputStatistics. No
// version facets: inputs resolve to the newest version recorded, as for most producers.
std::vector<std::string> GenerateRunEvents(const EventOptions& options);

}  // namespace custos::lineage::bench
