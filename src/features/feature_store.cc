// FeatureStore: ingestion, read authorization, online reads, training sets, retention.
#include "features/feature_store.h"

#include <algorithm>
#include <charconv>
#include <set>

#include "common/json_writer.h"
#include "features/masking.h"

namespace custos::features {
namespace {

constexpr size_t kMaxCachedDecisions = 4096;

int64_t Micros(common::TimePoint t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

bool IsRowLevel(AccessMode mode) {
  return mode == AccessMode::kRaw || mode == AccessMode::kPseudonymized ||
         mode == AccessMode::kMasked;
}

audit::AccessMode AuditMode(AccessMode mode) {
  switch (mode) {
    case AccessMode::kRaw:
      return audit::AccessMode::kRaw;
    case AccessMode::kPseudonymized:
      return audit::AccessMode::kPseudonymized;
    case AccessMode::kMasked:
      return audit::AccessMode::kMasked;
    case AccessMode::kAggregateOnly:
      return audit::AccessMode::kAggregateOnly;
    case AccessMode::kDenied:
      return audit::AccessMode::kDenied;
  }
  return audit::AccessMode::kDenied;
}

std::string JoinNames(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) {
    if (!out.empty()) out += ", ";
    out += n;
  }
  return out;
}

void WriteScalarJson(common::JsonWriter& w, const catalog::Scalar& s) {
  std::visit(
      [&w](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, catalog::Timestamp>) {
          w.String(catalog::FormatTimestamp(v));
        } else if constexpr (std::is_same_v<T, double>) {
          w.Double(v);  // null when not finite
        } else if constexpr (std::is_same_v<T, std::string>) {
          w.String(v);
        } else if constexpr (std::is_same_v<T, bool>) {
          w.Bool(v);
        } else {
          w.Int(v);
        }
      },
      s);
}

void WriteValueJson(common::JsonWriter& w, const catalog::Value& value) {
  std::visit(
      [&w](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          w.Null();
        } else if constexpr (std::is_same_v<T, std::vector<catalog::Scalar>>) {
          w.BeginArray();
          for (const catalog::Scalar& s : v) WriteScalarJson(w, s);
          w.EndArray();
        } else {
          WriteScalarJson(w, catalog::Scalar(v));
        }
      },
      value);
}

}  // namespace

std::string_view FeatureStatusName(FeatureStatus status) {
  switch (status) {
    case FeatureStatus::kPresent:
      return "PRESENT";
    case FeatureStatus::kNullValue:
      return "NULL_VALUE";
    case FeatureStatus::kNotFound:
      return "NOT_FOUND";
    case FeatureStatus::kOutsideMaxAge:
      return "OUTSIDE_MAX_AGE";
    case FeatureStatus::kDenied:
      return "DENIED";
  }
  return "DENIED";
}

size_t ReadAuthorization::allowed_features() const {
  size_t n = 0;
  for (const ViewAuthorization& v : views) {
    for (const FeatureDecision& d : v.features) n += d.mode != AccessMode::kDenied;
  }
  return n;
}

std::string OnlineResponse::ToJson() const {
  // Written straight to text: a nlohmann tree of a 10-feature answer cost more than the
  // read and decryption behind it (issue 7's benchmark).
  std::string out;
  out.reserve(128 + feature_names.size() * 96);
  common::JsonWriter w(out);
  w.BeginObject();
  w.Key("metadata");
  w.BeginObject();
  w.Key("feature_names");
  w.BeginArray();
  for (const std::string& name : feature_names) w.String(name);
  w.EndArray();
  w.EndObject();
  w.Key("results");
  w.BeginArray();
  for (size_t c = 0; c < results.size(); ++c) {
    const OnlineColumn& column = results[c];
    w.BeginObject();
    w.Key("values");
    w.BeginArray();
    for (const catalog::Value& value : column.values) WriteValueJson(w, value);
    w.EndArray();
    w.Key("statuses");
    w.BeginArray();
    for (FeatureStatus status : column.statuses) w.String(FeatureStatusName(status));
    w.EndArray();
    w.Key("event_timestamps");
    w.BeginArray();
    for (int64_t ts : column.event_ts) {
      if (ts == 0) {
        w.Null();
      } else {
        w.String(catalog::FormatTimestamp({ts}));
      }
    }
    w.EndArray();
    w.Key("access_mode");
    w.String(AccessModeName(modes[c]));
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return out;
}

FeatureStore::FeatureStore(storage::Kv& kv, crypto::Keyring& keyring, audit::AuditLog& audit,
                           catalog::CatalogStore& catalog, identity::Directory& directory,
                           const common::Clock& clock, FeatureStoreOptions options,
                           std::unique_ptr<Pseudonymizer> pseudonymizer)
    : kv_(kv),
      keyring_(keyring),
      audit_(audit),
      catalog_(catalog),
      directory_(directory),
      clock_(clock),
      options_(options),
      pseudonymizer_(std::move(pseudonymizer)),
      offline_(kv, keyring, options.offline),
      online_(kv, keyring) {}

Result<std::unique_ptr<FeatureStore>> FeatureStore::Open(storage::Kv& kv, crypto::Keyring& keyring,
                                                         audit::AuditLog& audit,
                                                         catalog::CatalogStore& catalog,
                                                         identity::Directory& directory,
                                                         const common::Clock& clock,
                                                         FeatureStoreOptions options) {
  CUSTOS_ASSIGN_OR_RETURN(crypto::SecretBytes secret, LoadOrCreatePseudonymSecret(kv, keyring));
  CUSTOS_ASSIGN_OR_RETURN(std::unique_ptr<Pseudonymizer> pseudonymizer,
                          Pseudonymizer::Create(std::move(secret)));
  return std::unique_ptr<FeatureStore>(new FeatureStore(kv, keyring, audit, catalog, directory,
                                                        clock, options, std::move(pseudonymizer)));
}

OfflineViewSchema FeatureStore::StoreSchema(const catalog::ResolvedView& view) {
  OfflineViewSchema schema;
  schema.version_id = view.version.StoreId();
  for (const catalog::Entity& e : view.version.schema.entities) {
    for (const catalog::JoinKey& k : e.join_keys) schema.join_keys.push_back({k.name, k.type});
  }
  for (const catalog::SourceField& f : view.version.schema.features) {
    schema.features.push_back({f.name, f.type});
  }
  return schema;
}

Result<std::shared_ptr<const PreparedView>> FeatureStore::Prepare(std::string_view view,
                                                                  std::optional<uint64_t> version) {
  const uint64_t changes = catalog_.changes();
  const uint64_t generation = directory_.generation();
  std::string cache_key(view);
  if (version) cache_key += "@" + std::to_string(*version);
  {
    std::lock_guard lock(cache_mu_);
    auto it = cache_.find(cache_key);
    if (it != cache_.end() && it->second.catalog_changes == changes &&
        it->second.directory_generation == generation) {
      return it->second.view;
    }
  }
  CUSTOS_ASSIGN_OR_RETURN(catalog::ResolvedView resolved, catalog_.ResolveView(view, version));
  // An explicit older version stays readable until its retention ends (the catalog refuses
  // purged ones); the latest must still be published.
  if (!version && !resolved.current) {
    return FailedPreconditionError("feature view '" + std::string(view) +
                                   "' was removed from the catalog; apply a repository that "
                                   "defines it to use it again, or name a version (view@N) "
                                   "still within its retention");
  }
  auto prepared = std::make_shared<PreparedView>();
  prepared->schema = StoreSchema(resolved);
  for (const Column& c : prepared->schema.join_keys) prepared->attribute_columns.push_back(c.name);
  for (const Column& c : prepared->schema.features) prepared->attribute_columns.push_back(c.name);
  CUSTOS_RETURN_IF_ERROR(directory_.ExportEntities(prepared->entities));
  for (policy::Entity& e : ViewEntities(resolved)) prepared->entities.AddIfAbsent(std::move(e));
  prepared->entities.Build();
  prepared->view = std::move(resolved);
  std::lock_guard lock(cache_mu_);
  cache_[cache_key] = {changes, generation, prepared};
  return std::shared_ptr<const PreparedView>(prepared);
}

Result<IngestOutcome> FeatureStore::Ingest(std::string_view view, const OfflineBatch& batch,
                                           const IngestInput& input, const policy::EntityUid& by) {
  CUSTOS_ASSIGN_OR_RETURN(std::shared_ptr<const PreparedView> prepared, Prepare(view));
  const OfflineViewSchema& schema = prepared->schema;
  IngestOutcome outcome;
  outcome.view = std::string(view);
  outcome.version = prepared->view.version.version;
  const bool online = prepared->view.view.online;
  // Runs under the offline store's write lock, after the batch validated and its blocks were
  // staged: the online rows join the same write, and the event is durable before it.
  auto stage = [&](storage::WriteBatch& write) -> Status {
    if (online) {
      CUSTOS_ASSIGN_OR_RETURN(outcome.online_rows, online_.StageLatest(schema, batch, write));
    }
    audit::AuditEvent event;
    event.time = clock_.Now();
    event.principal_id = by.ToString();
    event.auth_method = audit::AuthMethod::kEmbedded;
    event.action = "features.ingest";
    event.resources.push_back({"FeatureView", std::string(view), outcome.version});
    event.decision = audit::Decision::kAllow;
    event.outcome = audit::Outcome::kOk;
    event.rows_returned = batch.size();
    event.outcome_detail = "rows=" + std::to_string(batch.size()) +
                           " rejected=" + std::to_string(input.rows_rejected) +
                           " online=" + std::to_string(outcome.online_rows) +
                           " source=" + input.source;
    if (event.outcome_detail.size() > audit::kMaxEventString) {
      event.outcome_detail.resize(audit::kMaxEventString);
    }
    CUSTOS_ASSIGN_OR_RETURN(outcome.audit_index, audit_.Append(event));
    return Status::Ok();
  };
  CUSTOS_ASSIGN_OR_RETURN(IngestResult result, offline_.Ingest(schema, batch, stage));
  outcome.rows = result.rows;
  outcome.blocks = result.blocks;
  return outcome;
}

Result<std::vector<std::string>> FeatureStore::ServiceRefs(std::string_view service) const {
  CUSTOS_ASSIGN_OR_RETURN(auto pairs, catalog_.ResolveService(service));
  std::vector<std::string> refs;
  refs.reserve(pairs.size());
  for (const auto& [view, feature] : pairs) refs.push_back(view + ":" + feature);
  return refs;
}

Result<ReadAuthorization> FeatureStore::AuthorizeRead(
    const ReadContext& context, std::shared_ptr<const policy::PolicySet> policies,
    const std::vector<std::string>& refs) {
  if (refs.empty()) {
    return InvalidArgumentError(
        "no features requested; name features as view:feature, a whole view, or a feature "
        "service");
  }
  ReadAuthorization auth;
  auth.context = context;
  auth.policies = std::move(policies);
  std::vector<std::vector<size_t>> wanted;  // per auth.views entry
  for (const std::string& ref : refs) {
    const size_t colon = ref.find(':');
    const std::string view_name = ref.substr(0, colon);  // "view" or "view@N"
    const std::string feature = colon == std::string::npos ? "" : ref.substr(colon + 1);
    const size_t at = view_name.find('@');
    std::optional<uint64_t> version;
    if (at != std::string::npos) {
      const std::string digits = view_name.substr(at + 1);
      uint64_t n = 0;
      auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
      if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() || n == 0) {
        return InvalidArgumentError("feature reference '" + ref +
                                    "': the version after '@' must be a number from 1");
      }
      version = n;
    }
    if (view_name.empty() || at == 0 || (colon != std::string::npos && feature.empty())) {
      return InvalidArgumentError("feature reference '" + ref +
                                  "' is malformed; write view:feature, view, or view@N:feature");
    }
    size_t slot = 0;
    for (; slot < auth.views.size(); ++slot) {
      if (auth.views[slot].name == view_name) break;
    }
    if (slot == auth.views.size()) {
      CUSTOS_ASSIGN_OR_RETURN(std::shared_ptr<const PreparedView> prepared,
                              Prepare(view_name.substr(0, at), version));
      auth.views.push_back({std::move(prepared), {}, std::nullopt, view_name});
      wanted.emplace_back();
    }
    const catalog::ResolvedView& view = auth.views[slot].view->view;
    auto add = [&](size_t index) {
      if (std::find(wanted[slot].begin(), wanted[slot].end(), index) != wanted[slot].end()) return;
      wanted[slot].push_back(index);
      auth.feature_refs.push_back(view_name + ":" + view.features[index].name);
    };
    if (feature.empty()) {
      for (size_t i = 0; i < view.features.size(); ++i) add(i);
      continue;
    }
    size_t index = 0;
    while (index < view.features.size() && view.features[index].name != feature) ++index;
    if (index == view.features.size()) {
      std::vector<std::string> names;
      for (const catalog::Feature& f : view.features) names.push_back(f.name);
      return NotFoundError("feature view '" + view_name + "' (version " +
                           std::to_string(view.version.version) + ") has no feature '" + feature +
                           "'; its features are: " + JoinNames(names));
    }
    add(index);
  }
  for (size_t v = 0; v < auth.views.size(); ++v) {
    ViewAuthorization& va = auth.views[v];
    const PreparedView& prepared = *va.view;
    va.features = Decide(auth.policies, va.view, context, wanted[v]);
    const std::string& entity_type = prepared.view.version.schema.entities.front().name;
    RowFilter filter = RowFilter::Compile(*auth.policies, prepared.entities, context, entity_type,
                                          prepared.attribute_columns);
    if (filter.active()) va.row_filter.emplace(std::move(filter));
  }
  return auth;
}

std::vector<FeatureDecision> FeatureStore::Decide(
    const std::shared_ptr<const policy::PolicySet>& policies,
    const std::shared_ptr<const PreparedView>& view, const ReadContext& context,
    const std::vector<size_t>& features) {
  // The key: every input of the decisions, length-prefixed so no two inputs collide.
  std::string key;
  key.reserve(160);
  auto add = [&key](std::string_view part) {
    const uint32_t n = static_cast<uint32_t>(part.size());
    key.append(reinterpret_cast<const char*>(&n), sizeof n);
    key.append(part);
  };
  auto add_int = [&key](uint64_t v) { key.append(reinterpret_cast<const char*>(&v), sizeof v); };
  add_int(reinterpret_cast<uintptr_t>(policies.get()));
  add_int(reinterpret_cast<uintptr_t>(view.get()));
  add(context.principal.type());
  add(context.principal.id());
  add(context.purpose);
  add(context.environment);
  add(context.zone);
  add_int(context.mfa ? 1 : 0);
  add_int(static_cast<uint64_t>(context.now_seconds));
  add_int(static_cast<uint64_t>(context.risk));
  for (size_t f : features) add_int(f);
  {
    std::lock_guard lock(decisions_mu_);
    auto it = decisions_.find(key);
    if (it != decisions_.end()) return it->second->decisions;
  }
  auto entry = std::make_shared<CachedDecisions>();
  entry->policies = policies;
  entry->view = view;
  entry->decisions = DecideFeatureAccess(*policies, view->entities, context, view->view, features);
  std::vector<FeatureDecision> decisions = entry->decisions;
  std::lock_guard lock(decisions_mu_);
  // Entries of past seconds and old policy sets never hit again: start over when full.
  if (decisions_.size() >= kMaxCachedDecisions) decisions_.clear();
  decisions_.emplace(std::move(key), std::move(entry));
  return decisions;
}

Result<uint64_t> FeatureStore::AuditRead(const ReadAuthorization& auth, std::string_view action,
                                         size_t rows, audit::AuthMethod method) {
  return audit_.Append(ReadEvent(auth, action, rows, method));
}

audit::AuditEvent FeatureStore::ReadEvent(const ReadAuthorization& auth, std::string_view action,
                                          size_t rows, audit::AuthMethod method) const {
  audit::AuditEvent event;
  event.time = clock_.Now();
  event.principal_id = auth.context.principal.ToString();
  event.auth_method = method;
  event.action = std::string(action);
  event.purpose = auth.context.purpose;
  event.environment = auth.context.environment;
  event.policy_set_version = auth.policies ? auth.policies->version() : 0;
  std::set<std::string> reasons;
  size_t r = 0;
  for (const ViewAuthorization& va : auth.views) {
    event.resources.push_back(
        {"FeatureView", va.view->view.view.name, va.view->view.version.version});
    for (const FeatureDecision& d : va.features) {
      event.feature_modes.push_back({auth.feature_refs[r++], AuditMode(d.mode)});
      reasons.insert(d.reasons.begin(), d.reasons.end());
    }
    if (va.row_filter) {
      for (std::string& id : va.row_filter->PolicyIds()) reasons.insert(std::move(id));
    }
  }
  event.determining_policies.assign(reasons.begin(), reasons.end());
  const bool any = auth.allowed_features() > 0;
  event.decision = any ? audit::Decision::kAllow : audit::Decision::kDeny;
  event.outcome = any ? audit::Outcome::kOk : audit::Outcome::kDenied;
  event.rows_returned = rows;
  event.risk_score = static_cast<uint32_t>(std::clamp<int64_t>(auth.context.risk, 0, 1000));
  return event;
}

Result<OnlineResponse> FeatureStore::GetOnlineFeatures(const ReadAuthorization& auth,
                                                       const EntityKeys& keys) {
  const size_t rows = keys.rows();
  if (keys.names.size() != keys.values.size()) {
    return InvalidArgumentError("entity keys: " + std::to_string(keys.names.size()) +
                                " names but " + std::to_string(keys.values.size()) + " columns");
  }
  for (const auto& column : keys.values) {
    if (column.size() != rows) {
      return InvalidArgumentError("entity keys: every key column needs the same number of rows");
    }
  }
  if (rows > options_.max_online_rows) {
    return InvalidArgumentError(
        "online read of " + std::to_string(rows) + " entity rows; at most " +
        std::to_string(options_.max_online_rows) + " per request (split the request)");
  }
  OnlineResponse response;
  for (size_t k = 0; k < keys.names.size(); ++k) {
    response.feature_names.push_back(keys.names[k]);
    OnlineColumn column;
    column.values = keys.values[k];
    column.statuses.assign(rows, FeatureStatus::kPresent);
    column.event_ts.assign(rows, 0);
    response.results.push_back(std::move(column));
    response.modes.push_back(AccessMode::kRaw);
  }
  const int64_t now = Micros(clock_.Now());
  std::vector<catalog::Value> key_values;
  std::vector<catalog::Value> attributes;
  for (const ViewAuthorization& va : auth.views) {
    const PreparedView& prepared = *va.view;
    const OfflineViewSchema& schema = prepared.schema;
    // Where each of the view's join keys is among the request's keys.
    std::vector<size_t> key_index;
    for (const Column& jk : schema.join_keys) {
      auto it = std::find(keys.names.begin(), keys.names.end(), jk.name);
      if (it == keys.names.end()) {
        return InvalidArgumentError("feature view '" + prepared.view.view.name + "' is keyed by '" +
                                    jk.name +
                                    "', which the request does not give; add it to the entity "
                                    "keys (given: " +
                                    JoinNames(keys.names) + ")");
      }
      key_index.push_back(static_cast<size_t>(it - keys.names.begin()));
    }
    const size_t first = response.results.size();
    bool any_row_level = false;
    for (const FeatureDecision& d : va.features) {
      response.feature_names.push_back(va.name + "__" + prepared.view.features[d.feature].name);
      OnlineColumn column;
      column.values.resize(rows);
      column.statuses.assign(rows, FeatureStatus::kDenied);
      column.event_ts.assign(rows, 0);
      response.results.push_back(std::move(column));
      response.modes.push_back(d.mode);
      any_row_level = any_row_level || IsRowLevel(d.mode);
    }
    if (!any_row_level) continue;  // nothing readable: no storage read at all
    const PurposeKey* purpose_key = nullptr;
    if (!auth.context.purpose.empty())
      purpose_key = &pseudonymizer_->ForPurpose(auth.context.purpose);
    const int64_t ttl = prepared.view.view.ttl_seconds * int64_t{1000000};
    for (size_t r = 0; r < rows; ++r) {
      key_values.clear();
      for (size_t i : key_index) key_values.push_back(keys.values[i][r]);
      auto entity_key = EncodeEntityKey(schema.join_keys, key_values);
      if (!entity_key.ok()) {
        return InvalidArgumentError("entity row " + std::to_string(r + 1) + ": " +
                                    std::string(entity_key.status().message()));
      }
      CUSTOS_ASSIGN_OR_RETURN(std::optional<OnlineRow> row, online_.Read(schema, *entity_key));
      FeatureStatus missing = FeatureStatus::kNotFound;
      if (row && va.row_filter) {
        attributes = key_values;
        attributes.insert(attributes.end(), row->features.begin(), row->features.end());
        if (!va.row_filter->Allows(EntityIdText(key_values), attributes)) {
          row.reset();  // invisible to this principal, like a row-level security policy
          ++response.rows_filtered;
        }
      }
      if (row && ttl > 0 && now - row->event_ts > ttl) {
        missing = FeatureStatus::kOutsideMaxAge;
      }
      for (size_t f = 0; f < va.features.size(); ++f) {
        const FeatureDecision& d = va.features[f];
        OnlineColumn& column = response.results[first + f];
        if (!IsRowLevel(d.mode)) continue;  // stays DENIED
        if (!row || missing == FeatureStatus::kOutsideMaxAge) {
          column.statuses[r] = missing;
          if (row) column.event_ts[r] = row->event_ts;
          continue;
        }
        column.event_ts[r] = row->event_ts;
        const catalog::Value& value = row->features[d.feature];
        if (std::holds_alternative<std::monostate>(value)) {
          column.statuses[r] = FeatureStatus::kNullValue;
          continue;
        }
        column.statuses[r] = FeatureStatus::kPresent;
        switch (d.mode) {
          case AccessMode::kRaw:
            column.values[r] = value;
            break;
          case AccessMode::kPseudonymized:
            column.values[r] = purpose_key->Pseudonymize(value);
            break;
          case AccessMode::kMasked:
            column.values[r] = ApplyMask(*prepared.view.features[d.feature].mask, value);
            break;
          default:
            break;
        }
      }
    }
  }
  return response;
}

Result<TrainingSetOutput> FeatureStore::BuildTrainingSet(const ReadAuthorization& auth,
                                                         const EntityRows& rows,
                                                         const TrainingSetRequest& request) {
  std::vector<PitViewRequest> pit;
  struct Output {
    size_t view;
    const FeatureDecision* decision;
  };
  std::vector<Output> outputs;  // row-level features, in request order
  TrainingSetOutput out;
  size_t ref = 0;
  for (size_t v = 0; v < auth.views.size(); ++v) {
    const ViewAuthorization& va = auth.views[v];
    const PreparedView& prepared = *va.view;
    PitViewRequest req;
    req.schema = prepared.schema;
    req.ttl_micros = prepared.view.view.ttl_seconds * int64_t{1000000};
    for (const FeatureDecision& d : va.features) {
      out.manifest.feature_modes.emplace_back(auth.feature_refs[ref++],
                                              std::string(AccessModeName(d.mode)));
      if (!IsRowLevel(d.mode)) continue;
      req.features.push_back(prepared.view.features[d.feature].name);
      outputs.push_back({v, &d});
    }
    // A row filter reads the row's attributes: join every feature of the view.
    if (va.row_filter) {
      req.features.clear();
      for (const Column& c : prepared.schema.features) req.features.push_back(c.name);
    }
    if (!req.features.empty()) pit.push_back(std::move(req));
  }
  PitOptions options;
  options.require_created_before_ts = request.require_created_before_ts;
  options.threads = request.threads;
  PitResult joined;
  if (!pit.empty()) {
    CUSTOS_ASSIGN_OR_RETURN(joined, PointInTimeJoin(offline_, rows, pit, options));
  } else {
    joined.rows = rows.size();
  }
  // The column of `joined` holding a view's feature (SIZE_MAX when not joined).
  auto column_of = [&](const PreparedView& prepared, const std::string& feature) -> size_t {
    size_t offset = 0;
    for (const PitViewRequest& req : pit) {
      if (req.schema.version_id == prepared.schema.version_id) {
        for (size_t i = 0; i < req.features.size(); ++i) {
          if (req.features[i] == feature) return offset + i;
        }
        return SIZE_MAX;
      }
      offset += req.features.size();
    }
    return SIZE_MAX;
  };
  // Row filters: a hidden row's features of that view become null.
  std::vector<std::vector<uint8_t>> hidden(auth.views.size());
  for (size_t v = 0; v < auth.views.size(); ++v) {
    const ViewAuthorization& va = auth.views[v];
    if (!va.row_filter) continue;
    const PreparedView& prepared = *va.view;
    std::vector<size_t> key_cols;
    for (const Column& jk : prepared.schema.join_keys) {
      for (size_t k = 0; k < rows.key_columns.size(); ++k) {
        if (rows.key_columns[k].name == jk.name) key_cols.push_back(k);
      }
    }
    std::vector<size_t> feature_cols;
    for (const Column& c : prepared.schema.features)
      feature_cols.push_back(column_of(prepared, c.name));
    hidden[v].assign(rows.size(), 0);
    std::vector<catalog::Value> key_values, attributes;
    for (size_t r = 0; r < rows.size(); ++r) {
      key_values.clear();
      for (size_t k : key_cols) key_values.push_back(rows.keys[k].ValueAt(r));
      attributes = key_values;
      for (size_t c : feature_cols) attributes.push_back(joined.values[c].ValueAt(r));
      if (!va.row_filter->Allows(EntityIdText(key_values), attributes)) {
        hidden[v][r] = 1;
        ++out.rows_filtered;
      }
    }
  }
  // The output columns, transformed by mode.
  PitResult result;
  result.rows = rows.size();
  result.views = joined.views;
  const PurposeKey* purpose_key = nullptr;
  if (!auth.context.purpose.empty())
    purpose_key = &pseudonymizer_->ForPurpose(auth.context.purpose);
  for (const Output& o : outputs) {
    const PreparedView& prepared = *auth.views[o.view].view;
    const catalog::Feature& feature = prepared.view.features[o.decision->feature];
    const size_t c = column_of(prepared, feature.name);
    ColumnVector source = joined.values[c];
    if (!hidden[o.view].empty()) {
      for (size_t r = 0; r < rows.size(); ++r) {
        if (hidden[o.view][r]) {
          source.valid[r] = 0;
          source.fixed[r] = 0;
          if (IsVarlen(source.type)) source.lengths[r] = 0;
        }
      }
    }
    ColumnVector transformed;
    switch (o.decision->mode) {
      case AccessMode::kRaw:
        transformed = std::move(source);
        break;
      case AccessMode::kPseudonymized:
        CUSTOS_RETURN_IF_ERROR(PseudonymizeColumn(*purpose_key, source, transformed));
        break;
      case AccessMode::kMasked:
        CUSTOS_RETURN_IF_ERROR(MaskColumn(*feature.mask, source, transformed));
        break;
      default:
        continue;
    }
    result.columns.push_back({joined.columns[c].name, transformed.type});
    result.values.push_back(std::move(transformed));
  }
  WriteTrainingSet(rows, result, request.format, out.data);
  std::vector<PitViewRequest> manifest_views;
  for (const ViewAuthorization& va : auth.views) {
    PitViewRequest req;
    req.schema = va.view->schema;
    req.ttl_micros = va.view->view.view.ttl_seconds * int64_t{1000000};
    manifest_views.push_back(std::move(req));
  }
  auto modes = std::move(out.manifest.feature_modes);
  CUSTOS_ASSIGN_OR_RETURN(
      out.manifest,
      MakeTrainingSetManifest(rows, manifest_views, options, result, request.format, out.data,
                              auth.context.principal.ToString(), auth.context.purpose, clock_));
  out.manifest.feature_modes = std::move(modes);
  out.manifest.rows_filtered = out.rows_filtered;
  return out;
}

Result<AggregateAnswer> FeatureStore::AggregateFeature(const ReadAuthorization& auth,
                                                       std::string_view feature, AggregateFn fn) {
  size_t ref = 0;
  for (const ViewAuthorization& va : auth.views) {
    for (const FeatureDecision& d : va.features) {
      if (auth.feature_refs[ref++] != feature) continue;
      if (d.mode == AccessMode::kDenied) {
        return PermissionDeniedError("policy allows no read of feature '" + std::string(feature) +
                                     "' (not even aggregates); ask for access with custos "
                                     "access request");
      }
      const PreparedView& prepared = *va.view;
      AggregateAnswer answer;
      answer.feature = std::string(feature);
      answer.mode = d.mode;
      ColumnVector column(prepared.schema.features[d.feature].type);
      std::vector<catalog::Value> attributes;
      CUSTOS_RETURN_IF_ERROR(
          online_.Scan(prepared.schema, [&](std::string_view key, const OnlineRow& row) -> Status {
            if (va.row_filter) {
              CUSTOS_ASSIGN_OR_RETURN(std::vector<catalog::Value> keys,
                                      DecodeEntityKey(prepared.schema.join_keys, key));
              attributes = keys;
              attributes.insert(attributes.end(), row.features.begin(), row.features.end());
              if (!va.row_filter->Allows(EntityIdText(keys), attributes)) {
                ++answer.rows_filtered;
                return Status::Ok();
              }
            }
            return column.AppendValue(row.features[d.feature]);
          }));
      CUSTOS_ASSIGN_OR_RETURN(answer.result, Aggregate(column, fn, options_.min_aggregate_rows));
      return answer;
    }
  }
  return NotFoundError("feature '" + std::string(feature) +
                       "' is not part of this read; request it as view:feature");
}

Result<RetentionReport> FeatureStore::EnforceRetention(const policy::EntityUid& by) {
  std::lock_guard lock(retention_mu_);
  RetentionReport report;
  const common::TimePoint now = clock_.Now();
  CUSTOS_ASSIGN_OR_RETURN(catalog::CatalogState state, catalog_.Load());
  for (const auto& [name, published] : state.views) {
    if (published.removed || published.spec.retention_seconds <= 0) continue;
    auto resolved = catalog_.ResolveView(name);
    if (!resolved.ok()) continue;  // no version (never applied fully)
    const OfflineViewSchema schema = StoreSchema(*resolved);
    const int64_t cutoff = Micros(now) - published.spec.retention_seconds * int64_t{1000000};
    audit::AuditEvent event;
    event.time = now;
    event.principal_id = by.ToString();
    event.auth_method = audit::AuthMethod::kEmbedded;
    event.action = "features.retention.purge";
    event.resources.push_back({"FeatureView", name, resolved->version.version});
    event.decision = audit::Decision::kAllow;
    event.outcome = audit::Outcome::kOk;
    event.outcome_detail = "before=" + catalog::FormatTimestamp({cutoff});
    CUSTOS_RETURN_IF_ERROR(audit_.Append(event).status());
    CUSTOS_ASSIGN_OR_RETURN(PurgeResult purged, offline_.PurgeBefore(schema, cutoff));
    report.offline_rows_purged += purged.rows_purged;
    CUSTOS_ASSIGN_OR_RETURN(size_t online_purged, online_.PurgeBefore(schema, cutoff));
    report.online_rows_purged += online_purged;
  }
  CUSTOS_ASSIGN_OR_RETURN(std::vector<catalog::ViewVersion> expired,
                          catalog_.VersionsPastRetention(now));
  for (const catalog::ViewVersion& v : expired) {
    // Shred first: once the key is gone no copy of the data can be read, whatever happens
    // to the records; MarkPurged then records (and audits) it.
    CUSTOS_RETURN_IF_ERROR(offline_.Shred(v.StoreId()));
    CUSTOS_RETURN_IF_ERROR(online_.DropVersion(v.StoreId()));
    CUSTOS_RETURN_IF_ERROR(catalog_.MarkPurged(v.view, v.version, by));
    report.versions_shredded.push_back(v.StoreId());
  }
  return report;
}

}  // namespace custos::features
