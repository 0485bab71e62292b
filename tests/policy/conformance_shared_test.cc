// Data-driven check of Cedar's hand-written integration tests (../shared/cedar/tests): every
// request must get the expected decision, reasons and errors. The generated corpus runs
// through tools/cedar_conformance (CTest `cedar_conformance`).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "policy/authorizer.h"
#include "policy/entities.h"
#include "policy/parser.h"
#include "policy/schema.h"

namespace custos::policy {
namespace {

namespace fs = std::filesystem;

std::string Slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::set<std::string> IdSet(const nlohmann::json& j) {
  std::set<std::string> out;
  for (const auto& x : j) out.insert(x.get<std::string>());
  return out;
}

TEST(CedarSharedTests, AllRequestsMatch) {
  fs::path root = fs::path(CUSTOS_SHARED_DIR) / "cedar";
  if (!fs::exists(root / "tests")) GTEST_SKIP() << "no shared Cedar data at " << root;
  size_t requests = 0;
  for (const auto& entry : fs::recursive_directory_iterator(root / "tests")) {
    if (entry.path().extension() != ".json") continue;
    auto test = nlohmann::json::parse(Slurp(entry.path()));
    SCOPED_TRACE(entry.path().string());
    auto schema = Schema::ParseCedarSchema(Slurp(root / test["schema"].get<std::string>()),
                                           test["schema"].get<std::string>());
    ASSERT_TRUE(schema.ok()) << schema.status().ToString();
    auto policies = ParsePolicies(Slurp(root / test["policies"].get<std::string>()));
    ASSERT_TRUE(policies.ok()) << policies.status().ToString();
    auto entities = ParseEntitiesJson(Slurp(root / test["entities"].get<std::string>()), &*schema);
    ASSERT_TRUE(entities.ok()) << entities.status().ToString();
    auto set = PolicySet::Create(std::move(policies).value());
    ASSERT_TRUE(set.ok());
    for (const auto& req : test["requests"]) {
      ++requests;
      Request r;
      r.principal = ParseEntityUidJson(req["principal"].dump()).value();
      r.action = ParseEntityUidJson(req["action"].dump()).value();
      r.resource = ParseEntityUidJson(req["resource"].dump()).value();
      auto ctx = ParseContextJson(req["context"].dump(), &*schema, &r.action);
      ASSERT_TRUE(ctx.ok()) << ctx.status().ToString();
      r.context = *ctx;
      Response resp = set->IsAuthorized(r, *entities);
      EXPECT_EQ(DecisionName(resp.decision), req["decision"].get<std::string>())
          << req.value("description", "");
      std::set<std::string> reasons(resp.reasons.begin(), resp.reasons.end());
      EXPECT_EQ(reasons, IdSet(req["reason"])) << req.value("description", "");
      std::set<std::string> errors;
      for (const auto& e : resp.errors) errors.emplace(e.policy_id);
      EXPECT_EQ(errors, IdSet(req["errors"])) << req.value("description", "");
    }
  }
  EXPECT_EQ(requests, 74u);
}

}  // namespace
}  // namespace custos::policy
