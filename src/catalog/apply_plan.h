// The published state of the catalog (what `custos apply` wrote before) and the plan that
// takes it to a loaded repository: which objects are created, updated in place (metadata),
// given a new immutable feature-view version (schema change, additive or breaking),
// removed (--prune) or kept. MakePlan is a pure function; CatalogStore::Apply publishes.
//
// Versioning rules. A feature-view version's schema (its entities with their join key
// types, its features with their types, and its source's definition) never changes once
// published. Any schema change makes version N+1: breaking when a feature is removed or
// retyped or the entities or join keys change, additive otherwise (features added, source
// changed). Everything else (description, tags, classification, owners, stewards, masks,
// ttl, retention, online) is metadata, updated in place with a new revision.
// Thread-safety: plain values; the functions are pure.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "catalog/repository.h"
#include "common/clock.h"

namespace custos::catalog {

// The part of a feature view fixed by a version.
struct ViewSchema {
  std::vector<Entity> entities;       // name and join keys (no description or position)
  std::vector<SourceField> features;  // name and type, in declaration order
  DataSource source;                  // the definition (no description or position)
};
// The schema `view` has in `repo` (entities and source resolved by name).
ViewSchema SchemaOf(const FeatureView& view, const Repository& repo);

// One immutable version of a feature view.
struct ViewVersion {
  std::string view;
  uint64_t version = 0;  // 1, 2, ...
  ViewSchema schema;
  std::vector<Feature> features;  // the features' metadata when the version was made
  common::TimePoint created{};
  // When a newer version (or removal with --prune) replaced it; nullopt while current.
  std::optional<common::TimePoint> retired;
  int64_t retention_seconds = 0;  // the view's retention when retired (0: kept for ever)
  bool purged = false;            // its data was purged and its key shredded

  std::string Name() const;      // "<view>_v<N>"
  std::string StoreId() const;   // "<view>:v<N>": its id in the online and offline stores
  std::string KeyOwner() const;  // "features:<view>:v<N>": keyring owner of its DEK
  // retired + retention; nullopt while current or when retention is 0.
  std::optional<common::TimePoint> RetentionEnds() const;
};

// A published object with its bookkeeping.
template <typename T>
struct Published {
  T spec;
  uint64_t revision = 0;  // 1 when created, +1 per in-place update
  common::TimePoint created{};
  common::TimePoint updated{};
  std::optional<common::TimePoint> removed;  // set by apply --prune
};

struct PublishedView : Published<FeatureView> {
  uint64_t latest_version = 0;
};

// Everything apply has published.
struct CatalogState {
  uint64_t generation = 0;  // +1 per apply; 0 before the first
  std::map<std::string, Published<Entity>> entities;
  std::map<std::string, Published<DataSource>> sources;
  std::map<std::string, PublishedView> views;
  std::map<std::string, Published<FeatureService>> services;
  std::map<std::string, std::vector<ViewVersion>> versions;  // per view, oldest first
};

enum class ObjectKind : uint8_t { kEntity, kSource, kView, kService };
std::string_view ObjectKindName(ObjectKind kind);  // "entity", "source", ...

enum class ChangeAction : uint8_t {
  kCreate,      // new object (a view gets version 1)
  kUpdate,      // metadata changed in place (new revision)
  kNewVersion,  // a view's schema changed: version N+1
  kRemove,      // not in the repository and --prune given
  kKeep,        // not in the repository, kept (no --prune)
  kUnchanged,
};
std::string_view ChangeActionName(ChangeAction action);

enum class ChangeImpact : uint8_t { kNone, kMetadata, kAdditive, kBreaking };
std::string_view ChangeImpactName(ChangeImpact impact);

struct PlannedChange {
  ObjectKind kind = ObjectKind::kView;
  std::string name;
  ChangeAction action = ChangeAction::kUnchanged;
  ChangeImpact impact = ChangeImpact::kNone;
  uint64_t from_version = 0;         // views: the current version (0 if none)
  uint64_t to_version = 0;           // views: the version after apply
  std::vector<std::string> reasons;  // human-readable, e.g. "feature amount: int64 -> double"
};

struct PlanOptions {
  // Remove published objects that are not in the repository. Default false: keep them.
  bool prune = false;
};

struct ApplyPlan {
  uint64_t base_generation = 0;  // the catalog generation the plan was made against
  PlanOptions options;
  Repository repository;
  std::vector<PlannedChange> changes;  // every object, ordered by kind then name

  bool HasChanges() const;  // anything to write
  size_t Count(ChangeAction action) const;
  const PlannedChange* Find(ObjectKind kind, std::string_view name) const;
};

ApplyPlan MakePlan(const CatalogState& current, const Repository& repo, PlanOptions options);

// The plan for people: one line per object that changes (and per kept object), its reasons
// indented below, and a summary line.
std::string FormatPlan(const ApplyPlan& plan);

}  // namespace custos::catalog
