// Computing and printing the plan of an apply: diffs of schemas and metadata.
#include "catalog/apply_plan.h"

#include <algorithm>

#include "catalog/duration.h"

namespace custos::catalog {
namespace {

std::string Quote(const std::string& s) { return "\"" + s + "\""; }

std::string JoinKeysText(const std::vector<JoinKey>& keys) {
  std::string out;
  for (const auto& k : keys)
    out += (out.empty() ? "" : ", ") + k.name + " " + ValueTypeName(k.type);
  return out;
}

std::string EntitiesText(const std::vector<Entity>& entities) {
  std::string out = "[";
  for (size_t i = 0; i < entities.size(); ++i) {
    out += (i ? ", " : "") + entities[i].name + "(" + JoinKeysText(entities[i].join_keys) + ")";
  }
  return out + "]";
}

std::string PrincipalsText(const std::vector<policy::EntityUid>& list) {
  std::string out = "[";
  for (size_t i = 0; i < list.size(); ++i) out += (i ? ", " : "") + list[i].ToString();
  return out + "]";
}

std::string TagsText(const Tags& tags) {
  std::string out = "{";
  bool first = true;
  for (const auto& [k, v] : tags) {
    out += (first ? "" : ", ") + k + ": " + v;
    first = false;
  }
  return out + "}";
}

std::string MaskText(const std::optional<MaskRule>& m) { return m ? MaskRuleText(*m) : "none"; }

bool SameSourceDefinition(const DataSource& a, const DataSource& b) {
  return a.kind == b.kind && a.path == b.path && a.table == b.table && a.query == b.query &&
         a.dsn_env == b.dsn_env && a.timestamp_field == b.timestamp_field &&
         a.created_timestamp_field == b.created_timestamp_field &&
         a.field_mapping == b.field_mapping && a.fields == b.fields;
}

// Reasons why two source definitions differ (for plan lines).
void SourceDiff(const DataSource& a, const DataSource& b, std::vector<std::string>& reasons,
                const std::string& prefix) {
  auto field = [&](const char* name, const std::string& x, const std::string& y) {
    if (x != y) reasons.push_back(prefix + name + " " + Quote(x) + " -> " + Quote(y));
  };
  if (a.kind != b.kind) {
    reasons.push_back(prefix + "type " + std::string(SourceKindName(a.kind)) + " -> " +
                      std::string(SourceKindName(b.kind)));
  }
  field("path", a.path, b.path);
  field("table", a.table, b.table);
  field("query", a.query, b.query);
  field("dsn_env", a.dsn_env, b.dsn_env);
  field("timestamp_field", a.timestamp_field, b.timestamp_field);
  field("created_timestamp_field", a.created_timestamp_field, b.created_timestamp_field);
  if (a.field_mapping != b.field_mapping) reasons.push_back(prefix + "field_mapping changed");
  if (a.fields != b.fields) reasons.push_back(prefix + "declared fields changed");
}

bool SameEntitySchema(const Entity& a, const Entity& b) {
  return a.name == b.name && a.join_keys == b.join_keys;
}

// Diffs two schemas of one view; kNone when equal. Feature order does not matter.
ChangeImpact SchemaDiff(const ViewSchema& a, const ViewSchema& b,
                        std::vector<std::string>& reasons) {
  ChangeImpact impact = ChangeImpact::kNone;
  auto raise = [&](ChangeImpact i) { impact = std::max(impact, i); };
  bool same_entities =
      a.entities.size() == b.entities.size() &&
      std::equal(a.entities.begin(), a.entities.end(), b.entities.begin(), SameEntitySchema);
  if (!same_entities) {
    reasons.push_back("entities " + EntitiesText(a.entities) + " -> " + EntitiesText(b.entities));
    raise(ChangeImpact::kBreaking);
  }
  for (const auto& f : a.features) {
    auto it = std::find_if(b.features.begin(), b.features.end(),
                           [&](const SourceField& g) { return g.name == f.name; });
    if (it == b.features.end()) {
      reasons.push_back("feature " + f.name + " removed");
      raise(ChangeImpact::kBreaking);
    } else if (it->type != f.type) {
      reasons.push_back("feature " + f.name + " retyped " + ValueTypeName(f.type) + " -> " +
                        ValueTypeName(it->type));
      raise(ChangeImpact::kBreaking);
    }
  }
  for (const auto& g : b.features) {
    if (std::none_of(a.features.begin(), a.features.end(),
                     [&](const SourceField& f) { return f.name == g.name; })) {
      reasons.push_back("feature " + g.name + " added (" + ValueTypeName(g.type) + ")");
      raise(ChangeImpact::kAdditive);
    }
  }
  if (!SameSourceDefinition(a.source, b.source) || a.source.name != b.source.name) {
    if (a.source.name != b.source.name) {
      reasons.push_back("source " + a.source.name + " -> " + b.source.name);
    }
    SourceDiff(a.source, b.source, reasons, "source ");
    raise(ChangeImpact::kAdditive);
  }
  return impact;
}

// Metadata differences of a view (everything outside its schema).
void ViewMetadataDiff(const FeatureView& a, const FeatureView& b,
                      std::vector<std::string>& reasons) {
  if (a.description != b.description) reasons.push_back("description changed");
  if (a.tags != b.tags) reasons.push_back("tags " + TagsText(a.tags) + " -> " + TagsText(b.tags));
  if (a.classification != b.classification) {
    reasons.push_back("classification " + std::string(ClassificationName(a.classification)) +
                      " -> " + std::string(ClassificationName(b.classification)));
  }
  if (a.owners != b.owners) {
    reasons.push_back("owners " + PrincipalsText(a.owners) + " -> " + PrincipalsText(b.owners));
  }
  if (a.stewards != b.stewards) {
    reasons.push_back("stewards " + PrincipalsText(a.stewards) + " -> " +
                      PrincipalsText(b.stewards));
  }
  if (a.ttl_seconds != b.ttl_seconds) {
    reasons.push_back("ttl " + FormatDuration(a.ttl_seconds) + " -> " +
                      FormatDuration(b.ttl_seconds));
  }
  if (a.retention_seconds != b.retention_seconds) {
    reasons.push_back("retention " + FormatDuration(a.retention_seconds) + " -> " +
                      FormatDuration(b.retention_seconds));
  }
  if (a.online != b.online) {
    reasons.push_back(std::string("online ") + (a.online ? "true" : "false") + " -> " +
                      (b.online ? "true" : "false"));
  }
  for (const auto& g : b.features) {
    const Feature* f = a.FindFeature(g.name);
    if (f == nullptr) continue;  // a schema change, reported there
    const std::string p = "feature " + g.name + ": ";
    if (f->classification != g.classification) {
      reasons.push_back(p + "classification " + std::string(ClassificationName(f->classification)) +
                        " -> " + std::string(ClassificationName(g.classification)));
    }
    if (f->mask != g.mask)
      reasons.push_back(p + "mask " + MaskText(f->mask) + " -> " + MaskText(g.mask));
    if (f->tags != g.tags)
      reasons.push_back(p + "tags " + TagsText(f->tags) + " -> " + TagsText(g.tags));
    if (f->description != g.description) reasons.push_back(p + "description changed");
  }
}

template <typename T, typename Diff>
void PlanKind(ObjectKind kind, const std::map<std::string, T>& current,
              const std::vector<typename std::remove_cvref_t<decltype(T::spec)>>& desired,
              const PlanOptions& options, Diff diff, std::vector<PlannedChange>& out) {
  std::map<std::string, const typename std::remove_cvref_t<decltype(T::spec)>*> wanted;
  for (const auto& d : desired) wanted.emplace(d.name, &d);
  for (const auto& [name, spec] : wanted) {
    PlannedChange c;
    c.kind = kind;
    c.name = name;
    auto it = current.find(name);
    if (it == current.end()) {
      c.action = ChangeAction::kCreate;
      c.impact = ChangeImpact::kAdditive;
    } else if (it->second.removed) {
      c.action = ChangeAction::kCreate;
      c.impact = ChangeImpact::kAdditive;
      c.reasons.push_back("was removed; published again");
    } else {
      diff(it->second, *spec, c);
    }
    out.push_back(std::move(c));
  }
  for (const auto& [name, published] : current) {
    if (wanted.count(name) || published.removed) continue;
    PlannedChange c;
    c.kind = kind;
    c.name = name;
    if (options.prune) {
      c.action = ChangeAction::kRemove;
      c.impact = ChangeImpact::kBreaking;
      c.reasons.push_back("not in the repository (--prune)");
    } else {
      c.action = ChangeAction::kKeep;
      c.reasons.push_back("not in the repository; kept (pass --prune to remove it)");
    }
    out.push_back(std::move(c));
  }
}

}  // namespace

ViewSchema SchemaOf(const FeatureView& view, const Repository& repo) {
  ViewSchema s;
  for (const auto& name : view.entities) {
    Entity e;
    e.name = name;
    if (const Entity* found = repo.FindEntity(name)) e.join_keys = found->join_keys;
    s.entities.push_back(std::move(e));
  }
  for (const auto& f : view.features) s.features.push_back({f.name, f.type});
  if (const DataSource* src = repo.FindSource(view.source)) s.source = *src;
  s.source.name = view.source;
  s.source.description.clear();
  s.source.where = {};
  return s;
}

std::string ViewVersion::Name() const { return view + "_v" + std::to_string(version); }

std::string ViewVersion::StoreId() const { return view + ":v" + std::to_string(version); }

std::string ViewVersion::KeyOwner() const { return "features:" + StoreId(); }

std::optional<common::TimePoint> ViewVersion::RetentionEnds() const {
  if (!retired || retention_seconds <= 0) return std::nullopt;
  return *retired + std::chrono::seconds(retention_seconds);
}

std::string_view ObjectKindName(ObjectKind kind) {
  constexpr std::string_view kNames[] = {"entity", "source", "feature_view", "feature_service"};
  return kNames[static_cast<size_t>(kind)];
}

std::string_view ChangeActionName(ChangeAction action) {
  constexpr std::string_view kNames[] = {"create", "update", "new_version",
                                         "remove", "keep",   "unchanged"};
  return kNames[static_cast<size_t>(action)];
}

std::string_view ChangeImpactName(ChangeImpact impact) {
  constexpr std::string_view kNames[] = {"none", "metadata", "additive", "breaking"};
  return kNames[static_cast<size_t>(impact)];
}

bool ApplyPlan::HasChanges() const {
  return std::any_of(changes.begin(), changes.end(), [](const PlannedChange& c) {
    return c.action != ChangeAction::kUnchanged && c.action != ChangeAction::kKeep;
  });
}

size_t ApplyPlan::Count(ChangeAction action) const {
  return static_cast<size_t>(std::count_if(
      changes.begin(), changes.end(), [&](const PlannedChange& c) { return c.action == action; }));
}

const PlannedChange* ApplyPlan::Find(ObjectKind kind, std::string_view name) const {
  for (const auto& c : changes) {
    if (c.kind == kind && c.name == name) return &c;
  }
  return nullptr;
}

ApplyPlan MakePlan(const CatalogState& current, const Repository& repo, PlanOptions options) {
  ApplyPlan plan;
  plan.base_generation = current.generation;
  plan.options = options;
  plan.repository = repo;
  auto& out = plan.changes;

  PlanKind(
      ObjectKind::kEntity, current.entities, repo.entities, options,
      [](const Published<Entity>& old, const Entity& e, PlannedChange& c) {
        if (old.spec.join_keys != e.join_keys) {
          c.reasons.push_back("join keys [" + JoinKeysText(old.spec.join_keys) + "] -> [" +
                              JoinKeysText(e.join_keys) + "]");
          c.impact = ChangeImpact::kBreaking;
        }
        if (old.spec.description != e.description) {
          c.reasons.push_back("description changed");
          c.impact = std::max(c.impact, ChangeImpact::kMetadata);
        }
        c.action = c.reasons.empty() ? ChangeAction::kUnchanged : ChangeAction::kUpdate;
      },
      out);
  PlanKind(
      ObjectKind::kSource, current.sources, repo.sources, options,
      [](const Published<DataSource>& old, const DataSource& s, PlannedChange& c) {
        if (!SameSourceDefinition(old.spec, s)) {
          SourceDiff(old.spec, s, c.reasons, "");
          c.impact = ChangeImpact::kAdditive;
        }
        if (old.spec.description != s.description) {
          c.reasons.push_back("description changed");
          c.impact = std::max(c.impact, ChangeImpact::kMetadata);
        }
        c.action = c.reasons.empty() ? ChangeAction::kUnchanged : ChangeAction::kUpdate;
      },
      out);
  PlanKind(
      ObjectKind::kView, current.views, repo.views, options,
      [&](const PublishedView& old, const FeatureView& v, PlannedChange& c) {
        c.from_version = old.latest_version;
        c.to_version = old.latest_version;
        ViewSchema old_schema;
        auto versions = current.versions.find(v.name);
        if (versions != current.versions.end() && !versions->second.empty()) {
          old_schema = versions->second.back().schema;
        }
        std::vector<std::string> schema_reasons;
        ChangeImpact schema = SchemaDiff(old_schema, SchemaOf(v, repo), schema_reasons);
        std::vector<std::string> meta_reasons;
        ViewMetadataDiff(old.spec, v, meta_reasons);
        if (schema != ChangeImpact::kNone) {
          c.action = ChangeAction::kNewVersion;
          c.impact = schema;
          c.to_version = old.latest_version + 1;
        } else if (!meta_reasons.empty()) {
          c.action = ChangeAction::kUpdate;
          c.impact = ChangeImpact::kMetadata;
        } else {
          c.action = ChangeAction::kUnchanged;
        }
        c.reasons = std::move(schema_reasons);
        c.reasons.insert(c.reasons.end(), meta_reasons.begin(), meta_reasons.end());
      },
      out);
  PlanKind(
      ObjectKind::kService, current.services, repo.services, options,
      [](const Published<FeatureService>& old, const FeatureService& s, PlannedChange& c) {
        if (old.spec.features != s.features) c.reasons.push_back("features changed");
        if (old.spec.description != s.description) c.reasons.push_back("description changed");
        if (old.spec.tags != s.tags) c.reasons.push_back("tags changed");
        if (old.spec.owners != s.owners) c.reasons.push_back("owners changed");
        c.action = c.reasons.empty() ? ChangeAction::kUnchanged : ChangeAction::kUpdate;
        c.impact = c.reasons.empty() ? ChangeImpact::kNone : ChangeImpact::kMetadata;
      },
      out);
  // Views being created get version 1 (or the next number after a removal).
  for (auto& c : out) {
    if (c.kind != ObjectKind::kView || c.action != ChangeAction::kCreate) continue;
    auto it = current.views.find(c.name);
    c.from_version = it == current.views.end() ? 0 : it->second.latest_version;
    c.to_version = c.from_version + 1;
  }
  return plan;
}

std::string FormatPlan(const ApplyPlan& plan) {
  std::string out;
  size_t unchanged = 0;
  for (const auto& c : plan.changes) {
    if (c.action == ChangeAction::kUnchanged) {
      ++unchanged;
      continue;
    }
    std::string_view sign = "~";
    switch (c.action) {
      case ChangeAction::kCreate:
        sign = "+";
        break;
      case ChangeAction::kNewVersion:
        sign = c.impact == ChangeImpact::kBreaking ? "!" : "^";
        break;
      case ChangeAction::kRemove:
        sign = "-";
        break;
      case ChangeAction::kKeep:
        sign = "=";
        break;
      default:
        break;
    }
    out += std::string(sign) + " " + std::string(ObjectKindName(c.kind)) + " " + c.name + ": ";
    switch (c.action) {
      case ChangeAction::kCreate:
        out += c.kind == ObjectKind::kView ? "create version " + std::to_string(c.to_version)
                                           : "create";
        break;
      case ChangeAction::kUpdate:
        out += "update in place (" + std::string(ChangeImpactName(c.impact)) + ")";
        break;
      case ChangeAction::kNewVersion:
        out += "new version " + std::to_string(c.from_version) + " -> " +
               std::to_string(c.to_version) + " (" + std::string(ChangeImpactName(c.impact)) + ")";
        break;
      case ChangeAction::kRemove:
        out += "remove";
        break;
      case ChangeAction::kKeep:
        out += "keep";
        break;
      case ChangeAction::kUnchanged:
        break;
    }
    out += "\n";
    for (const auto& r : c.reasons) out += "    " + r + "\n";
  }
  size_t breaking = static_cast<size_t>(
      std::count_if(plan.changes.begin(), plan.changes.end(), [](const PlannedChange& c) {
        return c.action == ChangeAction::kNewVersion && c.impact == ChangeImpact::kBreaking;
      }));
  out += "Plan: " + std::to_string(plan.Count(ChangeAction::kCreate)) + " to create, " +
         std::to_string(plan.Count(ChangeAction::kUpdate)) + " to update, " +
         std::to_string(plan.Count(ChangeAction::kNewVersion)) + " new versions (" +
         std::to_string(breaking) + " breaking), " +
         std::to_string(plan.Count(ChangeAction::kRemove)) + " to remove, " +
         std::to_string(plan.Count(ChangeAction::kKeep)) + " kept, " + std::to_string(unchanged) +
         " unchanged.\n";
  return out;
}

}  // namespace custos::catalog
