// Tests of strict policy validation and of request and entity conformance.
#include "policy/validator.h"

#include <gtest/gtest.h>

#include <string>

#include "policy/parser.h"
#include "policy/schema.h"

namespace custos::policy {
namespace {

constexpr const char* kSchema = R"(
  entity Group;
  entity User in [Group] = {
    name: String,
    age?: Long,
    manager?: User,
    address: { city: String, zip?: String },
    roles: Set<String>,
  } tags String;
  entity Photo in [Album] = { owner: User, score: decimal, taken: datetime };
  entity Album;
  entity Color enum ["red", "green"];
  action readOnly;
  action view in [readOnly] appliesTo {
    principal: [User],
    resource: [Photo, Album],
    context: { ip: ipaddr, mfa?: Bool, now: datetime }
  };
  action paint appliesTo { principal: User, resource: Color };
  namespace Admin { entity Tool; action use appliesTo { principal: User, resource: Tool }; }
)";

class ValidatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<Schema> s = Schema::ParseCedarSchema(kSchema, "test.cedarschema");
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    schema_ = std::move(s).value();
  }

  ValidationResult Run(std::string_view text, ValidatorOptions options = {}) {
    ParseOptions po;
    po.filename = "p.cedar";
    Result<std::vector<Policy>> ps = ParsePolicies(text, po);
    EXPECT_TRUE(ps.ok()) << ps.status().ToString();
    if (!ps.ok()) return {};
    return Validator(schema_, options).Validate(*ps);
  }

  // "" if the policy set validates, else the first error message.
  std::string ErrorOf(std::string_view text) {
    ValidationResult r = Run(text);
    return r.ok() ? std::string() : r.errors.front().message;
  }

  void ExpectValid(std::string_view text) { EXPECT_EQ(ErrorOf(text), "") << text; }
  void ExpectError(std::string_view text, std::string_view fragment) {
    std::string err = ErrorOf(text);
    EXPECT_NE(err.find(fragment), std::string::npos) << "policy: " << text << "\nerror: " << err;
  }

  Schema schema_;
};

TEST_F(ValidatorTest, WellTypedPoliciesValidate) {
  ExpectValid(R"(permit(principal, action == Action::"view", resource);)");
  ExpectValid(R"(permit(principal in Group::"g", action in Action::"readOnly", resource is Photo)
                 when { resource.owner == principal && principal.name like "a*" &&
                        resource.score.greaterThan(decimal("1.5")) &&
                        context.ip.isInRange(ip("10.0.0.0/8")) &&
                        resource.taken < context.now.offset(duration("-1d")) &&
                        principal.roles.contains("admin") && principal.address.city != "" };)");
  ExpectValid(R"(permit(principal, action == Action::"paint", resource == Color::"red");)");
  ExpectValid(R"(permit(principal, action == Admin::Action::"use", resource);)");
}

TEST_F(ValidatorTest, UnknownNamesAreErrors) {
  EXPECT_EQ(ErrorOf("permit(principal == Usr::\"a\", action, resource);"),
            "p.cedar:1:8: policy `policy0`: unknown entity type Usr; declare it in the schema "
            "or fix the name");
  ExpectError(R"(permit(principal, action == Action::"edit", resource);)",
              "unknown action Action::\"edit\"");
  ExpectError(R"(permit(principal, action, resource) when { resource is Phot };)",
              "unknown entity type Phot after `is`");
  ExpectError(R"(permit(principal, action, resource == Color::"blue");)",
              "is not one of the ids the enumerated entity type Color allows");
  // Checked even where short-circuiting skips typechecking.
  ExpectError(R"(permit(principal, action, resource) when { false && Nope::"x" == principal };)",
              "unknown entity type Nope");
}

TEST_F(ValidatorTest, OptionalAttributesNeedHas) {
  std::string err = ErrorOf(
      "permit(principal, action, resource)\n"
      "when { principal.age > 3 };");
  EXPECT_EQ(err.substr(0, err.find(" (for ")),
            "p.cedar:2:18: policy `policy0`: attribute `age` is optional; test it with `has` "
            "first, as in `x has age && x.age ...`");
  ExpectValid(
      "permit(principal, action, resource) when { principal has age && principal.age > 3 };");
  ExpectValid(
      "permit(principal, action, resource) when {"
      " if principal has manager then principal.manager.name == \"x\" else false };");
  ExpectValid(
      "permit(principal, action, resource) when {"
      " principal.address has zip && principal.address.zip == \"1\" };");
  // The guard must be on the same expression.
  ExpectError(
      "permit(principal, action == Action::\"view\", resource) when {"
      " resource.owner has age && principal.age > 1 };",
      "attribute `age` is optional");
  // `||` keeps only what both sides know, so this guard does not count (as in Cedar).
  ExpectError(
      "permit(principal, action, resource) when {"
      " !(principal has age) || principal.age > 1 };",
      "attribute `age` is optional");
  ExpectError(
      "permit(principal, action == Action::\"view\", resource) when {"
      " context.mfa };",
      "attribute `mfa` is optional");
}

TEST_F(ValidatorTest, UndeclaredAttributesAreErrors) {
  ExpectError("permit(principal, action, resource) when { principal.email == \"\" };",
              "attribute `email` is not declared on type User");
  ExpectError("permit(principal, action, resource) when { action.name == \"\" };",
              "entities of type Action have no attributes");
  // `has` on an undeclared attribute is simply false.
  ValidationResult r = Run("permit(principal, action, resource) when { principal has email };");
  EXPECT_TRUE(r.ok());
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_NE(r.warnings[0].message.find("is impossible"), std::string::npos);
}

TEST_F(ValidatorTest, TagsNeedHasTagAndDeclaredTags) {
  ExpectError("permit(principal, action, resource) when { principal.getTag(\"t\") == \"v\" };",
              "this tag may be absent; test it with `hasTag` first");
  ExpectValid(
      "permit(principal, action, resource) when {"
      " principal.hasTag(\"t\") && principal.getTag(\"t\") == \"v\" };");
  ExpectError(
      "permit(principal, action == Action::\"view\", resource is Photo) when {"
      " resource.getTag(\"t\") == \"v\" };",
      "entity type Photo has no tags");
  // hasTag on a type without tags is False, so the right of `&&` is never typechecked.
  ExpectValid(
      "permit(principal, action == Action::\"view\", resource is Photo) when {"
      " resource.hasTag(\"t\") && resource.getTag(\"t\") == \"v\" };");
}

TEST_F(ValidatorTest, StrictLeastUpperBounds) {
  ExpectError(
      "permit(principal, action, resource) when { (if principal has age then 1 else "
      "\"one\") == 1 };",
      "the branches of if-then-else have incompatible types Long and String");
  ExpectError("permit(principal, action, resource) when { [1, \"a\"].contains(1) };",
              "set elements have incompatible types Long and String");
  ExpectError(
      "permit(principal, action == Action::\"view\", resource) when {"
      " [principal, resource].contains(principal) };",
      "set elements have incompatible types User and");
  ExpectError("permit(principal, action, resource) when { [].isEmpty() };",
              "the empty set `[]` has no type");
  ExpectError("permit(principal, action, resource) when { {a: 1} == {a: 1, b: 2} };",
              "cannot compare values of types {a: Long} and {a: Long, b: Long}");
  ExpectError("permit(principal, action, resource) when { principal.name == 1 };",
              "cannot compare values of types String and Long");
  // Entities of different types compare (always false), as in Cedar.
  ValidationResult r =
      Run("permit(principal, action == Action::\"view\", resource) when {"
          " principal == resource };");
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.warnings.size(), 1u);
}

TEST_F(ValidatorTest, OperatorsAndExtensionFunctions) {
  ExpectError("permit(principal, action, resource) when { principal.name + 1 > 2 };",
              "expected a Long operand, found type String");
  ExpectError(
      "permit(principal, action == Action::\"view\", resource is Photo) when {"
      " resource.score < decimal(\"1.0\") };",
      "`<`, `<=`, `>`, `>=` take two Longs, two datetimes or two durations");
  ExpectError("permit(principal, action, resource) when { ip(\"300.1.1.1\").isIpv4() };",
              "invalid call of ip: \"300.1.1.1\" is not a valid value");
  ExpectError(
      "permit(principal, action, resource) when { decimal(principal.name).lessThan("
      "decimal(\"1.0\")) };",
      "its argument must be a string literal");
  ExpectError(
      "permit(principal, action, resource) when { ip(\"1.2.3.4\").lessThan("
      "decimal(\"1.0\")) };",
      "invalid call of lessThan: wrong argument types (ipaddr, decimal)");
  ExpectError("permit(principal, action, resource) when { principal in \"g\" };",
              "an entity or a set of entities on the right of `in`");
  ExpectError("permit(principal, action, resource) when { 1 };", "expected a boolean");
}

TEST_F(ValidatorTest, ScopeThatMatchesNoActionIsAnError) {
  // `view` applies to User principals only.
  ExpectError(R"(permit(principal is Photo, action == Action::"view", resource);)",
              "no action in its scope applies to a principal and resource of the types its "
              "scope allows");
  ExpectError(R"(permit(principal, action == Action::"readOnly", resource);)",
              "no action in its scope applies");
  // `in readOnly` includes `view`, which does apply.
  ExpectValid(R"(permit(principal, action in Action::"readOnly", resource is Album);)");
  ExpectError(R"(permit(principal, action in [Action::"view", Admin::Action::"use"], resource);)",
              "the actions in the list have different entity types");
}

TEST_F(ValidatorTest, ImpossibleConditionIsAWarningUnlessAskedOtherwise) {
  const char* text = "permit(principal, action, resource) when { false };";
  ValidationResult r = Run(text);
  EXPECT_TRUE(r.ok());
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_EQ(r.warnings[0].policy_id, "policy0");
  ValidatorOptions strict;
  strict.reject_impossible_policies = true;
  EXPECT_FALSE(Run(text, strict).ok());
  // Short-circuiting: the right side of `false && ...` is not typechecked.
  EXPECT_TRUE(Run("permit(principal, action, resource) when { false && (1 == \"a\") };").ok());
  // ... but it is after `true &&`.
  EXPECT_FALSE(Run("permit(principal, action, resource) when { true && (1 + \"a\" == 1) };").ok());
}

TEST_F(ValidatorTest, ManyConditionsAndDeepExpressions) {
  std::string many = "permit(principal, action, resource)";
  for (int i = 0; i < 20000; ++i) many += " when { principal has age }";
  many += " when { principal.age > 1 };";
  ExpectValid(many);
  // As deep as the policy parser allows.
  std::string deep = "permit(principal, action, resource) when { ";
  for (int i = 0; i < 200; ++i) deep += "(principal.name == \"a\") && (";
  deep += "true";
  for (int i = 0; i < 200; ++i) deep += ")";
  ExpectValid(deep + " };");
  std::string nested = "permit(principal, action, resource) when { ";
  for (int i = 0; i < 100; ++i) nested += "if principal has age then ";
  nested += "principal.age == 1";
  for (int i = 0; i < 100; ++i) nested += " else false";
  ExpectValid(nested + " };");
}

TEST_F(ValidatorTest, TemplatesValidateWithSlots) {
  ExpectValid(R"(permit(principal == ?principal, action == Action::"view", resource in ?resource)
                 when { resource has owner };)");
}

TEST_F(ValidatorTest, EveryFailingPolicyIsReported) {
  ValidationResult r = Run(R"(
    permit(principal, action, resource) when { principal.age == 1 };
    permit(principal, action, resource);
    forbid(principal, action, resource) when { resource.nope };
  )");
  ASSERT_EQ(r.errors.size(), 2u);
  EXPECT_EQ(r.errors[0].policy_id, "policy0");
  EXPECT_EQ(r.errors[1].policy_id, "policy2");
}

TEST_F(ValidatorTest, RequestValidation) {
  Validator v(schema_);
  auto ctx = [](bool with_now) {
    std::vector<std::pair<std::string, Value>> fields = {{"ip", Value(IpAddr{})}};
    if (with_now) fields.emplace_back("now", Value(Datetime{0}));
    return Value::Record(std::move(fields));
  };
  EntityUid alice("User", "alice"), photo("Photo", "p"), view("Action", "view");
  EXPECT_TRUE(v.ValidateRequest(alice, view, photo, ctx(true)).ok());
  EXPECT_EQ(v.ValidateRequest(alice, view, photo, ctx(false)).message(),
            "request: context: required attribute `now` is missing");
  EXPECT_EQ(v.ValidateRequest(photo, view, photo, ctx(true)).message(),
            "request: principal Photo::\"p\" is not of a type that action Action::\"view\" "
            "applies to");
  EXPECT_EQ(v.ValidateRequest(alice, EntityUid("Action", "fly"), photo, ctx(true)).message(),
            "request: action Action::\"fly\" is not declared in the schema");
  EXPECT_EQ(v.ValidateRequest(alice, EntityUid("Action", "paint"), EntityUid("Color", "blue"),
                              Value::Record({}))
                .message(),
            "request: resource Color::\"blue\" is not a valid id of its enumerated type");
  Value extra = Value::Record(
      {{"ip", Value(IpAddr{})}, {"now", Value(Datetime{0})}, {"x", Value(int64_t{1})}});
  EXPECT_EQ(v.ValidateRequest(alice, view, photo, extra).message(),
            "request: context: attribute `x` is not declared in the schema");
  Value wrong = Value::Record({{"ip", Value::String("1.2.3.4")}, {"now", Value(Datetime{0})}});
  EXPECT_EQ(v.ValidateRequest(alice, view, photo, wrong).message(),
            "request: context.ip: expected a ipaddr, found a string value");
}

TEST_F(ValidatorTest, EntityValidation) {
  Validator v(schema_);
  auto attrs = [](std::vector<std::pair<std::string, Value>> f) {
    return Value::Record(std::move(f));
  };
  Value user_attrs = attrs({{"name", Value::String("A")},
                            {"address", attrs({{"city", Value::String("B")}})},
                            {"roles", Value::Set({Value::String("r")})}});
  Value tags = attrs({{"t", Value::String("v")}});
  EntityUid alice("User", "alice");
  EXPECT_TRUE(
      v.ValidateEntity(alice, user_attrs.AsRecord(), {EntityUid("Group", "g")}, &tags.AsRecord())
          .ok());
  EXPECT_EQ(
      v.ValidateEntity(alice, user_attrs.AsRecord(), {EntityUid("Album", "a")}, nullptr).message(),
      "entity User::\"alice\": parent Album::\"a\" has a type not listed in memberOfTypes "
      "of User");
  Value bad = attrs({{"name", Value(int64_t{1})},
                     {"address", attrs({{"city", Value::String("B")}})},
                     {"roles", Value::Set({})}});
  EXPECT_EQ(v.ValidateEntity(alice, bad.AsRecord(), {}, nullptr).message(),
            "entity User::\"alice\" attributes.name: expected a String, found a long value");
  Value int_tags = attrs({{"t", Value(int64_t{1})}});
  EXPECT_EQ(v.ValidateEntity(alice, user_attrs.AsRecord(), {}, &int_tags.AsRecord()).message(),
            "entity User::\"alice\" tag `t`: expected a String, found a long value");
  EXPECT_EQ(
      v.ValidateEntity(EntityUid("Album", "a"), Value::Record({}).AsRecord(), {}, &tags.AsRecord())
          .message(),
      "entity Album::\"a\": has tags, but type Album declares none");
  EXPECT_EQ(v.ValidateEntity(EntityUid("Ghost", "g"), Value::Record({}).AsRecord(), {}, nullptr)
                .message(),
            "entity Ghost::\"g\": its type is not declared in the schema");
  EXPECT_TRUE(v.ValidateEntity(EntityUid("Action", "view"), Value::Record({}).AsRecord(),
                               {EntityUid("Action", "readOnly")}, nullptr)
                  .ok());
}

}  // namespace
}  // namespace custos::policy
