// Fuzzes the approval-rules parser (operator-held YAML) and duration text. Neither may
// crash, hang or throw; every accepted configuration must satisfy the rule invariants.
// Needs custos_access in the fuzz build's libraries (fuzz/CMakeLists.txt).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "access/approval_rules.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto rules = custos::access::ParseApprovalRulesYaml(text, "rules.yaml");
  if (rules.ok()) {
    for (const auto& rule : rules->by_classification) {
      if (rule.approvals < 1 || rule.approvals > 10 || rule.mfa_approvals > rule.approvals ||
          rule.mfa_window.count() <= 0) {
        std::abort();
      }
    }
    if (rules->max_duration.count() <= 0 || rules->pending_ttl.count() <= 0) std::abort();
  } else if (rules.status().message().rfind("rules.yaml", 0) != 0) {
    std::abort();  // every error names the file
  }
  auto d = custos::access::ParseDurationText(text);
  if (d.ok() &&
      custos::access::ParseDurationText(custos::access::FormatDurationText(*d)).value() != *d) {
    std::abort();
  }
  return 0;
}
