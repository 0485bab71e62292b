// Parser tests: structure of parsed policies, ids, annotations, templates, string escapes,
// and error messages with exact positions.
#include "policy/parser.h"

#include <gtest/gtest.h>

#include <string>

namespace custos::policy {
namespace {

std::string ErrorOf(std::string_view text, const ParseOptions& opts = {}) {
  auto r = ParsePolicies(text, opts);
  EXPECT_FALSE(r.ok()) << text;
  return r.ok() ? "" : r.status().message();
}

TEST(ParserTest, IdsFollowFileOrder) {
  auto r = ParsePolicies(
      "permit(principal, action, resource);\n"
      "@id(\"named\") forbid(principal, action, resource);\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].id, "policy0");
  EXPECT_EQ((*r)[1].id, "policy1");
  EXPECT_EQ((*r)[1].effect, Effect::kForbid);
  EXPECT_EQ((*r)[1].FindAnnotation("id").value(), "named");

  ParseOptions opts;
  opts.use_id_annotation = true;
  auto named = ParsePolicies("@id(\"a\") permit(principal, action, resource);", opts);
  ASSERT_TRUE(named.ok());
  EXPECT_EQ((*named)[0].id, "a");
}

TEST(ParserTest, ScopeForms) {
  auto r = ParsePolicies(
      "permit(principal == NS::User::\"alice\", action in [Action::\"a\", Action::\"b\"],"
      " resource is NS::Photo in NS::Album::\"x\");\n"
      "permit(principal is User, action == NS::Action::\"v\", resource in Folder::\"f\");");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const Policy& p = (*r)[0];
  EXPECT_EQ(p.principal.op, ScopeConstraint::Op::kEq);
  EXPECT_EQ(p.principal.entity.uid, EntityUid("NS::User", "alice"));
  EXPECT_EQ(p.action.op, ScopeConstraint::Op::kInSet);
  EXPECT_EQ(p.action.entities.size(), 2u);
  EXPECT_EQ(p.resource.op, ScopeConstraint::Op::kIsIn);
  EXPECT_EQ(p.resource.entity_type, "NS::Photo");
  EXPECT_EQ(p.resource.entity.uid, EntityUid("NS::Album", "x"));
  const Policy& q = (*r)[1];
  EXPECT_EQ(q.principal.op, ScopeConstraint::Op::kIs);
  EXPECT_EQ(q.action.op, ScopeConstraint::Op::kEq);
  EXPECT_EQ(q.resource.op, ScopeConstraint::Op::kIn);
}

TEST(ParserTest, TemplatesAndLinks) {
  auto r = ParsePolicies("permit(principal == ?principal, action, resource in ?resource);");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE((*r)[0].IsTemplate());
  EntityUid u("User", "bob"), f("Folder", "x");
  auto linked = LinkTemplate((*r)[0], "link1", &u, &f);
  ASSERT_TRUE(linked.ok()) << linked.status().ToString();
  EXPECT_FALSE(linked->IsTemplate());
  EXPECT_EQ(linked->id, "link1");
  EXPECT_EQ(linked->template_id, "policy0");
  EXPECT_EQ(linked->principal.entity.uid, u);
  EXPECT_EQ(linked->resource.entity.uid, f);
  EXPECT_FALSE(LinkTemplate((*r)[0], "link2", &u, nullptr).ok());
}

TEST(ParserTest, StringEscapes) {
  auto r = ParsePolicy(
      R"(permit(principal, action, resource) when { "a\n\t\r\\\"\'\0\u{48}\u{1F600}\x41" };)", "p");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const auto& lit = r->pool.literals.back();
  ASSERT_TRUE(lit.is(ValueKind::kString));
  EXPECT_EQ(lit.AsString(), std::string("a\n\t\r\\\"'\0H\xF0\x9F\x98\x80"
                                        "A",
                                        14));
}

TEST(ParserTest, LikePatternEscapes) {
  auto r = ParsePolicy(R"(permit(principal, action, resource) when { "x" like "a\*b*c" };)", "p");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->pool.patterns.size(), 1u);
  const Pattern& pat = r->pool.patterns[0];
  ASSERT_EQ(pat.size(), 3u);
  EXPECT_EQ(pat[0].literal, "a*b");
  EXPECT_TRUE(pat[1].wildcard);
  EXPECT_EQ(pat[2].literal, "c");
  // `\*` outside a pattern is not a valid escape.
  EXPECT_FALSE(ParsePolicy(R"(permit(principal, action, resource) when { "\*" };)", "p").ok());
}

TEST(ParserTest, ErrorPositions) {
  ParseOptions opts;
  opts.filename = "policy.cedar";
  EXPECT_EQ(ErrorOf("permit(principal, action, resource)\nwhen { 1 + };", opts),
            "policy.cedar:2:12: expected an expression, found `}`");
  EXPECT_EQ(ErrorOf("permit(principal action, resource);", opts),
            "policy.cedar:1:18: expected ',' after the principal constraint, found `action`");
  EXPECT_EQ(ErrorOf("allow(principal, action, resource);", opts),
            "policy.cedar:1:1: expected `permit` or `forbid`, found `allow`");
  EXPECT_EQ(ErrorOf("permit(principal, action, resource)", opts),
            "policy.cedar:1:36: expected `when`, `unless` or ';' to end the policy, found end of "
            "input");
  EXPECT_EQ(ErrorOf("permit(principal, action, resource) when { x };", opts),
            "policy.cedar:1:44: unknown variable `x`; variables are principal, action, resource "
            "and context");
  EXPECT_EQ(ErrorOf("permit(principal, action == User::\"a\", resource);", opts),
            "policy.cedar:1:19: expected an action entity (type `Action`), found `User::\"a\"`");
  EXPECT_EQ(ErrorOf("permit(principal, action, resource) when { 9223372036854775808 };", opts),
            "policy.cedar:1:44: integer literal `9223372036854775808` is out of range");
  EXPECT_EQ(ErrorOf("permit(principal, action, resource) when { 1 / 2 };", opts),
            "policy.cedar:1:46: Cedar has no division or remainder operator");
  EXPECT_EQ(ErrorOf("permit(principal, action, resource) when { \"\\q\" };", opts),
            "policy.cedar:1:44: invalid escape `\\q`");
  EXPECT_EQ(ErrorOf("permit(principal, action, resource) when { {a: 1, a: 2} };", opts),
            "policy.cedar:1:51: duplicate key `a` in record literal");
  EXPECT_EQ(ErrorOf("permit(principal, action, resource) when { 1 < 2 < 3 };", opts),
            "policy.cedar:1:50: comparison operators cannot be chained; add parentheses");
  EXPECT_EQ(ErrorOf("permit(principal, action, resource) when { !!!!!true };", opts),
            "policy.cedar:1:44: too many `!` in a row (at most 4)");
  EXPECT_EQ(
      ErrorOf("permit(principal, action, resource) when { principal.foo() };", opts).substr(0, 50),
      "policy.cedar:1:54: `foo` is not a method; known me");
  EXPECT_EQ(ErrorOf("permit(principal, action, resource) when { principal == ?principal };", opts),
            "policy.cedar:1:57: template slots are only allowed in the policy scope");
}

TEST(ParserTest, NegativeLiteralsAndMinimumLong) {
  auto r = ParsePolicy("permit(principal, action, resource) when { -9223372036854775808 };", "p");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->pool.literals.back().AsLong(), INT64_MIN);
}

TEST(ParserTest, DeepNestingIsAnErrorNotACrash) {
  std::string deep(100000, '(');
  std::string text = "permit(principal, action, resource) when { " + deep + "true";
  auto r = ParsePolicies(text);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("nested too deeply"), std::string::npos);

  std::string chain = "true";
  for (int i = 0; i < 5000; ++i) chain += " && true";
  auto r2 = ParsePolicies("permit(principal, action, resource) when { " + chain + " };");
  ASSERT_FALSE(r2.ok());
  EXPECT_NE(r2.status().message().find("nested too deeply"), std::string::npos);
}

TEST(ParserTest, ConstantFoldingKeepsInvalidExtensionCallsForEvaluation) {
  auto ok = ParsePolicy("permit(principal, action, resource) when { ip(\"10.0.0.1\") };", "p");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->pool.nodes[ok->conditions[0].expr].kind, ExprKind::kLiteral);
  auto bad = ParsePolicy("permit(principal, action, resource) when { ip(\"nope\") };", "p");
  ASSERT_TRUE(bad.ok());
  EXPECT_EQ(bad->pool.nodes[bad->conditions[0].expr].kind, ExprKind::kExtCall);
}

TEST(ParserTest, ExtendedHasDesugars) {
  auto r = ParsePolicy("permit(principal, action, resource) when { context has a.b };", "p");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->pool.nodes[r->conditions[0].expr].kind, ExprKind::kAnd);
}

}  // namespace
}  // namespace custos::policy
