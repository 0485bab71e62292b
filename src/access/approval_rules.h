// Approval rules: how many approvals, from whom, and with how much MFA an access request
// needs, chosen by the highest classification among its resources; plus the longest
// duration any grant may have. Defaults follow issue 5; operators override them in YAML:
//
//   max_duration: 30d          # longest grant (s, m, h or d)
//   pending_ttl: 14d           # a request not decided by then expires
//   rules:
//     internal:     { approvals: 1, approvers: anyone }
//     confidential: { approvals: 1, approvers: owners }
//     restricted:   { approvals: 2, approvers: owners_or_stewards,
//                     mfa_approvals: 1, mfa_window: 5m }
//
// Classifications left out keep their defaults. Errors name `file:line:col`.
// Thread-safety: plain values and free functions; safe from any thread.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "catalog/governance.h"
#include "common/status.h"

namespace custos::access {

// Who may approve. The requester never may, whatever the rule.
enum class ApproverRole : uint8_t {
  kAnyone = 0,            // any principal but the requester
  kOwners = 1,            // an owner of every resource in the request
  kOwnersOrStewards = 2,  // an owner or steward of every resource in the request
};
std::string_view ApproverRoleName(ApproverRole role);  // "anyone", "owners", ...

struct ApprovalRule {
  // Distinct approvers needed (1..10).
  uint32_t approvals = 1;
  ApproverRole approvers = ApproverRole::kAnyone;
  // How many of those approvals must come from someone whose last successful MFA is at
  // most `mfa_window` old at the moment they approve (0..approvals).
  uint32_t mfa_approvals = 0;
  std::chrono::seconds mfa_window{300};

  // "2 distinct owners or stewards, at least 1 with MFA in the last 5m".
  std::string Describe() const;
};

struct ApprovalRules {
  // Indexed by catalog::Classification.
  std::array<ApprovalRule, 4> by_classification;
  // The longest duration of any grant (a purpose may lower it). Default 30 days.
  std::chrono::seconds max_duration{std::chrono::hours(24 * 30)};
  // A request still pending this long after creation expires. Default 14 days.
  std::chrono::seconds pending_ttl{std::chrono::hours(24 * 14)};

  // public and internal: 1 approver (anyone but the requester); confidential: 1 owner;
  // restricted: 2 distinct owners or stewards, at least one with MFA in the last 5 minutes.
  static ApprovalRules Defaults();

  const ApprovalRule& For(catalog::Classification c) const {
    return by_classification[static_cast<size_t>(c)];
  }
};

// Parses the YAML above. InvalidArgument with `filename:line:col: what; how to fix`.
Result<ApprovalRules> ParseApprovalRulesYaml(std::string_view text,
                                             std::string_view filename = "<approval rules>");

// Reads and parses a rules file; NotFound / Unavailable name the path when it cannot be read.
Result<ApprovalRules> LoadApprovalRulesFile(const std::string& path);

// "90s", "5m", "12h", "7d" (a positive whole number and one unit).
Result<std::chrono::seconds> ParseDurationText(std::string_view text);
// The inverse, in the largest unit that divides the duration exactly ("7d", "90s").
std::string FormatDurationText(std::chrono::seconds d);

}  // namespace custos::access
