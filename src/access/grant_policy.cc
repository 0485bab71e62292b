// Grant templates: the Cedar text of a grant and the policy-store changes that publish and
// withdraw it.
#include "access/grant_policy.h"

#include "common/ids.h"

namespace custos::access {
namespace {

constexpr std::string_view kPrefix = "grant/";

std::string Quote(std::string_view s) { return "\"" + policy::EscapeCedarString(s) + "\""; }

}  // namespace

std::string GrantTemplateId(std::string_view grant_id) {
  return std::string(kPrefix) + std::string(grant_id);
}

std::string GrantLinkId(std::string_view grant_id, size_t index) {
  return GrantTemplateId(grant_id) + "/" + std::to_string(index);
}

std::optional<std::string> GrantIdFromPolicyId(std::string_view policy_id) {
  if (policy_id.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  std::string_view rest = policy_id.substr(kPrefix.size());
  size_t slash = rest.find('/');
  std::string_view id = rest.substr(0, slash);
  if (id.empty() || !common::ValidateId(id, "gnt").ok()) return std::nullopt;
  if (slash != std::string_view::npos) {
    std::string_view index = rest.substr(slash + 1);
    if (index.empty()) return std::nullopt;
    for (char c : index) {
      if (c < '0' || c > '9') return std::nullopt;
    }
  }
  return std::string(id);
}

std::string GrantTemplateText(const Grant& grant) {
  std::string text;
  text += "@id(" + Quote(GrantTemplateId(grant.id)) + ")\n";
  text += "@grant(" + Quote(grant.id) + ")\n";
  text += "@request(" + Quote(grant.request_id) + ")\n";
  text += "@expires(" + Quote(common::FormatRfc3339(grant.expires)) + ")\n";
  text += "permit(\n  principal == ?principal,\n  action in [";
  for (size_t i = 0; i < grant.actions.size(); ++i) {
    if (i > 0) text += ", ";
    text += policy::EntityUid("Action", grant.actions[i]).ToString();
  }
  text += "],\n  resource in ?resource\n)\nwhen {\n  context.purpose == " + Quote(grant.purpose) +
          " &&\n  context.now < " + std::to_string(common::ToUnixSeconds(grant.expires)) + "\n};\n";
  return text;
}

void AddGrantTo(const Grant& grant, policy::PolicyChange* change) {
  change->add_sources.push_back({GrantTemplateId(grant.id), GrantTemplateText(grant)});
  for (size_t i = 0; i < grant.resources.size(); ++i) {
    change->add_links.push_back(policy::TemplateLink{
        GrantTemplateId(grant.id), GrantLinkId(grant.id, i), grant.grantee, grant.resources[i]});
  }
}

void RemoveGrantFrom(const Grant& grant, policy::PolicyChange* change) {
  change->remove_sources.push_back(GrantTemplateId(grant.id));
}

}  // namespace custos::access
