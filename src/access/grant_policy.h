// How a grant becomes Cedar: one template per grant, linked once per resource.
//
//   @grant("gnt_x") @request("acr_y") @expires("2026-12-01T10:00:00Z")
//   @id("grant/gnt_x")
//   permit(principal == ?principal,
//          action in [Action::"read", Action::"read_masked"],
//          resource in ?resource)
//   when { context.purpose == "fraud-model" && context.now < 1796112000 };
//
// Link ids are "grant/gnt_x/<n>" (n = resource index), so a decision's determining policy
// names its grant (GrantIdFromPolicyId) for RecordUse and the audit event.
// Why a template per grant: Cedar slots hold only ?principal and ?resource, while purpose,
// actions and expiry differ per grant; putting them in the template's condition keeps every
// grant self-contained, lets it lapse by itself (`context.now` is the request time in unix
// seconds, set by Authorize), and makes revocation one atomic removal of its source.
// `resource in ?resource` also covers a feature view's features (their parent is the view).
// A request without `context.now` or `context.purpose` makes the policy error, which Cedar
// skips: fail closed.
// Thread-safety: free functions; safe from any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "access/records.h"
#include "policy/policy_store.h"

namespace custos::access {

// "grant/<grant id>": the template's policy id and its managed source's name.
std::string GrantTemplateId(std::string_view grant_id);
// "grant/<grant id>/<index>".
std::string GrantLinkId(std::string_view grant_id, size_t index);
// The grant id of a template or link id made here; nullopt for any other policy id.
std::optional<std::string> GrantIdFromPolicyId(std::string_view policy_id);

// The Cedar template text of `grant`.
std::string GrantTemplateText(const Grant& grant);

// The change that publishes `grant` (its source and one link per resource).
void AddGrantTo(const Grant& grant, policy::PolicyChange* change);
// The change that withdraws `grant` (its source, and with it every link).
void RemoveGrantFrom(const Grant& grant, policy::PolicyChange* change);

}  // namespace custos::access
