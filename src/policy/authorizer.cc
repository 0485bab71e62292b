// Policy set indexing and Cedar's decision rule.
#include "policy/authorizer.h"

#include <algorithm>
#include <set>

#include "policy/parser.h"

namespace custos::policy {

std::string_view DecisionName(Decision d) { return d == Decision::kAllow ? "allow" : "deny"; }

Result<PolicySet> PolicySet::Create(std::vector<Policy> policies, uint64_t version) {
  PolicySet set;
  set.version_ = version;
  std::set<std::string, std::less<>> ids;
  for (auto& p : policies) {
    if (!ids.insert(p.id).second) {
      return InvalidArgumentError("duplicate policy id `" + p.id + "` (" + p.filename + ":" +
                                  std::to_string(p.loc.line) + ":" + std::to_string(p.loc.column) +
                                  "); ids must be unique");
    }
    if (p.IsTemplate()) {
      set.templates_.push_back(std::move(p));
    } else {
      set.policies_.push_back(std::move(p));
    }
  }
  set.BuildIndex();
  return set;
}

Result<PolicySet> PolicySet::WithLink(std::string_view template_id, std::string_view link_id,
                                      const EntityUid* principal, const EntityUid* resource,
                                      uint64_t version) const {
  const Policy* templ = nullptr;
  for (const auto& t : templates_) {
    if (t.id == template_id) templ = &t;
  }
  if (templ == nullptr) {
    return NotFoundError("no template with id `" + std::string(template_id) + "`");
  }
  CUSTOS_ASSIGN_OR_RETURN(Policy linked, LinkTemplate(*templ, link_id, principal, resource));
  std::vector<Policy> all = policies_;
  all.insert(all.end(), templates_.begin(), templates_.end());
  all.push_back(std::move(linked));
  return Create(std::move(all), version);
}

const Policy* PolicySet::Find(std::string_view id) const {
  for (const auto& p : policies_) {
    if (p.id == id) return &p;
  }
  for (const auto& p : templates_) {
    if (p.id == id) return &p;
  }
  return nullptr;
}

void PolicySet::BuildIndex() {
  any_action_.clear();
  by_action_.clear();
  for (uint32_t i = 0; i < policies_.size(); ++i) {
    const ScopeConstraint& a = policies_[i].action;
    switch (a.op) {
      case ScopeConstraint::Op::kEq:
      case ScopeConstraint::Op::kIn:
        by_action_[a.entity.uid].push_back(i);
        break;
      case ScopeConstraint::Op::kInSet: {
        std::vector<EntityUid> unique = a.entities;
        std::sort(unique.begin(), unique.end());
        unique.erase(std::unique(unique.begin(), unique.end()), unique.end());
        for (const auto& uid : unique) by_action_[uid].push_back(i);
        break;
      }
      default:
        any_action_.push_back(i);
        break;
    }
  }
}

void PolicySet::IsAuthorized(const Request& request, const EntityStore& entities,
                             Response* response) const {
  response->decision = Decision::kDeny;
  response->reasons.clear();
  response->errors.clear();
  response->policy_set_version = version_;
  std::vector<uint32_t>& cand = response->candidates;
  cand.assign(any_action_.begin(), any_action_.end());
  auto add = [&](const EntityUid& uid) {
    auto it = by_action_.find(uid);
    if (it != by_action_.end()) cand.insert(cand.end(), it->second.begin(), it->second.end());
  };
  add(request.action);
  size_t direct = cand.size();
  Evaluator evaluator(entities, request);
  if (const Entity* action = evaluator.action_entity()) {
    for (const auto& ancestor : action->ancestors) add(ancestor);
  }
  if (cand.size() != direct) {
    // A policy may be reachable through several action uids; evaluate it once, in order.
    std::sort(cand.begin(), cand.end());
    cand.erase(std::unique(cand.begin(), cand.end()), cand.end());
  }

  bool any_forbid = false;
  bool any_permit = false;
  std::string message;
  // Collect satisfied forbids and permits; the reasons are one of the two groups.
  size_t permit_begin = 0;
  std::vector<std::string_view>& reasons = response->reasons;
  for (uint32_t i : cand) {
    const Policy& p = policies_[i];
    switch (evaluator.EvaluatePolicy(p, &message)) {
      case Evaluator::Outcome::kTrue:
        if (p.effect == Effect::kForbid) {
          any_forbid = true;
          reasons.insert(reasons.begin() + static_cast<std::ptrdiff_t>(permit_begin), p.id);
          ++permit_begin;
        } else {
          any_permit = true;
          reasons.push_back(p.id);
        }
        break;
      case Evaluator::Outcome::kError:
        response->errors.push_back(PolicyError{p.id, std::move(message)});
        message.clear();
        break;
      case Evaluator::Outcome::kFalse:
        break;
    }
  }
  if (any_forbid) {
    reasons.resize(permit_begin);  // keep only the forbids
    response->decision = Decision::kDeny;
  } else if (any_permit) {
    response->decision = Decision::kAllow;
  }
}

}  // namespace custos::policy
