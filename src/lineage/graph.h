// The provenance graph's vocabulary: nodes (source snapshots, transformations, feature-view
// versions, training sets, models, deployments, prediction batches, outside datasets),
// edges (derived-from, with the run that made them) and the record that adds both at once.
//
// A node's id names one immutable version of something: "<kind>:<name>@<version>", e.g.
// "feature_view:fraud@3" or "source:s3://bank/tx.csv@sha256:9f86d0...". Because versions
// are immutable and new data makes new versions, the graph is a DAG; a record that would
// close a cycle is refused.
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"

namespace custos::lineage {

enum class NodeKind : uint8_t {
  kSource = 1,          // a snapshot of raw input data (content SHA-256)
  kTransformation = 2,  // code that derives outputs from inputs (code reference and hash)
  kFeatureView = 3,     // one version of a feature view
  kTrainingSet = 4,     // a built training set (its manifest's SHA-256)
  kModel = 5,           // a model artifact version
  kDeployment = 6,      // a model version serving in an environment
  kPrediction = 7,      // a batch of predictions
  kDataset = 8,         // a dataset known only from OpenLineage (namespace/name)
};

// "source", "transformation", "feature_view", ...; ParseNodeKind is the inverse and
// names the accepted kinds when it fails.
std::string_view NodeKindName(NodeKind kind);
Result<NodeKind> ParseNodeKind(std::string_view text);

// Limits that keep one record bounded (the API refuses larger ones with the limit named).
inline constexpr size_t kMaxNameBytes = 512;
inline constexpr size_t kMaxVersionBytes = 128;
inline constexpr size_t kMaxAttributeBytes = 4096;
inline constexpr size_t kMaxAttributes = 32;
inline constexpr size_t kMaxNodesPerRecord = 10000;
inline constexpr size_t kMaxEdgesPerRecord = 50000;

struct Node {
  NodeKind kind = NodeKind::kDataset;
  std::string name;     // e.g. "fraud", "s3://bank/tx.csv", "airflow/train_fraud"
  std::string version;  // e.g. "3", "sha256:<hex>", "run:<uuid>"; may be empty
  // Lowercase hex SHA-256 of the content this version stands for (source bytes, code,
  // manifest, artifact), when known: what `custos lineage verify` recomputes.
  std::string content_sha256;
  // Where the content lives and other facts, e.g. {"uri": ...}, {"code_ref": ...}.
  std::map<std::string, std::string> attributes;

  std::string Id() const;
  friend bool operator==(const Node&, const Node&) = default;
};

// "<kind>:<name>@<version>".
std::string MakeNodeId(NodeKind kind, std::string_view name, std::string_view version);

// An edge says `to` was derived from `from` (data flows from -> to), by run `run_id` at
// `time`. Two edges are the same edge when from, to and run_id are equal.
struct Edge {
  std::string from;  // node ids
  std::string to;
  std::string run_id;  // may be empty (a derivation with no run, e.g. a deployment)
  common::TimePoint time{};
  friend bool operator==(const Edge&, const Edge&) = default;
};

// What one submission adds: new nodes and the edges among them and existing nodes.
// Recording is atomic: all of it or nothing.
struct LineageRecord {
  std::string origin;     // who produced it: "custos:ingest", "openlineage:<producer uri>"
  std::string principal;  // the principal that submitted it, e.g. "User::dana"
  common::TimePoint time{};
  std::vector<Node> nodes;
  std::vector<Edge> edges;
};

// Checks one node's fields (name, version, hash and attribute limits and forms), naming
// the field and how to fix it.
Status ValidateNode(const Node& node);

// A node's bytes as stored on its own.
std::string EncodeNode(const Node& node);
Result<Node> DecodeNode(std::string_view bytes);

// The canonical bytes of a record (the same record always encodes the same way): its
// SHA-256 is what the record's audit event carries.
std::string EncodeRecord(const LineageRecord& record);
Result<LineageRecord> DecodeRecord(std::string_view bytes);

// The SHA-256 of a record's canonical bytes as "sha256:<hex>": the id its audit event
// names (resource type LineageRecord).
std::string RecordDigest(const LineageRecord& record);

}  // namespace custos::lineage
