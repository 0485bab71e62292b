// JSON and Graphviz DOT renderings of lineage subgraphs.
#include "lineage/export.h"

#include <nlohmann/json.hpp>
#include <unordered_set>
#include <utility>

#include "common/clock.h"
#include "lineage/record_json.h"

namespace custos::lineage {
namespace {

// DOT's quoted string: backslash and quote escaped, line breaks as \n.
std::string DotQuoted(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  out += '"';
  return out;
}

std::string_view DotStyle(NodeKind kind) {
  switch (kind) {
    case NodeKind::kSource:
      return "shape=cylinder, fillcolor=\"#dbeafe\"";
    case NodeKind::kTransformation:
      return "shape=box, style=\"rounded,filled\", fillcolor=\"#f3f4f6\"";
    case NodeKind::kFeatureView:
      return "shape=component, fillcolor=\"#dcfce7\"";
    case NodeKind::kTrainingSet:
      return "shape=folder, fillcolor=\"#fef9c3\"";
    case NodeKind::kModel:
      return "shape=box3d, fillcolor=\"#fde68a\"";
    case NodeKind::kDeployment:
      return "shape=doubleoctagon, fillcolor=\"#fecaca\"";
    case NodeKind::kPrediction:
      return "shape=note, fillcolor=\"#e9d5ff\"";
    case NodeKind::kDataset:
      return "shape=cylinder, fillcolor=\"#e5e7eb\"";
  }
  return "shape=box";
}

}  // namespace

Result<Subgraph> WholeGraph(LineageStore& store, size_t max_nodes) {
  Subgraph graph;
  std::unordered_set<std::string> seen_nodes;
  CUSTOS_RETURN_IF_ERROR(store.ForEachRecord([&](const StoredRecord& stored) -> Status {
    if (!stored.integrity.ok()) return Status::Ok();  // `lineage verify` names it
    CUSTOS_ASSIGN_OR_RETURN(LineageRecord record, DecodeRecord(stored.bytes));
    for (const Node& node : record.nodes) {
      std::string id = node.Id();
      if (seen_nodes.contains(id)) continue;
      if (graph.nodes.size() >= max_nodes) {
        graph.truncated = true;
        return Status::Ok();
      }
      seen_nodes.insert(id);
      graph.nodes.push_back({std::move(id), node.kind, 0});
    }
    for (const Edge& edge : record.edges) {
      if (seen_nodes.contains(edge.from) && seen_nodes.contains(edge.to)) {
        graph.edges.push_back(edge);
      }
    }
    return Status::Ok();
  }));
  return graph;
}

Result<std::string> ExportJson(LineageStore& store, Subgraph graph) {
  CUSTOS_RETURN_IF_ERROR(store.FillEdgeTimes(graph));
  nlohmann::json nodes = nlohmann::json::array();
  for (const Subgraph::NodeAt& at : graph.nodes) {
    CUSTOS_ASSIGN_OR_RETURN(auto stored, store.GetNode(at.id));
    nlohmann::json node = stored ? NodeToJson(stored->node)
                                 : nlohmann::json{{"id", at.id}, {"kind", NodeKindName(at.kind)}};
    node["depth"] = at.depth;
    nodes.push_back(std::move(node));
  }
  nlohmann::json edges = nlohmann::json::array();
  for (const Edge& edge : graph.edges) {
    edges.push_back({{"from", edge.from},
                     {"to", edge.to},
                     {"run_id", edge.run_id},
                     {"time", common::FormatRfc3339(edge.time)}});
  }
  nlohmann::json out = {
      {"nodes", std::move(nodes)}, {"edges", std::move(edges)}, {"truncated", graph.truncated}};
  return out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}

Result<std::string> ExportDot(LineageStore& store, const Subgraph& graph) {
  std::string out =
      "digraph lineage {\n  rankdir=LR;\n  node [style=filled, fontname=\"Helvetica\"];\n";
  for (const Subgraph::NodeAt& at : graph.nodes) {
    CUSTOS_ASSIGN_OR_RETURN(auto stored, store.GetNode(at.id));
    std::string label = std::string(NodeKindName(at.kind)) + "\n";
    label += stored
                 ? stored->node.name +
                       (stored->node.version.empty() ? std::string() : "@" + stored->node.version)
                 : at.id;
    out += "  " + DotQuoted(at.id) + " [label=" + DotQuoted(label) + ", " +
           std::string(DotStyle(at.kind)) + "];\n";
  }
  for (const Edge& edge : graph.edges) {
    out += "  " + DotQuoted(edge.from) + " -> " + DotQuoted(edge.to);
    if (!edge.run_id.empty()) out += " [label=" + DotQuoted("run " + edge.run_id) + "]";
    out += ";\n";
  }
  if (graph.truncated) out += "  // truncated: more nodes than the export limit\n";
  out += "}\n";
  return out;
}

}  // namespace custos::lineage
