// `custos apply <repo>` and `custos catalog list|show`: publishing a feature repository
// (docs/repository.md) and reading what is published.
#include <cstdlib>
#include <iostream>
#include <memory>

#include "audit/log.h"
#include "audit/log_signer.h"
#include "catalog/catalog_store.h"
#include "catalog/duration.h"
#include "catalog/governance.h"
#include "catalog/repository.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "cli/unseal_input.h"

namespace custos::cli {
namespace {

struct CatalogFlags {
  std::string dir;
  UnsealFlags unseal;
  std::string repo;
  std::string view;
  std::string as;
  bool dry_run = false;
  bool prune = false;
};

void AddDirFlags(CLI::App* cmd, CatalogFlags& f, bool required) {
  auto* dir = cmd->add_option("--dir", f.dir, "Data directory");
  if (required) dir->required();
  cmd->add_option("--shares-file", f.unseal.shares_file, "Unseal shares, one per line (- = stdin)");
  cmd->add_option("--passphrase-file", f.unseal.passphrase_file, "Passphrase file (- = stdin)");
  cmd->add_option("--pin-file", f.unseal.pin_file, "PKCS#11 PIN file (- = stdin)");
}

// The open data directory with the audit log, governance registry and catalog store.
struct OpenCatalog {
  std::unique_ptr<storage::DataDir> dir;
  common::SystemClock clock;
  std::unique_ptr<audit::AuditLog> log;
  std::unique_ptr<catalog::GovernanceRegistry> governance;
  std::unique_ptr<catalog::CatalogStore> store;
  ~OpenCatalog() {
    store.reset();
    governance.reset();
    if (log) log->Close();
  }
};

Result<std::unique_ptr<OpenCatalog>> Open(const CatalogFlags& f) {
  auto out = std::make_unique<OpenCatalog>();
  CUSTOS_ASSIGN_OR_RETURN(out->dir, OpenDataDir(f.dir, f.unseal));
  audit::LogOptions options;
  options.background_checkpoints = false;
  options.public_key_path = f.dir + "/" + std::string(audit::kPublicKeyFileName);
  CUSTOS_ASSIGN_OR_RETURN(out->log,
                          audit::AuditLog::Open(out->dir->kv(), out->dir->keyring(), options));
  CUSTOS_ASSIGN_OR_RETURN(out->governance,
                          catalog::GovernanceRegistry::Open(out->dir->kv(), out->dir->keyring(),
                                                            *out->log, out->clock));
  CUSTOS_ASSIGN_OR_RETURN(
      out->store, catalog::CatalogStore::Open(out->dir->kv(), out->dir->keyring(), *out->log,
                                              *out->governance, out->clock));
  return out;
}

// The acting principal: --as, else User::"$USER" (embedded mode acts for the local operator).
Result<policy::EntityUid> Actor(const CatalogFlags& f) {
  if (!f.as.empty()) return catalog::ParseEntityUidText(f.as);
  const char* user = std::getenv("USER");
  return policy::EntityUid("User", user != nullptr && *user != '\0' ? user : "operator");
}

int RunApply(const CatalogFlags& f) {
  if (f.dir.empty() && !f.dry_run) {
    return Fail(InvalidArgumentError(
        "--dir is required to publish; pass --dry-run to only validate and plan"));
  }
  auto actor = Actor(f);
  if (!actor.ok()) return Fail(actor.status().WithContext("--as"));
  auto repo = catalog::LoadRepository(f.repo);
  if (!repo.ok()) return Fail(repo.status());
  std::cout << "Repository " << f.repo << ": " << repo->entities.size() << " entities, "
            << repo->sources.size() << " sources, " << repo->views.size() << " feature views, "
            << repo->services.size() << " feature services; valid.\n";
  if (f.dir.empty()) {
    // Dry run without a data directory: the plan against an empty catalog.
    catalog::ApplyPlan plan = catalog::MakePlan({}, *repo, {.prune = f.prune});
    std::cout << catalog::FormatPlan(plan) << "Dry run: nothing published.\n";
    return 0;
  }
  auto open = Open(f);
  if (!open.ok()) return Fail(open.status());
  auto plan = (*open)->store->Plan(*repo, {.prune = f.prune});
  if (!plan.ok()) return Fail(plan.status());
  std::cout << catalog::FormatPlan(*plan);
  if (f.dry_run) {
    std::cout << "Dry run: nothing published.\n";
    return 0;
  }
  if (!plan->HasChanges()) {
    std::cout << "Nothing to publish.\n";
    return 0;
  }
  auto result = (*open)->store->Apply(*plan, *actor);
  if (!result.ok()) return Fail(result.status());
  std::cout << "Published catalog generation " << result->generation << " (" << result->changed
            << " changes), audit entry " << result->audit_index << ".\n";
  return 0;
}

std::string Principals(const std::vector<policy::EntityUid>& list) {
  std::string out;
  for (const auto& p : list) out += (out.empty() ? "" : ", ") + p.ToString();
  return out.empty() ? "-" : out;
}

int RunList(const CatalogFlags& f) {
  auto open = Open(f);
  if (!open.ok()) return Fail(open.status());
  auto state = (*open)->store->Load();
  if (!state.ok()) return Fail(state.status());
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
  return 0;
}

int RunShow(const CatalogFlags& f) {
  auto open = Open(f);
  if (!open.ok()) return Fail(open.status());
  auto view = (*open)->store->ResolveView(f.view);
  if (!view.ok()) return Fail(view.status());
  auto versions = (*open)->store->ListVersions(f.view);
  if (!versions.ok()) return Fail(versions.status());
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
  return 0;
}

}  // namespace

void AddCatalogCommands(CLI::App& app, int* exit_code) {
  auto apply = std::make_shared<CatalogFlags>();
  CLI::App* cmd = app.add_subcommand(
      "apply", "Validate a feature repository (docs/repository.md), print the plan, publish it");
  cmd->add_option("repo", apply->repo, "Repository directory (YAML files)")->required();
  AddDirFlags(cmd, *apply, /*required=*/false);
  cmd->add_flag("--dry-run", apply->dry_run, "Validate and print the plan; publish nothing");
  cmd->add_flag("--prune", apply->prune,
                "Remove published objects that are not in the repository (default: keep)");
  cmd->add_option("--as", apply->as,
                  "Acting principal for the audit log, e.g. User::\"alice\" (default: $USER)");
  cmd->callback([apply, exit_code] { *exit_code = RunApply(*apply); });

  CLI::App* catalog = app.add_subcommand("catalog", "What `custos apply` published");
  catalog->require_subcommand(1);
  auto list = std::make_shared<CatalogFlags>();
  cmd = catalog->add_subcommand("list", "Feature views, entities, sources and services");
  AddDirFlags(cmd, *list, /*required=*/true);
  cmd->callback([list, exit_code] { *exit_code = RunList(*list); });

  auto show = std::make_shared<CatalogFlags>();
  cmd = catalog->add_subcommand("show", "One feature view: metadata, features, versions");
  cmd->add_option("view", show->view, "Feature view name")->required();
  AddDirFlags(cmd, *show, /*required=*/true);
  cmd->callback([show, exit_code] { *exit_code = RunShow(*show); });
}

}  // namespace custos::cli
