// The generated lineage graph and OpenLineage events (see lineage_workload.h).
#include "lineage_workload.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <string_view>

#include "bench_util.h"

namespace custos::lineage::bench {
namespace {

using custos::bench::SplitMix64;
using nlohmann::json;

constexpr uint32_t kMaxFanIn = 16;
// Versions per name, by layer: snapshots of a table, versions of a feature view, ...
constexpr std::array<uint32_t, kLayerCount> kVersionsPerName = {10, 1, 20, 10, 10, 4, 50};
constexpr std::array<std::string_view, 8> kDomains = {
    "payments", "customers", "merchants", "devices", "sessions", "ledger", "support", "marketing"};
constexpr std::array<std::string_view, 4> kStages = {"build_features", "build_training_sets",
                                                     "train", "score"};
// Names of the derived layers' nodes, and the salt of their content hash (0: none).
struct DerivedKind {
  NodeKind kind;
  std::string_view prefix;
  uint64_t hash_salt;
};
constexpr std::array<DerivedKind, kLayerCount - kFeatureViews> kDerivedKinds = {{
    {NodeKind::kFeatureView, "fv_", 0},
    {NodeKind::kTrainingSet, "ts_", 4},
    {NodeKind::kModel, "model_", 5},
    {NodeKind::kDeployment, "prod/model_", 0},
    {NodeKind::kPrediction, "scores/batch_", 0},
}};
// Code versions per job over the graph's lifetime.
constexpr uint32_t kCodeVersions = 4;
constexpr int64_t kFirstRunSeconds = 1'780'000'000;

uint64_t Below(SplitMix64& rng, uint64_t n) { return n == 0 ? 0 : rng.Next() % n; }
bool Chance(SplitMix64& rng, int percent) {
  return rng.Next() % 100 < static_cast<uint64_t>(percent);
}

// `digits` lowercase hex digits drawn from (seed, salt, n).
std::string Hex(uint64_t seed, uint64_t salt, uint64_t n, size_t digits) {
  SplitMix64 rng{seed ^ (salt * 0xd1b54a32d192ed03ULL) ^ (n * 0x9e3779b97f4a7c15ULL)};
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(digits);
  uint64_t word = 0;
  for (size_t i = 0; i < digits; ++i) {
    if (i % 16 == 0) word = rng.Next();
    out += kDigits[word & 15];
    word >>= 4;
  }
  return out;
}

std::string Uuid(uint64_t seed, uint64_t salt, uint64_t n) {
  std::string hex = Hex(seed, salt, n, 32);
  hex[12] = '4';                                                                // version 4
  hex[16] = "89ab"[(hex[16] >= 'a' ? hex[16] - 'a' + 10 : hex[16] - '0') & 3];  // variant
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20);
}

// A node position in `pool` for the i-th of `count` outputs: mostly among the most recent
// at that point in time (the pool's proportional position; at least a window's worth),
// sometimes anything older.
uint32_t Recent(SplitMix64& rng, uint32_t pool, uint64_t i, uint64_t count) {
  const uint64_t window = std::max<uint64_t>(64, pool / 256);
  const uint64_t high = std::min<uint64_t>(pool - 1, std::max(i * pool / count, window));
  if (Chance(rng, 90)) {
    const uint64_t low = high - std::min(high, window);
    return static_cast<uint32_t>(low + Below(rng, high - low + 1));
  }
  return static_cast<uint32_t>(Below(rng, high + 1));
}

// An ordinal below i of the same layer (i >= 1), mostly a recent one.
uint32_t Earlier(SplitMix64& rng, uint32_t i, uint32_t layer_size) {
  const uint32_t window = std::max<uint32_t>(64, layer_size / 256);
  if (Chance(rng, 90)) {
    const uint32_t low = i - std::min(i, window);
    return low + static_cast<uint32_t>(Below(rng, i - low));
  }
  return static_cast<uint32_t>(Below(rng, i));
}

// The number of inputs of the next run: the mean still needed plus a jitter of -2..+2 and,
// in one run of ten, a wide join of up to 8 more (+0.4 on average, taken off the base, which
// is rounded up or down at random in proportion), so that every layer gets about the same
// mean and the runs use exactly `inputs_left` inputs in all.
uint32_t FanIn(SplitMix64& rng, uint64_t inputs_left, uint64_t runs_left) {
  const double base = static_cast<double>(inputs_left) / static_cast<double>(runs_left) - 0.4;
  const double whole = std::floor(base);
  int64_t k = static_cast<int64_t>(whole) +
              (static_cast<double>(Below(rng, 1 << 20)) < (base - whole) * (1 << 20) ? 1 : 0);
  k += Chance(rng, 10) ? static_cast<int64_t>(Below(rng, 9))
                       : static_cast<int64_t>(Below(rng, 5)) - 2;
  const int64_t low = std::max<int64_t>(
      1, static_cast<int64_t>(inputs_left) - static_cast<int64_t>(runs_left - 1) * kMaxFanIn);
  const int64_t high = std::min<int64_t>(
      kMaxFanIn, static_cast<int64_t>(inputs_left) - static_cast<int64_t>(runs_left - 1));
  return static_cast<uint32_t>(std::clamp(k, low, high));
}

class Generator {
 public:
  explicit Generator(Graph& graph) : g_(graph), rng_{graph.options.seed} {}

  Status Run() {
    for (int layer = kFeatureViews; layer < kLayerCount; ++layer) {
      const uint32_t size = g_.layer_size(static_cast<Layer>(layer));
      for (uint32_t i = 0; i < size; ++i) {
        CUSTOS_RETURN_IF_ERROR(AddDerived(static_cast<Layer>(layer), i));
        g_.edges_end.push_back(g_.edges.size());
      }
    }
    return Status::Ok();
  }

  uint64_t inputs_left = 0;
  uint64_t runs_left = 0;

 private:
  uint32_t Node(Layer layer, uint32_t ordinal) const { return g_.layer_begin[layer] + ordinal; }

  // The output's input for one slot of its run, by the layer's recipe.
  uint32_t PickInput(Layer layer, uint32_t i, size_t slot) {
    const uint32_t size = g_.layer_size(layer);
    auto recent = [&](Layer from) {
      return Node(from, Recent(rng_, g_.layer_size(from), i, size));
    };
    switch (layer) {
      case kFeatureViews:  // raw snapshots, some feature views built on others
        return i > 0 && Chance(rng_, 20) ? Node(layer, Earlier(rng_, i, size)) : recent(kSources);
      case kTrainingSets:
        return recent(kFeatureViews);
      case kModels:  // a training set, sometimes a base model or an evaluation snapshot
        if (slot == 0 || Chance(rng_, 60)) return recent(kTrainingSets);
        return i > 0 && Chance(rng_, 50) ? Node(layer, Earlier(rng_, i, size)) : recent(kSources);
      default:  // predictions: a deployment scores feature-view rows
        return slot == 0 ? recent(kDeployments) : recent(kFeatureViews);
    }
  }

  // The transformation that makes the i-th node of `layer`: its name's job, in the code
  // version current at that point in time.
  uint32_t TransformationFor(Layer layer, uint32_t i) const {
    const size_t stage = layer == kPredictions ? 3 : layer - kFeatureViews;
    const uint32_t stage_size = g_.stage_begin[stage + 1] - g_.stage_begin[stage];
    const uint32_t versions = std::min(kCodeVersions, stage_size);
    const uint32_t jobs = stage_size / versions;
    const uint32_t size = g_.layer_size(layer);
    const uint32_t names = std::max<uint32_t>(1, size / kVersionsPerName[layer]);
    const uint32_t job = (i % names) % jobs;
    const uint32_t version = static_cast<uint32_t>(uint64_t{i} * versions / size);
    return Node(kTransformations, g_.stage_begin[stage] + job * versions + version);
  }

  Status AddDerived(Layer layer, uint32_t i) {
    const uint32_t output = Node(layer, i);
    if (layer == kDeployments) {
      const uint32_t model =
          Node(kModels, Recent(rng_, g_.layer_size(kModels), i, g_.layer_size(layer)));
      g_.edges.push_back({model, output, 0});
      return Status::Ok();
    }
    const uint32_t k = FanIn(rng_, inputs_left, runs_left);
    inputs_left -= k;
    --runs_left;
    const uint32_t run = ++g_.runs;
    const uint32_t transformation = TransformationFor(layer, i);
    picked_.clear();
    for (int attempt = 0; picked_.size() < k; ++attempt) {
      if (attempt > 1000) {
        return InternalError("could not find " + std::to_string(k) + " distinct inputs for node " +
                             std::to_string(output) + "; use more --nodes");
      }
      const uint32_t input = PickInput(layer, i, picked_.size());
      if (std::find(picked_.begin(), picked_.end(), input) == picked_.end()) {
        picked_.push_back(input);
      }
    }
    for (uint32_t input : picked_) g_.edges.push_back({input, transformation, run});
    g_.edges.push_back({transformation, output, run});
    return Status::Ok();
  }

  Graph& g_;
  SplitMix64 rng_;
  std::vector<uint32_t> picked_;
};

}  // namespace

double Graph::InputsPerRun(Layer layer) const {
  const uint64_t first = layer_begin[layer] - layer_begin[kFeatureViews];
  const uint64_t begin = first == 0 ? 0 : edges_end[first - 1];
  const uint64_t end = edges_end[first + layer_size(layer) - 1];
  // Each run has one edge into its output besides its inputs.
  return static_cast<double>(end - begin) / layer_size(layer) - 1.0;
}

Layer Graph::LayerOf(uint32_t node) const {
  const auto it = std::upper_bound(layer_begin.begin(), layer_begin.end(), node);
  return static_cast<Layer>(it - layer_begin.begin() - 1);
}

Result<Graph> GenerateGraph(const GraphOptions& options) {
  const uint64_t n = options.nodes;
  if (n < 10'000 || n > 100'000'000) {
    return InvalidArgumentError("--nodes " + std::to_string(n) +
                                ": give 10,000 to 100,000,000 nodes");
  }
  Graph graph;
  graph.options = options;
  // Shares of the nodes: 15% source snapshots, 0.5% transformations, 30% feature-view
  // versions, 10% training sets, 5% models, 2% deployments, the rest prediction batches.
  const std::array<uint64_t, kLayerCount> sizes = {
      n * 15 / 100, std::max<uint64_t>(16, n / 200), n * 30 / 100, n / 10, n / 20, n / 50, 0};
  uint64_t begin = 0;
  for (int l = 0; l < kLayerCount; ++l) {
    graph.layer_begin[l] = static_cast<uint32_t>(begin);
    begin += l == kPredictions ? n - begin : sizes[l];
  }
  graph.layer_begin[kLayerCount] = static_cast<uint32_t>(n);
  // Transformations: half build feature views, 15% training sets, 15% train, 20% score.
  const uint32_t x = graph.layer_size(kTransformations);
  graph.stage_begin = {0, x / 2, x / 2 + x * 15 / 100, x / 2 + x * 30 / 100, x};

  const uint64_t runs = n - graph.layer_begin[kFeatureViews] - graph.layer_size(kDeployments);
  const uint64_t fixed = runs + graph.layer_size(kDeployments);  // output and deployment edges
  const uint64_t min_edges = fixed + runs;
  const uint64_t max_edges = fixed + runs * kMaxFanIn;
  if (options.edges < min_edges || options.edges > max_edges) {
    return InvalidArgumentError("--edges " + std::to_string(options.edges) + " does not fit " +
                                std::to_string(n) + " nodes: give " + std::to_string(min_edges) +
                                " to " + std::to_string(max_edges) + " (1 to " +
                                std::to_string(kMaxFanIn) + " inputs per run)");
  }
  graph.edges.reserve(options.edges);
  graph.edges_end.reserve(n - graph.layer_begin[kFeatureViews]);
  Generator generator(graph);
  generator.inputs_left = options.edges - fixed;
  generator.runs_left = runs;
  CUSTOS_RETURN_IF_ERROR(generator.Run());
  return graph;
}

Node NodeOf(const Graph& graph, uint32_t number) {
  const Layer layer = graph.LayerOf(number);
  const uint32_t i = number - graph.layer_begin[layer];
  const uint32_t names = std::max<uint32_t>(1, graph.layer_size(layer) / kVersionsPerName[layer]);
  const uint32_t name = i % names;
  const std::string version = std::to_string(i / names + 1);
  const uint64_t seed = graph.options.seed;
  Node node;
  switch (layer) {
    case kSources: {
      node.kind = NodeKind::kSource;
      node.name = "s3://lake/raw/" + std::string(kDomains[name % kDomains.size()]) + "/table_" +
                  std::to_string(name);
      node.content_sha256 = Hex(seed, 1, number, 64);
      node.version = "sha256:" + node.content_sha256;
      node.attributes["uri"] = node.name + "/snapshot=" + version + "/part-00000.parquet";
      break;
    }
    case kTransformations: {
      size_t stage = 0;
      while (i >= graph.stage_begin[stage + 1]) ++stage;
      const uint32_t ordinal = i - graph.stage_begin[stage];
      const uint32_t versions =
          std::min(kCodeVersions, graph.stage_begin[stage + 1] - graph.stage_begin[stage]);
      const std::string job =
          std::string(kStages[stage]) + "_" + std::to_string(ordinal / versions);
      const std::string commit = Hex(seed, 2, number, 40);
      node.kind = NodeKind::kTransformation;
      node.name = "airflow/" + job;
      node.version = "git:" + commit;
      node.content_sha256 = Hex(seed, 3, number, 64);
      node.attributes["code_ref"] =
          "https://git.example.com/ml/pipelines/blob/" + commit + "/dags/" + job + ".py";
      break;
    }
    default: {
      const DerivedKind& derived = kDerivedKinds[layer - kFeatureViews];
      node.kind = derived.kind;
      node.name = std::string(derived.prefix) +
                  (layer == kFeatureViews ? std::string(kDomains[name % kDomains.size()]) + "_"
                                          : std::string()) +
                  std::to_string(name);
      node.version = version;
      if (derived.hash_salt != 0) node.content_sha256 = Hex(seed, derived.hash_salt, number, 64);
      break;
    }
  }
  return node;
}

std::string RunUuid(uint64_t seed, uint64_t run) { return Uuid(seed, 6, run); }

common::TimePoint RunTime(uint32_t run) {
  return common::FromUnixSeconds(kFirstRunSeconds + int64_t{60} * run);
}

// --- OpenLineage events ------------------------------------------------------------------

namespace {

constexpr std::string_view kProducer =
    "https://github.com/apache/airflow/tree/providers-openlineage/1.14.0";
constexpr std::string_view kFacetSpec = "https://openlineage.io/spec/facets/";
constexpr int kTasksPerDag = 8;
constexpr std::array<std::string_view, 5> kColumnTypes = {"BIGINT", "VARCHAR", "DOUBLE",
                                                          "TIMESTAMP", "BOOLEAN"};

json Facet(std::string_view schema_file) {
  // "SchemaDatasetFacet.json" at version 1-2-0 -> ".../1-2-0/SchemaDatasetFacet.json#/$defs/
  // SchemaDatasetFacet"
  const size_t slash = schema_file.find('/');
  const std::string_view file = schema_file.substr(slash + 1);
  const std::string_view name = file.substr(0, file.find('.'));
  return json{{"_producer", kProducer},
              {"_schemaURL", std::string(kFacetSpec) + std::string(schema_file) + "#/$defs/" +
                                 std::string(name)}};
}

struct Dataset {
  std::string name_space;
  std::string name;
  int columns = 0;
};

// What a task reads and writes, fixed for the deployment's lifetime.
struct Task {
  std::vector<uint32_t> inputs;  // dataset numbers
  std::vector<uint32_t> outputs;
};

json DatasetJson(const Dataset& d, uint64_t seed, uint64_t n, bool output) {
  json schema = Facet("1-2-0/SchemaDatasetFacet.json");
  json fields = json::array();
  for (int c = 0; c < d.columns; ++c) {
    const size_t type =
        c == 0 ? 0 : (static_cast<size_t>(c) * 7 + d.name.size()) % kColumnTypes.size();
    fields.push_back({{"name", c == 0 ? std::string("id") : "col_" + std::to_string(c)},
                      {"type", kColumnTypes[type]}});
  }
  schema["fields"] = std::move(fields);
  json out = {
      {"namespace", d.name_space}, {"name", d.name}, {"facets", {{"schema", std::move(schema)}}}};
  if (!output) {
    json source = Facet("1-0-1/DatasourceDatasetFacet.json");
    source["name"] = d.name_space;
    source["uri"] = d.name_space;
    out["facets"]["dataSource"] = std::move(source);
  } else {
    SplitMix64 rng{seed ^ (n * 0x9e3779b97f4a7c15ULL)};
    json stats = Facet("1-0-2/OutputStatisticsOutputDatasetFacet.json");
    stats["rowCount"] = 1000 + Below(rng, 5'000'000);
    stats["size"] = 100'000 + Below(rng, 2'000'000'000);
    out["outputFacets"] = {{"outputStatistics", std::move(stats)}};
  }
  return out;
}

}  // namespace

std::vector<std::string> GenerateRunEvents(const EventOptions& options) {
  SplitMix64 rng{options.seed ^ 0x6f6c6576656e7473ULL};
  // About 100 runs per task; a third of the datasets are raw tables nobody here writes.
  const uint32_t tasks =
      static_cast<uint32_t>(std::clamp<uint64_t>(options.events / 100, 16, 20'000));
  std::vector<Dataset> datasets;
  for (uint32_t r = 0; r < tasks / 2 + 1; ++r) {
    datasets.push_back(
        {"postgres://oltp.internal:5432",
         "shop.public." + std::string(kDomains[r % kDomains.size()]) + "_" + std::to_string(r),
         4 + static_cast<int>(r % 5)});
  }
  std::vector<Task> world(tasks);
  for (uint32_t t = 0; t < tasks; ++t) {
    const int outputs = 1 + static_cast<int>(Below(rng, 2));
    for (int o = 0; o < outputs; ++o) {
      world[t].outputs.push_back(static_cast<uint32_t>(datasets.size()));
      const bool lake = Below(rng, 3) != 0;
      datasets.push_back({lake ? "s3://lake" : "postgres://warehouse.internal:5432",
                          (lake ? "curated/dag_" : "analytics.dag_") +
                              std::to_string(t / kTasksPerDag) + (lake ? "/task_" : ".task_") +
                              std::to_string(t % kTasksPerDag) + "_out" + std::to_string(o),
                          3 + static_cast<int>(Below(rng, 6))});
    }
    const int inputs = 2 + static_cast<int>(Below(rng, 4));
    while (static_cast<int>(world[t].inputs.size()) < inputs) {
      uint32_t d;
      if (t > 0 && Chance(rng, 50)) {
        const uint32_t upstream =
            t - 1 - static_cast<uint32_t>(Below(rng, std::min<uint32_t>(t, 64)));
        d = world[upstream].outputs[Below(rng, world[upstream].outputs.size())];
      } else {
        d = static_cast<uint32_t>(Below(rng, tasks / 2 + 1));
      }
      if (std::find(world[t].inputs.begin(), world[t].inputs.end(), d) == world[t].inputs.end()) {
        world[t].inputs.push_back(d);
      }
    }
  }

  std::vector<std::string> events;
  events.reserve(options.events);
  const common::TimePoint start = common::FromUnixSeconds(1'795'000'000);
  for (uint64_t n = 0; n < options.events; ++n) {
    const uint32_t t = static_cast<uint32_t>(Below(rng, tasks));
    const uint32_t dag = t / kTasksPerDag;
    const std::string dag_name = "dag_" + std::to_string(dag);
    const std::string task_name = dag_name + ".task_" + std::to_string(t % kTasksPerDag);
    const common::TimePoint time = start + std::chrono::milliseconds(20 * n + Below(rng, 20));
    const common::TimePoint nominal = start + std::chrono::hours((20 * n / 1000) / 3600);
    // The code changes kCodeVersions times over the events.
    const std::string commit = Hex(options.seed, 100 + t, n * kCodeVersions / options.events, 40);

    json nominal_time = Facet("1-0-1/NominalTimeRunFacet.json");
    nominal_time["nominalStartTime"] = common::FormatRfc3339(nominal);
    json parent = Facet("1-2-0/ParentRunFacet.json");
    parent["run"] = {{"runId", Uuid(options.seed, 8, (uint64_t{dag} << 32) | (n / 5000))}};
    parent["job"] = {{"namespace", "airflow"}, {"name", dag_name}};
    json location = Facet("1-1-0/SourceCodeLocationJobFacet.json");
    location["type"] = "git";
    location["url"] =
        "https://github.com/acme/pipelines/blob/" + commit + "/dags/" + dag_name + ".py";
    location["repoUrl"] = "https://github.com/acme/pipelines.git";
    location["path"] = "dags/" + dag_name + ".py";
    location["version"] = commit;
    json job_type = Facet("2-0-4/JobTypeJobFacet.json");
    job_type["processingType"] = "BATCH";
    job_type["integration"] = "AIRFLOW";
    job_type["jobType"] = "TASK";

    json inputs = json::array();
    for (uint32_t d : world[t].inputs)
      inputs.push_back(DatasetJson(datasets[d], options.seed, n, false));
    json outputs = json::array();
    for (uint32_t d : world[t].outputs)
      outputs.push_back(DatasetJson(datasets[d], options.seed, n, true));
    json event = {
        {"eventType", "COMPLETE"},
        {"eventTime", common::FormatRfc3339(time)},
        {"producer", kProducer},
        {"schemaURL", "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"},
        {"run",
         {{"runId", Uuid(options.seed, 9, n)},
          {"facets", {{"nominalTime", std::move(nominal_time)}, {"parent", std::move(parent)}}}}},
        {"job",
         {{"namespace", "airflow"},
          {"name", task_name},
          {"facets",
           {{"sourceCodeLocation", std::move(location)}, {"jobType", std::move(job_type)}}}}},
        {"inputs", std::move(inputs)},
        {"outputs", std::move(outputs)}};
    events.push_back(event.dump());
  }
  return events;
}

}  // namespace custos::lineage::bench
