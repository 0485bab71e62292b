// The catalog store: what `custos apply` published (entities, sources, feature views with
// their immutable versions, feature services), sealed in the `catalog` keyspace under the
// data key of keyring owner "catalog:repository", keyed "repository" | kind | name
// (versions: "repository" | "version" | view | N, big-endian, so a view's versions scan in
// order). features/ resolves a view version here (schema, masks, ttl, DEK owner).
//
// Apply is all or nothing: every record, the governance records of the views and their
// features (FeatureView::"<view>", Feature::"<view>.<feature>") and the new generation go
// into ONE atomic Kv batch, written only after the "catalog.apply" audit event is durable
// (fail closed: if the event cannot be appended, nothing is written).
// Thread-safety: a CatalogStore is safe for concurrent use; applies are serialized.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "audit/log.h"
#include "catalog/apply_plan.h"
#include "catalog/governance.h"
#include "catalog/repository.h"
#include "common/clock.h"
#include "crypto/keyring.h"
#include "storage/encrypted_keyspace.h"
#include "storage/kv.h"

namespace custos::catalog {

// A feature view as of one version: its fixed schema with the view's metadata.
struct ResolvedView {
  ViewVersion version;
  bool current = false;  // the view's latest version and the view is not removed
  // The view's current metadata (owners, classification, ttl, retention, online, ...).
  FeatureView view;
  // The version's features in schema order, each with its current metadata (classification,
  // mask, tags) when the latest version still has it, else the metadata it was published
  // with.
  std::vector<Feature> features;
  const Feature* FindFeature(std::string_view name) const;
};

struct ApplyResult {
  uint64_t generation = 0;   // the catalog generation after the apply
  uint64_t audit_index = 0;  // the "catalog.apply" event's log index
  size_t changed = 0;        // objects created, updated, versioned or removed
};

class CatalogStore {
 public:
  // All references must outlive the store.
  static Result<std::unique_ptr<CatalogStore>> Open(storage::Kv& kv, crypto::Keyring& keyring,
                                                    audit::AuditLog& audit,
                                                    GovernanceRegistry& governance,
                                                    const common::Clock& clock);

  // Everything published (removed objects included, marked).
  Result<CatalogState> Load() const;

  // The plan from the published state to `repo` (a repository that loaded without errors).
  Result<ApplyPlan> Plan(const Repository& repo, PlanOptions options = {}) const;

  // Publishes `plan` atomically (see above), acting as `by`. FailedPrecondition when the
  // catalog changed since the plan was made (plan again); InvalidArgument when a
  // governance record does not validate (nothing is written; the refusal is audited).
  // A plan without changes writes nothing and appends no event (audit_index 0).
  Result<ApplyResult> Apply(const ApplyPlan& plan, const policy::EntityUid& by);

  // NotFound (naming the published views) when `name` was never applied.
  Result<PublishedView> GetView(std::string_view name) const;
  // The view's versions, oldest first.
  Result<std::vector<ViewVersion>> ListVersions(std::string_view view) const;
  // The given version, or the latest when nullopt. NotFound when absent or purged.
  Result<ResolvedView> ResolveView(std::string_view view,
                                   std::optional<uint64_t> version = std::nullopt) const;
  Result<Published<FeatureService>> GetService(std::string_view name) const;
  // A service's features as (view, feature) pairs, views' latest versions, in order.
  Result<std::vector<std::pair<std::string, std::string>>> ResolveService(
      std::string_view name) const;

  // Retired, not yet purged versions whose retention ended at or before `now`: the purger
  // shreds their key owner (ViewVersion::KeyOwner) and then calls MarkPurged.
  Result<std::vector<ViewVersion>> VersionsPastRetention(common::TimePoint now) const;
  // Records that a version's data was purged (audited "catalog.version.purge", fail closed).
  // FailedPrecondition if the version is still current or within retention.
  Status MarkPurged(std::string_view view, uint64_t version, const policy::EntityUid& by);

  // Increases with every change this store committed (applies, purges): callers that cache
  // resolved views rebuild when it moved. (A data directory has one process, by its lock.)
  uint64_t changes() const { return changes_.load(std::memory_order_acquire); }

 private:
  CatalogStore(storage::Kv& kv, storage::EncryptedKeyspace store, audit::AuditLog& audit,
               GovernanceRegistry& governance, const common::Clock& clock)
      : kv_(kv), store_(std::move(store)), audit_(audit), governance_(governance), clock_(clock) {}
  Status StageGovernance(const FeatureView& view, common::TimePoint now,
                         storage::WriteBatch& batch);

  storage::Kv& kv_;
  mutable storage::EncryptedKeyspace store_;
  audit::AuditLog& audit_;
  GovernanceRegistry& governance_;
  const common::Clock& clock_;
  std::mutex apply_mu_;  // serializes Apply and MarkPurged (read, check, write)
  std::atomic<uint64_t> changes_{0};
};

}  // namespace custos::catalog
