// Contributors, impact and upstream accesses over the lineage graph.
#include "lineage/queries.h"

#include <algorithm>
#include <set>
#include <unordered_map>
#include <utility>

namespace custos::lineage {
namespace {

Result<Reach> ReachOf(LineageStore& store, std::string_view node_id, Direction direction,
                      const QueryOptions& options) {
  WalkOptions walk_options;
  walk_options.direction = direction;
  walk_options.max_depth = options.max_depth;
  walk_options.max_nodes = options.max_nodes;
  CUSTOS_ASSIGN_OR_RETURN(Subgraph graph, store.Walk(node_id, walk_options));
  Reach reach;
  reach.start = std::string(node_id);
  reach.truncated = graph.truncated;
  std::set<std::string> principals;
  std::unordered_map<uint64_t, std::string> principal_of_record;
  for (size_t i = 1; i < graph.nodes.size(); ++i) {  // nodes[0] is the start
    const Subgraph::NodeAt& node = graph.nodes[i];
    reach.by_kind[node.kind].push_back(node.id);
    CUSTOS_ASSIGN_OR_RETURN(auto stored, store.GetNode(node.id));
    if (!stored) continue;
    auto known = principal_of_record.find(stored->record_seq);
    if (known == principal_of_record.end()) {
      CUSTOS_ASSIGN_OR_RETURN(auto record, store.GetRecord(stored->record_seq));
      known =
          principal_of_record.emplace(stored->record_seq, record ? record->principal : "").first;
    }
    if (!known->second.empty()) principals.insert(known->second);
  }
  for (auto& [kind, ids] : reach.by_kind) std::sort(ids.begin(), ids.end());
  reach.principals.assign(principals.begin(), principals.end());
  return reach;
}

// The audit resource type under which reads of a node's kind are recorded, or "".
std::string_view AuditResourceType(NodeKind kind) {
  switch (kind) {
    case NodeKind::kFeatureView:
      return "FeatureView";
    case NodeKind::kModel:
      return "Model";
    case NodeKind::kDataset:
      return "Dataset";
    case NodeKind::kTrainingSet:
      return "TrainingSet";
    default:
      return "";
  }
}

// Feature views carry their version in events; other kinds are matched by name.
std::optional<uint64_t> NumericVersion(std::string_view version) {
  if (version.empty() || version.size() > 19) return std::nullopt;
  uint64_t v = 0;
  for (char c : version) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

}  // namespace

Result<Reach> ContributorsOf(LineageStore& store, std::string_view node_id,
                             const QueryOptions& options) {
  return ReachOf(store, node_id, Direction::kUpstream, options);
}

Result<Reach> ImpactOf(LineageStore& store, std::string_view node_id, const QueryOptions& options) {
  return ReachOf(store, node_id, Direction::kDownstream, options);
}

Result<AccessReport> AccessesUpstreamOf(LineageStore& store, audit::AuditLog& audit,
                                        std::string_view node_id, size_t max_accesses,
                                        const QueryOptions& options) {
  WalkOptions walk_options;
  walk_options.direction = Direction::kUpstream;
  walk_options.max_depth = options.max_depth;
  walk_options.max_nodes = options.max_nodes;
  CUSTOS_ASSIGN_OR_RETURN(Subgraph graph, store.Walk(node_id, walk_options));
  AccessReport report;
  report.truncated = graph.truncated;
  for (const Subgraph::NodeAt& at : graph.nodes) {
    const std::string_view type = AuditResourceType(at.kind);
    if (type.empty()) continue;
    CUSTOS_ASSIGN_OR_RETURN(auto stored, store.GetNode(at.id));
    if (!stored) continue;
    const std::optional<uint64_t> version =
        at.kind == NodeKind::kFeatureView ? NumericVersion(stored->node.version) : std::nullopt;
    audit::EventQuery query;
    query.resource = std::string(type) + "::" + stored->node.name;
    query.limit = 1000;
    do {
      CUSTOS_ASSIGN_OR_RETURN(audit::QueryPage page, audit.Query(query));
      for (const audit::QueryHit& hit : page.hits) {
        const bool matches = std::any_of(hit.event.resources.begin(), hit.event.resources.end(),
                                         [&](const audit::ResourceRef& r) {
                                           return r.type == type && r.id == stored->node.name &&
                                                  (!version || r.version == *version);
                                         });
        if (!matches) continue;
        if (report.accesses.size() >= max_accesses) {
          report.truncated = true;
          break;
        }
        report.accesses.push_back(Access{hit.index, hit.event.time, hit.event.principal_id,
                                         hit.event.action, hit.event.purpose,
                                         std::string(type) + "::" + stored->node.name, at.id,
                                         hit.event.decision == audit::Decision::kAllow});
      }
      query.page_token = page.next_page_token;
    } while (!query.page_token.empty() && !report.truncated);
    if (report.truncated) break;
  }
  std::sort(report.accesses.begin(), report.accesses.end(), [](const Access& a, const Access& b) {
    return a.time != b.time ? a.time < b.time : a.audit_index < b.audit_index;
  });
  return report;
}

}  // namespace custos::lineage
