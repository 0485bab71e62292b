// libFuzzer target for policy/schema.h (both schema forms) and policy/validator.h: any
// bytes must parse or fail cleanly, a parsed schema must be internally consistent, and the
// validator must check any parsed policy set against it without crashing.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "policy/parser.h"
#include "policy/schema.h"
#include "policy/validator.h"

namespace {

using custos::policy::Schema;

// Invariants of a successfully built schema; a violation is a bug, so abort loudly.
void CheckInvariants(const Schema& schema) {
  for (const auto& [name, et] : schema.entity_types()) {
    if (name != et.name) std::abort();
    for (const auto& parent : et.member_of_types) {
      if (schema.FindEntityType(parent) == nullptr) std::abort();
    }
    if (schema.DescendantTypes(name).empty()) std::abort();  // contains the type itself
  }
  for (const auto& [uid, action] : schema.actions()) {
    for (const auto& anc : schema.ActionAncestors(uid)) {
      if (anc == uid || schema.FindAction(anc.type, anc.id) == nullptr) std::abort();
    }
    for (const auto& t : action.principal_types) {
      if (schema.FindEntityType(t) == nullptr) std::abort();
    }
    for (const auto& t : action.resource_types) {
      if (schema.FindEntityType(t) == nullptr) std::abort();
    }
  }
}

void Exercise(const Schema& schema, std::string_view fuzzed_policies) {
  CheckInvariants(schema);
  custos::policy::Validator validator(schema);
  // Policies from the input itself, if it has any: the validator must cope with whatever
  // the policy parser accepts.
  if (!fuzzed_policies.empty()) {
    auto policies = custos::policy::ParsePolicies(fuzzed_policies);
    if (policies.ok()) (void)validator.Validate(*policies);
  }
  // A small policy set touching scope, attributes, tags and sets in every environment.
  static constexpr std::string_view kPolicies = R"(
    permit(principal, action, resource)
      when { principal has a && principal.a == resource.a };
    forbid(principal, action, resource)
      unless { resource.hasTag("t") && resource.getTag("t") == context.x };
    permit(principal in Group::"g", action, resource) when { [1, 2].contains(context.n) };
  )";
  auto policies = custos::policy::ParsePolicies(kPolicies);
  if (!policies.ok()) std::abort();
  (void)validator.Validate(*policies);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  // The first byte picks the form, so one corpus covers both. Text after a line "%%" is
  // a policy set to validate against the schema.
  std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::string_view policies;
  if (size_t split = text.find("\n%%\n"); split != std::string_view::npos) {
    policies = text.substr(split + 4);
    text = text.substr(0, split);
  }
  auto schema = (data[0] & 1) ? Schema::ParseJsonSchema(text, "fuzz.json")
                              : Schema::ParseCedarSchema(text, "fuzz.cedarschema");
  if (schema.ok()) {
    Exercise(*schema, policies);
  } else if (schema.status().message().empty()) {
    std::abort();  // every error must say what went wrong
  }
  return 0;
}
