// The Cedar evaluator: decides whether one policy applies to one request, with Cedar's
// error semantics (type errors, integer overflow, missing attributes or entities and
// extension errors make the policy "error" rather than true or false).
// Thread-safety: an Evaluator is for one thread and one request at a time; the policies and
// the entity store it reads are immutable and may be shared.
#pragma once

#include <cstddef>
#include <string>

#include "common/status.h"
#include "policy/ast.h"
#include "policy/entities.h"
#include "policy/value.h"

namespace custos::policy {

// One authorization request: who, what, on which resource, in which context.
struct Request {
  EntityUid principal;
  EntityUid action;
  EntityUid resource;
  Value context = Value::Record({});  // must be a record
};

// Applies an extension function (constructor or method; a method's receiver is args[0])
// to evaluated arguments. Errors on wrong argument types, invalid literals or overflow.
Result<Value> ApplyExtFn(ExtFn fn, const Value* args, size_t count);

// True if `text` matches a `like` pattern (`*` matches any sequence of characters).
bool MatchesPattern(std::string_view text, const Pattern& pattern);

class Evaluator {
 public:
  enum class Outcome { kFalse, kTrue, kError };

  // Both must outlive the evaluator.
  Evaluator(const EntityStore& entities, const Request& request);
  // The same, with the request's resource entity given rather than looked up: for resources
  // that are not in the store, such as the rows a row filter checks one by one. `resource`
  // (may be null: no such entity) must outlive the evaluator.
  Evaluator(const EntityStore& entities, const Request& request, const Entity* resource);

  // Evaluates scope and conditions. On kError, `error` (if not null) receives a message
  // naming the policy, the position and the cause. Templates with open slots give kFalse.
  Outcome EvaluatePolicy(const Policy& policy, std::string* error = nullptr);

  // Whether the scope alone matches (never errors).
  bool ScopeMatches(const Policy& policy) const;

  // The request's action entity, or null if it is not in the store.
  const Entity* action_entity() const { return action_entity_; }

  // Evaluates one expression node of `policy` (tests and tools).
  Result<Value> EvaluateExpr(const Policy& policy, uint32_t node);

 private:
  enum class ErrorKind : uint8_t {
    kType,
    kOverflow,
    kMissingAttribute,
    kMissingEntity,
    kMissingTag,
    kExtension,
  };

  bool Eval(const ExprPool& pool, uint32_t node, Value* out);
  bool InEntity(const EntityUid& uid, const EntityUid& target) const;
  const Entity* Lookup(const EntityUid& uid) const;
  bool Fail(ErrorKind kind, const ExprNode& node, std::string detail);
  bool TypeError(const ExprNode& node, std::string_view expected, const Value& got);
  std::string ErrorMessage(const Policy& policy) const;

  const EntityStore& entities_;
  const Request& request_;
  Value principal_value_;
  Value action_value_;
  Value resource_value_;
  const Entity* principal_entity_;
  const Entity* action_entity_;
  const Entity* resource_entity_;

  ErrorKind error_kind_ = ErrorKind::kType;
  SourceLoc error_loc_;
  std::string error_detail_;
};

}  // namespace custos::policy
