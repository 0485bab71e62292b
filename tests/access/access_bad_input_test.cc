// Every refusal of the access workflow: its exact code, the key part of its message, and
// the audit event that records it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "access_test_util.h"

namespace custos::access {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using namespace testing;  // NOLINT(google-build-using-namespace): test helpers
using catalog::Classification;
using std::chrono::days;
using std::chrono::minutes;

class AccessBadInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    w_.Register(View("fraud_v1"), Classification::kRestricted, {User("olivia"), User("oscar")},
                {User("stella")});
    w_.Register(View("txn_v2"), Classification::kConfidential, {User("olivia")}, {User("stella")});
    w_.Register(View("clicks"), Classification::kInternal, {User("olivia")});
    w_.Register(View("other_team"), Classification::kRestricted, {User("otto")});
    w_.DefinePurpose("fraud-model-training");
    w_.DefinePurpose("marketing");
    w_.DefinePurpose("quick-look", days(1));
  }

  RequestSpec Spec(std::vector<EntityUid> resources) {
    RequestSpec spec;
    spec.purpose = "fraud-model-training";
    spec.resources = std::move(resources);
    spec.actions = {"read"};
    spec.duration = days(7);
    spec.justification = "retrain the fraud model";
    return spec;
  }

  std::string Request(std::vector<EntityUid> resources, const std::string& who = "dana") {
    auto r = w_.access().CreateRequest(Spec(std::move(resources)), As(who));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->id : "";
  }

  // The refusal was audited as a denial of `action` whose detail starts with the code.
  void ExpectRefusalAudited(const std::string& action, const Status& status) {
    audit::AuditEvent e = w_.LastEvent();
    EXPECT_EQ(e.action, action);
    EXPECT_EQ(e.decision, audit::Decision::kDeny);
    EXPECT_EQ(e.outcome, audit::Outcome::kDenied);
    EXPECT_EQ(e.outcome_detail, status.ToString());
  }

  AccessWorld w_;
};

TEST_F(AccessBadInputTest, SelfApprovalIsRefused) {
  std::string id = Request({View("clicks")});
  auto r = w_.access().Approve(id, AsWithMfa("dana", w_.clock().Now()));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied);
  EXPECT_THAT(r.status().message(), HasSubstr("User::\"dana\" cannot approve their own request " +
                                              id + " (separation of duties)"));
  ExpectRefusalAudited("access.request.approve", r.status());
  EXPECT_EQ(w_.LastEvent().request_id, id);
  EXPECT_EQ(w_.access().GetRequest(id)->approvals.size(), 0u);
}

TEST_F(AccessBadInputTest, ApprovingTwiceIsRefused) {
  std::string id = Request({View("fraud_v1")});
  ASSERT_TRUE(w_.access().Approve(id, AsWithMfa("olivia", w_.clock().Now())).ok());
  auto r = w_.access().Approve(id, AsWithMfa("olivia", w_.clock().Now()));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kAlreadyExists);
  EXPECT_THAT(r.status().message(),
              HasSubstr("User::\"olivia\" has already approved request " + id));
  ExpectRefusalAudited("access.request.approve", r.status());
  EXPECT_EQ(w_.access().GetRequest(id)->approvals.size(), 1u);
  EXPECT_EQ(w_.access().GetRequest(id)->state, RequestState::kPending);
}

TEST_F(AccessBadInputTest, ApprovalByNonOwnerIsRefused) {
  // Confidential: one owner. erin is nobody; stella is only a steward.
  std::string id = Request({View("txn_v2")});
  for (const char* who : {"erin", "stella"}) {
    auto r = w_.access().Approve(id, As(who));
    ASSERT_FALSE(r.ok()) << who;
    EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied);
    EXPECT_THAT(r.status().message(),
                HasSubstr("User::\"" + std::string(who) +
                          "\" is not an owner of FeatureView::\"txn_v2\"; confidential requests "
                          "need 1 owner of every resource involved"));
    ExpectRefusalAudited("access.request.approve", r.status());
  }
  auto ok = w_.access().Approve(id, As("olivia"));
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_TRUE(ok->grant.has_value());
}

TEST_F(AccessBadInputTest, ApproverMustQualifyForEveryResource) {
  // oscar owns fraud_v1 but has no role on other_team.
  std::string id = Request({View("fraud_v1"), View("other_team")});
  auto r = w_.access().Approve(id, AsWithMfa("oscar", w_.clock().Now()));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied);
  EXPECT_THAT(r.status().message(),
              HasSubstr("User::\"oscar\" is not an owner or steward of "
                        "FeatureView::\"other_team\"; restricted requests need 2 distinct owners "
                        "or stewards, at least 1 with MFA in the last 5m"));
  ExpectRefusalAudited("access.request.approve", r.status());
}

TEST_F(AccessBadInputTest, ApprovalUsesTheCatalogAsItIsNow) {
  std::string id = Request({View("clicks")});  // internal: anyone would do
  catalog::GovernedResource up = *w_.catalog().Get(View("clicks"));
  up.classification = Classification::kRestricted;
  ASSERT_TRUE(w_.catalog().Update(up, User("olivia")).ok());
  auto r = w_.access().Approve(id, As("erin"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied);
  EXPECT_THAT(r.status().message(),
              HasSubstr("User::\"erin\" is not an owner or steward of FeatureView::\"clicks\"; "
                        "restricted requests need 2 distinct owners or stewards"));
}

TEST_F(AccessBadInputTest, GroupOwnershipCounts) {
  w_.Register(View("shared"), Classification::kConfidential, {EntityUid("Group", "fraud-owners")});
  std::string id = Request({View("shared")});
  Actor greta = As("greta");
  EXPECT_EQ(w_.access().Approve(id, greta).status().code(), StatusCode::kPermissionDenied);
  greta.groups = {EntityUid("Group", "fraud-owners")};
  auto r = w_.access().Approve(id, greta);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->grant.has_value());
}

TEST_F(AccessBadInputTest, RestrictedNeedsOneFreshMfa) {
  std::string id = Request({View("fraud_v1")});
  // MFA six minutes ago is stale: the first approval still counts (a slot remains for MFA).
  auto first = w_.access().Approve(id, AsWithMfa("olivia", w_.clock().Now() - minutes(6)));
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_FALSE(first->request.approvals[0].mfa_fresh);
  // The second without fresh MFA would complete the rule without any: refused.
  auto second = w_.access().Approve(id, As("oscar"));
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kPermissionDenied);
  EXPECT_THAT(second.status().message(),
              HasSubstr("User::\"oscar\" has no MFA in this session: verify MFA, then approve "
                        "again"));
  ExpectRefusalAudited("access.request.approve", second.status());
  // With MFA just done it completes.
  auto third = w_.access().Approve(id, AsWithMfa("oscar", w_.clock().Now() - minutes(1)));
  ASSERT_TRUE(third.ok()) << third.status().ToString();
  EXPECT_TRUE(third->grant.has_value());
}

TEST_F(AccessBadInputTest, UnknownPurposeIsRefused) {
  RequestSpec spec = Spec({View("clicks")});
  spec.purpose = "astrology";
  auto r = w_.access().CreateRequest(spec, As("dana"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            "unknown purpose `astrology`; choose one of the governed purposes "
            "(fraud-model-training, marketing, quick-look)");
  ExpectRefusalAudited("access.request.create", r.status());
  EXPECT_EQ(w_.LastEvent().principal_id, "User::\"dana\"");
  EXPECT_TRUE(w_.access().ListRequests()->empty());
}

TEST_F(AccessBadInputTest, DurationOverTheMaximumIsRefused) {
  RequestSpec spec = Spec({View("clicks")});
  spec.duration = days(45);
  auto r = w_.access().CreateRequest(spec, As("dana"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            "duration 45d is over the configured maximum of 30d; ask for at most 30d");
  ExpectRefusalAudited("access.request.create", r.status());

  spec.purpose = "quick-look";
  spec.duration = days(2);
  r = w_.access().CreateRequest(spec, As("dana"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(),
              HasSubstr("duration 2d is over the maximum for purpose `quick-look` of 1d"));

  spec.duration = std::chrono::seconds(0);
  r = w_.access().CreateRequest(spec, As("dana"));
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("the duration must be positive"));
}

TEST_F(AccessBadInputTest, UnknownResourceIsRefused) {
  auto r = w_.access().CreateRequest(Spec({View("clicks"), View("ghost")}), As("dana"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(r.status().message(),
              StartsWith("FeatureView::\"ghost\" is not registered in the catalog"));
  ExpectRefusalAudited("access.request.create", r.status());
  ASSERT_EQ(w_.LastEvent().resources.size(), 2u);
  EXPECT_EQ(w_.LastEvent().resources[1].id, "ghost");
}

TEST_F(AccessBadInputTest, OtherMalformedRequestsAreRefused) {
  struct Case {
    std::function<void(RequestSpec&)> edit;
    std::string fragment;
  };
  std::vector<Case> cases = {
      {[](RequestSpec& s) { s.actions = {"administer"}; },
       "action `administer` cannot be requested; grantable actions: read, read_pseudonymized"},
      {[](RequestSpec& s) {
         s.actions = {"read", "read"};
       },
       "action `read` is listed twice"},
      {[](RequestSpec& s) { s.actions.clear(); }, "no actions requested"},
      {[](RequestSpec& s) { s.resources.clear(); }, "no resources requested"},
      {[](RequestSpec& s) {
         s.resources = {View("clicks"), View("clicks")};
       },
       "resource FeatureView::\"clicks\" is listed twice"},
      {[](RequestSpec& s) { s.justification = "  \n"; }, "a justification is required"},
  };
  for (const auto& c : cases) {
    RequestSpec spec = Spec({View("clicks")});
    c.edit(spec);
    auto r = w_.access().CreateRequest(spec, As("dana"));
    ASSERT_FALSE(r.ok()) << c.fragment;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << c.fragment;
    EXPECT_THAT(r.status().message(), HasSubstr(c.fragment));
    ExpectRefusalAudited("access.request.create", r.status());
  }
  auto group = w_.access().CreateRequest(Spec({View("clicks")}),
                                         Actor{EntityUid("Group", "analysts"), {}, {}});
  EXPECT_EQ(group.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(group.status().message(),
              HasSubstr("Group::\"analysts\" cannot request access; only a User or "
                        "ServiceAccount can"));
}

TEST_F(AccessBadInputTest, RevokingANonActiveGrantIsRefused) {
  std::string id = Request({View("clicks")});
  auto approved = w_.access().Approve(id, As("erin"));  // internal: anyone but dana
  ASSERT_TRUE(approved.ok()) << approved.status().ToString();
  const std::string grant_id = approved->grant->id;
  // Someone with no role on it may not revoke.
  auto stranger = w_.access().Revoke(grant_id, As("mallory"), "because");
  EXPECT_EQ(stranger.status().code(), StatusCode::kPermissionDenied);
  EXPECT_THAT(stranger.status().message(),
              HasSubstr("User::\"mallory\" may not revoke grant " + grant_id));
  ExpectRefusalAudited("access.grant.revoke", stranger.status());
  // An administrator may; a second revocation is refused.
  Actor security = As("sam");
  security.administrator = true;
  ASSERT_TRUE(w_.access().Revoke(grant_id, security, "incident 42").ok());
  auto again = w_.access().Revoke(grant_id, As("olivia"), "again");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(again.status().message(),
            "grant " + grant_id + " is revoked; only an active grant can be revoked");
  ExpectRefusalAudited("access.grant.revoke", again.status());
  EXPECT_EQ(w_.LastEvent().grant_id, grant_id);
  // An expired grant cannot be revoked either, and an unknown one is not found.
  std::string id2 = Request({View("clicks")});
  auto g2 = w_.access().Approve(id2, As("erin"));
  ASSERT_TRUE(g2.ok());
  w_.clock().Advance(days(8));
  ASSERT_EQ(*w_.access().ExpireDue(), 1u);
  auto expired = w_.access().Revoke(g2->grant->id, As("olivia"), "late");
  EXPECT_EQ(expired.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(expired.status().message(), HasSubstr("is expired"));
  auto unknown = w_.access().Revoke("gnt_00000000000000000000000000", As("olivia"), "x");
  EXPECT_EQ(unknown.status().code(), StatusCode::kNotFound);
  ExpectRefusalAudited("access.grant.revoke", unknown.status());
}

TEST_F(AccessBadInputTest, DenialAndWithdrawal) {
  std::string id = Request({View("txn_v2")});
  // Only someone who could approve may deny, never the requester, and with a reason.
  EXPECT_EQ(w_.access().Deny(id, As("erin"), "no").status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(w_.access().Deny(id, As("dana"), "no").status().code(), StatusCode::kPermissionDenied);
  auto blank = w_.access().Deny(id, As("olivia"), " ");
  EXPECT_EQ(blank.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(blank.status().message(), HasSubstr("a denial needs a reason"));
  auto denied = w_.access().Deny(id, As("olivia"), "use the aggregated view instead");
  ASSERT_TRUE(denied.ok()) << denied.status().ToString();
  EXPECT_EQ(denied->state, RequestState::kDenied);
  EXPECT_EQ(denied->denied_by, User("olivia"));
  EXPECT_EQ(denied->decision_reason, "use the aggregated view instead");
  EXPECT_EQ(w_.LastEvent().action, "access.request.deny");
  EXPECT_EQ(w_.LastEvent().decision, audit::Decision::kAllow);
  EXPECT_EQ(w_.LastEvent().outcome_detail, "denied: use the aggregated view instead");
  auto late = w_.access().Approve(id, As("olivia"));
  EXPECT_EQ(late.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(late.status().message(),
              HasSubstr("is denied; only pending requests can be approved"));

  std::string id2 = Request({View("txn_v2")});
  auto not_mine = w_.access().Withdraw(id2, As("erin"));
  EXPECT_EQ(not_mine.status().code(), StatusCode::kPermissionDenied);
  EXPECT_THAT(not_mine.status().message(),
              HasSubstr("only the requester User::\"dana\" can withdraw request " + id2));
  ExpectRefusalAudited("access.request.withdraw", not_mine.status());
  auto withdrawn = w_.access().Withdraw(id2, As("dana"));
  ASSERT_TRUE(withdrawn.ok());
  EXPECT_EQ(withdrawn->state, RequestState::kWithdrawn);
  EXPECT_EQ(w_.LastEvent().action, "access.request.withdraw");
  EXPECT_EQ(w_.access().Withdraw(id2, As("dana")).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(w_.access().Approve(id2, As("olivia")).status().code(),
            StatusCode::kFailedPrecondition);
  auto missing = w_.access().Approve("acr_00000000000000000000000000", As("olivia"));
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  ExpectRefusalAudited("access.request.approve", missing.status());
}

TEST_F(AccessBadInputTest, UndecidedRequestsExpire) {
  std::string id = Request({View("txn_v2")});
  w_.clock().Advance(days(14));
  auto r = w_.access().Approve(id, As("olivia"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(r.status().message(), HasSubstr("is expired"));
  EXPECT_EQ(w_.access().GetRequest(id)->state, RequestState::kExpired);
  bool expire_audited = false;
  for (const auto& e : w_.Events()) {
    if (e.action == "access.request.expire" && e.request_id == id) expire_audited = true;
  }
  EXPECT_TRUE(expire_audited);
}

TEST_F(AccessBadInputTest, PurposeDefinitionIsValidated) {
  auto dup = w_.access().DefinePurpose(Purpose{"marketing", "again", {}}, As("admin"));
  EXPECT_EQ(dup.status().code(), StatusCode::kAlreadyExists);
  ExpectRefusalAudited("access.purpose.define", dup.status());
  auto bad = w_.access().DefinePurpose(Purpose{"Bad Id", "x", {}}, As("admin"));
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), HasSubstr("purpose id `Bad Id` is malformed"));
  auto list = w_.access().ListPurposes();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 3u);
  EXPECT_EQ((*list)[2].id, "quick-look");
  EXPECT_EQ((*list)[2].max_duration, days(1));
}

TEST_F(AccessBadInputTest, RecordUseChecksTheIdAndThrottlesWrites) {
  EXPECT_EQ(w_.access().RecordUse("nope", w_.clock().Now()).code(), StatusCode::kInvalidArgument);
  std::string id = Request({View("clicks")});
  auto g = w_.access().Approve(id, As("erin"));
  ASSERT_TRUE(g.ok());
  const common::TimePoint t0 = w_.clock().Now();
  ASSERT_TRUE(w_.access().RecordUse(g->grant->id, t0 + minutes(5)).ok());
  ASSERT_TRUE(w_.access().RecordUse(g->grant->id, t0 + minutes(5) + std::chrono::seconds(10)).ok());
  // An older use does not move the last use back.
  ASSERT_TRUE(w_.access().RecordUse(g->grant->id, t0).ok());
  EXPECT_EQ(w_.access().Review()->at(0).last_use, t0 + minutes(5) + std::chrono::seconds(10));
  // After a restart, the last persisted use (throttled to once a minute) is what is known.
  w_.Restart();
  EXPECT_EQ(w_.access().Review()->at(0).last_use, t0 + minutes(5));
}

}  // namespace
}  // namespace custos::access

namespace custos::access {
namespace {

using namespace testing;  // NOLINT(google-build-using-namespace): test helpers

TEST(AccessFailClosedTest, NothingChangesWhenTheAuditLogRefuses) {
  AccessWorld w;
  w.Register(View("clicks"), catalog::Classification::kInternal, {User("olivia")});
  w.DefinePurpose("p");
  RequestSpec spec;
  spec.purpose = "p";
  spec.resources = {View("clicks")};
  spec.actions = {"read"};
  spec.duration = std::chrono::hours(2);
  spec.justification = "dashboards";
  auto pending = w.access().CreateRequest(spec, As("dana"));
  ASSERT_TRUE(pending.ok());
  auto granted = w.access().CreateRequest(spec, As("erin"));
  ASSERT_TRUE(granted.ok());
  auto grant = w.access().Approve(granted->id, As("olivia"));
  ASSERT_TRUE(grant.ok() && grant->grant.has_value());
  const uint64_t version = w.policies().version();

  w.log().Close();  // every append now fails
  auto create = w.access().CreateRequest(spec, As("dana"));
  EXPECT_EQ(create.status().code(), StatusCode::kUnavailable);
  auto approve = w.access().Approve(pending->id, As("olivia"));
  EXPECT_EQ(approve.status().code(), StatusCode::kUnavailable);
  auto revoke = w.access().Revoke(grant->grant->id, As("olivia"), "cleanup");
  EXPECT_EQ(revoke.status().code(), StatusCode::kUnavailable);
  // A refusal that cannot be recorded reports the audit failure, naming the refusal.
  auto self = w.access().Approve(pending->id, As("dana"));
  EXPECT_EQ(self.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(self.status().message(), ::testing::HasSubstr("cannot audit the refusal"));

  EXPECT_EQ(w.policies().version(), version);
  EXPECT_EQ(w.access().ListRequests()->size(), 2u);
  EXPECT_EQ(w.access().GetRequest(pending->id)->state, RequestState::kPending);
  EXPECT_TRUE(w.access().GetRequest(pending->id)->approvals.empty());
  EXPECT_EQ(w.access().GetGrant(grant->grant->id)->state, GrantState::kActive);
  EXPECT_TRUE(w.Allowed(User("erin"), "read", View("clicks"), "p"));
}

}  // namespace
}  // namespace custos::access
