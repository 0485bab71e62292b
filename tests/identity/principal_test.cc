// The principal directory: id validation, attributes, nested groups and cycle refusal,
// persistence across reopen, Cedar evaluation through nested groups, sealed storage, and
// the audit events of every change (fail closed when the log refuses).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

#include "identity/directory.h"
#include "identity_test_util.h"
#include "policy/authorizer.h"
#include "policy/parser.h"

namespace custos::identity {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

using DirectoryTest = testing::IdentityTest;

TEST(PrincipalIdTest, ParsesCedarUids) {
  auto id = PrincipalId::Parse("ServiceAccount::\"fraud-scorer\"");
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(id->type, PrincipalType::kServiceAccount);
  EXPECT_EQ(id->id, "fraud-scorer");
  EXPECT_EQ(id->ToString(), "ServiceAccount::\"fraud-scorer\"");
  EXPECT_EQ(PrincipalId::Parse("User::\"alice@example.com\"")->id, "alice@example.com");
  EXPECT_EQ(PrincipalId::Parse("Group::\"risk-team\"")->type, PrincipalType::kGroup);
  EXPECT_EQ(PrincipalId::User("bob").ToEntityUid(), policy::EntityUid("User", "bob"));
}

TEST(PrincipalIdTest, RefusesBadIdsWithClearMessages) {
  struct Case {
    std::string text;
    std::string fragment;
  };
  const Case cases[] = {
      {"alice", "is not a Cedar uid; write it as User::\"alice\""},
      {"Robot::\"x\"", "type 'Robot' is not a principal type; use User, ServiceAccount or Group"},
      {"User::alice", "the id must be in double quotes, e.g. User::\"name\""},
      {"User::\"\"", "principal id is empty"},
      {"User::\"al ice\"", "character 3 (byte 0x20) is not allowed"},
      {"User::\"a\"b\"", "character 2 ('\"') is not allowed"},
      {"User::\"-x\"", "must start with a letter or digit"},
      {"User::\"" + std::string(129, 'a') + "\"", "129 characters long; the limit is 128"},
      {"User::\"caf\xc3\xa9\"", "character 4 (byte 0xc3) is not allowed"},
  };
  for (const auto& c : cases) {
    auto id = PrincipalId::Parse(c.text);
    ASSERT_FALSE(id.ok()) << c.text;
    EXPECT_EQ(id.status().code(), StatusCode::kInvalidArgument) << c.text;
    EXPECT_THAT(id.status().message(), HasSubstr(c.fragment)) << c.text;
  }
  EXPECT_TRUE(PrincipalId::Make(PrincipalType::kUser, std::string(128, 'a')).ok());
  EXPECT_EQ(PrincipalId::Make(static_cast<PrincipalType>(7), "x").status().code(),
            StatusCode::kInvalidArgument);
}

TEST(AttributeValueTest, ConvertsToCedarValues) {
  EXPECT_EQ(AttributeValue::String("risk").ToString(), "\"risk\"");
  EXPECT_EQ(AttributeValue::Long(-3).ToString(), "-3");
  EXPECT_EQ(AttributeValue::Bool(true).ToString(), "true");
  EXPECT_EQ(AttributeValue::StringSet({"eu", "us", "eu"}).set_value(),
            (std::vector<std::string>{"eu", "us"}));
  EXPECT_EQ(AttributeValue::StringSet({"us", "eu"}).ToString(), "[\"eu\", \"us\"]");
}

TEST_F(DirectoryTest, CreatesGetsListsAndPersists) {
  Attributes attrs{{"department", AttributeValue::String("fraud")},
                   {"clearance", AttributeValue::Long(3)},
                   {"contractor", AttributeValue::Bool(false)},
                   {"regions", AttributeValue::StringSet({"eu", "uk"})}};
  auto alice = dir_->Create(admin_, {PrincipalId::User("alice"), "Alice A.", attrs});
  ASSERT_TRUE(alice.ok()) << alice.status().ToString();
  EXPECT_EQ(alice->created, clock_.Now());
  MustCreatePrincipal(PrincipalId::ServiceAccount("fraud-scorer"));
  MustCreatePrincipal(PrincipalId::Group("risk"));

  auto again = dir_->Create(admin_, {PrincipalId::User("alice"), "", {}});
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);
  EXPECT_THAT(again.status().message(), HasSubstr("User::\"alice\" already exists"));

  Reopen();
  auto got = dir_->Get(PrincipalId::User("alice"));
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->display_name, "Alice A.");
  EXPECT_EQ(got->attributes, attrs);
  EXPECT_FALSE(got->disabled);
  EXPECT_EQ(got->created, common::FromUnixSeconds(1'800'000'000));

  auto missing = dir_->Get(PrincipalId::User("nobody"));
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(), "principal User::\"nobody\" does not exist");

  auto all = dir_->List();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].id, PrincipalId::User("alice"));
  EXPECT_EQ((*all)[1].id, PrincipalId::ServiceAccount("fraud-scorer"));
  EXPECT_EQ((*all)[2].id, PrincipalId::Group("risk"));
  auto groups = dir_->List(PrincipalType::kGroup);
  ASSERT_EQ(groups->size(), 1u);
  EXPECT_EQ((*groups)[0].id.id, "risk");
}

TEST_F(DirectoryTest, RefusesBadAttributes) {
  struct Case {
    std::string name;
    AttributeValue value;
    std::string fragment;
  };
  const Case cases[] = {
      {"1dept", AttributeValue::String("x"), "attribute name '1dept' is not a Cedar identifier"},
      {"dept-x", AttributeValue::String("x"), "attribute name 'dept-x' is not a Cedar identifier"},
      {"in", AttributeValue::Long(1), "attribute name 'in' is a Cedar reserved word"},
      {"", AttributeValue::Long(1), "attribute name is empty"},
      {std::string(65, 'a'), AttributeValue::Long(1), "is 65 characters long; the limit is 64"},
      {"note", AttributeValue::String(std::string(1025, 'x')),
       "attribute 'note': a string of 1025 bytes exceeds the limit of 1024"},
      {"note", AttributeValue::String("bad \xff utf8"),
       "attribute 'note': the value is not valid UTF-8"},
      {"tags", AttributeValue::StringSet({"ok", "\xc0\x80"}),
       "attribute 'tags': the value is not valid UTF-8"},
  };
  for (const auto& c : cases) {
    auto p = dir_->Create(admin_, {PrincipalId::User("alice"), "", {{c.name, c.value}}});
    ASSERT_FALSE(p.ok()) << c.name;
    EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument) << c.name;
    EXPECT_THAT(p.status().message(), HasSubstr(c.fragment)) << c.name;
    EXPECT_THAT(p.status().message(), HasSubstr("User::\"alice\": ")) << c.name;
  }
  std::vector<std::string> many(257);
  for (size_t i = 0; i < many.size(); ++i) many[i] = "r" + std::to_string(i);
  auto big = dir_->Create(
      admin_, {PrincipalId::User("alice"), "", {{"r", AttributeValue::StringSet(many)}}});
  EXPECT_EQ(big.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(big.status().message(), HasSubstr("a set of 257 items exceeds the limit of 256"));
  // Nothing was created by any refused call.
  EXPECT_EQ(dir_->Get(PrincipalId::User("alice")).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(log_->size(), 0u);
}

TEST_F(DirectoryTest, UpdatesAttributes) {
  MustCreatePrincipal(PrincipalId::User("alice"), {{"clearance", AttributeValue::Long(2)},
                                                   {"region", AttributeValue::String("eu")}});
  clock_.Advance(std::chrono::seconds(10));
  auto updated = dir_->UpdateAttributes(
      admin_, PrincipalId::User("alice"),
      {.set = {{"clearance", AttributeValue::Long(4)}}, .remove = {"region"}, .display_name = "A"});
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  EXPECT_EQ(updated->attributes, (Attributes{{"clearance", AttributeValue::Long(4)}}));
  EXPECT_EQ(updated->display_name, "A");
  EXPECT_EQ(updated->updated, clock_.Now());
  EXPECT_EQ(dir_->Get(PrincipalId::User("alice"))->attributes, updated->attributes);

  auto absent = dir_->UpdateAttributes(admin_, PrincipalId::User("alice"), {.remove = {"region"}});
  EXPECT_EQ(absent.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(absent.status().message(), "User::\"alice\" has no attribute 'region' to remove");
  auto both = dir_->UpdateAttributes(
      admin_, PrincipalId::User("alice"),
      {.set = {{"clearance", AttributeValue::Long(1)}}, .remove = {"clearance"}});
  EXPECT_EQ(both.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(both.status().message(), HasSubstr("'clearance' is both set and removed"));
  auto bad = dir_->UpdateAttributes(admin_, PrincipalId::User("alice"),
                                    {.set = {{"has", AttributeValue::Bool(true)}}});
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(dir_->Get(PrincipalId::User("alice"))->attributes, updated->attributes);
  auto nobody = dir_->UpdateAttributes(admin_, PrincipalId::User("bob"), {});
  EXPECT_EQ(nobody.status().code(), StatusCode::kNotFound);
}

TEST_F(DirectoryTest, NestedGroupsAndMembership) {
  MustCreatePrincipal(PrincipalId::User("alice"));
  MustCreatePrincipal(PrincipalId::Group("analysts"));
  MustCreatePrincipal(PrincipalId::Group("risk"));
  MustCreatePrincipal(PrincipalId::Group("all-staff"));
  ASSERT_TRUE(
      dir_->AddMember(admin_, PrincipalId::Group("analysts"), PrincipalId::User("alice")).ok());
  ASSERT_TRUE(
      dir_->AddMember(admin_, PrincipalId::Group("risk"), PrincipalId::Group("analysts")).ok());
  ASSERT_TRUE(
      dir_->AddMember(admin_, PrincipalId::Group("all-staff"), PrincipalId::Group("risk")).ok());

  EXPECT_THAT(*dir_->Ancestors(PrincipalId::User("alice")),
              ElementsAre(PrincipalId::Group("all-staff"), PrincipalId::Group("analysts"),
                          PrincipalId::Group("risk")));
  EXPECT_THAT(*dir_->Members(PrincipalId::Group("risk")),
              ElementsAre(PrincipalId::Group("analysts")));
  EXPECT_THAT(dir_->Get(PrincipalId::User("alice"))->parents,
              ElementsAre(PrincipalId::Group("analysts")));

  auto twice = dir_->AddMember(admin_, PrincipalId::Group("analysts"), PrincipalId::User("alice"));
  EXPECT_EQ(twice.code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(twice.message(), "User::\"alice\" is already a member of Group::\"analysts\"");
  auto not_group = dir_->AddMember(admin_, PrincipalId::User("alice"), PrincipalId::Group("risk"));
  EXPECT_EQ(not_group.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(not_group.message(), HasSubstr("User::\"alice\" is not a group"));
  auto no_group = dir_->AddMember(admin_, PrincipalId::Group("ghosts"), PrincipalId::User("alice"));
  EXPECT_EQ(no_group.code(), StatusCode::kNotFound);
  auto no_member = dir_->AddMember(admin_, PrincipalId::Group("risk"), PrincipalId::User("zed"));
  EXPECT_EQ(no_member.code(), StatusCode::kNotFound);

  auto removed = dir_->RemoveMember(admin_, PrincipalId::Group("risk"), PrincipalId::User("alice"));
  EXPECT_EQ(removed.code(), StatusCode::kNotFound);
  EXPECT_EQ(removed.message(), "User::\"alice\" is not a direct member of Group::\"risk\"");
  ASSERT_TRUE(
      dir_->RemoveMember(admin_, PrincipalId::Group("analysts"), PrincipalId::User("alice")).ok());
  EXPECT_TRUE(dir_->Ancestors(PrincipalId::User("alice"))->empty());
}

TEST_F(DirectoryTest, RefusesMembershipCycles) {
  for (const char* g : {"a", "b", "c"}) MustCreatePrincipal(PrincipalId::Group(g));
  ASSERT_TRUE(dir_->AddMember(admin_, PrincipalId::Group("a"), PrincipalId::Group("b")).ok());
  ASSERT_TRUE(dir_->AddMember(admin_, PrincipalId::Group("b"), PrincipalId::Group("c")).ok());
  const uint64_t events = log_->size();

  auto cycle = dir_->AddMember(admin_, PrincipalId::Group("c"), PrincipalId::Group("a"));
  EXPECT_EQ(cycle.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(cycle.message(),
            "membership cycle: Group::\"c\" is already inside Group::\"a\" (Group::\"c\" in "
            "Group::\"b\" in Group::\"a\"), so Group::\"a\" cannot also be a member of "
            "Group::\"c\"");
  auto direct = dir_->AddMember(admin_, PrincipalId::Group("b"), PrincipalId::Group("a"));
  EXPECT_EQ(direct.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(direct.message(), HasSubstr("(Group::\"b\" in Group::\"a\")"));
  auto self = dir_->AddMember(admin_, PrincipalId::Group("a"), PrincipalId::Group("a"));
  EXPECT_EQ(self.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(self.message(), "membership cycle: Group::\"a\" cannot be a member of itself");
  EXPECT_EQ(log_->size(), events);  // refused changes write nothing, record nothing
  EXPECT_TRUE(dir_->Get(PrincipalId::Group("a"))->parents.empty());
}

TEST_F(DirectoryTest, ConcurrentOppositeMembershipsNeverFormACycle) {
  for (int round = 0; round < 10; ++round) {
    const PrincipalId x = PrincipalId::Group("x" + std::to_string(round));
    const PrincipalId y = PrincipalId::Group("y" + std::to_string(round));
    MustCreatePrincipal(x);
    MustCreatePrincipal(y);
    Status s1, s2;
    std::thread t1([&] { s1 = dir_->AddMember(admin_, x, y); });
    std::thread t2([&] { s2 = dir_->AddMember(admin_, y, x); });
    t1.join();
    t2.join();
    EXPECT_NE(s1.ok(), s2.ok()) << s1.ToString() << " / " << s2.ToString();
    const Status& failed = s1.ok() ? s2 : s1;
    EXPECT_EQ(failed.code(), StatusCode::kFailedPrecondition);
  }
}

TEST_F(DirectoryTest, DeletingAGroupDetachesItsMembers) {
  MustCreatePrincipal(PrincipalId::User("alice"));
  MustCreatePrincipal(PrincipalId::Group("risk"));
  MustCreatePrincipal(PrincipalId::Group("ops"));
  ASSERT_TRUE(dir_->AddMember(admin_, PrincipalId::Group("risk"), PrincipalId::User("alice")).ok());
  ASSERT_TRUE(dir_->AddMember(admin_, PrincipalId::Group("ops"), PrincipalId::User("alice")).ok());
  ASSERT_TRUE(dir_->Delete(admin_, PrincipalId::Group("risk")).ok());
  EXPECT_EQ(dir_->Get(PrincipalId::Group("risk")).status().code(), StatusCode::kNotFound);
  EXPECT_THAT(dir_->Get(PrincipalId::User("alice"))->parents,
              ElementsAre(PrincipalId::Group("ops")));
  EXPECT_EQ(dir_->Delete(admin_, PrincipalId::Group("risk")).code(), StatusCode::kNotFound);
  auto events = Events();
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().action, "identity.principal.delete");
  EXPECT_EQ(events.back().outcome_detail, "members detached: 1");
}

TEST_F(DirectoryTest, DisabledAndDeletedPrincipalsAreNotActive) {
  MustCreatePrincipal(PrincipalId::User("alice"));
  EXPECT_TRUE(dir_->CheckActive(PrincipalId::User("alice")).ok());
  const uint64_t generation = dir_->generation();
  ASSERT_TRUE(dir_->SetDisabled(admin_, PrincipalId::User("alice"), true).ok());
  EXPECT_GT(dir_->generation(), generation);
  EXPECT_TRUE(dir_->Get(PrincipalId::User("alice"))->disabled);
  Status inactive = dir_->CheckActive(PrincipalId::User("alice"));
  EXPECT_EQ(inactive.code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(inactive.message(),
            "principal User::\"alice\" is disabled; an administrator must enable it");
  // Disabling twice changes nothing and records nothing.
  const uint64_t events = log_->size();
  ASSERT_TRUE(dir_->SetDisabled(admin_, PrincipalId::User("alice"), true).ok());
  EXPECT_EQ(log_->size(), events);
  ASSERT_TRUE(dir_->SetDisabled(admin_, PrincipalId::User("alice"), false).ok());
  EXPECT_TRUE(dir_->CheckActive(PrincipalId::User("alice")).ok());
  ASSERT_TRUE(dir_->Delete(admin_, PrincipalId::User("alice")).ok());
  EXPECT_EQ(dir_->CheckActive(PrincipalId::User("alice")).message(),
            "principal User::\"alice\" no longer exists");
}

TEST_F(DirectoryTest, CedarPoliciesSeeNestedGroupsAndAttributes) {
  MustCreatePrincipal(PrincipalId::User("alice"),
                      {{"clearance", AttributeValue::Long(3)},
                       {"department", AttributeValue::String("fraud")},
                       {"regions", AttributeValue::StringSet({"eu", "uk"})}});
  MustCreatePrincipal(PrincipalId::User("bob"), {{"clearance", AttributeValue::Long(2)}});
  MustCreatePrincipal(PrincipalId::User("carol"), {{"clearance", AttributeValue::Long(5)}});
  MustCreatePrincipal(PrincipalId::ServiceAccount("fraud-scorer"),
                      {{"clearance", AttributeValue::Long(4)}});
  MustCreatePrincipal(PrincipalId::Group("analysts"));
  MustCreatePrincipal(PrincipalId::Group("risk"));
  ASSERT_TRUE(
      dir_->AddMember(admin_, PrincipalId::Group("risk"), PrincipalId::Group("analysts")).ok());
  ASSERT_TRUE(
      dir_->AddMember(admin_, PrincipalId::Group("analysts"), PrincipalId::User("alice")).ok());
  ASSERT_TRUE(dir_->AddMember(admin_, PrincipalId::Group("risk"), PrincipalId::User("bob")).ok());
  ASSERT_TRUE(dir_->AddMember(admin_, PrincipalId::Group("analysts"),
                              PrincipalId::ServiceAccount("fraud-scorer"))
                  .ok());

  auto policies = policy::ParsePolicies(
      "permit(principal in Group::\"risk\", action, resource) when { principal.clearance >= 3 };\n"
      "permit(principal, action == Action::\"export\", resource) when {\n"
      "  principal has department && principal.department == \"fraud\" &&\n"
      "  principal.regions.contains(\"eu\") };\n"
      "forbid(principal == ServiceAccount::\"fraud-scorer\", action == Action::\"export\", "
      "resource);\n");
  ASSERT_TRUE(policies.ok()) << policies.status().ToString();
  auto set = policy::PolicySet::Create(std::move(*policies), 1);
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  auto entities = dir_->BuildEntityStore();
  ASSERT_TRUE(entities.ok()) << entities.status().ToString();
  EXPECT_EQ(entities->size(), 6u);

  auto decide = [&](const PrincipalId& who, const char* action) {
    policy::Request request;
    request.principal = who.ToEntityUid();
    request.action = policy::EntityUid("Action", action);
    request.resource = policy::EntityUid("FeatureView", "transactions");
    policy::Response r = set->IsAuthorized(request, *entities);
    EXPECT_TRUE(r.errors.empty()) << who.ToString() << " " << action;
    return r.decision;
  };
  // alice: in risk through analysts, clearance 3.
  EXPECT_EQ(decide(PrincipalId::User("alice"), "read"), policy::Decision::kAllow);
  // bob: directly in risk, clearance 2.
  EXPECT_EQ(decide(PrincipalId::User("bob"), "read"), policy::Decision::kDeny);
  // carol: clearance 5, but in no group.
  EXPECT_EQ(decide(PrincipalId::User("carol"), "read"), policy::Decision::kDeny);
  EXPECT_EQ(decide(PrincipalId::ServiceAccount("fraud-scorer"), "read"), policy::Decision::kAllow);
  // String and set attributes.
  EXPECT_EQ(decide(PrincipalId::User("alice"), "export"), policy::Decision::kAllow);
  EXPECT_EQ(decide(PrincipalId::User("bob"), "export"), policy::Decision::kDeny);

  // Removing alice's membership takes effect in the next export.
  ASSERT_TRUE(
      dir_->RemoveMember(admin_, PrincipalId::Group("analysts"), PrincipalId::User("alice")).ok());
  entities = dir_->BuildEntityStore();
  EXPECT_EQ(decide(PrincipalId::User("alice"), "read"), policy::Decision::kDeny);
}

TEST_F(DirectoryTest, EntityCacheFollowsCommittedChanges) {
  MustCreatePrincipal(PrincipalId::User("alice"), {{"clearance", AttributeValue::Long(1)}});
  auto first = dir_->Entities();
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->get(), dir_->Entities()->get());  // no change: the same list
  ASSERT_EQ((*first)->size(), 1u);
  EXPECT_EQ((*first)->at(0).uid, policy::EntityUid("User", "alice"));

  // A refused change keeps the cache.
  EXPECT_FALSE(dir_->Create(admin_, {PrincipalId::User("alice"), "", {}}).ok());
  EXPECT_EQ(first->get(), dir_->Entities()->get());

  ASSERT_TRUE(dir_->UpdateAttributes(admin_, PrincipalId::User("alice"),
                                     {.set = {{"clearance", AttributeValue::Long(4)}}})
                  .ok());
  auto second = dir_->Entities();
  ASSERT_TRUE(second.ok());
  EXPECT_NE(first->get(), second->get());
  const policy::Value* clearance = (*second)->at(0).attrs.AsRecord().Find("clearance");
  ASSERT_NE(clearance, nullptr);
  EXPECT_EQ(clearance->AsLong(), 4);
  // The list handed out before is unchanged (callers may still be using it).
  EXPECT_EQ((*first)->at(0).attrs.AsRecord().Find("clearance")->AsLong(), 1);
}

TEST_F(DirectoryTest, AuditsEveryChange) {
  MustCreatePrincipal(PrincipalId::User("alice"),
                      {{"clearance", AttributeValue::Long(3)},
                       {"department", AttributeValue::String("Secretive")}});
  MustCreatePrincipal(PrincipalId::Group("risk"));
  clock_.Advance(std::chrono::seconds(5));
  ASSERT_TRUE(dir_->UpdateAttributes(admin_, PrincipalId::User("alice"),
                                     {.set = {{"clearance", AttributeValue::Long(4)}}})
                  .ok());
  ASSERT_TRUE(dir_->AddMember(admin_, PrincipalId::Group("risk"), PrincipalId::User("alice")).ok());
  ASSERT_TRUE(
      dir_->RemoveMember(admin_, PrincipalId::Group("risk"), PrincipalId::User("alice")).ok());
  ASSERT_TRUE(dir_->SetDisabled(admin_, PrincipalId::User("alice"), true).ok());
  ASSERT_TRUE(dir_->SetDisabled(admin_, PrincipalId::User("alice"), false).ok());
  ASSERT_TRUE(dir_->Delete(admin_, PrincipalId::User("alice")).ok());

  auto events = Events();
  ASSERT_EQ(events.size(), 8u);
  const char* const kActions[] = {"identity.principal.create",    "identity.principal.create",
                                  "identity.principal.update",    "identity.group.add_member",
                                  "identity.group.remove_member", "identity.principal.disable",
                                  "identity.principal.enable",    "identity.principal.delete"};
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].action, kActions[i]) << i;
    EXPECT_EQ(events[i].principal_id, "User::\"root\"") << i;
    EXPECT_EQ(events[i].request_id, "req-admin") << i;
    EXPECT_EQ(events[i].outcome, audit::Outcome::kOk) << i;
    EXPECT_EQ(events[i].decision, audit::Decision::kAllow) << i;
  }
  EXPECT_EQ(events[0].time, common::FromUnixSeconds(1'800'000'000));
  EXPECT_EQ(events[2].time, common::FromUnixSeconds(1'800'000'005));
  EXPECT_THAT(events[0].resources, ElementsAre(audit::ResourceRef{"User", "alice", 0}));
  // Attribute names, never their values.
  EXPECT_EQ(events[0].outcome_detail, "attributes: clearance,department");
  EXPECT_EQ(events[2].outcome_detail, "set clearance");
  EXPECT_THAT(events[3].resources, ElementsAre(audit::ResourceRef{"Group", "risk", 0},
                                               audit::ResourceRef{"User", "alice", 0}));
}

TEST_F(DirectoryTest, FailsClosedWhenTheAuditLogRefuses) {
  MustCreatePrincipal(PrincipalId::User("alice"));
  log_->Close();
  auto created = dir_->Create(admin_, {PrincipalId::User("bob"), "", {}});
  EXPECT_EQ(created.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(created.status().message(),
              HasSubstr("audit: cannot record 'identity.principal.create'"));
  EXPECT_EQ(dir_->Get(PrincipalId::User("bob")).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(dir_->SetDisabled(admin_, PrincipalId::User("alice"), true).code(),
            StatusCode::kUnavailable);
  EXPECT_FALSE(dir_->Get(PrincipalId::User("alice"))->disabled);
  EXPECT_EQ(dir_->Delete(admin_, PrincipalId::User("alice")).code(), StatusCode::kUnavailable);
  EXPECT_TRUE(dir_->Get(PrincipalId::User("alice")).ok());
}

TEST_F(DirectoryTest, AttributeValuesAreNotStoredInClear) {
  MustCreatePrincipal(PrincipalId::User("alice"),
                      {{"department", AttributeValue::String("PlaintextCanaryDept")}});
  dir_.reset();
  auditor_.reset();
  log_.reset();
  data_.dir.reset();  // flushes and closes RocksDB
  size_t files = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(tmp_.Sub("d"))) {
    if (!entry.is_regular_file()) continue;
    ++files;
    std::ifstream in(entry.path(), std::ios::binary);
    std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(content.find("PlaintextCanaryDept"), std::string::npos) << entry.path();
  }
  EXPECT_GT(files, 3u);
}

}  // namespace
}  // namespace custos::identity
