// Approval rules: defaults, YAML parsing with positions, and duration text.
#include "access/approval_rules.h"

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

namespace custos::access {
namespace {

constexpr uint32_t kMaxApprovals = 10;
constexpr std::chrono::seconds kMaxMfaWindow{3600};
constexpr std::chrono::seconds kMaxGrantDuration{std::chrono::hours(24 * 366)};

std::string Where(std::string_view filename, const YAML::Mark& mark) {
  if (mark.is_null()) return std::string(filename);
  return std::string(filename) + ":" + std::to_string(mark.line + 1) + ":" +
         std::to_string(mark.column + 1);
}

Status ErrorAt(std::string_view filename, const YAML::Node& node, const std::string& what) {
  return InvalidArgumentError(Where(filename, node.Mark()) + ": " + what);
}

Result<std::string> Scalar(std::string_view filename, const YAML::Node& node,
                           std::string_view field) {
  if (!node.IsScalar()) {
    return ErrorAt(filename, node, "`" + std::string(field) + "` must be a single value");
  }
  return node.Scalar();
}

Result<uint32_t> SmallCount(std::string_view filename, const YAML::Node& node,
                            std::string_view field, uint32_t min, uint32_t max) {
  CUSTOS_ASSIGN_OR_RETURN(std::string text, Scalar(filename, node, field));
  uint64_t v = 0;
  bool ok = !text.empty() && text.size() <= 6;
  for (char c : text) {
    if (c < '0' || c > '9') ok = false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (!ok || v < min || v > max) {
    return ErrorAt(filename, node,
                   "`" + std::string(field) + "` must be a whole number from " +
                       std::to_string(min) + " to " + std::to_string(max) + ", not `" + text + "`");
  }
  return static_cast<uint32_t>(v);
}

Result<std::chrono::seconds> DurationField(std::string_view filename, const YAML::Node& node,
                                           std::string_view field, std::chrono::seconds max) {
  CUSTOS_ASSIGN_OR_RETURN(std::string text, Scalar(filename, node, field));
  auto d = ParseDurationText(text);
  if (!d.ok())
    return ErrorAt(filename, node, "`" + std::string(field) + "`: " + d.status().message());
  if (*d > max) {
    return ErrorAt(filename, node,
                   "`" + std::string(field) + "` of " + text + " is over the limit of " +
                       FormatDurationText(max));
  }
  return *d;
}

Status ParseRule(std::string_view filename, const YAML::Node& node, ApprovalRule* rule) {
  if (!node.IsMap()) {
    return ErrorAt(filename, node,
                   "a rule must be a mapping such as { approvals: 1, approvers: owners }");
  }
  for (const auto& kv : node) {
    std::string key = kv.first.Scalar();
    const YAML::Node& value = kv.second;
    if (key == "approvals") {
      CUSTOS_ASSIGN_OR_RETURN(rule->approvals, SmallCount(filename, value, key, 1, kMaxApprovals));
    } else if (key == "approvers") {
      CUSTOS_ASSIGN_OR_RETURN(std::string role, Scalar(filename, value, key));
      if (role == "anyone") {
        rule->approvers = ApproverRole::kAnyone;
      } else if (role == "owners") {
        rule->approvers = ApproverRole::kOwners;
      } else if (role == "owners_or_stewards") {
        rule->approvers = ApproverRole::kOwnersOrStewards;
      } else {
        return ErrorAt(
            filename, value,
            "unknown approvers `" + role + "`; use anyone, owners or owners_or_stewards");
      }
    } else if (key == "mfa_approvals") {
      CUSTOS_ASSIGN_OR_RETURN(rule->mfa_approvals,
                              SmallCount(filename, value, key, 0, kMaxApprovals));
    } else if (key == "mfa_window") {
      CUSTOS_ASSIGN_OR_RETURN(rule->mfa_window, DurationField(filename, value, key, kMaxMfaWindow));
    } else {
      return ErrorAt(filename, kv.first,
                     "unknown rule field `" + key +
                         "`; expected approvals, approvers, mfa_approvals or mfa_window");
    }
  }
  if (rule->mfa_approvals > rule->approvals) {
    return ErrorAt(filename, node,
                   "mfa_approvals (" + std::to_string(rule->mfa_approvals) +
                       ") cannot exceed approvals (" + std::to_string(rule->approvals) + ")");
  }
  return Status::Ok();
}

}  // namespace

std::string_view ApproverRoleName(ApproverRole role) {
  switch (role) {
    case ApproverRole::kAnyone:
      return "anyone";
    case ApproverRole::kOwners:
      return "owners";
    case ApproverRole::kOwnersOrStewards:
      return "owners_or_stewards";
  }
  return "unknown";
}

std::string ApprovalRule::Describe() const {
  std::string who;
  switch (approvers) {
    case ApproverRole::kAnyone:
      who = approvals == 1 ? "approver" : "approvers";
      break;
    case ApproverRole::kOwners:
      who = approvals == 1 ? "owner" : "owners";
      break;
    case ApproverRole::kOwnersOrStewards:
      who = approvals == 1 ? "owner or steward" : "owners or stewards";
      break;
  }
  std::string text = std::to_string(approvals) + (approvals > 1 ? " distinct " : " ") + who;
  if (approvers == ApproverRole::kAnyone) text += " other than the requester";
  if (mfa_approvals > 0) {
    text += ", at least " + std::to_string(mfa_approvals) + " with MFA in the last " +
            FormatDurationText(mfa_window);
  }
  return text;
}

ApprovalRules ApprovalRules::Defaults() {
  ApprovalRules rules;
  rules.by_classification[0] = ApprovalRule{1, ApproverRole::kAnyone, 0, std::chrono::seconds(300)};
  rules.by_classification[1] = ApprovalRule{1, ApproverRole::kAnyone, 0, std::chrono::seconds(300)};
  rules.by_classification[2] = ApprovalRule{1, ApproverRole::kOwners, 0, std::chrono::seconds(300)};
  rules.by_classification[3] =
      ApprovalRule{2, ApproverRole::kOwnersOrStewards, 1, std::chrono::seconds(300)};
  return rules;
}

Result<ApprovalRules> ParseApprovalRulesYaml(std::string_view text, std::string_view filename) {
  ApprovalRules rules = ApprovalRules::Defaults();
  try {
    YAML::Node root = YAML::Load(std::string(text));
    if (root.IsNull()) return rules;  // an empty file keeps every default
    if (!root.IsMap()) {
      return ErrorAt(filename, root,
                     "the approval rules must be a mapping with max_duration, pending_ttl and "
                     "rules");
    }
    for (const auto& kv : root) {
      std::string key = kv.first.Scalar();
      if (key == "max_duration") {
        CUSTOS_ASSIGN_OR_RETURN(rules.max_duration,
                                DurationField(filename, kv.second, key, kMaxGrantDuration));
      } else if (key == "pending_ttl") {
        CUSTOS_ASSIGN_OR_RETURN(rules.pending_ttl,
                                DurationField(filename, kv.second, key, kMaxGrantDuration));
      } else if (key == "rules") {
        if (!kv.second.IsMap()) {
          return ErrorAt(filename, kv.second,
                         "`rules` must map a classification (public, internal, confidential, "
                         "restricted) to a rule");
        }
        for (const auto& rule : kv.second) {
          auto c = catalog::ParseClassification(rule.first.Scalar());
          if (!c.ok()) return ErrorAt(filename, rule.first, c.status().message());
          ApprovalRule parsed = ApprovalRules::Defaults().For(*c);
          CUSTOS_RETURN_IF_ERROR(ParseRule(filename, rule.second, &parsed));
          rules.by_classification[static_cast<size_t>(*c)] = parsed;
        }
      } else {
        return ErrorAt(filename, kv.first,
                       "unknown field `" + key + "`; expected max_duration, pending_ttl or rules");
      }
    }
  } catch (const YAML::Exception& e) {
    return InvalidArgumentError(Where(filename, e.mark) + ": " + e.msg);
  } catch (const std::exception& e) {
    return InvalidArgumentError(std::string(filename) + ": " + e.what());
  }
  return rules;
}

Result<ApprovalRules> LoadApprovalRulesFile(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return NotFoundError(path + ": no such approval rules file; pass the path of a YAML file");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return UnavailableError(path + ": cannot read the approval rules file");
  std::ostringstream text;
  text << in.rdbuf();
  if (!in.good() && !in.eof()) return UnavailableError(path + ": read error");
  return ParseApprovalRulesYaml(text.str(), path);
}

Result<std::chrono::seconds> ParseDurationText(std::string_view text) {
  if (text.size() < 2) {
    return InvalidArgumentError("`" + std::string(text) +
                                "` is not a duration; write a whole number and a unit, e.g. "
                                "90s, 5m, 12h or 7d");
  }
  int64_t unit = 0;
  switch (text.back()) {
    case 's':
      unit = 1;
      break;
    case 'm':
      unit = 60;
      break;
    case 'h':
      unit = 3600;
      break;
    case 'd':
      unit = 86400;
      break;
    default:
      return InvalidArgumentError("`" + std::string(text) +
                                  "`: unknown duration unit; use s, m, h or d");
  }
  int64_t n = 0;
  std::string_view digits = text.substr(0, text.size() - 1);
  for (char c : digits) {
    if (c < '0' || c > '9') {
      return InvalidArgumentError("`" + std::string(text) +
                                  "` is not a duration; write a whole number and a unit, e.g. "
                                  "90s, 5m, 12h or 7d");
    }
    if (n > (std::numeric_limits<int64_t>::max() / unit - 9) / 10) {
      return InvalidArgumentError("`" + std::string(text) + "` is too long a duration");
    }
    n = n * 10 + (c - '0');
  }
  if (n == 0)
    return InvalidArgumentError("`" + std::string(text) + "`: a duration must be positive");
  return std::chrono::seconds(n * unit);
}

std::string FormatDurationText(std::chrono::seconds d) {
  int64_t s = d.count();
  if (s != 0 && s % 86400 == 0) return std::to_string(s / 86400) + "d";
  if (s != 0 && s % 3600 == 0) return std::to_string(s / 3600) + "h";
  if (s != 0 && s % 60 == 0) return std::to_string(s / 60) + "m";
  return std::to_string(s) + "s";
}

}  // namespace custos::access
