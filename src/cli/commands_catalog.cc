// `custos apply <repo>` and `custos catalog list|show`: publishing a feature repository
// (docs/repository.md) and reading what is published.
#include <cstdlib>
#include <iostream>
#include <memory>

#include "catalog/catalog_store.h"
#include "catalog/duration.h"
#include "catalog/repository.h"
#include "cli/commands.h"
#include "cli/instance_flags.h"
#include "cli/output.h"
#include "lineage/capture.h"

namespace custos::cli {
namespace {

struct CatalogFlags {
  InstanceFlags instance;
  std::string repo;
  std::string view;
  bool dry_run = false;
  bool prune = false;
};

// The acting principal recorded for an apply: --as / --token-file, else the operator.
Result<policy::EntityUid> Actor(server::Instance& in, const CatalogFlags& f) {
  CUSTOS_ASSIGN_OR_RETURN(Acting acting, ResolveActing(in, f.instance));
  if (acting.principal) return acting.principal->ToEntityUid();
  return policy::EntityUid("User", "operator");
}

int RunApply(const CatalogFlags& f) {
  if (f.instance.dir.empty() && !f.dry_run) {
    return Fail(InvalidArgumentError(
        "--dir is required to publish; pass --dry-run to only validate and plan"));
  }
  auto repo = catalog::LoadRepository(f.repo);
  if (!repo.ok()) return Fail(repo.status());
  std::cout << "Repository " << f.repo << ": " << repo->entities.size() << " entities, "
            << repo->sources.size() << " sources, " << repo->views.size() << " feature views, "
            << repo->services.size() << " feature services; valid.\n";
  if (f.instance.dir.empty()) {
    // Dry run without a data directory: the plan against an empty catalog.
    catalog::ApplyPlan plan = catalog::MakePlan({}, *repo, {.prune = f.prune});
    std::cout << catalog::FormatPlan(plan) << "Dry run: nothing published.\n";
    return 0;
  }
  return RunWithInstance(f.instance, [&](server::Instance& in) -> Status {
    CUSTOS_ASSIGN_OR_RETURN(policy::EntityUid actor, Actor(in, f));
    CUSTOS_ASSIGN_OR_RETURN(catalog::ApplyPlan plan, in.catalog().Plan(*repo, {.prune = f.prune}));
    std::cout << catalog::FormatPlan(plan);
    if (f.dry_run) {
      std::cout << "Dry run: nothing published.\n";
      return Status::Ok();
    }
    if (!plan.HasChanges()) {
      std::cout << "Nothing to publish.\n";
      return Status::Ok();
    }
    CUSTOS_ASSIGN_OR_RETURN(catalog::ApplyResult result, in.catalog().Apply(plan, actor));
    std::cout << "Published catalog generation " << result.generation << " (" << result.changed
              << " changes), audit entry " << result.audit_index << ".\n";
    auto lineage_index = lineage::CaptureApply(in.lineage(), plan, actor.ToString());
    if (!lineage_index.ok()) {
      return lineage_index.status().WithContext("published, but its lineage was not recorded");
    }
    return Status::Ok();
  });
}

std::string Principals(const std::vector<policy::EntityUid>& list) {
  std::string out;
  for (const auto& p : list) out += (out.empty() ? "" : ", ") + p.ToString();
  return out.empty() ? "-" : out;
}

Status RunList(server::Instance& in, const CatalogFlags&) {
  CUSTOS_ASSIGN_OR_RETURN(catalog::CatalogState loaded, in.catalog().Load());
  const catalog::CatalogState* state = &loaded;
  std::cout << "Catalog generation " << state->generation << "\n";
  std::cout << "Feature views:\n";
  for (const auto& [name, v] : state->views) {
    std::cout << "  " << name << "  v" << v.latest_version << "  "
              << catalog::ClassificationName(v.spec.classification) << "  "
              << v.spec.features.size() << " features  owners " << Principals(v.spec.owners)
              << (v.removed ? "  (removed)" : "") << "\n";
  }
  std::cout << "Entities:\n";
  for (const auto& [name, e] : state->entities) {
    std::string keys;
    for (const auto& k : e.spec.join_keys) {
      keys += (keys.empty() ? "" : ", ") + k.name + " " + catalog::ValueTypeName(k.type);
    }
    std::cout << "  " << name << "  (" << keys << ")" << (e.removed ? "  (removed)" : "") << "\n";
  }
  std::cout << "Sources:\n";
  for (const auto& [name, s] : state->sources) {
    std::cout << "  " << name << "  " << catalog::SourceKindName(s.spec.kind) << "  "
              << (s.spec.path.empty() ? (s.spec.table.empty() ? "(query)" : s.spec.table)
                                      : s.spec.path)
              << (s.removed ? "  (removed)" : "") << "\n";
  }
  std::cout << "Feature services:\n";
  for (const auto& [name, s] : state->services) {
    std::cout << "  " << name << "  " << s.spec.features.size() << " references"
              << (s.removed ? "  (removed)" : "") << "\n";
  }
  return Status::Ok();
}

Status RunShow(server::Instance& in, const CatalogFlags& f) {
  CUSTOS_ASSIGN_OR_RETURN(catalog::ResolvedView resolved, in.catalog().ResolveView(f.view));
  CUSTOS_ASSIGN_OR_RETURN(std::vector<catalog::ViewVersion> listed,
                          in.catalog().ListVersions(f.view));
  const catalog::ResolvedView* view = &resolved;
  const std::vector<catalog::ViewVersion>* versions = &listed;
  const catalog::FeatureView& v = view->view;
  std::cout << "Feature view " << v.name << " (version " << view->version.version
            << (view->current ? "" : ", removed") << ")\n";
  if (!v.description.empty()) std::cout << "  " << v.description << "\n";
  std::cout << "  classification " << catalog::ClassificationName(v.classification) << "\n  owners "
            << Principals(v.owners) << "\n  stewards " << Principals(v.stewards) << "\n  ttl "
            << catalog::FormatDuration(v.ttl_seconds) << ", retention "
            << catalog::FormatDuration(v.retention_seconds) << ", online "
            << (v.online ? "true" : "false") << "\n  source " << view->version.schema.source.name
            << " (" << catalog::SourceKindName(view->version.schema.source.kind) << ")\n";
  std::cout << "  entities:";
  for (const auto& e : view->version.schema.entities) {
    std::cout << " " << e.name << "(";
    for (size_t i = 0; i < e.join_keys.size(); ++i) {
      std::cout << (i ? ", " : "") << e.join_keys[i].name << " "
                << catalog::ValueTypeName(e.join_keys[i].type);
    }
    std::cout << ")";
  }
  std::cout << "\n  features:\n";
  for (const auto& feature : view->features) {
    std::cout << "    " << feature.name << "  " << catalog::ValueTypeName(feature.type) << "  "
              << catalog::ClassificationName(feature.classification) << "  mask "
              << (feature.mask ? catalog::MaskRuleText(*feature.mask) : "-") << "\n";
  }
  std::cout << "  versions:\n";
  for (const auto& ver : *versions) {
    std::cout << "    v" << ver.version << "  created " << common::FormatRfc3339(ver.created);
    if (ver.retired) std::cout << "  retired " << common::FormatRfc3339(*ver.retired);
    if (auto ends = ver.RetentionEnds()) {
      std::cout << "  retention ends " << common::FormatRfc3339(*ends);
    }
    if (ver.purged) std::cout << "  purged";
    std::cout << "  key owner " << ver.KeyOwner() << "\n";
  }
  return Status::Ok();
}

}  // namespace

void AddCatalogCommands(CLI::App& app, int* exit_code) {
  auto apply = std::make_shared<CatalogFlags>();
  CLI::App* cmd = app.add_subcommand(
      "apply", "Validate a feature repository (docs/repository.md), print the plan, publish it");
  cmd->add_option("repo", apply->repo, "Repository directory (YAML files)")->required();
  AddActingFlags(cmd, apply->instance);
  cmd->add_flag("--dry-run", apply->dry_run, "Validate and print the plan; publish nothing");
  cmd->add_flag("--prune", apply->prune,
                "Remove published objects that are not in the repository (default: keep)");
  cmd->callback([apply, exit_code] { *exit_code = RunApply(*apply); });

  CLI::App* catalog = app.add_subcommand("catalog", "What `custos apply` published");
  catalog->require_subcommand(1);
  std::shared_ptr<CatalogFlags> list;
  AddInstanceSubcommand<CatalogFlags>(catalog, exit_code, "list",
                                      "Feature views, entities, sources and services", false, list,
                                      RunList);
  std::shared_ptr<CatalogFlags> show;
  cmd = AddInstanceSubcommand<CatalogFlags>(catalog, exit_code, "show",
                                            "One feature view: metadata, features, versions", false,
                                            show, RunShow);
  cmd->add_option("view", show->view, "Feature view name")->required();
}

}  // namespace custos::cli
