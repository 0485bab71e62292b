// Strict JSON <-> lineage record conversion (see record_json.h).
#include "lineage/record_json.h"

#include <initializer_list>
#include <string>

namespace custos::lineage {
namespace {

using nlohmann::json;

Status Refuse(const std::string& pointer, const std::string& what) {
  return InvalidArgumentError(pointer + ": " + what);
}

Status OnlyMembers(const json& object, const std::string& pointer,
                   std::initializer_list<std::string_view> allowed) {
  for (auto it = object.begin(); it != object.end(); ++it) {
    bool known = false;
    std::string list;
    for (std::string_view name : allowed) {
      known = known || it.key() == name;
      list += (list.empty() ? "" : ", ") + std::string(name);
    }
    if (!known) {
      return Refuse(pointer + "/" + it.key(), "unknown member; the accepted members are " + list);
    }
  }
  return Status::Ok();
}

// A string member; `required` ones must be present and non-empty.
Result<std::string> StringAt(const json& object, const std::string& pointer, const char* name,
                             bool required) {
  auto it = object.find(name);
  if (it == object.end() || it->is_null()) {
    if (required) return Refuse(pointer + "/" + name, "missing; give a string");
    return std::string();
  }
  if (!it->is_string()) return Refuse(pointer + "/" + name, "must be a string");
  std::string value = it->get<std::string>();
  if (required && value.empty()) return Refuse(pointer + "/" + name, "must not be empty");
  return value;
}

Result<const json*> ArrayAt(const json& body, const char* name) {
  auto it = body.find(name);
  if (it == body.end()) return static_cast<const json*>(nullptr);
  if (!it->is_array()) return Refuse(std::string("/") + name, "must be an array");
  return &*it;
}

Result<Node> NodeFromJson(const json& value, const std::string& pointer) {
  if (!value.is_object()) return Refuse(pointer, "a node must be an object");
  CUSTOS_RETURN_IF_ERROR(
      OnlyMembers(value, pointer, {"kind", "name", "version", "content_sha256", "attributes"}));
  Node node;
  CUSTOS_ASSIGN_OR_RETURN(std::string kind, StringAt(value, pointer, "kind", true));
  auto parsed_kind = ParseNodeKind(kind);
  if (!parsed_kind.ok()) return Refuse(pointer + "/kind", parsed_kind.status().message());
  node.kind = *parsed_kind;
  CUSTOS_ASSIGN_OR_RETURN(node.name, StringAt(value, pointer, "name", true));
  CUSTOS_ASSIGN_OR_RETURN(node.version, StringAt(value, pointer, "version", false));
  CUSTOS_ASSIGN_OR_RETURN(node.content_sha256, StringAt(value, pointer, "content_sha256", false));
  if (auto attributes = value.find("attributes"); attributes != value.end()) {
    if (!attributes->is_object()) {
      return Refuse(pointer + "/attributes", "must be an object of strings");
    }
    for (auto it = attributes->begin(); it != attributes->end(); ++it) {
      if (!it->is_string()) {
        return Refuse(pointer + "/attributes/" + it.key(), "must be a string");
      }
      node.attributes[it.key()] = it->get<std::string>();
    }
  }
  if (Status valid = ValidateNode(node); !valid.ok()) return Refuse(pointer, valid.message());
  return node;
}

Result<Edge> EdgeFromJson(const json& value, const std::string& pointer) {
  if (!value.is_object()) return Refuse(pointer, "an edge must be an object");
  CUSTOS_RETURN_IF_ERROR(OnlyMembers(value, pointer, {"from", "to", "run_id", "time"}));
  Edge edge;
  CUSTOS_ASSIGN_OR_RETURN(edge.from, StringAt(value, pointer, "from", true));
  CUSTOS_ASSIGN_OR_RETURN(edge.to, StringAt(value, pointer, "to", true));
  CUSTOS_ASSIGN_OR_RETURN(edge.run_id, StringAt(value, pointer, "run_id", false));
  CUSTOS_ASSIGN_OR_RETURN(std::string time, StringAt(value, pointer, "time", false));
  if (!time.empty()) {
    auto parsed = common::ParseRfc3339(time);
    if (!parsed.ok()) return Refuse(pointer + "/time", parsed.status().message());
    edge.time = *parsed;
  }
  return edge;
}

}  // namespace

Result<LineageRecord> RecordFromJson(const json& body) {
  if (!body.is_object()) {
    return InvalidArgumentError(
        "a lineage record must be a JSON object with \"nodes\" and/or "
        "\"edges\"");
  }
  CUSTOS_RETURN_IF_ERROR(OnlyMembers(body, "", {"nodes", "edges"}));
  LineageRecord record;
  CUSTOS_ASSIGN_OR_RETURN(const json* nodes, ArrayAt(body, "nodes"));
  CUSTOS_ASSIGN_OR_RETURN(const json* edges, ArrayAt(body, "edges"));
  if (nodes != nullptr) {
    if (nodes->size() > kMaxNodesPerRecord) {
      return Refuse("/nodes", "at most " + std::to_string(kMaxNodesPerRecord) +
                                  " nodes per record; split it");
    }
    for (size_t i = 0; i < nodes->size(); ++i) {
      CUSTOS_ASSIGN_OR_RETURN(Node node, NodeFromJson((*nodes)[i], "/nodes/" + std::to_string(i)));
      record.nodes.push_back(std::move(node));
    }
  }
  if (edges != nullptr) {
    if (edges->size() > kMaxEdgesPerRecord) {
      return Refuse("/edges", "at most " + std::to_string(kMaxEdgesPerRecord) +
                                  " edges per record; split it");
    }
    for (size_t i = 0; i < edges->size(); ++i) {
      CUSTOS_ASSIGN_OR_RETURN(Edge edge, EdgeFromJson((*edges)[i], "/edges/" + std::to_string(i)));
      record.edges.push_back(std::move(edge));
    }
  }
  return record;
}

json NodeToJson(const Node& node) {
  json out = {{"id", node.Id()},
              {"kind", NodeKindName(node.kind)},
              {"name", node.name},
              {"version", node.version}};
  if (!node.content_sha256.empty()) out["content_sha256"] = node.content_sha256;
  out["attributes"] = node.attributes;
  return out;
}

json ReachToJson(const Reach& reach) {
  json by_kind = json::object();
  for (const auto& [kind, ids] : reach.by_kind) by_kind[std::string(NodeKindName(kind))] = ids;
  return {{"node", reach.start},
          {"by_kind", std::move(by_kind)},
          {"principals", reach.principals},
          {"truncated", reach.truncated}};
}

json AccessReportToJson(const AccessReport& report) {
  json accesses = json::array();
  for (const Access& a : report.accesses) {
    accesses.push_back({{"audit_index", a.audit_index},
                        {"time", common::FormatRfc3339(a.time)},
                        {"principal", a.principal},
                        {"action", a.action},
                        {"purpose", a.purpose},
                        {"resource", a.resource},
                        {"node", a.node_id},
                        {"decision", a.allowed ? "allow" : "deny"}});
  }
  return {{"accesses", std::move(accesses)}, {"truncated", report.truncated}};
}

json VerifyReportToJson(const VerifyReport& report) {
  return {{"ok", report.ok()},
          {"records_checked", report.records_checked},
          {"content_hashes_checked", report.content_hashes_checked},
          {"content_not_available", report.content_not_available},
          {"problems", report.problems}};
}

json IngestedEventToJson(const IngestedEvent& event) {
  return {{"run_id", event.run_id},
          {"event_type", event.event_type},
          {"nodes", event.nodes},
          {"edges", event.edges},
          {"lineage_audit_index", event.audit_index}};
}

}  // namespace custos::lineage
