// Helpers for the policy engine tests: evaluate a Cedar expression against a small request.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "policy/evaluator.h"
#include "policy/parser.h"

namespace custos::policy::testing {

// Parses `expr` as the body of a `when` clause and evaluates it for a request with
// principal User::"alice", action Action::"view", resource Photo::"p" and `context`.
inline Result<Value> Eval(const std::string& expr, const EntityStore& entities = {},
                          Value context = Value::Record({})) {
  auto policy = ParsePolicy("permit(principal, action, resource) when { " + expr + " };", "t");
  if (!policy.ok()) return policy.status();
  Request req;
  req.principal = EntityUid("User", "alice");
  req.action = EntityUid("Action", "view");
  req.resource = EntityUid("Photo", "p");
  req.context = std::move(context);
  Evaluator ev(entities, req);
  return ev.EvaluateExpr(*policy, policy->conditions[0].expr);
}

// The boolean result of `expr`, failing the test if it errors or is not a bool.
inline bool EvalBool(const std::string& expr, const EntityStore& entities = {}) {
  auto v = Eval(expr, entities);
  EXPECT_TRUE(v.ok()) << expr << ": " << v.status().ToString();
  if (!v.ok()) return false;
  EXPECT_TRUE(v->is(ValueKind::kBool)) << expr;
  return v->is(ValueKind::kBool) && v->AsBool();
}

// True if evaluating `expr` is an error (parse must succeed).
inline bool EvalErrors(const std::string& expr, const EntityStore& entities = {}) {
  auto policy = ParsePolicy("permit(principal, action, resource) when { " + expr + " };", "t");
  EXPECT_TRUE(policy.ok()) << expr << ": " << policy.status().ToString();
  return policy.ok() && !Eval(expr, entities).ok();
}

}  // namespace custos::policy::testing
