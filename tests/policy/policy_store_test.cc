// PolicyStore's managed sources and link changes: one version per change, all or nothing,
// unlinking, and survival across directory reloads.
#include "policy/policy_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace custos::policy {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr char kGrantTemplate[] = R"(@id("grant/g1")
permit(principal == ?principal, action in [Action::"read"], resource in ?resource)
when { context.purpose == "fraud" };)";

Request ReadBy(const std::string& user, const std::string& doc, const std::string& purpose) {
  Request r;
  r.principal = EntityUid("User", user);
  r.action = EntityUid("Action", "read");
  r.resource = EntityUid("Doc", doc);
  r.context = Value::Record({{"purpose", Value::String(purpose)}});
  return r;
}

Decision Decide(const PolicyStore& store, const Request& r) {
  return store.IsAuthorized(r, EntityStore()).response.decision;
}

TEST(PolicyStoreChangeTest, ApplyPublishesSourceAndLinksAsOneVersion) {
  PolicyStore store;
  ASSERT_TRUE(store
                  .LoadSources({{"base.cedar",
                                 "forbid(principal, action, resource) when { "
                                 "context.purpose == \"banned\" };"}})
                  .ok());
  EXPECT_EQ(store.version(), 1u);
  PolicyChange change;
  change.add_sources.push_back({"grant/g1", kGrantTemplate});
  change.add_links.push_back(
      {"grant/g1", "grant/g1/0", EntityUid("User", "dana"), EntityUid("Doc", "a")});
  change.add_links.push_back(
      {"grant/g1", "grant/g1/1", EntityUid("User", "dana"), EntityUid("Doc", "b")});
  auto v = store.Apply(change);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(*v, 2u);
  EXPECT_THAT(store.ManagedSourceNames(), ElementsAre("grant/g1"));
  EXPECT_THAT(store.LinkIds(), ElementsAre("grant/g1/0", "grant/g1/1"));
  EXPECT_EQ(Decide(store, ReadBy("dana", "a", "fraud")), Decision::kAllow);
  EXPECT_EQ(Decide(store, ReadBy("dana", "b", "fraud")), Decision::kAllow);
  EXPECT_EQ(Decide(store, ReadBy("dana", "c", "fraud")), Decision::kDeny);
  EXPECT_EQ(Decide(store, ReadBy("erin", "a", "fraud")), Decision::kDeny);
  EXPECT_EQ(Decide(store, ReadBy("dana", "a", "marketing")), Decision::kDeny);

  // Directory reloads keep managed sources and links.
  ASSERT_TRUE(store
                  .LoadSources({{"other.cedar",
                                 "permit(principal, action, resource) when { "
                                 "false };"}})
                  .ok());
  EXPECT_EQ(store.version(), 3u);
  EXPECT_EQ(Decide(store, ReadBy("dana", "a", "fraud")), Decision::kAllow);
  EXPECT_EQ(store.Current()->Find("base/policy0"), nullptr);

  // Unlink one link: a new version without it.
  auto v4 = store.UnlinkTemplate("grant/g1/0");
  ASSERT_TRUE(v4.ok());
  EXPECT_EQ(*v4, 4u);
  EXPECT_EQ(Decide(store, ReadBy("dana", "a", "fraud")), Decision::kDeny);
  EXPECT_EQ(Decide(store, ReadBy("dana", "b", "fraud")), Decision::kAllow);

  // Removing the source drops its remaining links with it.
  PolicyChange remove;
  remove.remove_sources.push_back("grant/g1");
  remove.remove_links.push_back("grant/g1/1");  // already going with its source: fine
  auto v5 = store.Apply(remove);
  ASSERT_TRUE(v5.ok()) << v5.status().ToString();
  EXPECT_EQ(*v5, 5u);
  EXPECT_THAT(store.ManagedSourceNames(), IsEmpty());
  EXPECT_THAT(store.LinkIds(), IsEmpty());
  EXPECT_EQ(Decide(store, ReadBy("dana", "b", "fraud")), Decision::kDeny);
  EXPECT_EQ(store.Current()->Find("grant/g1"), nullptr);
}

TEST(PolicyStoreChangeTest, FailedChangesLeaveTheVersionInForce) {
  PolicyStore store;
  PolicyChange add;
  add.add_sources.push_back({"grant/g1", kGrantTemplate});
  add.add_links.push_back({"grant/g1", "l1", EntityUid("User", "dana"), EntityUid("Doc", "a")});
  ASSERT_TRUE(store.Apply(add).ok());
  const uint64_t v = store.version();

  auto dup_source = store.Apply(add);
  EXPECT_EQ(dup_source.status().code(), StatusCode::kAlreadyExists);
  EXPECT_THAT(dup_source.status().message(), HasSubstr("a managed policy source named `grant/g1`"));

  PolicyChange dup_link;
  dup_link.add_links.push_back({"grant/g1", "l1", EntityUid("User", "x"), EntityUid("Doc", "a")});
  auto r = store.Apply(dup_link);
  EXPECT_EQ(r.status().code(), StatusCode::kAlreadyExists);
  EXPECT_THAT(r.status().message(), HasSubstr("a template link with id `l1` exists"));

  PolicyChange unknown_template;
  unknown_template.add_links.push_back({"nope", "l2", EntityUid("User", "x"), std::nullopt});
  r = store.Apply(unknown_template);
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(r.status().message(), HasSubstr("no template with id `nope` (needed by link `l2`)"));

  PolicyChange bad_text;
  bad_text.add_sources.push_back({"grant/g2", "permit(principal == ?principal, action, "});
  r = store.Apply(bad_text);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("grant/g2:1:"));

  PolicyChange missing_slot;
  missing_slot.add_links.push_back({"grant/g1", "l3", EntityUid("User", "x"), std::nullopt});
  r = store.Apply(missing_slot);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("a value for ?resource is required"));

  EXPECT_EQ(store.UnlinkTemplate("never").status().code(), StatusCode::kNotFound);
  PolicyChange no_source;
  no_source.remove_sources.push_back("grant/none");
  EXPECT_EQ(store.Apply(no_source).status().code(), StatusCode::kNotFound);

  // A directory reload that would collide with a managed id is refused as well.
  auto collide = store.LoadSources({{"x.cedar",
                                     "@id(\"grant/g1\") permit(principal, action, "
                                     "resource);"}});
  EXPECT_EQ(collide.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(collide.status().message(), HasSubstr("duplicate policy id `grant/g1`"));

  EXPECT_EQ(store.version(), v);
  EXPECT_THAT(store.LinkIds(), ElementsAre("l1"));
  EXPECT_EQ(Decide(store, ReadBy("dana", "a", "fraud")), Decision::kAllow);
}

TEST(PolicyStoreChangeTest, ReplaceASourceInOneChange) {
  PolicyStore store;
  PolicyChange add;
  add.add_sources.push_back({"grant/g1", kGrantTemplate});
  add.add_links.push_back({"grant/g1", "l1", EntityUid("User", "dana"), EntityUid("Doc", "a")});
  ASSERT_TRUE(store.Apply(add).ok());
  // Same names, new purpose: remove then add in one version; no moment without a policy.
  PolicyChange replace;
  replace.remove_sources.push_back("grant/g1");
  std::string text = kGrantTemplate;
  text.replace(text.find("\"fraud\""), 7, "\"audit\"");
  replace.add_sources.push_back({"grant/g1", text});
  replace.add_links.push_back({"grant/g1", "l1", EntityUid("User", "dana"), EntityUid("Doc", "a")});
  auto v = store.Apply(replace);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(*v, 2u);
  EXPECT_EQ(Decide(store, ReadBy("dana", "a", "fraud")), Decision::kDeny);
  EXPECT_EQ(Decide(store, ReadBy("dana", "a", "audit")), Decision::kAllow);
}

}  // namespace
}  // namespace custos::policy
