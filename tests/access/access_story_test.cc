// Issue 5's story end to end: a data scientist asks for restricted features for a week; two
// owners approve, one with MFA; the policy store permits exactly that purpose until the grant
// lapses; a second grant revoked by a steward is denied on the very next call.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "access_test_util.h"

namespace custos::access {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using namespace testing;  // NOLINT(google-build-using-namespace): test helpers
using catalog::Classification;
using std::chrono::days;
using std::chrono::minutes;
using std::chrono::seconds;

class AccessStoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    w_.Register(View("fraud_v1"), Classification::kRestricted, {User("olivia"), User("oscar")},
                {User("stella")});
    w_.Register(View("txn_v2"), Classification::kConfidential, {User("olivia"), User("oscar")},
                {User("stella")});
    w_.DefinePurpose("fraud-model-training");
    w_.DefinePurpose("marketing");
  }

  RequestSpec WeekOfReads() {
    RequestSpec spec;
    spec.purpose = "fraud-model-training";
    spec.resources = {View("fraud_v1"), View("txn_v2")};
    spec.actions = {"read"};
    spec.duration = days(7);
    spec.justification = "retrain the fraud model on Q4 transactions (JIRA FRAUD-812)";
    return spec;
  }

  // Requests a week of reads for dana and has olivia (MFA 3 minutes ago) and oscar approve.
  Grant GrantWeek() {
    auto request = w_.access().CreateRequest(WeekOfReads(), As("dana"));
    EXPECT_TRUE(request.ok()) << request.status().ToString();
    auto first =
        w_.access().Approve(request->id, AsWithMfa("olivia", w_.clock().Now() - minutes(3)));
    EXPECT_TRUE(first.ok()) << first.status().ToString();
    EXPECT_FALSE(first->grant.has_value());
    auto second = w_.access().Approve(request->id, As("oscar"));
    EXPECT_TRUE(second.ok()) << second.status().ToString();
    EXPECT_TRUE(second->grant.has_value());
    return second->grant.value_or(Grant{});
  }

  AccessWorld w_;
};

TEST_F(AccessStoryTest, RestrictedWeekApprovedUsedExpiredAndRevoked) {
  const uint64_t v0 = w_.policies().version();
  EXPECT_FALSE(w_.Allowed(User("dana"), "read", View("fraud_v1"), "fraud-model-training"));

  auto request = w_.access().CreateRequest(WeekOfReads(), As("dana"));
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  EXPECT_EQ(request->state, RequestState::kPending);
  EXPECT_EQ(request->classification, Classification::kRestricted);  // the highest involved
  EXPECT_EQ(request->id.substr(0, 4), "acr_");

  // First owner, MFA three minutes ago: counts, one more needed.
  w_.clock().Advance(minutes(10));
  auto first = w_.access().Approve(request->id, AsWithMfa("olivia", w_.clock().Now() - minutes(3)));
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->request.state, RequestState::kPending);
  ASSERT_EQ(first->request.approvals.size(), 1u);
  EXPECT_TRUE(first->request.approvals[0].mfa_fresh);
  EXPECT_FALSE(first->grant.has_value());
  EXPECT_EQ(w_.policies().version(), v0);  // nothing published yet
  EXPECT_FALSE(w_.Allowed(User("dana"), "read", View("fraud_v1"), "fraud-model-training"));

  // Second owner without MFA: the rule is met (one of two had MFA).
  auto second = w_.access().Approve(request->id, As("oscar"));
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->request.state, RequestState::kApproved);
  ASSERT_TRUE(second->grant.has_value());
  const Grant grant = *second->grant;
  EXPECT_EQ(grant.id.substr(0, 4), "gnt_");
  EXPECT_EQ(second->request.grant_id, grant.id);
  EXPECT_EQ(grant.grantee, User("dana"));
  EXPECT_THAT(grant.approvers, ElementsAre(User("olivia"), User("oscar")));
  const common::TimePoint granted_at = w_.clock().Now();
  EXPECT_EQ(common::ToUnixSeconds(grant.expires), kStartSeconds + 600 + 7 * 86400);
  EXPECT_EQ(second->policy_set_version, v0 + 1);  // effective at once: a new version
  EXPECT_EQ(w_.policies().version(), v0 + 1);

  // Permitted for that purpose and action, on both resources and a feature of the view.
  auto d = w_.Decide(User("dana"), "read", View("fraud_v1"), "fraud-model-training");
  EXPECT_EQ(d.response.decision, policy::Decision::kAllow);
  ASSERT_EQ(d.response.reasons.size(), 1u);
  EXPECT_EQ(d.response.reasons[0], GrantLinkId(grant.id, 0));
  EXPECT_EQ(GrantIdFromPolicyId(d.response.reasons[0]), grant.id);
  EXPECT_TRUE(w_.Allowed(User("dana"), "read", View("txn_v2"), "fraud-model-training"));
  // Denied for another purpose, another action, another person, another resource.
  EXPECT_FALSE(w_.Allowed(User("dana"), "read", View("fraud_v1"), "marketing"));
  EXPECT_FALSE(w_.Allowed(User("dana"), "export", View("fraud_v1"), "fraud-model-training"));
  EXPECT_FALSE(w_.Allowed(User("erin"), "read", View("fraud_v1"), "fraud-model-training"));
  EXPECT_FALSE(w_.Allowed(User("dana"), "read", View("other"), "fraud-model-training"));

  // The review lists it with its owners, age and last use.
  w_.clock().Advance(days(2));
  ASSERT_TRUE(w_.access().RecordUse(grant.id, w_.clock().Now()).ok());
  w_.clock().Advance(days(1));
  auto review = w_.access().Review();
  ASSERT_TRUE(review.ok()) << review.status().ToString();
  ASSERT_EQ(review->size(), 1u);
  const ReviewEntry& row = (*review)[0];
  EXPECT_EQ(row.grant.id, grant.id);
  EXPECT_EQ(row.grant.purpose, "fraud-model-training");
  EXPECT_EQ(row.grant.grantee, User("dana"));
  EXPECT_THAT(row.owners[0], ElementsAre(User("olivia"), User("oscar")));
  EXPECT_THAT(row.stewards[0], ElementsAre(User("stella")));
  EXPECT_EQ(row.age, seconds(3 * 86400));
  EXPECT_EQ(row.remaining, seconds(4 * 86400));
  ASSERT_TRUE(row.last_use.has_value());
  EXPECT_EQ(*row.last_use, granted_at + days(2));

  // A week later the grant has lapsed by itself, before any sweep.
  w_.clock().Set(grant.expires);
  EXPECT_FALSE(w_.Allowed(User("dana"), "read", View("fraud_v1"), "fraud-model-training"));
  w_.clock().Set(grant.expires - seconds(1));
  EXPECT_TRUE(w_.Allowed(User("dana"), "read", View("fraud_v1"), "fraud-model-training"));
  w_.clock().Set(grant.expires + seconds(1));
  EXPECT_FALSE(w_.Allowed(User("dana"), "read", View("fraud_v1"), "fraud-model-training"));
  // The sweeper marks it expired and unlinks it.
  auto swept = w_.access().ExpireDue();
  ASSERT_TRUE(swept.ok()) << swept.status().ToString();
  EXPECT_EQ(*swept, 1u);
  EXPECT_EQ(w_.access().GetGrant(grant.id)->state, GrantState::kExpired);
  EXPECT_EQ(w_.policies().Current()->Find(GrantLinkId(grant.id, 0)), nullptr);
  EXPECT_TRUE(w_.policies().ManagedSourceNames().empty());
  EXPECT_TRUE(w_.access().Review()->empty());
  EXPECT_EQ(*w_.access().ExpireDue(), 0u);
  EXPECT_EQ(w_.LastEvent().action, "access.grant.expire");

  // A second grant, revoked by a steward: denied on the very next call.
  const Grant second_grant = GrantWeek();
  EXPECT_TRUE(w_.Allowed(User("dana"), "read", View("fraud_v1"), "fraud-model-training"));
  const uint64_t before = w_.policies().version();
  auto revoked = w_.access().Revoke(second_grant.id, As("stella"), "model project cancelled");
  ASSERT_TRUE(revoked.ok()) << revoked.status().ToString();
  EXPECT_EQ(revoked->state, GrantState::kRevoked);
  EXPECT_EQ(revoked->revoked_by, User("stella"));
  EXPECT_FALSE(w_.Allowed(User("dana"), "read", View("fraud_v1"), "fraud-model-training"));
  EXPECT_GT(w_.policies().version(), before);
  EXPECT_EQ(w_.access().GetRequest(second_grant.request_id)->state, RequestState::kRevoked);

  // Every step is in the audit log, in order.
  std::vector<std::string> actions;
  for (const auto& e : w_.Events()) {
    if (e.action.rfind("access.", 0) == 0 && e.action != "access.purpose.define") {
      actions.push_back(e.action);
    }
  }
  EXPECT_THAT(actions,
              ElementsAre("access.request.create", "access.request.approve",
                          "access.request.approve", "access.grant.create", "access.grant.expire",
                          "access.request.create", "access.request.approve",
                          "access.request.approve", "access.grant.create", "access.grant.revoke"));
  audit::AuditEvent revoke_event = w_.LastEvent();
  EXPECT_EQ(revoke_event.principal_id, "User::\"stella\"");
  EXPECT_EQ(revoke_event.grant_id, second_grant.id);
  EXPECT_EQ(revoke_event.decision, audit::Decision::kAllow);
  EXPECT_EQ(revoke_event.outcome_detail, "revoked: model project cancelled");
  ASSERT_EQ(revoke_event.resources.size(), 2u);
  EXPECT_EQ(revoke_event.resources[0].id, "fraud_v1");
}

TEST_F(AccessStoryTest, GrantEventCarriesVersionAndLinks) {
  const Grant grant = GrantWeek();
  audit::AuditEvent e;
  for (const auto& ev : w_.Events()) {
    if (ev.action == "access.grant.create") e = ev;
  }
  EXPECT_EQ(e.grant_id, grant.id);
  EXPECT_EQ(e.request_id, grant.request_id);
  EXPECT_EQ(e.principal_id, "User::\"dana\"");
  EXPECT_EQ(e.purpose, "fraud-model-training");
  EXPECT_EQ(e.policy_set_version, w_.policies().version());
  EXPECT_THAT(e.determining_policies,
              ElementsAre(GrantLinkId(grant.id, 0), GrantLinkId(grant.id, 1)));
}

TEST_F(AccessStoryTest, GrantTemplateIsWhatTheEvaluatorRuns) {
  const Grant grant = GrantWeek();
  const policy::Policy* templ = w_.policies().Current()->Find(GrantTemplateId(grant.id));
  ASSERT_NE(templ, nullptr);
  EXPECT_TRUE(templ->IsTemplate());
  EXPECT_EQ(templ->FindAnnotation("grant"), grant.id);
  EXPECT_EQ(templ->FindAnnotation("expires"), common::FormatRfc3339(grant.expires));
  const policy::Policy* link = w_.policies().Current()->Find(GrantLinkId(grant.id, 1));
  ASSERT_NE(link, nullptr);
  EXPECT_EQ(link->template_id, GrantTemplateId(grant.id));
  EXPECT_EQ(link->resource.entity.uid, View("txn_v2"));
  EXPECT_THAT(GrantTemplateText(grant),
              HasSubstr("context.now < " + std::to_string(common::ToUnixSeconds(grant.expires))));
}

TEST_F(AccessStoryTest, GrantCoversChildrenOfTheResourceButNotAForbid) {
  // A feature whose parent is the granted view.
  policy::Entity feature;
  feature.uid = EntityUid("Feature", "fraud_v1.amount_7d");
  feature.parents = {View("fraud_v1")};
  ASSERT_TRUE(w_.entities().Add(feature).ok());
  w_.entities().Build();
  RequestSpec spec = WeekOfReads();
  spec.actions = {"read", "export"};
  auto request = w_.access().CreateRequest(spec, As("dana"));
  ASSERT_TRUE(request.ok());
  ASSERT_TRUE(w_.access().Approve(request->id, AsWithMfa("oscar", w_.clock().Now())).ok());
  auto done = w_.access().Approve(request->id, As("stella"));
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_TRUE(w_.Allowed(User("dana"), "read", feature.uid, "fraud-model-training"));
  EXPECT_TRUE(w_.Allowed(User("dana"), "export", View("fraud_v1"), "fraud-model-training"));
  // A request without `now` in its context makes the grant error, which denies.
  policy::Request req;
  req.principal = User("dana");
  req.action = EntityUid("Action", "read");
  req.resource = View("fraud_v1");
  req.context = policy::Value::Record({{"purpose", policy::Value::String("fraud-model-training")}});
  auto d = w_.policies().IsAuthorized(req, w_.entities());
  EXPECT_EQ(d.response.decision, policy::Decision::kDeny);
  // Only the link whose scope matches (fraud_v1) is evaluated, and it errors.
  ASSERT_EQ(d.response.errors.size(), 1u);
  EXPECT_EQ(d.response.errors[0].policy_id, GrantLinkId(done->grant->id, 0));
  // An operator's forbid still wins over the grant.
  req.action = EntityUid("Action", "export");
  req.context = policy::Value::Record(
      {{"purpose", policy::Value::String("fraud-model-training")},
       {"now", policy::Value(static_cast<int64_t>(common::ToUnixSeconds(w_.clock().Now())))},
       {"risk", policy::Value(static_cast<int64_t>(950))}});
  d = w_.policies().IsAuthorized(req, w_.entities());
  EXPECT_EQ(d.response.decision, policy::Decision::kDeny);
  ASSERT_EQ(d.response.reasons.size(), 1u);
  EXPECT_EQ(d.response.reasons[0], "no-export-on-quarantine");
}

TEST_F(AccessStoryTest, RevocationHoldsFromTheNextCallAcrossThreads) {
  const Grant grant = GrantWeek();
  ASSERT_TRUE(w_.Allowed(User("dana"), "read", View("fraud_v1"), "fraud-model-training"));

  std::atomic<bool> revoked{false};
  std::atomic<bool> stop{false};
  std::atomic<int> allowed_after_revoke{0};
  std::atomic<int> decisions{0};
  std::thread reader([&] {
    while (!stop.load()) {
      // Read the flag first: a decision that starts after Revoke returned must deny.
      const bool after = revoked.load();
      if (w_.Allowed(User("dana"), "read", View("fraud_v1"), "fraud-model-training") && after) {
        allowed_after_revoke.fetch_add(1);
      }
      decisions.fetch_add(1);
    }
  });
  while (decisions.load() < 50) std::this_thread::yield();
  std::thread revoker([&] {
    auto r = w_.access().Revoke(grant.id, As("olivia"), "owner ended the project");
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    revoked.store(true);
  });
  revoker.join();
  // The very next call on this thread is denied.
  EXPECT_FALSE(w_.Allowed(User("dana"), "read", View("fraud_v1"), "fraud-model-training"));
  const int seen = decisions.load();
  while (decisions.load() < seen + 50) std::this_thread::yield();
  stop.store(true);
  reader.join();
  EXPECT_EQ(allowed_after_revoke.load(), 0);
}

TEST_F(AccessStoryTest, GrantsSurviveRestartAndRevocationsStay) {
  const Grant kept = GrantWeek();
  const Grant revoked = GrantWeek();
  ASSERT_TRUE(w_.access().Revoke(revoked.id, As("dana"), "no longer needed").ok());
  // A pending request with one approval.
  auto pending = w_.access().CreateRequest(WeekOfReads(), As("erin"));
  ASSERT_TRUE(pending.ok());
  ASSERT_TRUE(w_.access().Approve(pending->id, As("olivia")).ok());

  w_.Restart();
  // The new policy store has only the base policies until AccessService re-linked the
  // grant in force.
  EXPECT_TRUE(w_.Allowed(User("dana"), "read", View("fraud_v1"), "fraud-model-training"));
  EXPECT_NE(w_.policies().Current()->Find(GrantLinkId(kept.id, 0)), nullptr);
  EXPECT_EQ(w_.policies().Current()->Find(GrantLinkId(revoked.id, 0)), nullptr);
  EXPECT_EQ(w_.policies().Current()->Find("no-export-on-quarantine") != nullptr, true);
  EXPECT_EQ(w_.access().GetGrant(revoked.id)->state, GrantState::kRevoked);
  auto review = w_.access().Review();
  ASSERT_TRUE(review.ok());
  ASSERT_EQ(review->size(), 1u);
  EXPECT_EQ((*review)[0].grant.id, kept.id);
  // The pending request kept its approval; the next qualifying one completes it (an MFA
  // approval is still needed, since olivia approved without).
  auto again = w_.access().GetRequest(pending->id);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->state, RequestState::kPending);
  ASSERT_EQ(again->approvals.size(), 1u);
  EXPECT_EQ(again->approvals[0].approver, User("olivia"));
  auto done = w_.access().Approve(pending->id, AsWithMfa("oscar", w_.clock().Now()));
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_TRUE(done->grant.has_value());
  EXPECT_TRUE(w_.Allowed(User("erin"), "read", View("txn_v2"), "fraud-model-training"));

  // A restart after the expiry: nothing lapsed is re-linked, and it is marked expired.
  w_.clock().Advance(days(8));
  w_.Restart();
  EXPECT_TRUE(w_.policies().LinkIds().empty());
  EXPECT_EQ(w_.access().GetGrant(kept.id)->state, GrantState::kExpired);
  EXPECT_TRUE(w_.access().Review()->empty());
}

TEST_F(AccessStoryTest, OperatorPolicyReloadKeepsGrants) {
  const Grant grant = GrantWeek();
  ASSERT_TRUE(w_.policies()
                  .LoadSources({{"ops.cedar",
                                 "forbid(principal, action, resource) when { "
                                 "context.risk > 500 };"}})
                  .ok());
  EXPECT_TRUE(w_.Allowed(User("dana"), "read", View("fraud_v1"), "fraud-model-training"));
  ASSERT_TRUE(w_.access().Revoke(grant.id, As("oscar"), "done").ok());
  EXPECT_FALSE(w_.Allowed(User("dana"), "read", View("fraud_v1"), "fraud-model-training"));
}

}  // namespace
}  // namespace custos::access

namespace custos::access {
namespace {

using namespace testing;  // NOLINT(google-build-using-namespace): test helpers

TEST(AccessStorageTest, RecordsAreSealedOnDisk) {
  std::string root;
  {
    AccessWorld w;
    root = w.path();
    w.Register(View("fraud_v1"), catalog::Classification::kInternal, {User("olivia")});
    ASSERT_TRUE(
        w.access()
            .DefinePurpose(Purpose{"fraud-model", "zanzibar-description-marker", {}}, As("admin"))
            .ok());
    RequestSpec spec;
    spec.purpose = "fraud-model";
    spec.resources = {View("fraud_v1")};
    spec.actions = {"read"};
    spec.duration = std::chrono::hours(24);
    spec.justification = "quokka-justification-marker";
    auto r = w.access().CreateRequest(spec, As("dana"));
    ASSERT_TRUE(r.ok());
    ASSERT_TRUE(w.access().Approve(r->id, As("olivia")).ok());
    w.Close();
    // Files of the data directory (RocksDB flushes on close) never hold the free text.
    for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
      if (!entry.is_regular_file()) continue;
      std::ifstream in(entry.path(), std::ios::binary);
      std::stringstream ss;
      ss << in.rdbuf();
      EXPECT_EQ(ss.str().find("quokka-justification-marker"), std::string::npos) << entry.path();
      EXPECT_EQ(ss.str().find("zanzibar-description-marker"), std::string::npos) << entry.path();
    }
  }
}

TEST(AccessConcurrencyTest, ParallelApprovalsAndRevocationsStayConsistent) {
  AccessWorld w;
  w.Register(View("v"), catalog::Classification::kInternal, {User("olivia")});
  w.DefinePurpose("p");
  constexpr int kThreads = 4;
  constexpr int kPerThread = 5;
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        RequestSpec spec;
        spec.purpose = "p";
        spec.resources = {View("v")};
        spec.actions = {"read"};
        spec.duration = std::chrono::hours(1);
        spec.justification = "parallel";
        const std::string user = "u" + std::to_string(t) + "_" + std::to_string(i);
        auto r = w.access().CreateRequest(spec, As(user));
        auto a = r.ok() ? w.access().Approve(r->id, As("olivia")) : r.status();
        if (!a.ok() || !a->grant) {
          failures.fetch_add(1);
          continue;
        }
        // Revoke every other grant right away.
        if (i % 2 == 1 && !w.access().Revoke(a->grant->id, As(user), "done").ok()) {
          failures.fetch_add(1);
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  auto active = w.access().ListGrants(GrantState::kActive);
  ASSERT_TRUE(active.ok());
  EXPECT_EQ(active->size(), static_cast<size_t>(kThreads * 3));
  EXPECT_EQ(w.access().ListGrants(GrantState::kRevoked)->size(), static_cast<size_t>(kThreads * 2));
  // The policy store holds exactly the active grants' links.
  EXPECT_EQ(w.policies().ManagedSourceNames().size(), active->size());
  for (const auto& g : *active) {
    EXPECT_TRUE(w.Allowed(g.grantee, "read", View("v"), "p")) << g.id;
  }
  auto revoked = w.access().ListGrants(GrantState::kRevoked);
  ASSERT_TRUE(revoked.ok());
  for (const auto& g : *revoked) {
    EXPECT_FALSE(w.Allowed(g.grantee, "read", View("v"), "p")) << g.id;
  }
}

}  // namespace
}  // namespace custos::access
