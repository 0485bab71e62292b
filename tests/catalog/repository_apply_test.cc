// Plan and apply: change classification (metadata, additive, breaking), immutable versions,
// retention queries, governance records, pruning, and atomicity on audit or validation
// failures.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "../audit/log_test_util.h"
#include "catalog/catalog_store.h"

namespace custos::catalog {
namespace {

using policy::EntityUid;
using ::testing::HasSubstr;

const char kExampleDir[] = CUSTOS_SOURCE_DIR "/examples/fraud";
const EntityUid kAdmin("User", "admin");

class RepositoryApplyTest : public ::testing::Test {
 protected:
  RepositoryApplyTest() : clock_(common::FromUnixSeconds(1'800'000'000)) {
    data_ = audit::testing::CreateDataDir(tmp_.Sub("data"));
    audit::LogOptions options;
    options.background_checkpoints = false;
    options.durability = audit::Durability::kOsBuffer;
    log_ = std::move(*audit::AuditLog::Open(data_.dir->kv(), data_.dir->keyring(), options));
    governance_ =
        std::move(*GovernanceRegistry::Open(data_.dir->kv(), data_.dir->keyring(), *log_, clock_));
    auto store =
        CatalogStore::Open(data_.dir->kv(), data_.dir->keyring(), *log_, *governance_, clock_);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    auto repo = LoadRepository(kExampleDir);
    EXPECT_TRUE(repo.ok()) << repo.status().ToString();
    example_ = std::move(*repo);
  }
  ~RepositoryApplyTest() override {
    store_.reset();
    governance_.reset();
    log_->Close();
  }

  ApplyResult MustApply(const Repository& repo, PlanOptions options = {}) {
    auto plan = store_->Plan(repo, options);
    EXPECT_TRUE(plan.ok()) << plan.status().ToString();
    auto result = store_->Apply(*plan, kAdmin);
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    return result.ok() ? *result : ApplyResult{};
  }
  ApplyPlan MustPlan(const Repository& repo, PlanOptions options = {}) {
    auto plan = store_->Plan(repo, options);
    EXPECT_TRUE(plan.ok()) << plan.status().ToString();
    return *plan;
  }
  FeatureView& View(Repository& repo, const std::string& name) {
    for (auto& v : repo.views) {
      if (v.name == name) return v;
    }
    ADD_FAILURE() << "no view " << name;
    return repo.views[0];
  }

  custos::testing::TempDir tmp_;
  audit::testing::TestDataDir data_;
  common::FakeClock clock_;
  std::unique_ptr<audit::AuditLog> log_;
  std::unique_ptr<GovernanceRegistry> governance_;
  std::unique_ptr<CatalogStore> store_;
  Repository example_;
};

TEST_F(RepositoryApplyTest, FirstApplyCreatesEverythingAndAudits) {
  ApplyPlan plan = MustPlan(example_);
  EXPECT_EQ(plan.base_generation, 0u);
  EXPECT_EQ(plan.Count(ChangeAction::kCreate), 9u);  // 2 entities, 3 sources, 3 views, 1 service
  const PlannedChange* txns = plan.Find(ObjectKind::kView, "customer_transactions");
  ASSERT_NE(txns, nullptr);
  EXPECT_EQ(txns->action, ChangeAction::kCreate);
  EXPECT_EQ(txns->to_version, 1u);
  std::string text = FormatPlan(plan);
  EXPECT_THAT(text, HasSubstr("+ feature_view customer_transactions: create version 1\n"));
  EXPECT_THAT(text, HasSubstr("+ entity customer: create\n"));
  EXPECT_THAT(text, HasSubstr("Plan: 9 to create, 0 to update, 0 new versions (0 breaking), 0 to "
                              "remove, 0 kept, 0 unchanged.\n"));

  const uint64_t log_size = log_->size();
  auto result = store_->Apply(plan, kAdmin);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->generation, 1u);
  EXPECT_EQ(result->changed, 9u);
  EXPECT_EQ(result->audit_index, log_size);
  EXPECT_EQ(log_->size(), log_size + 1);  // one event for the whole apply
  audit::AuditEvent e = *log_->ReadEvent(result->audit_index);
  EXPECT_EQ(e.action, "catalog.apply");
  EXPECT_EQ(e.principal_id, "User::\"admin\"");
  EXPECT_EQ(e.decision, audit::Decision::kAllow);
  ASSERT_EQ(e.resources.size(), 3u);
  EXPECT_EQ(e.resources[0], (audit::ResourceRef{"FeatureView", "customer_profile", 1}));
  EXPECT_EQ(e.outcome_detail, "generation=1 create=9 update=0 new_version=0 remove=0");

  auto view = store_->ResolveView("customer_transactions");
  ASSERT_TRUE(view.ok()) << view.status().ToString();
  EXPECT_TRUE(view->current);
  EXPECT_EQ(view->version.version, 1u);
  EXPECT_EQ(view->version.Name(), "customer_transactions_v1");
  EXPECT_EQ(view->version.KeyOwner(), "features:customer_transactions:v1");
  ASSERT_EQ(view->version.schema.entities.size(), 1u);
  EXPECT_EQ(view->version.schema.entities[0].join_keys[0].name, "customer_id");
  EXPECT_EQ(view->version.schema.source.path, "data/customer_transactions.csv");
  ASSERT_EQ(view->features.size(), 4u);
  EXPECT_EQ(*view->FindFeature("last_card_number")->mask, (MaskRule{MaskKind::kShowLast, 4}));
  EXPECT_EQ(view->view.ttl_seconds, 2 * 86400);

  // Governance records for the view and each feature.
  auto gv = governance_->Get(EntityUid("FeatureView", "customer_transactions"));
  ASSERT_TRUE(gv.ok()) << gv.status().ToString();
  EXPECT_EQ(gv->classification, Classification::kConfidential);
  EXPECT_TRUE(gv->IsOwner(EntityUid("Group", "fraud-team")));
  EXPECT_TRUE(gv->IsSteward(EntityUid("User", "stella")));
  EXPECT_EQ(gv->revision, 1u);
  auto gf = governance_->Get(EntityUid("Feature", "customer_transactions.last_card_number"));
  ASSERT_TRUE(gf.ok());
  EXPECT_EQ(gf->classification, Classification::kRestricted);
  EXPECT_EQ(gf->description, "PAN of the most recent transaction.");
  EXPECT_EQ(governance_->List(ResourceKind::kFeature)->size(), 12u);
  EXPECT_EQ(governance_->List(ResourceKind::kFeatureView)->size(), 3u);

  auto svc = store_->ResolveService("fraud_detection");
  ASSERT_TRUE(svc.ok()) << svc.status().ToString();
  ASSERT_EQ(svc->size(), 7u);  // 4 from customer_transactions, 2 from merchant_risk, 1 more
  EXPECT_EQ((*svc)[0],
            std::make_pair(std::string("customer_transactions"), std::string("txn_count_7d")));
  EXPECT_EQ((*svc)[6], std::make_pair(std::string("customer_profile"), std::string("segment")));

  // Applying the same repository again changes nothing and audits nothing.
  ApplyPlan again = MustPlan(example_);
  EXPECT_FALSE(again.HasChanges());
  EXPECT_EQ(again.Count(ChangeAction::kUnchanged), 9u);
  auto noop = store_->Apply(again, kAdmin);
  ASSERT_TRUE(noop.ok());
  EXPECT_EQ(noop->generation, 1u);
  EXPECT_EQ(log_->size(), log_size + 1);
}

TEST_F(RepositoryApplyTest, MetadataChangesUpdateInPlace) {
  MustApply(example_);
  Repository repo = example_;
  FeatureView& v = View(repo, "customer_transactions");
  v.description = "new words";
  v.ttl_seconds = 3600;
  v.classification = Classification::kRestricted;
  v.features[1].mask = MaskRule{MaskKind::kNull, 0};
  ApplyPlan plan = MustPlan(repo);
  const PlannedChange* c = plan.Find(ObjectKind::kView, "customer_transactions");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->action, ChangeAction::kUpdate);
  EXPECT_EQ(c->impact, ChangeImpact::kMetadata);
  EXPECT_EQ(c->to_version, 1u);
  EXPECT_THAT(c->reasons, ::testing::ElementsAre("description changed",
                                                 "classification "
                                                 "confidential -> restricted",
                                                 "ttl 2d -> 1h",
                                                 "feature avg_amount_30d: mask range:100 -> null"));
  EXPECT_EQ(plan.Count(ChangeAction::kUnchanged), 8u);
  clock_.Advance(std::chrono::hours(1));
  ASSERT_TRUE(store_->Apply(plan, kAdmin).ok());

  auto view = store_->ResolveView("customer_transactions");
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->version.version, 1u);  // same version
  EXPECT_EQ(view->view.description, "new words");
  EXPECT_EQ(*view->FindFeature("avg_amount_30d")->mask, (MaskRule{MaskKind::kNull, 0}));
  auto published = store_->GetView("customer_transactions");
  ASSERT_TRUE(published.ok());
  EXPECT_EQ(published->revision, 2u);
  EXPECT_EQ(published->updated, clock_.Now());
  auto gv = governance_->Get(EntityUid("FeatureView", "customer_transactions"));
  EXPECT_EQ(gv->classification, Classification::kRestricted);
  EXPECT_EQ(gv->revision, 2u);
  EXPECT_EQ(store_->ListVersions("customer_transactions")->size(), 1u);
}

TEST_F(RepositoryApplyTest, SchemaChangesMakeNewImmutableVersions) {
  MustApply(example_);
  // Additive: a new feature.
  Repository repo = example_;
  Feature extra;
  extra.name = "txn_count_1d";
  extra.type = {ScalarType::kInt64, false};
  View(repo, "customer_transactions").features.push_back(extra);
  ApplyPlan plan = MustPlan(repo);
  const PlannedChange* c = plan.Find(ObjectKind::kView, "customer_transactions");
  EXPECT_EQ(c->action, ChangeAction::kNewVersion);
  EXPECT_EQ(c->impact, ChangeImpact::kAdditive);
  EXPECT_EQ(c->from_version, 1u);
  EXPECT_EQ(c->to_version, 2u);
  EXPECT_THAT(c->reasons, ::testing::ElementsAre("feature txn_count_1d added (int64)"));
  EXPECT_THAT(FormatPlan(plan),
              HasSubstr("^ feature_view customer_transactions: new version 1 -> 2 (additive)\n"
                        "    feature txn_count_1d added (int64)\n"));
  const common::TimePoint t1 = clock_.Now() + std::chrono::hours(1);
  clock_.Set(t1);
  ASSERT_TRUE(store_->Apply(plan, kAdmin).ok());

  // Breaking: a retyped and a removed feature.
  FeatureView& v = View(repo, "customer_transactions");
  v.features.erase(v.features.begin() + 2);  // last_card_number
  v.features[0].type = {ScalarType::kDouble, false};
  plan = MustPlan(repo);
  c = plan.Find(ObjectKind::kView, "customer_transactions");
  EXPECT_EQ(c->action, ChangeAction::kNewVersion);
  EXPECT_EQ(c->impact, ChangeImpact::kBreaking);
  EXPECT_EQ(c->to_version, 3u);
  EXPECT_THAT(c->reasons, ::testing::ElementsAre("feature txn_count_7d retyped int64 -> double",
                                                 "feature last_card_number removed"));
  EXPECT_THAT(FormatPlan(plan), HasSubstr("! feature_view customer_transactions: new version 2 "
                                          "-> 3 (breaking)"));
  clock_.Advance(std::chrono::hours(1));
  ASSERT_TRUE(store_->Apply(plan, kAdmin).ok());

  // Old versions are unchanged and still readable.
  auto v1 = store_->ResolveView("customer_transactions", 1);
  ASSERT_TRUE(v1.ok()) << v1.status().ToString();
  EXPECT_FALSE(v1->current);
  ASSERT_EQ(v1->version.schema.features.size(), 4u);
  EXPECT_EQ(v1->version.schema.features[0].type, (ValueType{ScalarType::kInt64, false}));
  ASSERT_NE(v1->FindFeature("last_card_number"), nullptr);  // metadata as published
  EXPECT_EQ(v1->version.retired, t1);
  EXPECT_EQ(v1->version.retention_seconds, 365 * 86400);
  auto v3 = store_->ResolveView("customer_transactions");
  ASSERT_TRUE(v3.ok());
  EXPECT_TRUE(v3->current);
  EXPECT_EQ(v3->version.version, 3u);
  EXPECT_EQ(v3->FindFeature("last_card_number"), nullptr);
  EXPECT_EQ(v3->version.retired, std::nullopt);
  auto versions = store_->ListVersions("customer_transactions");
  ASSERT_EQ(versions->size(), 3u);
  EXPECT_EQ((*versions)[1].retired, clock_.Now());

  // Retention: v1 retired at t1, v2 an hour later; 365 days on, only v1 is due.
  EXPECT_TRUE(store_->VersionsPastRetention(clock_.Now())->empty());
  const common::TimePoint due = t1 + std::chrono::hours(24 * 365);
  auto past = store_->VersionsPastRetention(due);
  ASSERT_EQ(past->size(), 1u);
  EXPECT_EQ((*past)[0].KeyOwner(), "features:customer_transactions:v1");
  Status early = store_->MarkPurged("customer_transactions", 1, kAdmin);
  EXPECT_EQ(early.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(early.message(), HasSubstr("customer_transactions_v1 is within its retention"));
  clock_.Set(due);
  ASSERT_TRUE(store_->MarkPurged("customer_transactions", 1, kAdmin).ok());
  EXPECT_EQ(log_->ReadEvent(log_->size() - 1)->action, "catalog.version.purge");
  EXPECT_EQ(store_->ResolveView("customer_transactions", 1).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(store_->VersionsPastRetention(due)->empty());
  EXPECT_EQ(store_->MarkPurged("customer_transactions", 3, kAdmin).code(),
            StatusCode::kFailedPrecondition);  // current
}

TEST_F(RepositoryApplyTest, EntityAndSourceChangesVersionTheirViews) {
  MustApply(example_);
  Repository repo = example_;
  repo.entities[1].join_keys[0].type = {ScalarType::kInt64, false};  // merchant_id
  for (auto& s : repo.sources) {
    if (s.name == "merchant_events") s.fields[0].type = {ScalarType::kInt64, false};
    if (s.name == "customer_profiles") s.path = "data/profiles_v2.csv";
  }
  ApplyPlan plan = MustPlan(repo);
  const PlannedChange* e = plan.Find(ObjectKind::kEntity, "merchant");
  EXPECT_EQ(e->action, ChangeAction::kUpdate);
  EXPECT_EQ(e->impact, ChangeImpact::kBreaking);
  EXPECT_THAT(e->reasons, ::testing::ElementsAre("join keys [merchant_id string] -> "
                                                 "[merchant_id int64]"));
  const PlannedChange* risk = plan.Find(ObjectKind::kView, "merchant_risk");
  EXPECT_EQ(risk->action, ChangeAction::kNewVersion);
  EXPECT_EQ(risk->impact, ChangeImpact::kBreaking);
  const PlannedChange* profile = plan.Find(ObjectKind::kView, "customer_profile");
  EXPECT_EQ(profile->action, ChangeAction::kNewVersion);
  EXPECT_EQ(profile->impact, ChangeImpact::kAdditive);
  EXPECT_THAT(profile->reasons, ::testing::ElementsAre("source path \"data/customer_profiles.csv\" "
                                                       "-> \"data/profiles_v2.csv\""));
  EXPECT_EQ(plan.Find(ObjectKind::kView, "customer_transactions")->action,
            ChangeAction::kUnchanged);
}

TEST_F(RepositoryApplyTest, PruneIsOptIn) {
  MustApply(example_);
  Repository repo = example_;
  repo.services.clear();
  std::erase_if(repo.views, [](const FeatureView& v) { return v.name == "customer_transactions"; });
  ApplyPlan keep = MustPlan(repo);
  const PlannedChange* c = keep.Find(ObjectKind::kView, "customer_transactions");
  EXPECT_EQ(c->action, ChangeAction::kKeep);
  EXPECT_FALSE(keep.HasChanges());
  EXPECT_THAT(FormatPlan(keep),
              HasSubstr("= feature_view customer_transactions: keep\n    not in the repository; "
                        "kept (pass --prune to remove it)\n"));

  ApplyPlan prune = MustPlan(repo, {.prune = true});
  EXPECT_EQ(prune.Find(ObjectKind::kView, "customer_transactions")->action, ChangeAction::kRemove);
  EXPECT_EQ(prune.Count(ChangeAction::kRemove), 2u);
  ASSERT_TRUE(store_->Apply(prune, kAdmin).ok());
  auto removed = store_->GetView("customer_transactions");
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(removed->removed, clock_.Now());
  auto v1 = store_->ResolveView("customer_transactions");
  ASSERT_TRUE(v1.ok());
  EXPECT_FALSE(v1->current);
  EXPECT_EQ(v1->version.retired, clock_.Now());
  EXPECT_EQ(store_->GetService("fraud_detection").status().code(), StatusCode::kNotFound);

  // Publishing it again makes version 2.
  ApplyPlan back = MustPlan(example_);
  const PlannedChange* again = back.Find(ObjectKind::kView, "customer_transactions");
  EXPECT_EQ(again->action, ChangeAction::kCreate);
  EXPECT_EQ(again->to_version, 2u);
  ASSERT_TRUE(store_->Apply(back, kAdmin).ok());
  EXPECT_TRUE(store_->ResolveView("customer_transactions")->current);
}

TEST_F(RepositoryApplyTest, AuditFailureWritesNothing) {
  ApplyPlan plan = MustPlan(example_);
  log_->Close();  // every append now fails
  auto result = store_->Apply(plan, kAdmin);
  EXPECT_EQ(result.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(result.status().message(), HasSubstr("catalog.apply not audited; nothing applied"));
  auto state = store_->Load();
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->generation, 0u);
  EXPECT_TRUE(state->views.empty());
  EXPECT_TRUE(state->entities.empty());
  EXPECT_TRUE(governance_->List()->empty());
}

TEST_F(RepositoryApplyTest, ValidationFailureWritesNothing) {
  MustApply(example_);
  Repository repo = example_;
  View(repo, "merchant_risk").description = "ok";
  View(repo, "customer_transactions").features[0].description = std::string(5000, 'x');
  ApplyPlan plan = MustPlan(repo);
  const uint64_t log_size = log_->size();
  auto result = store_->Apply(plan, kAdmin);
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(result.status().message(),
              HasSubstr("feature `customer_transactions.txn_count_7d`: "
                        "Feature::\"customer_transactions.txn_count_7d\": description of 5000 "
                        "bytes; at most 4096 allowed"));
  // The refusal is audited; nothing else changed.
  EXPECT_EQ(log_->size(), log_size + 1);
  EXPECT_EQ(log_->ReadEvent(log_size)->decision, audit::Decision::kDeny);
  auto state = store_->Load();
  EXPECT_EQ(state->generation, 1u);
  EXPECT_EQ(state->views.at("merchant_risk").spec.description, "Risk signals per merchant.");
  EXPECT_EQ(state->views.at("merchant_risk").revision, 1u);
  EXPECT_EQ(governance_->Get(EntityUid("FeatureView", "merchant_risk"))->revision, 1u);
}

TEST_F(RepositoryApplyTest, StalePlanIsRefused) {
  ApplyPlan first = MustPlan(example_);
  ApplyPlan second = MustPlan(example_);
  ASSERT_TRUE(store_->Apply(first, kAdmin).ok());
  auto stale = store_->Apply(second, kAdmin);
  EXPECT_EQ(stale.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(stale.status().message(), HasSubstr("the catalog changed since this plan was made"));
}

TEST_F(RepositoryApplyTest, RecordsAreSealedAndSurviveReopen) {
  MustApply(example_);
  bool found_plaintext = false;
  ASSERT_TRUE(data_.dir->kv()
                  .ScanPrefix(storage::Keyspace::kCatalog, "",
                              [&](std::string_view, std::string_view value) -> Status {
                                if (value.find("Rolling transaction statistics") !=
                                    std::string_view::npos) {
                                  found_plaintext = true;
                                }
                                return Status::Ok();
                              })
                  .ok());
  EXPECT_FALSE(found_plaintext);
  auto other =
      CatalogStore::Open(data_.dir->kv(), data_.dir->keyring(), *log_, *governance_, clock_);
  ASSERT_TRUE(other.ok());
  auto state = (*other)->Load();
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->generation, 1u);
  EXPECT_EQ(state->views.size(), 3u);
  EXPECT_EQ(state->views.at("customer_transactions").spec.description,
            "Rolling transaction statistics per customer.");
  EXPECT_EQ(store_->GetView("nope").status().message(),
            "no feature view `nope` in the catalog (published: customer_profile, "
            "customer_transactions, merchant_risk)");
}

}  // namespace
}  // namespace custos::catalog
