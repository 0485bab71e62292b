// FeatureStore over real components (RocksDB, keyring, audit log, catalog, directory, Cedar):
// ingestion into both stores (atomic, audited), access modes per feature, row filters,
// Feast statuses, training sets by mode, retention and crypto-shredding.
#include "features/feature_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "../audit/log_test_util.h"
#include "catalog/catalog_store.h"
#include "features/source_ingest.h"
#include "identity/identity_audit.h"
#include "policy/parser.h"

namespace custos::features {
namespace {

using policy::EntityUid;
using ::testing::HasSubstr;

const char kExampleDir[] = CUSTOS_SOURCE_DIR "/examples/fraud";
const EntityUid kAdmin("User", "admin");
constexpr int64_t kDay = 86400;

int64_t At(const char* rfc3339) { return catalog::ParseTimestamp(rfc3339)->micros; }

class FeatureStoreTest : public ::testing::Test {
 protected:
  FeatureStoreTest() : clock_(common::FromUnixMicros(At("2026-01-03T12:00:00Z"))) {
    data_ = audit::testing::CreateDataDir(tmp_.Sub("data"));
    audit::LogOptions options;
    options.background_checkpoints = false;
    options.durability = audit::Durability::kOsBuffer;
    log_ = std::move(*audit::AuditLog::Open(kv(), keyring(), options));
    governance_ = std::move(*catalog::GovernanceRegistry::Open(kv(), keyring(), *log_, clock_));
    catalog_ =
        std::move(*catalog::CatalogStore::Open(kv(), keyring(), *log_, *governance_, clock_));
    crypto::SecretBytes salt_key(32);
    for (size_t i = 0; i < salt_key.size(); ++i) salt_key.span()[i] = 7;
    salt_.emplace(*audit::AuditSalt::Create(std::move(salt_key)));
    auditor_ = std::make_unique<identity::IdentityAuditor>(*log_, *salt_, clock_);
    directory_ = std::move(*identity::Directory::Open(kv(), keyring(), *auditor_));
    for (const char* user : {"alice", "bob", "carol", "dave"}) {
      auto created = directory_->Create(root_, {identity::PrincipalId::User(user), "", {}});
      EXPECT_TRUE(created.ok()) << created.status().ToString();
    }
    repo_ = std::move(*catalog::LoadRepository(kExampleDir));
    Apply(repo_);
    auto store = FeatureStore::Open(kv(), keyring(), *log_, *catalog_, *directory_, clock_);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    SetPolicies(kPolicies);
  }
  ~FeatureStoreTest() override {
    store_.reset();
    directory_.reset();
    catalog_.reset();
    governance_.reset();
    log_->Close();
  }

  static constexpr const char* kPolicies = R"(
    @id("alice-raw")
    permit(principal == User::"alice", action == Action::"read",
           resource in FeatureView::"customer_transactions")
    when { resource.classification != "restricted" };
    @id("alice-masked")
    permit(principal == User::"alice", action == Action::"read_masked",
           resource in FeatureView::"customer_transactions");
    @id("bob-pseudonymized")
    permit(principal == User::"bob", action == Action::"read_pseudonymized",
           resource in FeatureView::"customer_transactions");
    @id("carol-aggregate")
    permit(principal == User::"carol", action == Action::"read_aggregate",
           resource in FeatureView::"customer_transactions");
  )";

  void Apply(const catalog::Repository& repo) {
    auto plan = catalog_->Plan(repo);
    ASSERT_TRUE(plan.ok()) << plan.status().ToString();
    auto applied = catalog_->Apply(*plan, kAdmin);
    ASSERT_TRUE(applied.ok()) << applied.status().ToString();
  }

  void SetPolicies(const std::string& text) {
    policy::ParseOptions options;
    options.use_id_annotation = true;
    auto parsed = policy::ParsePolicies(text, options);
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    auto set = policy::PolicySet::Create(std::move(*parsed), ++policy_version_);
    ASSERT_TRUE(set.ok()) << set.status().ToString();
    policies_ = std::make_shared<const policy::PolicySet>(std::move(*set));
  }

  struct TxnRow {
    int64_t customer_id;
    const char* event_ts;
    const char* created_ts;
    std::optional<int64_t> count;
    std::optional<double> amount;
    std::optional<std::string> card;
    std::optional<const char*> last_txn;
  };
  OfflineBatch TxnBatch(const std::vector<TxnRow>& rows) {
    auto view = catalog_->ResolveView("customer_transactions");
    OfflineBatch b = MakeOfflineBatch(FeatureStore::StoreSchema(*view));
    for (const TxnRow& r : rows) {
      b.join_keys[0].AppendInt64(r.customer_id);
      b.event_ts.push_back(At(r.event_ts));
      b.created_ts.push_back(At(r.created_ts));
      r.count ? b.features[0].AppendInt64(*r.count) : b.features[0].AppendNull();
      r.amount ? b.features[1].AppendDouble(*r.amount) : b.features[1].AppendNull();
      r.card ? b.features[2].AppendBytes(*r.card) : b.features[2].AppendNull();
      r.last_txn ? b.features[3].AppendTimestamp(At(*r.last_txn)) : b.features[3].AppendNull();
    }
    return b;
  }
  IngestOutcome MustIngest(const std::vector<TxnRow>& rows) {
    auto outcome =
        store_->Ingest("customer_transactions", TxnBatch(rows), {"test", rows.size(), 0}, kAdmin);
    EXPECT_TRUE(outcome.ok()) << outcome.status().ToString();
    return outcome.ok() ? *outcome : IngestOutcome{};
  }
  void IngestStandardRows() {
    MustIngest({
        {1001, "2026-01-01T00:00:00Z", "2026-01-01T01:00:00Z", 4, 52.1, "4111111111111111",
         "2025-12-31T18:22:00Z"},
        {1001, "2026-01-02T00:00:00Z", "2026-01-02T01:00:00Z", 6, 55.75, "4111111111111111",
         "2026-01-01T20:05:00Z"},
        {1002, "2026-01-02T00:00:00Z", "2026-01-02T01:00:00Z", 0, std::nullopt, "5500000000000004",
         "2025-12-30T09:12:00Z"},
    });
  }

  ReadContext Context(const char* user, std::string purpose = "fraud-model") {
    ReadContext c;
    c.principal = EntityUid("User", user);
    c.purpose = std::move(purpose);
    c.now_seconds = common::ToUnixMicros(clock_.Now()) / 1000000;
    return c;
  }
  ReadAuthorization MustAuthorize(const char* user, std::vector<std::string> refs,
                                  std::string purpose = "fraud-model") {
    auto auth = store_->AuthorizeRead(Context(user, std::move(purpose)), policies_, refs);
    EXPECT_TRUE(auth.ok()) << auth.status().ToString();
    return auth.ok() ? std::move(*auth) : ReadAuthorization{};
  }
  OnlineResponse MustGet(const ReadAuthorization& auth, std::vector<int64_t> customers) {
    EntityKeys keys;
    keys.names = {"customer_id"};
    keys.values.emplace_back();
    for (int64_t c : customers) keys.values[0].emplace_back(c);
    auto response = store_->GetOnlineFeatures(auth, keys);
    EXPECT_TRUE(response.ok()) << response.status().ToString();
    return response.ok() ? std::move(*response) : OnlineResponse{};
  }

  storage::Kv& kv() { return data_.dir->kv(); }
  crypto::Keyring& keyring() { return data_.dir->keyring(); }

  custos::testing::TempDir tmp_;
  audit::testing::TestDataDir data_;
  common::FakeClock clock_;
  std::unique_ptr<audit::AuditLog> log_;
  std::unique_ptr<catalog::GovernanceRegistry> governance_;
  std::unique_ptr<catalog::CatalogStore> catalog_;
  std::optional<audit::AuditSalt> salt_;
  std::unique_ptr<identity::IdentityAuditor> auditor_;
  std::unique_ptr<identity::Directory> directory_;
  identity::Caller root_{.principal_id = "User::\"root\"", .request_id = "req-root"};
  catalog::Repository repo_;
  std::unique_ptr<FeatureStore> store_;
  std::shared_ptr<const policy::PolicySet> policies_;
  uint64_t policy_version_ = 0;
};

TEST_F(FeatureStoreTest, IngestWritesBothStoresInOneAuditedWrite) {
  const uint64_t before = log_->size();
  IngestOutcome outcome = MustIngest({
      {1001, "2026-01-01T00:00:00Z", "2026-01-01T01:00:00Z", 4, 52.1, "4111", std::nullopt},
      {1001, "2026-01-02T00:00:00Z", "2026-01-02T01:00:00Z", 6, 55.0, "4111", std::nullopt},
      {1002, "2026-01-02T00:00:00Z", "2026-01-02T01:00:00Z", 1, 9.5, "5500", std::nullopt},
  });
  EXPECT_EQ(outcome.version, 1u);
  EXPECT_EQ(outcome.rows, 3u);
  EXPECT_EQ(outcome.online_rows, 2u);
  EXPECT_EQ(outcome.audit_index, before);
  ASSERT_EQ(log_->size(), before + 1);
  audit::AuditEvent e = *log_->ReadEvent(outcome.audit_index);
  EXPECT_EQ(e.action, "features.ingest");
  EXPECT_EQ(e.resources[0], (audit::ResourceRef{"FeatureView", "customer_transactions", 1}));
  EXPECT_EQ(e.outcome_detail, "rows=3 rejected=0 online=2 source=test");

  // The online row is the latest one; an older row ingested later does not replace it.
  MustIngest({{1001, "2025-12-01T00:00:00Z", "2026-01-03T00:00:00Z", 1, 1.0, "0000", {}}});
  auto schema = FeatureStore::StoreSchema(*catalog_->ResolveView("customer_transactions"));
  auto row = store_->online().Read(schema, *EncodeEntityKey(schema.join_keys, {int64_t{1001}}));
  ASSERT_TRUE(row.ok() && row->has_value());
  EXPECT_EQ((*row)->event_ts, At("2026-01-02T00:00:00Z"));
  EXPECT_EQ(std::get<int64_t>((*row)->features[0]), 6);
  // And the offline store has the whole history (4 rows).
  auto reader = store_->offline().OpenView(schema);
  ASSERT_TRUE(reader.ok());
  size_t rows = 0;
  for (const OfflineBlockInfo& b : (*reader)->blocks()) rows += b.rows;
  EXPECT_EQ(rows, 4u);
}

TEST_F(FeatureStoreTest, BadBatchChangesNothingAndAppendsNoEvent) {
  OfflineBatch batch =
      TxnBatch({{1001, "2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z", 1, 1.0, "1", std::nullopt}});
  batch.features[1].AppendDouble(2.0);  // a column longer than the others
  const uint64_t before = log_->size();
  auto outcome = store_->Ingest("customer_transactions", batch, {"test", 1, 0}, kAdmin);
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(log_->size(), before);
  auto schema = FeatureStore::StoreSchema(*catalog_->ResolveView("customer_transactions"));
  auto row = store_->online().Read(schema, *EncodeEntityKey(schema.join_keys, {int64_t{1001}}));
  ASSERT_TRUE(row.ok());
  EXPECT_FALSE(row->has_value());

  auto unknown = store_->Ingest("no_such_view", batch, {"test", 1, 0}, kAdmin);
  EXPECT_EQ(unknown.status().code(), StatusCode::kNotFound);
}

TEST_F(FeatureStoreTest, AccessModesPerFeature) {
  IngestStandardRows();
  ReadAuthorization alice = MustAuthorize("alice", {"customer_transactions"});
  ASSERT_EQ(alice.views.size(), 1u);
  const auto& d = alice.views[0].features;
  ASSERT_EQ(d.size(), 4u);
  EXPECT_EQ(d[0].mode, AccessMode::kRaw);     // txn_count_7d (internal)
  EXPECT_EQ(d[1].mode, AccessMode::kRaw);     // avg_amount_30d (confidential)
  EXPECT_EQ(d[2].mode, AccessMode::kMasked);  // last_card_number (restricted, show_last:4)
  EXPECT_EQ(d[3].mode, AccessMode::kRaw);     // last_txn_time
  EXPECT_EQ(d[2].reasons, std::vector<std::string>{"alice-masked"});
  EXPECT_EQ(d[0].reasons, std::vector<std::string>{"alice-raw"});

  OnlineResponse r = MustGet(alice, {1001, 1002, 9999});
  ASSERT_EQ(r.feature_names,
            (std::vector<std::string>{"customer_id", "customer_transactions__txn_count_7d",
                                      "customer_transactions__avg_amount_30d",
                                      "customer_transactions__last_card_number",
                                      "customer_transactions__last_txn_time"}));
  EXPECT_EQ(std::get<int64_t>(r.results[1].values[0]), 6);
  EXPECT_EQ(r.results[1].statuses[0], FeatureStatus::kPresent);
  EXPECT_EQ(r.results[1].event_ts[0], At("2026-01-02T00:00:00Z"));
  EXPECT_EQ(r.results[2].statuses[1], FeatureStatus::kNullValue);  // 1002's amount is null
  EXPECT_EQ(std::get<std::string>(r.results[3].values[0]), "nnnnnnnnnnnn1111");
  EXPECT_EQ(r.results[1].statuses[2], FeatureStatus::kNotFound);
  EXPECT_EQ(r.modes[3], AccessMode::kMasked);
  EXPECT_THAT(r.ToJson(), HasSubstr("\"statuses\":[\"PRESENT\",\"PRESENT\",\"NOT_FOUND\"]"));

  // Bob: pseudonymized, stable within a purpose, different across purposes.
  ReadAuthorization bob = MustAuthorize("bob", {"customer_transactions:last_card_number"});
  EXPECT_EQ(bob.views[0].features[0].mode, AccessMode::kPseudonymized);
  OnlineResponse b1 = MustGet(bob, {1001, 1001});
  const std::string p = std::get<std::string>(b1.results[1].values[0]);
  EXPECT_EQ(p.size(), 3u + 32u);
  EXPECT_EQ(p.substr(0, 3), "ps_");
  EXPECT_EQ(std::get<std::string>(b1.results[1].values[1]), p);
  ReadAuthorization bob_other =
      MustAuthorize("bob", {"customer_transactions:last_card_number"}, "marketing");
  OnlineResponse b2 = MustGet(bob_other, {1001});
  EXPECT_NE(std::get<std::string>(b2.results[1].values[0]), p);
  // Without a purpose there is no pseudonym key: denied.
  ReadAuthorization bob_none = MustAuthorize("bob", {"customer_transactions:last_card_number"}, "");
  EXPECT_EQ(bob_none.views[0].features[0].mode, AccessMode::kDenied);

  // Carol: aggregate-only, and Dave: nothing. Both get DENIED values online.
  ReadAuthorization carol = MustAuthorize("carol", {"customer_transactions:txn_count_7d"});
  EXPECT_EQ(carol.views[0].features[0].mode, AccessMode::kAggregateOnly);
  OnlineResponse c = MustGet(carol, {1001});
  EXPECT_EQ(c.results[1].statuses[0], FeatureStatus::kDenied);
  EXPECT_TRUE(std::holds_alternative<std::monostate>(c.results[1].values[0]));
  ReadAuthorization dave = MustAuthorize("dave", {"customer_transactions"});
  EXPECT_EQ(dave.allowed_features(), 0u);
}

TEST_F(FeatureStoreTest, ForbidOnRawFallsBackToMasked) {
  IngestStandardRows();
  SetPolicies(std::string(kPolicies) + R"(
    @id("no-raw-amount") forbid(principal, action == Action::"read",
        resource == Feature::"customer_transactions.avg_amount_30d");)");
  ReadAuthorization alice = MustAuthorize("alice", {"customer_transactions:avg_amount_30d"});
  EXPECT_EQ(alice.views[0].features[0].mode, AccessMode::kMasked);
  OnlineResponse r = MustGet(alice, {1001});
  EXPECT_EQ(std::get<std::string>(r.results[1].values[0]), "[0, 100)");
}

TEST_F(FeatureStoreTest, OutsideMaxAgeAfterTtl) {
  IngestStandardRows();
  clock_.Set(common::FromUnixMicros(At("2026-01-05T00:00:01Z")));  // ttl is 2 days
  ReadAuthorization alice = MustAuthorize("alice", {"customer_transactions:txn_count_7d"});
  OnlineResponse r = MustGet(alice, {1001});
  EXPECT_EQ(r.results[1].statuses[0], FeatureStatus::kOutsideMaxAge);
  EXPECT_TRUE(std::holds_alternative<std::monostate>(r.results[1].values[0]));
  EXPECT_EQ(r.results[1].event_ts[0], At("2026-01-02T00:00:00Z"));
}

TEST_F(FeatureStoreTest, RowFilterHidesRowsByAttributes) {
  IngestStandardRows();
  SetPolicies(std::string(kPolicies) + R"(
    @id("active-customers") permit(principal == User::"alice", action == Action::"read_row",
        resource is customer) when { resource has txn_count_7d && resource.txn_count_7d > 2 };)");
  ReadAuthorization alice = MustAuthorize("alice", {"customer_transactions:txn_count_7d"});
  ASSERT_TRUE(alice.views[0].row_filter.has_value());
  OnlineResponse r = MustGet(alice, {1001, 1002});
  EXPECT_EQ(r.results[1].statuses[0], FeatureStatus::kPresent);
  EXPECT_EQ(r.results[1].statuses[1], FeatureStatus::kNotFound);  // txn_count_7d is 0
  EXPECT_EQ(r.rows_filtered, 1u);
  // Bob has no read_row policy: no filter.
  ReadAuthorization bob = MustAuthorize("bob", {"customer_transactions:txn_count_7d"});
  EXPECT_FALSE(bob.views[0].row_filter.has_value());
  // A forbid wins over the permit.
  SetPolicies(std::string(kPolicies) + R"(
    @id("all-rows") permit(principal, action == Action::"read_row", resource);
    @id("not-1001") forbid(principal, action == Action::"read_row", resource)
        when { resource.customer_id == 1001 };)");
  ReadAuthorization again = MustAuthorize("alice", {"customer_transactions:txn_count_7d"});
  OnlineResponse r2 = MustGet(again, {1001, 1002});
  EXPECT_EQ(r2.results[1].statuses[0], FeatureStatus::kNotFound);
  EXPECT_EQ(r2.results[1].statuses[1], FeatureStatus::kPresent);
}

TEST_F(FeatureStoreTest, AuditReadRecordsModesAndPolicies) {
  ReadAuthorization alice = MustAuthorize("alice", {"customer_transactions"});
  auto index = store_->AuditRead(alice, "features.online.read", 2, audit::AuthMethod::kEmbedded);
  ASSERT_TRUE(index.ok()) << index.status().ToString();
  audit::AuditEvent e = *log_->ReadEvent(*index);
  EXPECT_EQ(e.action, "features.online.read");
  EXPECT_EQ(e.principal_id, "User::\"alice\"");
  EXPECT_EQ(e.purpose, "fraud-model");
  EXPECT_EQ(e.decision, audit::Decision::kAllow);
  EXPECT_EQ(e.rows_returned, 2u);
  EXPECT_EQ(e.policy_set_version, policy_version_);
  EXPECT_EQ(e.determining_policies, (std::vector<std::string>{"alice-masked", "alice-raw"}));
  ASSERT_EQ(e.feature_modes.size(), 4u);
  EXPECT_EQ(e.feature_modes[2], (audit::FeatureAccess{"customer_transactions:last_card_number",
                                                      audit::AccessMode::kMasked}));
  ReadAuthorization dave = MustAuthorize("dave", {"customer_transactions"});
  audit::AuditEvent d = *log_->ReadEvent(
      *store_->AuditRead(dave, "features.online.read", 0, audit::AuthMethod::kEmbedded));
  EXPECT_EQ(d.decision, audit::Decision::kDeny);
}

TEST_F(FeatureStoreTest, UnknownFeatureAndWrongKeyTypeAreClearErrors) {
  auto unknown = store_->AuthorizeRead(Context("alice"), policies_, {"customer_transactions:nope"});
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().message(),
            "feature view 'customer_transactions' (version 1) has no feature 'nope'; its features "
            "are: txn_count_7d, avg_amount_30d, last_card_number, last_txn_time");
  ReadAuthorization alice = MustAuthorize("alice", {"customer_transactions:txn_count_7d"});
  EntityKeys keys;
  keys.names = {"customer_id"};
  keys.values = {{catalog::Value(std::string("abc"))}};
  auto wrong = store_->GetOnlineFeatures(alice, keys);
  ASSERT_FALSE(wrong.ok());
  EXPECT_THAT(std::string(wrong.status().message()),
              HasSubstr("entity row 1: entity key 'customer_id'"));
  keys.names = {"merchant_id"};
  auto missing = store_->GetOnlineFeatures(alice, keys);
  EXPECT_THAT(std::string(missing.status().message()),
              HasSubstr("is keyed by 'customer_id', which the request does not give"));
}

TEST_F(FeatureStoreTest, TrainingSetAppliesModesAndListsThemInTheManifest) {
  IngestStandardRows();
  EntityRowsSpec spec;
  spec.join_keys = {{"customer_id", {catalog::ScalarType::kInt64, false}}};
  auto rows = ReadEntityRowsCsv(
      "customer_id,event_timestamp,label\n1001,2026-01-01T12:00:00Z,0\n1001,2026-01-02T12:00:00Z,"
      "1\n1002,2026-01-02T12:00:00Z,0\n",
      "rows.csv", spec);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  SetPolicies(std::string(kPolicies) + R"(
    @id("carol-raw-count") permit(principal == User::"carol", action == Action::"read",
        resource == Feature::"customer_transactions.txn_count_7d");)");
  ReadAuthorization alice = MustAuthorize("alice", {"customer_transactions"});
  auto out = store_->BuildTrainingSet(alice, *rows, {});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->data,
            "customer_id,event_timestamp,label,txn_count_7d,avg_amount_30d,last_card_number,"
            "last_txn_time\r\n"
            "1001,2026-01-01T12:00:00Z,0,4,52.1,nnnnnnnnnnnn1111,2025-12-31T18:22:00Z\r\n"
            "1001,2026-01-02T12:00:00Z,1,6,55.75,nnnnnnnnnnnn1111,2026-01-01T20:05:00Z\r\n"
            "1002,2026-01-02T12:00:00Z,0,0,,nnnnnnnnnnnn0004,2025-12-30T09:12:00Z\r\n");
  ASSERT_EQ(out->manifest.feature_modes.size(), 4u);
  EXPECT_EQ(out->manifest.feature_modes[2].second, "masked");
  EXPECT_THAT(out->manifest.ToJson(),
              HasSubstr("\"customer_transactions:last_card_number\":\"masked\""));
  // Carol: the aggregate-only features are withheld, the raw one is there.
  ReadAuthorization carol = MustAuthorize("carol", {"customer_transactions"});
  auto c = store_->BuildTrainingSet(carol, *rows, {});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_THAT(c->data, HasSubstr("customer_id,event_timestamp,label,txn_count_7d\r\n"));
  EXPECT_EQ(c->manifest.feature_modes[1].second, "aggregate_only");
}

TEST_F(FeatureStoreTest, RetentionPurgesOldRowsAndShredsExpiredVersions) {
  IngestStandardRows();
  MustIngest({{1003, "2024-06-01T00:00:00Z", "2024-06-01T00:00:00Z", 1, 1.0, "9", {}}});
  const uint64_t before = log_->size();
  auto report = store_->EnforceRetention(kAdmin);  // customer_transactions keeps 365 days
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->offline_rows_purged, 1u);
  EXPECT_EQ(report->online_rows_purged, 1u);
  EXPECT_TRUE(report->versions_shredded.empty());
  EXPECT_GT(log_->size(), before);

  // A breaking change retires version 1; a year later its key is shredded.
  catalog::Repository changed = repo_;
  for (auto& v : changed.views) {
    if (v.name == "customer_transactions") v.features.pop_back();
  }
  Apply(changed);
  // Version 1 stays readable by name until its retention ends.
  ReadAuthorization old = MustAuthorize("alice", {"customer_transactions@1:last_txn_time"});
  OnlineResponse r = MustGet(old, {1001});
  EXPECT_EQ(r.feature_names[1], "customer_transactions@1__last_txn_time");
  EXPECT_EQ(r.results[1].statuses[0], FeatureStatus::kPresent);
  EXPECT_EQ(
      store_->AuthorizeRead(Context("alice"), policies_, {"customer_transactions:last_txn_time"})
          .status()
          .code(),
      StatusCode::kNotFound);  // not in version 2
  EXPECT_EQ(store_->AuthorizeRead(Context("alice"), policies_, {"customer_transactions@x"})
                .status()
                .code(),
            StatusCode::kInvalidArgument);
  clock_.Advance(std::chrono::seconds(366 * kDay));
  report = store_->EnforceRetention(kAdmin);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->versions_shredded, std::vector<std::string>{"customer_transactions:v1"});
  EXPECT_TRUE(keyring().IsShredded("features:customer_transactions:v1"));
  auto v1 = catalog_->ResolveView("customer_transactions", 1);
  EXPECT_FALSE(v1.ok());
  EXPECT_EQ(store_->AuthorizeRead(Context("alice"), policies_, {"customer_transactions@1"})
                .status()
                .code(),
            StatusCode::kNotFound);
}

}  // namespace
}  // namespace custos::features

namespace custos::features {
namespace {

TEST_F(FeatureStoreTest, AggregateOnlyAnswersOverEnoughEntities) {
  std::vector<TxnRow> rows;
  for (int64_t c = 0; c < 12; ++c) {
    rows.push_back({2000 + c, "2026-01-02T00:00:00Z", "2026-01-02T00:00:00Z", c, 1.0, "1", {}});
  }
  MustIngest(rows);
  ReadAuthorization carol = MustAuthorize("carol", {"customer_transactions:txn_count_7d"});
  auto answer =
      store_->AggregateFeature(carol, "customer_transactions:txn_count_7d", AggregateFn::kMean);
  ASSERT_TRUE(answer.ok()) << answer.status().ToString();
  EXPECT_EQ(answer->mode, AccessMode::kAggregateOnly);
  EXPECT_EQ(answer->result.non_null, 12u);
  EXPECT_DOUBLE_EQ(std::get<double>(answer->result.value), 5.5);
  // A row filter leaving 3 entities makes the group too small.
  SetPolicies(std::string(kPolicies) + R"(
    @id("few") permit(principal == User::"carol", action == Action::"read_row", resource)
        when { resource.txn_count_7d < 3 };)");
  carol = MustAuthorize("carol", {"customer_transactions:txn_count_7d"});
  auto few =
      store_->AggregateFeature(carol, "customer_transactions:txn_count_7d", AggregateFn::kMean);
  ASSERT_FALSE(few.ok());
  EXPECT_EQ(few.status().code(), StatusCode::kFailedPrecondition);
  ReadAuthorization dave = MustAuthorize("dave", {"customer_transactions:txn_count_7d"});
  EXPECT_EQ(
      store_->AggregateFeature(dave, "customer_transactions:txn_count_7d", AggregateFn::kCount)
          .status()
          .code(),
      StatusCode::kPermissionDenied);
}

TEST_F(FeatureStoreTest, IngestFromCsvSourceRejectsBadRowsWithTheirNumbers) {
  SourceIngestOptions options;
  options.repository_root = kExampleDir;
  auto report = IngestFromSource(*store_, "customer_transactions", options, kAdmin,
                                 At("2026-01-03T00:00:00Z"));
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->rejected, 0u);
  EXPECT_EQ(report->outcome.rows, report->rows_read);
  EXPECT_GT(report->outcome.online_rows, 0u);

  const std::string bad = tmp_.Sub("bad.csv");
  std::ofstream(bad) << "customer_id,event_ts,created_ts,txn_count_7d,avg_amount_30d,"
                        "last_card_number,last_txn_time\n"
                        "1,2026-01-01T00:00:00Z,,1,1.5,x,\n"
                        "two,2026-01-01T00:00:00Z,,1,1.5,x,\n"
                        "3,yesterday,,1,1.5,x,\n";
  options.path_override = bad;
  const uint64_t before = log_->size();
  auto refused = IngestFromSource(*store_, "customer_transactions", options, kAdmin, 0);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(refused.status().message()),
              HasSubstr("read 3 rows: 1 accepted, 2 rejected (rows 2, 3)"));
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("nothing was ingested"));
  EXPECT_EQ(log_->size(), before);
  options.max_rejects = 2;
  auto partial = IngestFromSource(*store_, "customer_transactions", options, kAdmin, 0);
  ASSERT_TRUE(partial.ok()) << partial.status().ToString();
  EXPECT_EQ(partial->outcome.rows, 1u);
  ASSERT_EQ(partial->rejects.size(), 2u);
  EXPECT_EQ(partial->rejects[0].row, 2u);

  std::ofstream(bad) << "customer_id,event_ts\n1,2026-01-01T00:00:00Z\n";
  auto missing = IngestFromSource(*store_, "customer_transactions", options, kAdmin, 0);
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("txn_count_7d"));
}

}  // namespace
}  // namespace custos::features

namespace custos::features {
namespace {

TEST_F(FeatureStoreTest, MemoizedDecisionsFollowPolicyChangesAtOnce) {
  ReadAuthorization first = MustAuthorize("alice", {"customer_transactions:txn_count_7d"});
  ReadAuthorization again = MustAuthorize("alice", {"customer_transactions:txn_count_7d"});
  EXPECT_EQ(first.views[0].features[0].mode, AccessMode::kRaw);
  EXPECT_EQ(again.views[0].features[0].reasons, first.views[0].features[0].reasons);
  // Same second, new policy set without alice's raw permit: the next read is masked.
  SetPolicies(R"(@id("alice-masked") permit(principal == User::"alice",
      action == Action::"read_masked", resource in FeatureView::"customer_transactions");)");
  ReadAuthorization revoked = MustAuthorize("alice", {"customer_transactions:txn_count_7d"});
  EXPECT_EQ(revoked.views[0].features[0].mode, AccessMode::kDenied);  // no mask on this one
  // Another purpose is another context.
  SetPolicies(kPolicies);
  EXPECT_EQ(
      MustAuthorize("bob", {"customer_transactions:txn_count_7d"}, "a").views[0].features[0].mode,
      AccessMode::kPseudonymized);
  EXPECT_EQ(
      MustAuthorize("bob", {"customer_transactions:txn_count_7d"}, "").views[0].features[0].mode,
      AccessMode::kDenied);
}

}  // namespace
}  // namespace custos::features
