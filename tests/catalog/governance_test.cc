// The catalog's governance registry: register, update, get and list with validation,
// audit events, sealed storage and persistence across a reopen.
#include "catalog/governance.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "../audit/log_test_util.h"

namespace custos::catalog {
namespace {

using policy::EntityUid;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

EntityUid User(const std::string& id) { return EntityUid("User", id); }

class GovernanceTest : public ::testing::Test {
 protected:
  GovernanceTest() : clock_(common::FromUnixSeconds(1'800'000'000)) {
    data_ = audit::testing::CreateDataDir(tmp_.Sub("data"));
    Open();
  }
  ~GovernanceTest() override { Close(); }

  void Open() {
    audit::LogOptions options;
    options.background_checkpoints = false;
    options.durability = audit::Durability::kOsBuffer;
    log_ = std::move(*audit::AuditLog::Open(data_.dir->kv(), data_.dir->keyring(), options));
    auto registry = GovernanceRegistry::Open(data_.dir->kv(), data_.dir->keyring(), *log_, clock_);
    ASSERT_TRUE(registry.ok()) << registry.status().ToString();
    registry_ = std::move(*registry);
  }
  void Close() {
    registry_.reset();
    if (log_) log_->Close();
    log_.reset();
  }
  void Restart() {
    Close();
    data_.dir.reset();
    data_.dir = audit::testing::ReopenDataDir(tmp_.Sub("data"), data_.shares);
    Open();
  }
  audit::AuditEvent LastEvent() { return *log_->ReadEvent(log_->size() - 1); }

  static GovernedResource Fraud() {
    GovernedResource r;
    r.uid = EntityUid("FeatureView", "fraud_v1");
    r.classification = Classification::kRestricted;
    r.owners = {User("olivia"), EntityUid("Group", "fraud-owners")};
    r.stewards = {User("stella")};
    r.description = "card fraud features, 7-day windows";
    return r;
  }

  custos::testing::TempDir tmp_;
  audit::testing::TestDataDir data_;
  common::FakeClock clock_;
  std::unique_ptr<audit::AuditLog> log_;
  std::unique_ptr<GovernanceRegistry> registry_;
};

TEST_F(GovernanceTest, RegisterGetUpdateList) {
  auto r = registry_->Register(Fraud(), User("admin"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->revision, 1u);
  EXPECT_EQ(r->created, clock_.Now());
  EXPECT_EQ(r->kind(), ResourceKind::kFeatureView);
  EXPECT_TRUE(r->IsOwner(User("olivia")));
  EXPECT_FALSE(r->IsOwner(User("stella")));
  EXPECT_TRUE(r->IsSteward(User("stella")));
  audit::AuditEvent e = LastEvent();
  EXPECT_EQ(e.action, "catalog.resource.register");
  EXPECT_EQ(e.principal_id, "User::\"admin\"");
  ASSERT_EQ(e.resources.size(), 1u);
  EXPECT_EQ(e.resources[0], (audit::ResourceRef{"FeatureView", "fraud_v1", 1}));
  EXPECT_EQ(e.decision, audit::Decision::kAllow);
  EXPECT_EQ(e.outcome_detail, "classification=restricted");

  auto got = registry_->Get(EntityUid("FeatureView", "fraud_v1"));
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->classification, Classification::kRestricted);
  EXPECT_THAT(got->owners, ElementsAre(User("olivia"), EntityUid("Group", "fraud-owners")));
  EXPECT_EQ(got->description, "card fraud features, 7-day windows");

  clock_.Advance(std::chrono::hours(1));
  GovernedResource change = Fraud();
  change.classification = Classification::kConfidential;
  change.stewards.clear();
  auto updated = registry_->Update(change, User("olivia"));
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  EXPECT_EQ(updated->revision, 2u);
  EXPECT_EQ(updated->created, got->created);
  EXPECT_EQ(updated->updated, clock_.Now());
  EXPECT_EQ(LastEvent().action, "catalog.resource.update");
  EXPECT_EQ(LastEvent().resources[0].version, 2u);

  GovernedResource ds;
  ds.uid = EntityUid("Dataset", "claims_2026");
  ds.owners = {User("olivia")};
  ASSERT_TRUE(registry_->Register(ds, User("admin")).ok());
  GovernedResource model;
  model.uid = EntityUid("Model", "fraud-xgb");
  model.classification = Classification::kPublic;
  model.owners = {EntityUid("ServiceAccount", "trainer")};
  ASSERT_TRUE(registry_->Register(model, User("admin")).ok());

  auto all = registry_->List();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 3u);  // ordered by (type, id)
  EXPECT_EQ((*all)[0].uid, EntityUid("Dataset", "claims_2026"));
  EXPECT_EQ((*all)[1].uid, EntityUid("FeatureView", "fraud_v1"));
  EXPECT_EQ((*all)[2].uid, EntityUid("Model", "fraud-xgb"));
  auto views = registry_->List(ResourceKind::kFeatureView);
  ASSERT_TRUE(views.ok());
  ASSERT_EQ(views->size(), 1u);
  EXPECT_EQ((*views)[0].classification, Classification::kConfidential);
}

TEST_F(GovernanceTest, RefusalsAreClearAndAudited) {
  ASSERT_TRUE(registry_->Register(Fraud(), User("admin")).ok());
  struct Case {
    std::function<void(GovernedResource&)> edit;
    StatusCode code;
    std::string message;
  };
  std::vector<Case> cases = {
      {[](GovernedResource&) {}, StatusCode::kAlreadyExists,
       "FeatureView::\"fraud_v1\" is already registered; use update to change it"},
      {[](GovernedResource& r) { r.uid = EntityUid("Table", "t"); }, StatusCode::kInvalidArgument,
       "`Table` is not a governed resource type; use FeatureView, Feature, Dataset, Artifact or "
       "Model"},
      {[](GovernedResource& r) { r.uid = EntityUid("Dataset", ""); }, StatusCode::kInvalidArgument,
       "Dataset: empty resource id; give the resource a name"},
      {[](GovernedResource& r) {
         r.uid = EntityUid("Dataset", "x");
         r.owners.clear();
       },
       StatusCode::kInvalidArgument,
       "Dataset::\"x\": no owner; every governed resource needs at least one owner"},
      {[](GovernedResource& r) {
         r.uid = EntityUid("Dataset", "x");
         r.owners = {EntityUid("FeatureView", "v")};
       },
       StatusCode::kInvalidArgument,
       "Dataset::\"x\": owner FeatureView::\"v\" is not a principal; use a User, Group or "
       "ServiceAccount uid"},
      {[](GovernedResource& r) {
         r.uid = EntityUid("Dataset", "x");
         r.stewards = {User("s"), User("s")};
       },
       StatusCode::kInvalidArgument, "Dataset::\"x\": steward User::\"s\" is listed twice"},
      {[](GovernedResource& r) { r.uid = EntityUid("Dataset", std::string(300, 'a')); },
       StatusCode::kInvalidArgument, "Dataset id of 300 bytes; at most 256 allowed"},
  };
  for (const auto& c : cases) {
    GovernedResource spec = Fraud();
    c.edit(spec);
    auto r = registry_->Register(spec, User("admin"));
    ASSERT_FALSE(r.ok()) << c.message;
    EXPECT_EQ(r.status().code(), c.code) << c.message;
    EXPECT_EQ(r.status().message(), c.message);
    audit::AuditEvent e = LastEvent();
    EXPECT_EQ(e.action, "catalog.resource.register");
    EXPECT_EQ(e.decision, audit::Decision::kDeny);
    EXPECT_EQ(e.outcome_detail, r.status().ToString());
  }
  GovernedResource missing = Fraud();
  missing.uid = EntityUid("Artifact", "nope");
  auto u = registry_->Update(missing, User("admin"));
  EXPECT_EQ(u.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(u.status().message(),
            "Artifact::\"nope\" is not registered; register it before updating it");
  auto g = registry_->Get(EntityUid("Feature", "f"));
  EXPECT_EQ(g.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(g.status().message(), HasSubstr("Feature::\"f\" is not registered in the catalog"));
}

TEST_F(GovernanceTest, PersistsSealedAcrossReopen) {
  ASSERT_TRUE(registry_->Register(Fraud(), User("admin")).ok());
  Restart();
  auto got = registry_->Get(EntityUid("FeatureView", "fraud_v1"));
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->classification, Classification::kRestricted);
  EXPECT_EQ(got->stewards, std::vector<EntityUid>{User("stella")});
  EXPECT_EQ(got->revision, 1u);
  Close();
  data_.dir.reset();
  // The description is sealed: it appears nowhere in the data directory's files.
  for (const auto& entry : std::filesystem::recursive_directory_iterator(tmp_.path())) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    EXPECT_EQ(ss.str().find("card fraud features"), std::string::npos) << entry.path();
  }
  data_.dir = audit::testing::ReopenDataDir(tmp_.Sub("data"), data_.shares);
  Open();
}

TEST(EntityUidTextTest, ParsesCedarUidLiterals) {
  EXPECT_EQ(*ParseEntityUidText("FeatureView::\"fraud_v1\""), EntityUid("FeatureView", "fraud_v1"));
  EXPECT_EQ(*ParseEntityUidText("Ns::User::\"a\\\"b\""), EntityUid("Ns::User", "a\"b"));
  EXPECT_EQ(*ParseEntityUidText("User::\"\""), EntityUid("User", ""));
  for (const char* bad : {"fraud_v1", "FeatureView::fraud", "::\"x\"", "Feature View::\"x\"",
                          "User::\"a\"b\"", "User::\"a\\n\"", "User::\""}) {
    auto r = ParseEntityUidText(bad);
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_THAT(ParseEntityUidText("fraud_v1").status().message(),
              HasSubstr("write it as Type::\"id\""));
  EXPECT_EQ(*ParseClassification("restricted"), Classification::kRestricted);
  EXPECT_EQ(ParseClassification("secret").status().message(),
            "unknown classification `secret`; use public, internal, confidential or restricted");
  EXPECT_LT(Classification::kPublic, Classification::kInternal);
  EXPECT_LT(Classification::kConfidential, Classification::kRestricted);
}

}  // namespace
}  // namespace custos::catalog
