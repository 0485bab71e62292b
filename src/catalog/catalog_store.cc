// The catalog store: loading the published state, atomic audited apply, version queries.
#include "catalog/catalog_store.h"

#include <algorithm>

#include "catalog/detail/catalog_codec.h"
#include "common/bytes.h"
#include "common/key_encoding.h"

namespace custos::catalog {
namespace {

using detail::Json;

constexpr std::string_view kKeyringOwner = "catalog:repository";
constexpr std::string_view kPrefix = "repository";
constexpr std::string_view kMeta = "meta";
constexpr std::string_view kVersion = "version";

std::string_view KindKey(ObjectKind kind) {
  constexpr std::string_view kNames[] = {"entity", "source", "view", "service"};
  return kNames[static_cast<size_t>(kind)];
}

std::string MetaKey() { return common::KeyBuilder().AddString(kPrefix).AddString(kMeta).Release(); }

std::string ObjectKey(ObjectKind kind, std::string_view name) {
  return common::KeyBuilder().AddString(kPrefix).AddString(KindKey(kind)).AddString(name).Release();
}

std::string VersionKey(std::string_view view, uint64_t version) {
  return common::KeyBuilder()
      .AddString(kPrefix)
      .AddString(kVersion)
      .AddString(view)
      .AddUint64(version)
      .Release();
}

Status Corrupt(std::string_view key, std::string_view what) {
  return DataLossError("catalog record " + common::HexEncode(common::AsBytes(key)) +
                       " does not decode: " + std::string(what));
}

template <typename T>
Published<T> Republish(const std::map<std::string, Published<T>>& current, const std::string& name,
                       T spec, common::TimePoint now) {
  Published<T> p;
  p.spec = std::move(spec);
  p.updated = now;
  auto it = current.find(name);
  if (it == current.end()) {
    p.created = now;
    p.revision = 1;
  } else {
    p.created = it->second.created;
    p.revision = it->second.revision + 1;
  }
  return p;
}

template <typename T>
T WithoutPosition(T spec) {
  spec.where = {};
  return spec;
}

}  // namespace

const Feature* ResolvedView::FindFeature(std::string_view name) const {
  for (const auto& f : features) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

Result<std::unique_ptr<CatalogStore>> CatalogStore::Open(storage::Kv& kv, crypto::Keyring& keyring,
                                                         audit::AuditLog& audit,
                                                         GovernanceRegistry& governance,
                                                         const common::Clock& clock) {
  CUSTOS_ASSIGN_OR_RETURN(
      storage::EncryptedKeyspace store,
      storage::EncryptedKeyspace::Open(kv, storage::Keyspace::kCatalog, keyring, kKeyringOwner));
  return std::unique_ptr<CatalogStore>(
      new CatalogStore(kv, std::move(store), audit, governance, clock));
}

Result<CatalogState> CatalogStore::Load() const {
  CatalogState state;
  const std::string prefix = common::KeyBuilder().AddString(kPrefix).Release();
  CUSTOS_RETURN_IF_ERROR(
      store_.ScanPrefix(prefix, [&](std::string_view key, std::string_view value) -> Status {
        common::KeyReader reader(key);
        CUSTOS_RETURN_IF_ERROR(reader.ReadString());
        auto kind = reader.ReadString();
        if (!kind.ok()) return Corrupt(key, "bad key");
        try {
          Json j = Json::parse(value);
          if (*kind == kMeta) {
            state.generation = j.at("generation").get<uint64_t>();
          } else if (*kind == kVersion) {
            ViewVersion v = detail::DecodeVersion(j);
            state.versions[v.view].push_back(std::move(v));  // keys scan in version order
          } else if (*kind == KindKey(ObjectKind::kEntity)) {
            Published<Entity> p;
            p.spec = detail::DecodeEntity(j.at("spec"));
            detail::DecodePublishedInto(j, p);
            state.entities.emplace(p.spec.name, std::move(p));
          } else if (*kind == KindKey(ObjectKind::kSource)) {
            Published<DataSource> p;
            p.spec = detail::DecodeSource(j.at("spec"));
            detail::DecodePublishedInto(j, p);
            state.sources.emplace(p.spec.name, std::move(p));
          } else if (*kind == KindKey(ObjectKind::kView)) {
            PublishedView p;
            p.spec = detail::DecodeView(j.at("spec"));
            detail::DecodePublishedInto(j, p);
            p.latest_version = j.at("latest_version").get<uint64_t>();
            state.views.emplace(p.spec.name, std::move(p));
          } else if (*kind == KindKey(ObjectKind::kService)) {
            Published<FeatureService> p;
            p.spec = detail::DecodeService(j.at("spec"));
            detail::DecodePublishedInto(j, p);
            state.services.emplace(p.spec.name, std::move(p));
          } else {
            return Corrupt(key, "unknown record kind `" + *kind + "`");
          }
        } catch (const std::exception& e) {
          return Corrupt(key, e.what());
        }
        return Status::Ok();
      }));
  return state;
}

Result<ApplyPlan> CatalogStore::Plan(const Repository& repo, PlanOptions options) const {
  CUSTOS_ASSIGN_OR_RETURN(CatalogState state, Load());
  return MakePlan(state, repo, options);
}

Status CatalogStore::StageGovernance(const FeatureView& view, common::TimePoint now,
                                     storage::WriteBatch& batch) {
  GovernedResource r;
  r.uid = policy::EntityUid("FeatureView", view.name);
  r.classification = view.classification;
  r.owners = view.owners;
  r.stewards = view.stewards;
  r.description = view.description;
  CUSTOS_RETURN_IF_ERROR(governance_.StageUpsert(r, now, batch)
                             .status()
                             .WithContext("feature view `" + view.name + "`"));
  for (const auto& f : view.features) {
    GovernedResource fr;
    fr.uid = policy::EntityUid("Feature", view.name + "." + f.name);
    fr.classification = f.classification;
    fr.owners = view.owners;
    fr.stewards = view.stewards;
    fr.description = f.description;
    CUSTOS_RETURN_IF_ERROR(governance_.StageUpsert(fr, now, batch)
                               .status()
                               .WithContext("feature `" + view.name + "." + f.name + "`"));
  }
  return Status::Ok();
}

Result<ApplyResult> CatalogStore::Apply(const ApplyPlan& plan, const policy::EntityUid& by) {
  std::lock_guard lock(apply_mu_);
  CUSTOS_ASSIGN_OR_RETURN(CatalogState state, Load());
  if (state.generation != plan.base_generation) {
    return FailedPreconditionError("the catalog changed since this plan was made (generation " +
                                   std::to_string(plan.base_generation) + ", now " +
                                   std::to_string(state.generation) + "); plan and apply again");
  }
  ApplyResult result;
  result.generation = state.generation;
  if (!plan.HasChanges()) return result;

  const common::TimePoint now = clock_.Now();
  const Repository& repo = plan.repository;
  storage::WriteBatch batch;
  audit::AuditEvent event;
  event.time = now;
  event.principal_id = by.ToString();
  event.auth_method = audit::AuthMethod::kEmbedded;
  event.action = "catalog.apply";

  auto refuse = [&](Status status) -> Status {
    event.decision = audit::Decision::kDeny;
    event.outcome = audit::Outcome::kDenied;
    event.outcome_detail = status.ToString().substr(0, audit::kMaxEventString);
    auto appended = audit_.Append(event);
    if (!appended.ok()) return appended.status().WithContext("cannot audit a refused apply");
    return status;
  };
  auto missing = [&](const PlannedChange& c) {
    return InvalidArgumentError("the plan's " + std::string(ObjectKindName(c.kind)) + " `" +
                                c.name + "` is not in its repository; plan again");
  };
  auto retire_latest = [&](const std::string& view, int64_t retention) {
    auto it = state.versions.find(view);
    if (it == state.versions.end() || it->second.empty()) return;
    ViewVersion last = it->second.back();
    if (last.retired) return;
    last.retired = now;
    last.retention_seconds = retention;
    store_.PutTo(batch, VersionKey(view, last.version), detail::EncodeVersion(last).dump());
  };

  for (const PlannedChange& c : plan.changes) {
    if (c.action == ChangeAction::kUnchanged || c.action == ChangeAction::kKeep) continue;
    ++result.changed;
    const bool remove = c.action == ChangeAction::kRemove;
    const std::string key = ObjectKey(c.kind, c.name);
    switch (c.kind) {
      case ObjectKind::kEntity: {
        Published<Entity> p;
        if (remove) {
          p = state.entities.at(c.name);
          p.removed = now;
          p.updated = now;
          ++p.revision;
        } else {
          const Entity* e = repo.FindEntity(c.name);
          if (e == nullptr) return missing(c);
          p = Republish(state.entities, c.name, WithoutPosition(*e), now);
        }
        store_.PutTo(batch, key, detail::EncodePublished(p, detail::EncodeEntity(p.spec)).dump());
        break;
      }
      case ObjectKind::kSource: {
        Published<DataSource> p;
        if (remove) {
          p = state.sources.at(c.name);
          p.removed = now;
          p.updated = now;
          ++p.revision;
        } else {
          const DataSource* s = repo.FindSource(c.name);
          if (s == nullptr) return missing(c);
          p = Republish(state.sources, c.name, WithoutPosition(*s), now);
        }
        store_.PutTo(batch, key, detail::EncodePublished(p, detail::EncodeSource(p.spec)).dump());
        break;
      }
      case ObjectKind::kService: {
        Published<FeatureService> p;
        if (remove) {
          p = state.services.at(c.name);
          p.removed = now;
          p.updated = now;
          ++p.revision;
        } else {
          const FeatureService* s = repo.FindService(c.name);
          if (s == nullptr) return missing(c);
          p = Republish(state.services, c.name, WithoutPosition(*s), now);
        }
        store_.PutTo(batch, key, detail::EncodePublished(p, detail::EncodeService(p.spec)).dump());
        break;
      }
      case ObjectKind::kView: {
        PublishedView p;
        if (remove) {
          p = state.views.at(c.name);
          p.removed = now;
          p.updated = now;
          ++p.revision;
          retire_latest(c.name, p.spec.retention_seconds);
        } else {
          const FeatureView* v = repo.FindView(c.name);
          if (v == nullptr) return missing(c);
          FeatureView spec = WithoutPosition(*v);
          spec.entities_where.clear();
          spec.source_where = {};
          for (auto& f : spec.features) f.where = {};
          auto it = state.views.find(c.name);
          p.spec = std::move(spec);
          p.updated = now;
          p.created = it == state.views.end() ? now : it->second.created;
          p.revision = it == state.views.end() ? 1 : it->second.revision + 1;
          p.latest_version = c.to_version;
          if (c.action == ChangeAction::kCreate || c.action == ChangeAction::kNewVersion) {
            retire_latest(c.name, p.spec.retention_seconds);
            ViewVersion version;
            version.view = c.name;
            version.version = c.to_version;
            version.schema = SchemaOf(p.spec, repo);
            version.features = p.spec.features;
            version.created = now;
            store_.PutTo(batch, VersionKey(c.name, c.to_version),
                         detail::EncodeVersion(version).dump());
          }
          if (Status s = StageGovernance(p.spec, now, batch); !s.ok()) return refuse(s);
        }
        store_.PutTo(
            batch, key,
            detail::EncodePublished(p, detail::EncodeView(p.spec), p.latest_version).dump());
        if (event.resources.size() < audit::kMaxEventListItems) {
          event.resources.push_back({"FeatureView", c.name, c.to_version});
        }
        break;
      }
    }
  }
  result.generation = state.generation + 1;
  store_.PutTo(batch, MetaKey(), Json{{"generation", result.generation}}.dump());

  event.decision = audit::Decision::kAllow;
  event.outcome = audit::Outcome::kOk;
  event.outcome_detail = "generation=" + std::to_string(result.generation) +
                         " create=" + std::to_string(plan.Count(ChangeAction::kCreate)) +
                         " update=" + std::to_string(plan.Count(ChangeAction::kUpdate)) +
                         " new_version=" + std::to_string(plan.Count(ChangeAction::kNewVersion)) +
                         " remove=" + std::to_string(plan.Count(ChangeAction::kRemove));
  // Fail closed: nothing is published unless the event is in the log.
  auto index = audit_.Append(event);
  if (!index.ok()) return index.status().WithContext("catalog.apply not audited; nothing applied");
  result.audit_index = *index;
  CUSTOS_RETURN_IF_ERROR(kv_.Write(batch));
  changes_.fetch_add(1, std::memory_order_release);
  return result;
}

Result<PublishedView> CatalogStore::GetView(std::string_view name) const {
  CUSTOS_ASSIGN_OR_RETURN(CatalogState state, Load());
  auto it = state.views.find(std::string(name));
  if (it == state.views.end()) {
    std::string known;
    size_t n = 0;
    for (const auto& [view, _] : state.views) {
      if (++n > 20) {
        known += ", ...";
        break;
      }
      known += (known.empty() ? "" : ", ") + view;
    }
    return NotFoundError(
        "no feature view `" + std::string(name) + "` in the catalog" +
        (known.empty() ? "; apply a repository first" : " (published: " + known + ")"));
  }
  return it->second;
}

Result<std::vector<ViewVersion>> CatalogStore::ListVersions(std::string_view view) const {
  CUSTOS_RETURN_IF_ERROR(GetView(view));
  std::vector<ViewVersion> out;
  const std::string prefix =
      common::KeyBuilder().AddString(kPrefix).AddString(kVersion).AddString(view).Release();
  CUSTOS_RETURN_IF_ERROR(
      store_.ScanPrefix(prefix, [&](std::string_view key, std::string_view value) -> Status {
        try {
          out.push_back(detail::DecodeVersion(Json::parse(value)));
        } catch (const std::exception& e) {
          return Corrupt(key, e.what());
        }
        return Status::Ok();
      }));
  return out;
}

Result<ResolvedView> CatalogStore::ResolveView(std::string_view view,
                                               std::optional<uint64_t> version) const {
  CUSTOS_ASSIGN_OR_RETURN(PublishedView published, GetView(view));
  const uint64_t n = version.value_or(published.latest_version);
  const std::string key = VersionKey(view, n);
  CUSTOS_ASSIGN_OR_RETURN(std::optional<std::string> value, store_.Get(key));
  if (!value) {
    return NotFoundError("feature view `" + std::string(view) + "` has no version " +
                         std::to_string(n) + "; its latest is " +
                         std::to_string(published.latest_version));
  }
  ResolvedView out;
  try {
    out.version = detail::DecodeVersion(Json::parse(*value));
  } catch (const std::exception& e) {
    return Corrupt(key, e.what());
  }
  if (out.version.purged) {
    return NotFoundError(out.version.Name() + " was purged after its retention ended");
  }
  out.current = n == published.latest_version && !published.removed;
  out.view = std::move(published.spec);
  for (const auto& schema_feature : out.version.schema.features) {
    const Feature* now = out.view.FindFeature(schema_feature.name);
    if (now != nullptr && now->type == schema_feature.type) {
      out.features.push_back(*now);
      continue;
    }
    auto then = std::find_if(out.version.features.begin(), out.version.features.end(),
                             [&](const Feature& f) { return f.name == schema_feature.name; });
    if (then != out.version.features.end()) out.features.push_back(*then);
  }
  return out;
}

Result<Published<FeatureService>> CatalogStore::GetService(std::string_view name) const {
  CUSTOS_ASSIGN_OR_RETURN(CatalogState state, Load());
  auto it = state.services.find(std::string(name));
  if (it == state.services.end() || it->second.removed) {
    return NotFoundError("no feature service `" + std::string(name) +
                         "` in the catalog; define it (kind: FeatureService) and apply");
  }
  return it->second;
}

Result<std::vector<std::pair<std::string, std::string>>> CatalogStore::ResolveService(
    std::string_view name) const {
  CUSTOS_ASSIGN_OR_RETURN(Published<FeatureService> service, GetService(name));
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& ref : service.spec.features) {
    CUSTOS_ASSIGN_OR_RETURN(ResolvedView view, ResolveView(ref.view));
    if (!ref.feature.empty()) {
      if (view.FindFeature(ref.feature) == nullptr) {
        return NotFoundError("feature service `" + std::string(name) + "`: " + view.version.Name() +
                             " has no feature `" + ref.feature + "`");
      }
      out.emplace_back(ref.view, ref.feature);
      continue;
    }
    for (const auto& f : view.features) out.emplace_back(ref.view, f.name);
  }
  return out;
}

Result<std::vector<ViewVersion>> CatalogStore::VersionsPastRetention(common::TimePoint now) const {
  CUSTOS_ASSIGN_OR_RETURN(CatalogState state, Load());
  std::vector<ViewVersion> out;
  for (auto& [view, versions] : state.versions) {
    for (auto& v : versions) {
      auto ends = v.RetentionEnds();
      if (!v.purged && ends && *ends <= now) out.push_back(std::move(v));
    }
  }
  return out;
}

Status CatalogStore::MarkPurged(std::string_view view, uint64_t version,
                                const policy::EntityUid& by) {
  std::lock_guard lock(apply_mu_);
  const std::string key = VersionKey(view, version);
  CUSTOS_ASSIGN_OR_RETURN(std::optional<std::string> value, store_.Get(key));
  if (!value) {
    return NotFoundError("feature view `" + std::string(view) + "` has no version " +
                         std::to_string(version));
  }
  ViewVersion v;
  try {
    v = detail::DecodeVersion(Json::parse(*value));
  } catch (const std::exception& e) {
    return Corrupt(key, e.what());
  }
  const common::TimePoint now = clock_.Now();
  auto ends = v.RetentionEnds();
  if (!ends || *ends > now) {
    return FailedPreconditionError(v.Name() + " is " +
                                   (v.retired ? "within its retention" : "still current") +
                                   "; only versions past retention may be purged");
  }
  if (v.purged) return Status::Ok();
  v.purged = true;
  audit::AuditEvent event;
  event.time = now;
  event.principal_id = by.ToString();
  event.auth_method = audit::AuthMethod::kEmbedded;
  event.action = "catalog.version.purge";
  event.resources.push_back({"FeatureView", std::string(view), version});
  event.decision = audit::Decision::kAllow;
  event.outcome = audit::Outcome::kOk;
  CUSTOS_RETURN_IF_ERROR(audit_.Append(event));
  CUSTOS_RETURN_IF_ERROR(store_.Put(key, detail::EncodeVersion(v).dump()));
  changes_.fetch_add(1, std::memory_order_release);
  return Status::Ok();
}

}  // namespace custos::catalog
