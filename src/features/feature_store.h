// FeatureStore: the feature store's handler side over the catalog and the online and
// offline stores: ingestion (offline history and online latest rows in one atomic write,
// audited first), the feature-read authorization (access modes and row filters per view,
// from feature_access.h), online retrieval in Feast's shape, point-in-time training sets
// with their manifest, aggregate-only reads, and retention (rows past a view's retention
// purged; retired versions past theirs crypto-shredded).
//
// Caches: the resolved catalog view, its store schema and its Cedar entity store (the
// directory's principals plus the view's entities) are built once per catalog change and
// directory generation and shared by requests. Feature decisions are memoized on their
// exact inputs: the policy set and prepared view (by identity; the entry holds both), the
// principal, the whole context (the current second included) and the features. A Cedar
// decision is a pure function of those, so a hit is the decision the engine would make; a
// revoked grant publishes a new policy set, so it holds from the next request.
// Thread-safety: safe for concurrent use.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "audit/log.h"
#include "catalog/catalog_store.h"
#include "common/clock.h"
#include "crypto/keyring.h"
#include "features/aggregate.h"
#include "features/entity_rows.h"
#include "features/feature_access.h"
#include "features/offline_store.h"
#include "features/online_store.h"
#include "features/point_in_time.h"
#include "features/pseudonym.h"
#include "features/training_set.h"
#include "identity/directory.h"
#include "storage/kv.h"

namespace custos::features {

struct FeatureStoreOptions {
  OfflineStoreOptions offline;
  // Aggregates over fewer rows are refused. Default 10.
  size_t min_aggregate_rows = 10;
  // Rows per online request. Default 1000.
  size_t max_online_rows = 1000;
};

// A view version, ready for reads: shared, immutable.
struct PreparedView {
  catalog::ResolvedView view;
  OfflineViewSchema schema;                    // the stores' schema of the version
  policy::EntityStore entities;                // principals + ViewEntities(view)
  std::vector<std::string> attribute_columns;  // join keys then features (row filters)
};

// One view's share of an authorized read.
struct ViewAuthorization {
  std::shared_ptr<const PreparedView> view;
  std::vector<FeatureDecision> features;  // requested features, request order
  std::optional<RowFilter> row_filter;    // present when active
  std::string name;                       // as requested: "view", or "view@N" for a version
};

// The answer of the Authorize stage for a feature read.
struct ReadAuthorization {
  ReadContext context;
  std::shared_ptr<const policy::PolicySet> policies;  // owns the policy ids decisions cite
  std::vector<ViewAuthorization> views;
  // "<view>:<feature>" per requested feature, request order (views grouped as requested).
  std::vector<std::string> feature_refs;
  size_t allowed_features() const;
};

enum class FeatureStatus : uint8_t { kPresent, kNullValue, kNotFound, kOutsideMaxAge, kDenied };
// "PRESENT", "NULL_VALUE", "NOT_FOUND", "OUTSIDE_MAX_AGE", "DENIED" (Feast's names).
std::string_view FeatureStatusName(FeatureStatus status);

// Entity keys for online reads, column-wise: names[k] with values[k][row].
struct EntityKeys {
  std::vector<std::string> names;
  std::vector<std::vector<catalog::Value>> values;
  size_t rows() const { return values.empty() ? 0 : values[0].size(); }
};

// Feast's online response: feature names (join keys first, then "<view>__<feature>"), and
// per name the values, statuses and event timestamps of every entity row.
struct OnlineColumn {
  std::vector<catalog::Value> values;
  std::vector<FeatureStatus> statuses;
  std::vector<int64_t> event_ts;  // UTC micros; 0 when there is no row
};
struct OnlineResponse {
  std::vector<std::string> feature_names;
  std::vector<OnlineColumn> results;  // parallel to feature_names
  std::vector<AccessMode> modes;      // parallel; join keys are kRaw
  size_t rows_filtered = 0;           // entity rows hidden by row filters (per view)
  std::string ToJson() const;         // {"metadata":{"feature_names":[...]},"results":[...]}
};

struct IngestInput {
  std::string source;    // what was read ("data/txns.csv"), for the audit event
  size_t rows_read = 0;  // good + rejected
  size_t rows_rejected = 0;
};

struct IngestOutcome {
  std::string view;
  uint64_t version = 0;
  size_t rows = 0;         // rows appended to the offline store
  size_t online_rows = 0;  // entities whose online row changed
  size_t blocks = 0;
  uint64_t audit_index = 0;
};

struct TrainingSetRequest {
  TrainingSetFormat format = TrainingSetFormat::kCsv;
  bool require_created_before_ts = false;
  int threads = 2;
};

struct TrainingSetOutput {
  std::string data;  // the CSV or JSON Lines bytes
  TrainingSetManifest manifest;
  size_t rows_filtered = 0;
};

struct AggregateAnswer {
  std::string feature;  // "<view>:<feature>"
  AccessMode mode = AccessMode::kDenied;
  AggregateResult result;
  size_t rows_filtered = 0;  // entities a row filter left out
};

struct RetentionReport {
  size_t offline_rows_purged = 0;
  size_t online_rows_purged = 0;
  std::vector<std::string> versions_shredded;  // "<view>:v<N>"
};

class FeatureStore {
 public:
  // Every reference must outlive the store. Loads (or makes) the pseudonymization secret.
  static Result<std::unique_ptr<FeatureStore>> Open(storage::Kv& kv, crypto::Keyring& keyring,
                                                    audit::AuditLog& audit,
                                                    catalog::CatalogStore& catalog,
                                                    identity::Directory& directory,
                                                    const common::Clock& clock,
                                                    FeatureStoreOptions options = {});

  // The stores' schema of a version (version_id "<view>:v<N>").
  static OfflineViewSchema StoreSchema(const catalog::ResolvedView& view);

  // The view's latest version (or `version`), prepared for reads (cached). FailedPrecondition
  // for the latest of a removed view; NotFound for an unknown or purged version.
  Result<std::shared_ptr<const PreparedView>> Prepare(std::string_view view,
                                                      std::optional<uint64_t> version = {});

  // Appends `batch` (columns in the latest version's schema order) to the view's offline
  // history and online latest rows in one atomic write, after auditing "features.ingest"
  // (fail closed). FailedPrecondition when the view is removed or the version shredded.
  Result<IngestOutcome> Ingest(std::string_view view, const OfflineBatch& batch,
                               const IngestInput& input, const policy::EntityUid& by);

  // "view:feature" and "view" (every feature) references, or a feature service's features;
  // "view@N:feature" reads version N (older versions stay readable until their retention
  // ends).
  // InvalidArgument/NotFound naming an unknown view or feature (listing the known ones).
  Result<ReadAuthorization> AuthorizeRead(const ReadContext& context,
                                          std::shared_ptr<const policy::PolicySet> policies,
                                          const std::vector<std::string>& refs);
  Result<std::vector<std::string>> ServiceRefs(std::string_view service) const;

  // Appends the read's audit event (action e.g. "features.online.read"), with the modes and
  // the determining policies; fail closed: no event, no data.
  Result<uint64_t> AuditRead(const ReadAuthorization& auth, std::string_view action, size_t rows,
                             audit::AuthMethod method);
  // The event AuditRead appends, for callers that append it themselves (the server appends
  // asynchronously, so a transport thread never waits for the group commit).
  audit::AuditEvent ReadEvent(const ReadAuthorization& auth, std::string_view action, size_t rows,
                              audit::AuthMethod method) const;

  // Online retrieval. InvalidArgument for a missing join key, a key of the wrong type, or
  // more rows than max_online_rows.
  Result<OnlineResponse> GetOnlineFeatures(const ReadAuthorization& auth, const EntityKeys& keys);

  // A point-in-time training set of the authorized features for `rows`, transformed by
  // mode (aggregate-only and denied features are withheld and listed in the manifest).
  Result<TrainingSetOutput> BuildTrainingSet(const ReadAuthorization& auth, const EntityRows& rows,
                                             const TrainingSetRequest& request);

  // An aggregate of one feature over every entity's latest (online) value, for any mode but
  // denied (aggregate-only features are read only this way): the values are raw, the answer
  // is refused over fewer than min_aggregate_rows values, and row filters apply.
  // PermissionDenied when the feature's mode is denied; NotFound when it was not authorized.
  Result<AggregateAnswer> AggregateFeature(const ReadAuthorization& auth, std::string_view feature,
                                           AggregateFn fn);

  // Purges rows past each current view's retention (event_ts < now - retention) from both
  // stores, and crypto-shreds retired versions whose retention ended (catalog MarkPurged).
  Result<RetentionReport> EnforceRetention(const policy::EntityUid& by);

  OfflineStore& offline() { return offline_; }
  OnlineStore& online() { return online_; }

 private:
  FeatureStore(storage::Kv& kv, crypto::Keyring& keyring, audit::AuditLog& audit,
               catalog::CatalogStore& catalog, identity::Directory& directory,
               const common::Clock& clock, FeatureStoreOptions options,
               std::unique_ptr<Pseudonymizer> pseudonymizer);

  struct CachedDecisions {
    std::shared_ptr<const policy::PolicySet> policies;  // keep the key's pointers alive
    std::shared_ptr<const PreparedView> view;
    std::vector<FeatureDecision> decisions;
  };
  std::vector<FeatureDecision> Decide(const std::shared_ptr<const policy::PolicySet>& policies,
                                      const std::shared_ptr<const PreparedView>& view,
                                      const ReadContext& context,
                                      const std::vector<size_t>& features);

  struct CachedView {
    uint64_t catalog_changes = 0;
    uint64_t directory_generation = 0;
    std::shared_ptr<const PreparedView> view;
  };

  storage::Kv& kv_;
  crypto::Keyring& keyring_;
  audit::AuditLog& audit_;
  catalog::CatalogStore& catalog_;
  identity::Directory& directory_;
  const common::Clock& clock_;
  FeatureStoreOptions options_;
  std::unique_ptr<Pseudonymizer> pseudonymizer_;
  OfflineStore offline_;
  OnlineStore online_;
  std::mutex cache_mu_;
  std::map<std::string, CachedView, std::less<>> cache_;
  std::mutex retention_mu_;
  std::mutex decisions_mu_;
  std::unordered_map<std::string, std::shared_ptr<const CachedDecisions>> decisions_;
};

}  // namespace custos::features
