// Authorization with Cedar's semantics over an indexed policy set: default deny, forbid
// overrides permit, a policy that errors is skipped and reported. The answer lists the
// determining policy ids (reasons) and the erroring ones.
// Thread-safety: a PolicySet is immutable after construction and may be shared; IsAuthorized
// is const and safe to call concurrently (each call uses only its own Response).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "policy/ast.h"
#include "policy/entities.h"
#include "policy/evaluator.h"

namespace custos::policy {

enum class Decision : uint8_t { kDeny, kAllow };
std::string_view DecisionName(Decision d);  // "allow" / "deny"

struct PolicyError {
  std::string_view policy_id;  // points into the PolicySet
  std::string message;         // "<file>:<line>:<col>: policy `id`: <cause>"
};

// The answer to one request. Ids point into the PolicySet that produced them, which must
// outlive the response. Reuse one Response across calls to avoid reallocating.
struct Response {
  Decision decision = Decision::kDeny;
  std::vector<std::string_view> reasons;  // determining policies
  std::vector<PolicyError> errors;        // policies skipped because evaluation failed
  uint64_t policy_set_version = 0;

  // Internal scratch for candidate selection (kept to reuse its capacity).
  std::vector<uint32_t> candidates;
};

// A set of static and template-linked policies, indexed by action so that a request only
// evaluates the policies whose action constraint can match. Templates are kept (for
// linking) but never evaluated.
class PolicySet {
 public:
  PolicySet() = default;

  // Policies with open slots become templates; others are evaluated. Ids must be unique.
  static Result<PolicySet> Create(std::vector<Policy> policies, uint64_t version = 0);

  // A new set with `templ`'s slots filled as policy `link_id` (see LinkTemplate).
  Result<PolicySet> WithLink(std::string_view template_id, std::string_view link_id,
                             const EntityUid* principal, const EntityUid* resource,
                             uint64_t version) const;

  void IsAuthorized(const Request& request, const EntityStore& entities, Response* response) const;
  Response IsAuthorized(const Request& request, const EntityStore& entities) const {
    Response r;
    IsAuthorized(request, entities, &r);
    return r;
  }

  uint64_t version() const { return version_; }
  const std::vector<Policy>& policies() const { return policies_; }    // evaluated ones
  const std::vector<Policy>& templates() const { return templates_; }  // with open slots
  const Policy* Find(std::string_view id) const;

 private:
  void BuildIndex();

  uint64_t version_ = 0;
  std::vector<Policy> policies_;
  std::vector<Policy> templates_;
  // Policies whose action constraint is `action` (any): evaluated for every request.
  std::vector<uint32_t> any_action_;
  // Policies keyed by each action uid their constraint names (`==`, `in`, `in [...]`); a
  // request consults its action and the action's ancestors.
  std::unordered_map<EntityUid, std::vector<uint32_t>, EntityUidHash> by_action_;
};

}  // namespace custos::policy
