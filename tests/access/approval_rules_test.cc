// Approval rules: defaults, YAML overrides, and errors with file:line:col.
#include "access/approval_rules.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "../testing/temp_dir.h"

namespace custos::access {
namespace {

using catalog::Classification;
using std::chrono::seconds;
using ::testing::HasSubstr;

TEST(ApprovalRulesTest, DefaultsFollowTheIssue) {
  ApprovalRules rules = ApprovalRules::Defaults();
  EXPECT_EQ(rules.For(Classification::kInternal).approvals, 1u);
  EXPECT_EQ(rules.For(Classification::kInternal).approvers, ApproverRole::kAnyone);
  EXPECT_EQ(rules.For(Classification::kConfidential).approvers, ApproverRole::kOwners);
  const ApprovalRule& restricted = rules.For(Classification::kRestricted);
  EXPECT_EQ(restricted.approvals, 2u);
  EXPECT_EQ(restricted.approvers, ApproverRole::kOwnersOrStewards);
  EXPECT_EQ(restricted.mfa_approvals, 1u);
  EXPECT_EQ(restricted.mfa_window, seconds(300));
  EXPECT_EQ(restricted.Describe(),
            "2 distinct owners or stewards, at least 1 with MFA in the last 5m");
  EXPECT_EQ(rules.For(Classification::kInternal).Describe(), "1 approver other than the requester");
  EXPECT_EQ(rules.max_duration, seconds(30 * 86400));
  EXPECT_EQ(rules.pending_ttl, seconds(14 * 86400));
}

TEST(ApprovalRulesTest, YamlOverridesOnlyWhatItNames) {
  auto rules = ParseApprovalRulesYaml(R"(# stricter confidential data
max_duration: 14d
rules:
  confidential:
    approvals: 2
    approvers: owners_or_stewards
    mfa_approvals: 2
    mfa_window: 90s
)",
                                      "rules.yaml");
  ASSERT_TRUE(rules.ok()) << rules.status().ToString();
  EXPECT_EQ(rules->max_duration, seconds(14 * 86400));
  EXPECT_EQ(rules->pending_ttl, seconds(14 * 86400));
  const ApprovalRule& c = rules->For(Classification::kConfidential);
  EXPECT_EQ(c.approvals, 2u);
  EXPECT_EQ(c.approvers, ApproverRole::kOwnersOrStewards);
  EXPECT_EQ(c.mfa_approvals, 2u);
  EXPECT_EQ(c.mfa_window, seconds(90));
  EXPECT_EQ(rules->For(Classification::kRestricted).approvals, 2u);  // default kept
  EXPECT_TRUE(ParseApprovalRulesYaml("", "empty.yaml").ok());
}

TEST(ApprovalRulesTest, ErrorsNameFileLineAndColumn) {
  struct Case {
    const char* yaml;
    const char* message;
  };
  const Case cases[] = {
      {"rules:\n  secret: {approvals: 1}\n",
       "rules.yaml:2:3: unknown classification `secret`; use public, internal, confidential or "
       "restricted"},
      {"rules:\n  internal: {approvals: 0}\n",
       "rules.yaml:2:25: `approvals` must be a whole number from 1 to 10, not `0`"},
      {"rules:\n  internal:\n    approvers: managers\n",
       "rules.yaml:3:16: unknown approvers `managers`; use anyone, owners or owners_or_stewards"},
      {"rules:\n  internal:\n    quorum: 2\n",
       "rules.yaml:3:5: unknown rule field `quorum`; expected approvals, approvers, "
       "mfa_approvals or mfa_window"},
      {"max_duration: 2w\n",
       "rules.yaml:1:15: `max_duration`: `2w`: unknown duration unit; use s, m, h or d"},
      {"max_duration: 400d\n", "rules.yaml:1:15: `max_duration` of 400d is over the limit of 366d"},
      {"rules:\n  restricted: {approvals: 1, mfa_approvals: 2}\n",
       "rules.yaml:2:15: mfa_approvals (2) cannot exceed approvals (1)"},
      {"colour: blue\n",
       "rules.yaml:1:1: unknown field `colour`; expected max_duration, pending_ttl or rules"},
      {"- a\n- b\n", "rules.yaml:1:1: the approval rules must be a mapping"},
      {"rules: [\n", "rules.yaml:2:1: "},
  };
  for (const auto& c : cases) {
    auto r = ParseApprovalRulesYaml(c.yaml, "rules.yaml");
    ASSERT_FALSE(r.ok()) << c.yaml;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(r.status().message(), HasSubstr(c.message)) << c.yaml;
  }
}

TEST(ApprovalRulesTest, LoadsFilesWithTheirPathInErrors) {
  custos::testing::TempDir tmp;
  const std::string path = tmp.Sub("rules.yaml");
  std::ofstream(path) << "rules:\n  internal:\n    approvals: 3\n";
  auto rules = LoadApprovalRulesFile(path);
  ASSERT_TRUE(rules.ok()) << rules.status().ToString();
  EXPECT_EQ(rules->For(Classification::kInternal).approvals, 3u);
  std::ofstream(path) << "rules:\n  internal:\n    approvals: many\n";
  auto bad = LoadApprovalRulesFile(path);
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(),
              HasSubstr(path + ":3:16: `approvals` must be a whole number"));
  auto missing = LoadApprovalRulesFile(tmp.Sub("none.yaml"));
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr("none.yaml: no such approval rules file"));
}

TEST(ApprovalRulesTest, DurationText) {
  EXPECT_EQ(*ParseDurationText("90s"), seconds(90));
  EXPECT_EQ(*ParseDurationText("5m"), seconds(300));
  EXPECT_EQ(*ParseDurationText("12h"), seconds(43200));
  EXPECT_EQ(*ParseDurationText("7d"), seconds(604800));
  for (const char* bad : {"", "d", "0d", "-1d", "1.5h", "7 d", "99999999999999999999d"}) {
    EXPECT_EQ(ParseDurationText(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_EQ(FormatDurationText(seconds(604800)), "7d");
  EXPECT_EQ(FormatDurationText(seconds(7200)), "2h");
  EXPECT_EQ(FormatDurationText(seconds(90)), "90s");
  EXPECT_EQ(FormatDurationText(seconds(300)), "5m");
}

}  // namespace
}  // namespace custos::access
