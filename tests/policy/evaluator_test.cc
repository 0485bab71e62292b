// Evaluator tests: Cedar semantics of operators, errors (type, overflow, missing
// attributes and entities), short-circuiting, `in` over the ancestor relation, `like`.
#include "policy/evaluator.h"

#include <gtest/gtest.h>

#include "policy/entities.h"
#include "policy_test_util.h"

namespace custos::policy {
namespace {

using testing::Eval;
using testing::EvalBool;
using testing::EvalErrors;

EntityStore SampleEntities() {
  auto store = ParseEntitiesJson(R"([
    {"uid": {"type": "User", "id": "alice"},
     "attrs": {"age": 30, "tags": ["a", "b"], "mgr": {"__entity": {"type": "User", "id": "bob"}},
               "rec": {"x": {"y": 1}}},
     "parents": [{"type": "Group", "id": "eng"}],
     "tags": {"level": "high"}},
    {"uid": {"type": "Group", "id": "eng"}, "attrs": {},
     "parents": [{"type": "Group", "id": "all"}]},
    {"uid": {"type": "Group", "id": "all"}, "attrs": {}, "parents": []}
  ])");
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return std::move(store).value();
}

TEST(EvaluatorTest, Arithmetic) {
  EXPECT_EQ(Eval("1 + 2 * 3")->AsLong(), 7);
  EXPECT_EQ(Eval("-(3 - 5)")->AsLong(), 2);
  EXPECT_EQ(Eval("9223372036854775807 - 1")->AsLong(), INT64_MAX - 1);
  EXPECT_TRUE(EvalErrors("9223372036854775807 + 1"));
  EXPECT_TRUE(EvalErrors("-9223372036854775808 - 1"));
  EXPECT_TRUE(EvalErrors("4611686018427387904 * 2"));
  EXPECT_TRUE(EvalErrors("-(-9223372036854775808)"));
  EXPECT_TRUE(EvalErrors("--9223372036854775808"));
  EXPECT_TRUE(EvalErrors("1 + true"));
  EXPECT_TRUE(EvalErrors("\"a\" + \"b\""));
}

TEST(EvaluatorTest, ComparisonAndEquality) {
  EXPECT_TRUE(EvalBool("1 < 2 && 2 <= 2 && 3 > 2 && 3 >= 3"));
  EXPECT_FALSE(EvalBool("1 == \"1\""));  // different types: false, not an error
  EXPECT_TRUE(EvalBool("[1, 2, 2] == [2, 1]"));
  EXPECT_TRUE(EvalBool("{a: 1, b: [true]} == {b: [true], a: 1}"));
  EXPECT_TRUE(EvalBool("User::\"a\" != User::\"b\""));
  EXPECT_TRUE(EvalErrors("\"a\" < \"b\""));
  EXPECT_TRUE(EvalErrors("decimal(\"1.0\") < decimal(\"2.0\")"));
  EXPECT_TRUE(EvalBool("datetime(\"2024-01-01\") < datetime(\"2024-01-02\")"));
  EXPECT_TRUE(EvalBool("duration(\"1h\") > duration(\"59m\")"));
  EXPECT_TRUE(EvalErrors("duration(\"1h\") > datetime(\"2024-01-01\")"));
}

TEST(EvaluatorTest, ShortCircuitAndBooleanTypes) {
  EXPECT_FALSE(EvalBool("false && (1 + true)"));
  EXPECT_TRUE(EvalBool("true || (1 + true)"));
  EXPECT_TRUE(EvalErrors("true && 1"));
  EXPECT_TRUE(EvalErrors("1 && true"));
  EXPECT_TRUE(EvalErrors("!1"));
  EXPECT_EQ(Eval("if true then 1 else 1 + true")->AsLong(), 1);
  EXPECT_TRUE(EvalErrors("if 1 then 1 else 2"));
}

TEST(EvaluatorTest, AttributesAndEntities) {
  EntityStore es = SampleEntities();
  EXPECT_EQ(Eval("principal.age", es)->AsLong(), 30);
  EXPECT_EQ(Eval("principal[\"age\"]", es)->AsLong(), 30);
  EXPECT_EQ(Eval("principal.rec.x.y", es)->AsLong(), 1);
  EXPECT_TRUE(EvalBool("principal has age", es));
  EXPECT_FALSE(EvalBool("principal has nope", es));
  EXPECT_TRUE(EvalErrors("principal.nope", es));
  // An entity that is not in the store: attribute access errors, `has` is false.
  EXPECT_TRUE(EvalErrors("principal.mgr.age", es));
  EXPECT_FALSE(EvalBool("principal.mgr has age", es));
  EXPECT_TRUE(EvalErrors("1 has a", es));
  EXPECT_FALSE(EvalBool("context has a.b", es));
  EXPECT_TRUE(EvalBool("principal has rec.x.y", es));
  EXPECT_FALSE(EvalBool("principal has rec.x.z", es));
}

TEST(EvaluatorTest, InUsesTransitiveAncestors) {
  EntityStore es = SampleEntities();
  EXPECT_TRUE(EvalBool("principal in Group::\"eng\"", es));
  EXPECT_TRUE(EvalBool("principal in Group::\"all\"", es));
  EXPECT_TRUE(EvalBool("principal in principal", es));
  EXPECT_FALSE(EvalBool("principal in Group::\"other\"", es));
  EXPECT_TRUE(EvalBool("principal in [Group::\"x\", Group::\"all\"]", es));
  EXPECT_TRUE(EvalBool("User::\"ghost\" in User::\"ghost\"", es));  // not in the store
  EXPECT_FALSE(EvalBool("User::\"ghost\" in Group::\"all\"", es));
  EXPECT_TRUE(EvalErrors("principal in [Group::\"all\", 1]", es));
  EXPECT_TRUE(EvalErrors("1 in Group::\"all\"", es));
  EXPECT_TRUE(EvalErrors("principal in 1", es));
  EXPECT_TRUE(EvalBool("principal is User in Group::\"all\"", es));
  EXPECT_FALSE(EvalBool("principal is Group in 1", es));  // `is` false: `in` not evaluated
}

TEST(EvaluatorTest, SetsTagsAndLike) {
  EntityStore es = SampleEntities();
  EXPECT_TRUE(EvalBool("principal.tags.contains(\"a\")", es));
  EXPECT_TRUE(EvalBool("[1, 2, 3].containsAll([1, 3])", es));
  EXPECT_FALSE(EvalBool("[1, 2, 3].containsAny([4])", es));
  EXPECT_TRUE(EvalBool("[].isEmpty()", es));
  EXPECT_TRUE(EvalErrors("1.contains(1)", es));
  EXPECT_TRUE(EvalErrors("[1].containsAll(1)", es));
  EXPECT_TRUE(EvalBool("principal.hasTag(\"level\")", es));
  EXPECT_EQ(Eval("principal.getTag(\"level\")", es)->AsString(), "high");
  EXPECT_TRUE(EvalErrors("principal.getTag(\"nope\")", es));
  EXPECT_FALSE(EvalBool("User::\"ghost\".hasTag(\"x\")", es));
  EXPECT_TRUE(EvalErrors("User::\"ghost\".getTag(\"x\")", es));

  EXPECT_TRUE(EvalBool("\"abcabc\" like \"*bc\""));
  EXPECT_TRUE(EvalBool("\"a*b\" like \"a\\*b\""));
  EXPECT_FALSE(EvalBool("\"axb\" like \"a\\*b\""));
  EXPECT_TRUE(EvalBool("\"\" like \"*\""));
  EXPECT_TRUE(EvalBool("\"caf\\u{e9}!\" like \"caf*!\""));
  EXPECT_FALSE(EvalBool("\"abc\" like \"ab\""));
  EXPECT_TRUE(EvalErrors("1 like \"*\""));
}

TEST(EvaluatorTest, ExtensionCalls) {
  EXPECT_TRUE(EvalBool("ip(\"10.1.2.3\").isInRange(ip(\"10.0.0.0/8\"))"));
  EXPECT_FALSE(EvalBool("ip(\"10.1.2.3\").isInRange(ip(\"::1/128\"))"));
  EXPECT_TRUE(EvalBool("ip(\"127.0.0.1\").isLoopback() && ip(\"::1\").isIpv6()"));
  EXPECT_TRUE(EvalBool("decimal(\"1.5\").lessThan(decimal(\"1.5001\"))"));
  EXPECT_EQ(Eval("duration(\"1d2h\").toHours()")->AsLong(), 26);
  EXPECT_EQ(Eval("datetime(\"2024-10-15T11:38:02Z\").toTime().toSeconds()")->AsLong(),
            11 * 3600 + 38 * 60 + 2);
  EXPECT_TRUE(EvalErrors("ip(\"10.0.0.256\")"));
  EXPECT_TRUE(EvalErrors("decimal(\"1.23456\")"));
  EXPECT_TRUE(EvalErrors("ip(\"1.2.3.4\").isIpv4(1)"));  // wrong arity: evaluation error
  EXPECT_TRUE(EvalErrors("\"1.2.3.4\".isIpv4()"));
  EXPECT_TRUE(
      EvalErrors("datetime(\"1970-01-01\").offset(duration(\"9223372036854775807ms\"))"
                 ".offset(duration(\"1ms\"))"));
}

TEST(EvaluatorTest, PolicyOutcomeAndErrorMessage) {
  EntityStore es;
  auto p = ParsePolicy("permit(principal, action, resource)\nwhen { principal.age > 1 };", "p7",
                       ParseOptions{.filename = "f.cedar"});
  ASSERT_TRUE(p.ok());
  Request req;
  req.principal = EntityUid("User", "x");
  req.action = EntityUid("Action", "a");
  req.resource = EntityUid("R", "r");
  Evaluator ev(es, req);
  std::string error;
  EXPECT_EQ(ev.EvaluatePolicy(*p, &error), Evaluator::Outcome::kError);
  EXPECT_EQ(error,
            "f.cedar:2:18: policy `p7`: entity does not exist: User::\"x\" (reading "
            "attribute `age`)");
  auto q = ParsePolicy("permit(principal, action, resource) unless { false };", "q");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(ev.EvaluatePolicy(*q), Evaluator::Outcome::kTrue);
  auto r = ParsePolicy("permit(principal, action, resource) when { 1 };", "r");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(ev.EvaluatePolicy(*r), Evaluator::Outcome::kError);
}

}  // namespace
}  // namespace custos::policy
