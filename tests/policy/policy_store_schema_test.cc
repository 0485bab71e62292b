// PolicyStore with a schema: a version that does not validate is refused with the
// failing policy named, and the previous version stays in force.
#include <gtest/gtest.h>

#include "policy/policy_store.h"
#include "policy/schema.h"

namespace custos::policy {
namespace {

constexpr char kSchema[] = R"(
entity User { clearance: Long };
entity FeatureView { classification: Long };
action read appliesTo { principal: User, resource: FeatureView };
)";

TEST(PolicyStoreSchemaTest, RefusesPoliciesThatDoNotValidate) {
  auto schema = Schema::ParseCedarSchema(kSchema, "custos.cedarschema");
  ASSERT_TRUE(schema.ok()) << schema.status().ToString();
  PolicyStore store;
  store.SetSchema(std::make_shared<const Schema>(std::move(*schema)));

  auto v1 = store.LoadSources({{"access.cedar",
                                R"(@id("clearance")
permit(principal, action == Action::"read", resource)
when { principal.clearance >= resource.classification };)"}});
  ASSERT_TRUE(v1.ok()) << v1.status().ToString();
  EXPECT_EQ(*v1, 1u);

  // A typo in an attribute name: parses, but does not validate.
  auto v2 = store.LoadSources({{"access.cedar",
                                R"(@id("clearance")
permit(principal, action == Action::"read", resource)
when { principal.clearence >= resource.classification };)"}});
  ASSERT_FALSE(v2.ok());
  EXPECT_EQ(v2.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(v2.status().message().find("do not validate against the schema (1 failing"),
            std::string::npos)
      << v2.status().message();
  EXPECT_NE(v2.status().message().find("clearance"), std::string::npos);
  EXPECT_EQ(store.version(), 1u);

  // An unknown action is refused too.
  EXPECT_FALSE(
      store.LoadSources({{"a.cedar", "permit(principal, action == Action::\"delete\", resource);"}})
          .ok());
  EXPECT_EQ(store.version(), 1u);

  // Without a schema the same text is accepted (parse-only checks).
  store.SetSchema(nullptr);
  EXPECT_TRUE(
      store.LoadSources({{"a.cedar", "permit(principal, action == Action::\"delete\", resource);"}})
          .ok());
}

}  // namespace
}  // namespace custos::policy
