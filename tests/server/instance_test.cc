// Instance: every service opens on one data directory, the audit salt survives restarts,
// the acting principal's groups and MFA time reach the access workflow, the CA is made
// once, and due grants end on open and on the expiry thread.
#include "server/instance.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "../audit/log_test_util.h"
#include "common/clock.h"

namespace custos::server {
namespace {

using audit::testing::CreateDataDir;
using audit::testing::ReopenDataDir;
using identity::PrincipalId;

class InstanceTest : public ::testing::Test {
 protected:
  InstanceTest() : clock_(common::FromUnixSeconds(1'800'000'000)) {
    auto data = CreateDataDir(tmp_.Sub("data"));
    shares_ = data.shares;
    Open(std::move(data.dir));
  }

  void Open(std::unique_ptr<storage::DataDir> dir, std::chrono::milliseconds expiry = {}) {
    InstanceOptions options;
    options.background_checkpoints = false;
    options.durability = audit::Durability::kOsBuffer;
    options.clock = &clock_;
    options.expiry_interval = expiry;
    auto in = Instance::Open(std::move(dir), std::move(options));
    ASSERT_TRUE(in.ok()) << in.status().ToString();
    instance_ = std::move(*in);
  }

  void Restart(std::chrono::milliseconds expiry = {}) {
    instance_.reset();
    Open(ReopenDataDir(tmp_.Sub("data"), shares_), expiry);
  }

  void Create(const PrincipalId& id) {
    auto p = instance_->directory().Create(caller_, {id, "", {}});
    ASSERT_TRUE(p.ok()) << p.status().ToString();
  }

  // Registers a restricted view owned by bob and carol, a purpose, and has alice ask for
  // it; bob approves, carol approves with MFA: a grant of `duration`.
  std::string GrantAliceFraud(std::chrono::seconds duration) {
    catalog::GovernedResource spec;
    spec.uid = policy::EntityUid("FeatureView", "fraud");
    spec.classification = catalog::Classification::kConfidential;
    spec.owners = {PrincipalId::User("bob").ToEntityUid()};
    EXPECT_TRUE(instance_->governance().Register(spec, spec.owners[0]).ok());
    auto bob = *instance_->ActorFor(PrincipalId::User("bob"), audit::AuthMethod::kEmbedded);
    EXPECT_TRUE(instance_->access().DefinePurpose({"training", "t", std::nullopt}, bob).ok());
    auto alice = *instance_->ActorFor(PrincipalId::User("alice"), audit::AuthMethod::kEmbedded);
    access::RequestSpec req{"training", {spec.uid}, {"read"}, duration, "why"};
    auto r = instance_->access().CreateRequest(req, alice);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    auto approved = instance_->access().Approve(r->id, bob);
    EXPECT_TRUE(approved.ok()) << approved.status().ToString();
    EXPECT_TRUE(approved->grant.has_value());
    return approved->grant ? approved->grant->id : "";
  }

  custos::testing::TempDir tmp_;
  common::FakeClock clock_;
  std::vector<std::string> shares_;
  std::unique_ptr<Instance> instance_;
  identity::Caller caller_{"cli", "", audit::AuthMethod::kEmbedded};
};

TEST_F(InstanceTest, AuditSaltIsStableAcrossRestarts) {
  const audit::Hash before = instance_->salt().Mac("token_id", "tok_1");
  Restart();
  EXPECT_EQ(instance_->salt().Mac("token_id", "tok_1"), before);
  EXPECT_NE(instance_->salt().Mac("token_id", "tok_2"), before);
}

TEST_F(InstanceTest, AuditSaltDiffersBetweenDataDirectories) {
  auto other = CreateDataDir(tmp_.Sub("other"));
  InstanceOptions options;
  options.background_checkpoints = false;
  auto second = Instance::Open(std::move(other.dir), std::move(options));
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_NE((*second)->salt().Mac("f", "v"), instance_->salt().Mac("f", "v"));
}

TEST_F(InstanceTest, ActorCarriesTransitiveGroupsAndLastMfa) {
  Create(PrincipalId::User("alice"));
  Create(PrincipalId::Group("risk"));
  Create(PrincipalId::Group("analytics"));
  ASSERT_TRUE(instance_->directory()
                  .AddMember(caller_, PrincipalId::Group("risk"), PrincipalId::User("alice"))
                  .ok());
  ASSERT_TRUE(instance_->directory()
                  .AddMember(caller_, PrincipalId::Group("analytics"), PrincipalId::Group("risk"))
                  .ok());
  auto actor = instance_->ActorFor(PrincipalId::User("alice"), audit::AuthMethod::kToken);
  ASSERT_TRUE(actor.ok()) << actor.status().ToString();
  EXPECT_EQ(actor->principal, policy::EntityUid("User", "alice"));
  EXPECT_EQ(actor->auth_method, audit::AuthMethod::kToken);
  ASSERT_EQ(actor->groups.size(), 2u);
  EXPECT_EQ(actor->groups[0], policy::EntityUid("Group", "analytics"));
  EXPECT_EQ(actor->groups[1], policy::EntityUid("Group", "risk"));
  EXPECT_FALSE(actor->last_mfa.has_value());
  EXPECT_FALSE(actor->administrator);
}

TEST_F(InstanceTest, ActorRefusesUnknownAndDisabledPrincipals) {
  auto unknown = instance_->ActorFor(PrincipalId::User("ghost"), audit::AuthMethod::kToken);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), StatusCode::kUnauthenticated);
  Create(PrincipalId::User("alice"));
  ASSERT_TRUE(instance_->directory().SetDisabled(caller_, PrincipalId::User("alice"), true).ok());
  auto disabled = instance_->ActorFor(PrincipalId::User("alice"), audit::AuthMethod::kToken);
  ASSERT_FALSE(disabled.ok());
  EXPECT_EQ(disabled.status().code(), StatusCode::kUnauthenticated);
}

TEST_F(InstanceTest, CertificateAuthorityIsCreatedOnce) {
  auto missing = instance_->ca();
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("custos init"), std::string::npos);
  auto ca = instance_->CreateCa(caller_);
  ASSERT_TRUE(ca.ok()) << ca.status().ToString();
  const std::string pem = (*ca)->certificate_pem();
  EXPECT_EQ(instance_->CreateCa(caller_).status().code(), StatusCode::kAlreadyExists);
  Restart();
  auto reopened = instance_->ca();
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  EXPECT_EQ((*reopened)->certificate_pem(), pem);
}

TEST_F(InstanceTest, DueGrantsEndWhenOpened) {
  Create(PrincipalId::User("alice"));
  Create(PrincipalId::User("bob"));
  const std::string grant = GrantAliceFraud(std::chrono::hours(1));
  ASSERT_FALSE(grant.empty());
  clock_.Advance(std::chrono::hours(2));
  Restart();
  auto g = instance_->access().GetGrant(grant);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(g->state, access::GrantState::kExpired);
}

TEST_F(InstanceTest, ExpiryThreadEndsDueGrants) {
  Create(PrincipalId::User("alice"));
  Create(PrincipalId::User("bob"));
  Restart(std::chrono::milliseconds(20));
  const std::string grant = GrantAliceFraud(std::chrono::hours(1));
  ASSERT_FALSE(grant.empty());
  clock_.Advance(std::chrono::hours(2));
  access::GrantState state = access::GrantState::kActive;
  for (int i = 0; i < 500 && state == access::GrantState::kActive; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    state = instance_->access().GetGrant(grant)->state;
  }
  EXPECT_EQ(state, access::GrantState::kExpired);
}

TEST_F(InstanceTest, PolicyFilesAreLoadedFromThePolicyFolder) {
  instance_.reset();
  std::filesystem::create_directories(tmp_.Sub("data") + "/policies");
  {
    std::ofstream f(tmp_.Sub("data") + "/policies/base.cedar");
    f << "permit(principal, action == Action::\"read\", resource) when { context.purpose == \"x\" "
         "};\n";
  }
  Open(ReopenDataDir(tmp_.Sub("data"), shares_));
  EXPECT_EQ(instance_->policies().Current()->policies().size(), 1u);
}

TEST_F(InstanceTest, MalformedPolicyFileFailsOpenWithItsPosition) {
  instance_.reset();
  std::filesystem::create_directories(tmp_.Sub("data") + "/policies");
  {
    std::ofstream f(tmp_.Sub("data") + "/policies/bad.cedar");
    f << "permit(principal, action, resource) when { ;\n";
  }
  InstanceOptions options;
  options.background_checkpoints = false;
  auto in = Instance::Open(ReopenDataDir(tmp_.Sub("data"), shares_), std::move(options));
  ASSERT_FALSE(in.ok());
  EXPECT_EQ(in.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(in.status().message().find("bad.cedar"), std::string::npos);
}

}  // namespace
}  // namespace custos::server
