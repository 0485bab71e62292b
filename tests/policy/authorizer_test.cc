// Authorizer, entity JSON and policy store tests: forbid overrides permit, errors are
// reported and skipped, action groups reach indexed policies, schema-guided JSON, bad
// input, versioning and keep-previous-on-error.
#include "policy/authorizer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "policy/entities.h"
#include "policy/parser.h"
#include "policy/policy_store.h"
#include "policy/schema.h"

namespace custos::policy {
namespace {

std::vector<std::string> Ids(const std::vector<std::string_view>& v) {
  std::vector<std::string> out(v.begin(), v.end());
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> ErrorIds(const Response& r) {
  std::vector<std::string> out;
  for (const auto& e : r.errors) out.emplace_back(e.policy_id);
  std::sort(out.begin(), out.end());
  return out;
}

class AuthorizerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto es = ParseEntitiesJson(R"([
      {"uid": {"type": "User", "id": "alice"}, "attrs": {"clearance": 3},
       "parents": [{"type": "Group", "id": "analysts"}]},
      {"uid": {"type": "Group", "id": "analysts"}, "attrs": {}, "parents": []},
      {"uid": {"type": "Action", "id": "read"}, "attrs": {},
       "parents": [{"type": "Action", "id": "readOnly"}]},
      {"uid": {"type": "Feature", "id": "f1"}, "attrs": {"classification": 2}, "parents": []}
    ])");
    ASSERT_TRUE(es.ok()) << es.status().ToString();
    entities_ = std::move(es).value();
    req_.principal = EntityUid("User", "alice");
    req_.action = EntityUid("Action", "read");
    req_.resource = EntityUid("Feature", "f1");
  }

  Response Decide(const std::string& text) {
    auto policies = ParsePolicies(text);
    EXPECT_TRUE(policies.ok()) << policies.status().ToString();
    auto set = PolicySet::Create(std::move(policies).value(), 7);
    EXPECT_TRUE(set.ok());
    set_ = std::make_unique<PolicySet>(std::move(set).value());
    return set_->IsAuthorized(req_, entities_);
  }

  EntityStore entities_;
  Request req_;
  std::unique_ptr<PolicySet> set_;
};

TEST_F(AuthorizerTest, DefaultDeny) {
  Response r = Decide("permit(principal == User::\"bob\", action, resource);");
  EXPECT_EQ(r.decision, Decision::kDeny);
  EXPECT_TRUE(r.reasons.empty());
  EXPECT_TRUE(r.errors.empty());
  EXPECT_EQ(r.policy_set_version, 7u);
}

TEST_F(AuthorizerTest, ForbidOverridesPermit) {
  Response r = Decide(
      "permit(principal in Group::\"analysts\", action in Action::\"readOnly\", resource);\n"
      "permit(principal, action, resource) when { principal.clearance >= resource.classification "
      "};\n"
      "forbid(principal, action, resource) when { resource.classification > 1 };\n");
  EXPECT_EQ(r.decision, Decision::kDeny);
  EXPECT_EQ(Ids(r.reasons), (std::vector<std::string>{"policy2"}));
}

TEST_F(AuthorizerTest, PermitReasonsThroughActionGroups) {
  Response r = Decide(
      "permit(principal in Group::\"analysts\", action in Action::\"readOnly\", resource);\n"
      "permit(principal, action in [Action::\"write\", Action::\"readOnly\", Action::\"read\"], "
      "resource);\n"
      "permit(principal, action == Action::\"write\", resource);\n");
  EXPECT_EQ(r.decision, Decision::kAllow);
  EXPECT_EQ(Ids(r.reasons), (std::vector<std::string>{"policy0", "policy1"}));
}

TEST_F(AuthorizerTest, ErroringPoliciesAreSkippedAndReported) {
  Response r = Decide(
      "permit(principal, action, resource) when { principal.missing == 1 };\n"
      "forbid(principal, action, resource) when { 9223372036854775807 + principal.clearance > 0 "
      "};\n"
      "permit(principal, action, resource) when { true };\n");
  EXPECT_EQ(r.decision, Decision::kAllow);
  EXPECT_EQ(Ids(r.reasons), (std::vector<std::string>{"policy2"}));
  EXPECT_EQ(ErrorIds(r), (std::vector<std::string>{"policy0", "policy1"}));
  EXPECT_NE(r.errors[0].message.find("policy `policy"), std::string::npos);
}

TEST_F(AuthorizerTest, TemplatesAreLinkedNotEvaluated) {
  auto policies = ParsePolicies("permit(principal == ?principal, action, resource);");
  ASSERT_TRUE(policies.ok());
  auto set = PolicySet::Create(std::move(policies).value(), 1);
  ASSERT_TRUE(set.ok());
  EXPECT_EQ(set->IsAuthorized(req_, entities_).decision, Decision::kDeny);
  EntityUid alice("User", "alice");
  auto linked = set->WithLink("policy0", "grant-1", &alice, nullptr, 2);
  ASSERT_TRUE(linked.ok()) << linked.status().ToString();
  Response r = linked->IsAuthorized(req_, entities_);
  EXPECT_EQ(r.decision, Decision::kAllow);
  EXPECT_EQ(Ids(r.reasons), (std::vector<std::string>{"grant-1"}));
  EXPECT_EQ(r.policy_set_version, 2u);
  EXPECT_FALSE(set->WithLink("nope", "x", &alice, nullptr, 3).ok());
}

TEST(EntitiesJsonTest, SchemaGuidedValues) {
  auto schema = Schema::ParseCedarSchema(
      "entity User { ip: ipaddr, boss: User, limits: Set<decimal> };\n"
      "action view appliesTo { principal: User, resource: User, context: { at: datetime } };",
      "s.cedarschema");
  ASSERT_TRUE(schema.ok()) << schema.status().ToString();
  auto es = ParseEntitiesJson(R"([{"uid": {"type": "User", "id": "a"},
      "attrs": {"ip": "10.0.0.1", "boss": {"type": "User", "id": "b"}, "limits": ["1.5"]},
      "parents": []}])",
                              &*schema);
  ASSERT_TRUE(es.ok()) << es.status().ToString();
  const Entity* a = es->Find(EntityUid("User", "a"));
  ASSERT_NE(a, nullptr);
  EXPECT_TRUE(a->attrs.AsRecord().Find("ip")->is(ValueKind::kIpAddr));
  EXPECT_TRUE(a->attrs.AsRecord().Find("boss")->is(ValueKind::kEntity));
  EXPECT_TRUE(a->attrs.AsRecord().Find("limits")->AsSet().elements[0].is(ValueKind::kDecimal));
  // The schema's action is added to the store.
  EXPECT_NE(es->Find(EntityUid("Action", "view")), nullptr);
  EntityUid view("Action", "view");
  auto ctx = ParseContextJson(R"({"at": "2024-01-01"})", &*schema, &view);
  ASSERT_TRUE(ctx.ok()) << ctx.status().ToString();
  EXPECT_TRUE(ctx->AsRecord().Find("at")->is(ValueKind::kDatetime));
}

TEST(EntitiesJsonTest, EscapesAndBadInput) {
  auto v = ParseValueJson(
      R"({"e": {"__entity": {"type": "A", "id": "1"}},
          "x": {"__extn": {"fn": "offset", "args": [{"__extn": {"fn": "datetime", "arg": "1970-01-01"}},
                                                    {"__extn": {"fn": "duration", "arg": "1s"}}]}},
          "big": 9007199254740993})");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->AsRecord().Find("x")->AsDatetime().ms, 1000);
  EXPECT_EQ(v->AsRecord().Find("big")->AsLong(), 9007199254740993);
  EXPECT_FALSE(ParseEntitiesJson("[{\"uid\": 5}]").ok());
  EXPECT_FALSE(ParseEntitiesJson("{not json").ok());
  EXPECT_FALSE(
      ParseEntitiesJson("[{\"uid\": {\"type\": \"A\", \"id\": \"1\"}, \"attrs\": {\"f\": 1.5}}]")
          .ok());
  EXPECT_FALSE(ParseValueJson("{\"__extn\": {\"fn\": \"ip\", \"arg\": \"300.0.0.1\"}}").ok());
  auto dup = ParseEntitiesJson(
      R"([{"uid": {"type": "A", "id": "1"}}, {"uid": {"type": "A", "id": "1"}}])");
  EXPECT_FALSE(dup.ok());
  std::string deep(10000, '[');
  EXPECT_FALSE(ParseValueJson(deep + std::string(10000, ']')).ok());
}

TEST(EntitiesJsonTest, AncestorsAreTransitiveAndCycleSafe) {
  auto es = ParseEntitiesJson(R"([
    {"uid": {"type": "G", "id": "a"}, "parents": [{"type": "G", "id": "b"}]},
    {"uid": {"type": "G", "id": "b"}, "parents": [{"type": "G", "id": "c"}]},
    {"uid": {"type": "G", "id": "c"}, "parents": [{"type": "G", "id": "a"}, {"type": "G", "id": "ghost"}]}
  ])");
  ASSERT_TRUE(es.ok());
  const Entity* a = es->Find(EntityUid("G", "a"));
  EXPECT_TRUE(a->IsDescendantOf(EntityUid("G", "c")));
  EXPECT_TRUE(a->IsDescendantOf(EntityUid("G", "ghost")));
  EXPECT_TRUE(a->IsDescendantOf(EntityUid("G", "a")));  // through the cycle
  EXPECT_EQ(a->ancestors.size(), 4u);
}

class PolicyStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("policy_store_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void Write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
  }
  std::filesystem::path dir_;
};

TEST_F(PolicyStoreTest, VersionsAndKeepPreviousOnError) {
  PolicyStore store;
  EXPECT_EQ(store.version(), 0u);
  Write("a.cedar",
        "permit(principal, action, resource);\n@id(\"deny-all\")\nforbid(principal, "
        "action, resource) when { context.off };");
  auto v1 = store.LoadDirectory(dir_);
  ASSERT_TRUE(v1.ok()) << v1.status().ToString();
  EXPECT_EQ(*v1, 1u);
  EntityStore es;
  Request req;
  req.principal = EntityUid("User", "u");
  req.action = EntityUid("Action", "read");
  req.resource = EntityUid("Doc", "d");
  req.context = Value::Record({{"off", Value(false)}});
  StoreDecision d = store.IsAuthorized(req, es);
  EXPECT_EQ(d.response.decision, Decision::kAllow);
  EXPECT_EQ(d.version(), 1u);
  EXPECT_EQ(Ids(d.response.reasons), (std::vector<std::string>{"a/policy0"}));

  Write("b.cedar", "permit(principal, action, resource) when { 1 + };");
  auto bad = store.LoadDirectory(dir_);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("b.cedar:1:48: expected an expression"), std::string::npos)
      << bad.status().message();
  EXPECT_EQ(store.version(), 1u);  // unchanged

  Write("b.cedar", "@id(\"deny-all\") forbid(principal, action, resource);");
  auto dup = store.LoadDirectory(dir_);
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.status().message().find("duplicate policy id `deny-all`"), std::string::npos);
  EXPECT_EQ(store.version(), 1u);

  Write("b.cedar", "permit(principal == ?principal, action, resource);");
  auto v2 = store.LoadDirectory(dir_);
  ASSERT_TRUE(v2.ok()) << v2.status().ToString();
  EXPECT_EQ(*v2, 2u);
  auto v3 = store.LinkTemplate("b/policy0", "grant", EntityUid("User", "u"), std::nullopt);
  ASSERT_TRUE(v3.ok()) << v3.status().ToString();
  EXPECT_EQ(*v3, 3u);
  req.context = Value::Record({{"off", Value(true)}});
  d = store.IsAuthorized(req, es);
  EXPECT_EQ(d.response.decision, Decision::kDeny);
  EXPECT_EQ(Ids(d.response.reasons), (std::vector<std::string>{"deny-all"}));
  EXPECT_EQ(d.version(), 3u);
  // Reloading keeps the link.
  auto v4 = store.LoadDirectory(dir_);
  ASSERT_TRUE(v4.ok());
  EXPECT_NE(store.Current()->Find("grant"), nullptr);
}

TEST_F(PolicyStoreTest, ReadersSeeWholeVersionsDuringReloads) {
  PolicyStore store;
  ASSERT_TRUE(store.LoadSources({{"a.cedar", "permit(principal, action, resource);"}}).ok());
  EntityStore es;
  Request req;
  req.principal = EntityUid("User", "u");
  req.action = EntityUid("Action", "read");
  req.resource = EntityUid("Doc", "d");
  std::atomic<bool> stop{false};
  std::atomic<int> bad{0};
  std::thread reader([&] {
    while (!stop.load()) {
      StoreDecision d = store.IsAuthorized(req, es);
      // Odd versions permit, even versions forbid: the answer must match its version.
      bool allow = d.response.decision == Decision::kAllow;
      if (allow != (d.version() % 2 == 1)) bad.fetch_add(1);
    }
  });
  for (int i = 0; i < 50; ++i) {
    const char* text = i % 2 == 0 ? "forbid(principal, action, resource);"
                                  : "permit(principal, action, resource);";
    ASSERT_TRUE(store.LoadSources({{"a.cedar", text}}).ok());
  }
  stop.store(true);
  reader.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(store.version(), 51u);
}

}  // namespace
}  // namespace custos::policy
