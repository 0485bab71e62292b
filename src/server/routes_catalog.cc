// Catalog routes: list and describe published feature views (Cedar action "describe" on
// Catalog::"main") and apply a repository sent as YAML files (action "apply").
#include "catalog/duration.h"
#include "catalog/repository.h"
#include "lineage/capture.h"
#include "server/api.h"
#include "server/json_views.h"

namespace custos::server {
namespace {

const policy::EntityUid& CatalogUid() {
  static const policy::EntityUid uid("Catalog", "main");
  return uid;
}

nlohmann::ordered_json Principals(const std::vector<policy::EntityUid>& list) {
  return UidList(list);
}

nlohmann::ordered_json ViewJson(const catalog::ResolvedView& view,
                                const std::vector<catalog::ViewVersion>& versions) {
  const catalog::FeatureView& v = view.view;
  nlohmann::ordered_json j;
  j["name"] = v.name;
  j["version"] = view.version.version;
  j["current"] = view.current;
  j["description"] = v.description;
  j["classification"] = catalog::ClassificationName(v.classification);
  j["owners"] = Principals(v.owners);
  j["stewards"] = Principals(v.stewards);
  j["ttl"] = catalog::FormatDuration(v.ttl_seconds);
  j["retention"] = catalog::FormatDuration(v.retention_seconds);
  j["online"] = v.online;
  j["source"] = view.version.schema.source.name;
  nlohmann::ordered_json entities = nlohmann::ordered_json::array();
  for (const auto& e : view.version.schema.entities) {
    nlohmann::ordered_json keys = nlohmann::ordered_json::array();
    for (const auto& k : e.join_keys) {
      keys.push_back({{"name", k.name}, {"type", catalog::ValueTypeName(k.type)}});
    }
    entities.push_back({{"name", e.name}, {"join_keys", std::move(keys)}});
  }
  j["entities"] = std::move(entities);
  nlohmann::ordered_json features = nlohmann::ordered_json::array();
  for (const auto& f : view.features) {
    features.push_back({{"name", f.name},
                        {"type", catalog::ValueTypeName(f.type)},
                        {"classification", catalog::ClassificationName(f.classification)},
                        {"mask", f.mask ? catalog::MaskRuleText(*f.mask) : std::string()}});
  }
  j["features"] = std::move(features);
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const auto& ver : versions) {
    nlohmann::ordered_json one{{"version", ver.version},
                               {"created", common::FormatRfc3339(ver.created)},
                               {"purged", ver.purged}};
    if (ver.retired) one["retired"] = common::FormatRfc3339(*ver.retired);
    list.push_back(std::move(one));
  }
  j["versions"] = std::move(list);
  return j;
}

Result<nlohmann::ordered_json> DescribeView(Instance& in, std::string_view name) {
  CUSTOS_ASSIGN_OR_RETURN(catalog::ResolvedView view, in.catalog().ResolveView(name));
  CUSTOS_ASSIGN_OR_RETURN(std::vector<catalog::ViewVersion> versions,
                          in.catalog().ListVersions(name));
  return ViewJson(view, versions);
}

Result<std::vector<catalog::RepositoryFile>> FilesOf(const nlohmann::json& body) {
  auto it = body.find("files");
  if (it == body.end() || !it->is_object() || it->empty()) {
    return InvalidArgumentError(
        "request body: \"files\" is required: an object of YAML files, e.g. "
        "{\"files\": {\"views.yaml\": \"<yaml text>\"}}");
  }
  std::vector<catalog::RepositoryFile> files;
  for (auto f = it->begin(); f != it->end(); ++f) {
    if (!f.value().is_string()) {
      return InvalidArgumentError("request body: \"files\".\"" + f.key() +
                                  "\" must be the file's YAML text as a string");
    }
    files.push_back({f.key(), f.value().get<std::string>()});
  }
  return files;
}

}  // namespace

void AddCatalogRoutes(Router& router, Api& api) {
  Instance& in = api.instance();
  auto describe = [&in](RequestContext& ctx) {
    return AuthorizeWithCedar(in, ctx, "describe", CatalogUid());
  };
  router.Add({.id = "catalog.list",
              .method = http::verb::get,
              .path = "/v1/catalog/views",
              .summary = "Every published feature view, latest version",
              .authorize = describe,
              .handler = [&in](RequestContext&) -> Result<Reply> {
                CUSTOS_ASSIGN_OR_RETURN(catalog::CatalogState state, in.catalog().Load());
                nlohmann::ordered_json views = nlohmann::ordered_json::array();
                for (const auto& [name, v] : state.views) {
                  if (v.removed) continue;
                  CUSTOS_ASSIGN_OR_RETURN(nlohmann::ordered_json j, DescribeView(in, name));
                  views.push_back(std::move(j));
                }
                nlohmann::ordered_json out;
                out["generation"] = state.generation;
                out["views"] = std::move(views);
                return Reply::Json(out.dump());
              }});
  router.Add({.id = "catalog.get",
              .method = http::verb::get,
              .path = "/v1/catalog/views/{name}",
              .summary = "One feature view: features, classification, masks, versions",
              .authorize = describe,
              .handler = [&in](RequestContext& ctx) -> Result<Reply> {
                CUSTOS_ASSIGN_OR_RETURN(nlohmann::ordered_json j,
                                        DescribeView(in, *ctx.Param("name")));
                return Reply::Json(j.dump());
              }});
  router.Add(
      {.id = "catalog.apply",
       .method = http::verb::post,
       .path = "/v1/catalog/apply",
       .summary = "Validate, plan and publish a feature repository (YAML files)",
       .json_body = true,
       .authorize =
           [&in](RequestContext& ctx) {
             return AuthorizeWithCedar(in, ctx, "apply", CatalogUid());
           },
       .handler = [&in](RequestContext& ctx) -> Result<Reply> {
         CUSTOS_ASSIGN_OR_RETURN(std::vector<catalog::RepositoryFile> files, FilesOf(ctx.body));
         catalog::LoadReport report = catalog::ParseRepositoryFiles(files);
         CUSTOS_RETURN_IF_ERROR(report.ToStatus());
         const bool dry_run = ctx.body.value("dry_run", false);
         const bool prune = ctx.body.value("prune", false);
         CUSTOS_ASSIGN_OR_RETURN(catalog::ApplyPlan plan,
                                 in.catalog().Plan(report.repository, {.prune = prune}));
         nlohmann::ordered_json out;
         out["plan"] = catalog::FormatPlan(plan);
         out["changes"] = plan.HasChanges();
         out["applied"] = false;
         if (!dry_run && plan.HasChanges()) {
           CUSTOS_ASSIGN_OR_RETURN(catalog::ApplyResult result,
                                   in.catalog().Apply(plan, ctx.principal->ToEntityUid()));
           out["applied"] = true;
           out["generation"] = result.generation;
           out["changed"] = result.changed;
           out["catalog_audit_index"] = result.audit_index;
           auto lineage_index = lineage::CaptureApply(in.lineage(), plan, ctx.PrincipalText());
           if (!lineage_index.ok()) {
             return lineage_index.status().WithContext(
                 "published, but its lineage was not recorded");
           }
           out["lineage_audit_index"] = *lineage_index;
         }
         return Reply::Json(out.dump());
       }});
}

}  // namespace custos::server
