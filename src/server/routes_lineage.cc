// Lineage routes: record native lineage and OpenLineage RunEvents (also at Marquez's
// POST /api/v1/lineage, so any OpenLineage client can point at custos), walk and query the
// graph, export it, and verify it against the audit log. Cedar actions: "lineage_write"
// and "lineage_read" on Lineage::"main"; who accessed upstream data and verification read
// the audit log, so they need "audit_read" on AuditLog::"main".
#include "lineage/export.h"
#include "lineage/queries.h"
#include "lineage/record_json.h"
#include "lineage/verify.h"
#include "server/api.h"

namespace custos::server {
namespace {

const policy::EntityUid& LineageUid() {
  static const policy::EntityUid uid("Lineage", "main");
  return uid;
}
const policy::EntityUid& AuditLogUid() {
  static const policy::EntityUid uid("AuditLog", "main");
  return uid;
}

AuthorizeFn Require(Instance& in, std::string_view action, const policy::EntityUid& resource) {
  return [&in, action = std::string(action), &resource](RequestContext& ctx) {
    return AuthorizeWithCedar(in, ctx, action, resource);
  };
}

Reply JsonReply(const nlohmann::json& body, http::status status = http::status::ok) {
  return Reply::Json(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), status);
}

// A whole-number query parameter within [1, max] (0 allowed when `zero_ok`).
Result<uint64_t> Bounded(const RequestContext& ctx, const char* name, uint64_t fallback,
                         uint64_t max, bool zero_ok = false) {
  const std::string text = ctx.QueryOr(name, "");
  if (text.empty()) return fallback;
  const std::string what = std::string("query parameter ") + name;
  CUSTOS_ASSIGN_OR_RETURN(uint64_t value, ParseWholeNumber(text, what));
  if ((value == 0 && !zero_ok) || value > max) {
    return InvalidArgumentError(what + " must be " + (zero_ok ? "0" : "1") + ".." +
                                std::to_string(max));
  }
  return value;
}

Result<std::string> NodeParameter(const RequestContext& ctx) {
  std::string node = ctx.QueryOr("node", "");
  if (node.empty()) {
    return InvalidArgumentError(
        "query parameter node is required: a node id such as feature_view:fraud@3");
  }
  return node;
}

Result<lineage::QueryOptions> QueryOptionsOf(const RequestContext& ctx) {
  lineage::QueryOptions options;
  CUSTOS_ASSIGN_OR_RETURN(uint64_t depth, Bounded(ctx, "depth", 64, 64, true));
  CUSTOS_ASSIGN_OR_RETURN(uint64_t max_nodes, Bounded(ctx, "max_nodes", 100000, 1000000));
  options.max_depth = static_cast<uint32_t>(depth);
  options.max_nodes = max_nodes;
  return options;
}

Result<lineage::WalkOptions> WalkOptionsOf(const RequestContext& ctx,
                                           lineage::Direction direction) {
  lineage::WalkOptions options;
  options.direction = direction;
  CUSTOS_ASSIGN_OR_RETURN(uint64_t depth, Bounded(ctx, "depth", 10, 64, true));
  CUSTOS_ASSIGN_OR_RETURN(uint64_t max_nodes, Bounded(ctx, "max_nodes", 100000, 1000000));
  options.max_depth = static_cast<uint32_t>(depth);
  options.max_nodes = max_nodes;
  return options;
}

// Contributors or impact of the `node` query parameter.
using ReachFn = Result<lineage::Reach> (*)(lineage::LineageStore&, std::string_view,
                                           const lineage::QueryOptions&);
Result<Reply> ReachReply(Instance& in, RequestContext& ctx, ReachFn query) {
  CUSTOS_ASSIGN_OR_RETURN(std::string node, NodeParameter(ctx));
  CUSTOS_ASSIGN_OR_RETURN(lineage::QueryOptions options, QueryOptionsOf(ctx));
  CUSTOS_ASSIGN_OR_RETURN(lineage::Reach reach, query(in.lineage_store(), node, options));
  return JsonReply(lineage::ReachToJson(reach));
}

// One RunEvent (an object) or a batch (an array, each answered on its own).
Result<Reply> IngestOpenLineage(Instance& in, RequestContext& ctx) {
  const bool batch = ctx.body.is_array();
  std::vector<Result<nlohmann::json>> events;
  if (batch) {
    if (ctx.body.size() > 10000) {
      return InvalidArgumentError("at most 10000 OpenLineage events per request; split the batch");
    }
    for (const auto& event : ctx.body) events.emplace_back(event);
  } else {
    events.emplace_back(ctx.body);
  }
  auto results = in.openlineage().IngestParsed(std::move(events), ctx.PrincipalText());
  if (!batch) {
    if (!results.front().ok()) return results.front().status();
    return JsonReply(lineage::IngestedEventToJson(*results.front()), http::status::created);
  }
  nlohmann::json out = nlohmann::json::array();
  for (size_t i = 0; i < results.size(); ++i) {
    if (results[i].ok()) {
      out.push_back(lineage::IngestedEventToJson(*results[i]));
    } else {
      out.push_back({{"error", results[i].status().message()},
                     {"code", std::string(StatusCodeName(results[i].status().code()))},
                     {"index", i}});
    }
  }
  return JsonReply({{"results", std::move(out)}});
}

Result<Reply> Walk(Instance& in, RequestContext& ctx, lineage::Direction direction) {
  CUSTOS_ASSIGN_OR_RETURN(std::string node, NodeParameter(ctx));
  CUSTOS_ASSIGN_OR_RETURN(lineage::WalkOptions options, WalkOptionsOf(ctx, direction));
  CUSTOS_ASSIGN_OR_RETURN(lineage::Subgraph graph, in.lineage_store().Walk(node, options));
  CUSTOS_ASSIGN_OR_RETURN(std::string json,
                          lineage::ExportJson(in.lineage_store(), std::move(graph)));
  return Reply::Json(std::move(json));
}

Result<Reply> Export(Instance& in, RequestContext& ctx) {
  const std::string format = ctx.QueryOr("format", "json");
  if (format != "json" && format != "dot") {
    return InvalidArgumentError("query parameter format must be json or dot, got '" + format + "'");
  }
  const std::string direction = ctx.QueryOr("direction", "upstream");
  if (direction != "upstream" && direction != "downstream") {
    return InvalidArgumentError("query parameter direction must be upstream or downstream");
  }
  lineage::Subgraph graph;
  const std::string node = ctx.QueryOr("node", "");
  if (node.empty()) {
    CUSTOS_ASSIGN_OR_RETURN(uint64_t max_nodes, Bounded(ctx, "max_nodes", 100000, 1000000));
    CUSTOS_ASSIGN_OR_RETURN(graph, lineage::WholeGraph(in.lineage_store(), max_nodes));
  } else {
    CUSTOS_ASSIGN_OR_RETURN(
        lineage::WalkOptions options,
        WalkOptionsOf(ctx, direction == "upstream" ? lineage::Direction::kUpstream
                                                   : lineage::Direction::kDownstream));
    CUSTOS_ASSIGN_OR_RETURN(graph, in.lineage_store().Walk(node, options));
  }
  if (format == "json") {
    CUSTOS_ASSIGN_OR_RETURN(std::string json,
                            lineage::ExportJson(in.lineage_store(), std::move(graph)));
    return Reply::Json(std::move(json));
  }
  CUSTOS_ASSIGN_OR_RETURN(std::string dot, lineage::ExportDot(in.lineage_store(), graph));
  Reply reply = Reply::Text(std::move(dot));
  reply.content_type = "text/vnd.graphviz; charset=utf-8";
  return reply;
}

}  // namespace

void AddLineageRoutes(Router& router, Api& api) {
  Instance& in = api.instance();
  router.Add({.id = "lineage.record",
              .method = http::verb::post,
              .path = "/v1/lineage/records",
              .summary = "Record lineage: nodes and the edges among them and recorded nodes",
              .json_body = true,
              .authorize = Require(in, "lineage_write", LineageUid()),
              .handler = [&in](RequestContext& ctx) -> Result<Reply> {
                CUSTOS_ASSIGN_OR_RETURN(lineage::LineageRecord record,
                                        lineage::RecordFromJson(ctx.body));
                record.origin = "api";
                record.principal = ctx.PrincipalText();
                nlohmann::json nodes = nlohmann::json::array();
                for (const auto& node : record.nodes) nodes.push_back(node.Id());
                CUSTOS_ASSIGN_OR_RETURN(uint64_t index, in.lineage().Record(std::move(record)));
                return JsonReply({{"nodes", std::move(nodes)}, {"lineage_audit_index", index}},
                                 http::status::created);
              }});
  for (const auto& [id, path] : {std::pair{"lineage.openlineage", "/v1/lineage/openlineage"},
                                 std::pair{"lineage.marquez", "/api/v1/lineage"}}) {
    router.Add({.id = id,
                .method = http::verb::post,
                .path = path,
                .summary = "OpenLineage RunEvents in (one event, or an array of events)",
                .json_body = true,
                .json_array_ok = true,
                .audit_action = "lineage.openlineage",
                .authorize = Require(in, "lineage_write", LineageUid()),
                .handler = [&in](RequestContext& ctx) { return IngestOpenLineage(in, ctx); }});
  }
  router.Add({.id = "lineage.node",
              .method = http::verb::get,
              .path = "/v1/lineage/node",
              .summary = "One node: what was recorded and by which record",
              .authorize = Require(in, "lineage_read", LineageUid()),
              .handler = [&in](RequestContext& ctx) -> Result<Reply> {
                CUSTOS_ASSIGN_OR_RETURN(std::string id, NodeParameter(ctx));
                CUSTOS_ASSIGN_OR_RETURN(auto stored, in.lineage_store().GetNode(id));
                if (!stored) return NotFoundError("no lineage node '" + id + "'");
                nlohmann::json out = lineage::NodeToJson(stored->node);
                CUSTOS_ASSIGN_OR_RETURN(auto record,
                                        in.lineage_store().GetRecord(stored->record_seq));
                if (record) {
                  out["recorded"] = {{"by", record->principal},
                                     {"origin", record->origin},
                                     {"at", common::FormatRfc3339(record->time)}};
                }
                return JsonReply(out);
              }});
  router.Add({.id = "lineage.upstream",
              .method = http::verb::get,
              .path = "/v1/lineage/upstream",
              .summary = "What a node was derived from, to a depth",
              .authorize = Require(in, "lineage_read", LineageUid()),
              .handler = [&in](RequestContext& ctx) {
                return Walk(in, ctx, lineage::Direction::kUpstream);
              }});
  router.Add({.id = "lineage.downstream",
              .method = http::verb::get,
              .path = "/v1/lineage/downstream",
              .summary = "What was derived from a node, to a depth",
              .authorize = Require(in, "lineage_read", LineageUid()),
              .handler = [&in](RequestContext& ctx) {
                return Walk(in, ctx, lineage::Direction::kDownstream);
              }});
  router.Add({.id = "lineage.contributors",
              .method = http::verb::get,
              .path = "/v1/lineage/contributors",
              .summary = "Feature-view versions, sources and principals that contributed to a node",
              .authorize = Require(in, "lineage_read", LineageUid()),
              .handler = [&in](RequestContext& ctx) {
                return ReachReply(in, ctx, lineage::ContributorsOf);
              }});
  router.Add(
      {.id = "lineage.impact",
       .method = http::verb::get,
       .path = "/v1/lineage/impact",
       .summary = "Everything derived from a node: what a bad source affects",
       .authorize = Require(in, "lineage_read", LineageUid()),
       .handler = [&in](RequestContext& ctx) { return ReachReply(in, ctx, lineage::ImpactOf); }});
  router.Add({.id = "lineage.accesses",
              .method = http::verb::get,
              .path = "/v1/lineage/accesses",
              .summary = "Who accessed data that flowed into a node (from the audit log)",
              .authorize = Require(in, "audit_read", AuditLogUid()),
              .handler = [&in](RequestContext& ctx) -> Result<Reply> {
                CUSTOS_ASSIGN_OR_RETURN(std::string node, NodeParameter(ctx));
                CUSTOS_ASSIGN_OR_RETURN(uint64_t limit, Bounded(ctx, "limit", 1000, 10000));
                CUSTOS_ASSIGN_OR_RETURN(lineage::QueryOptions options, QueryOptionsOf(ctx));
                CUSTOS_ASSIGN_OR_RETURN(lineage::AccessReport report,
                                        lineage::AccessesUpstreamOf(in.lineage_store(), in.audit(),
                                                                    node, limit, options));
                return JsonReply(lineage::AccessReportToJson(report));
              }});
  router.Add({.id = "lineage.export",
              .method = http::verb::get,
              .path = "/v1/lineage/export",
              .summary = "The graph (or a walk from a node) as JSON or Graphviz DOT",
              .authorize = Require(in, "lineage_read", LineageUid()),
              .handler = [&in](RequestContext& ctx) { return Export(in, ctx); }});
  router.Add({.id = "lineage.verify",
              .method = http::verb::post,
              .path = "/v1/lineage/verify",
              .summary = "Check every lineage record against its audit event and re-hash content",
              .authorize = Require(in, "audit_read", AuditLogUid()),
              .handler = [&in](RequestContext&) -> Result<Reply> {
                CUSTOS_ASSIGN_OR_RETURN(lineage::VerifyReport report,
                                        lineage::VerifyLineage(in.lineage_store(), in.audit()));
                return JsonReply(lineage::VerifyReportToJson(report));
              }});
}

}  // namespace custos::server
