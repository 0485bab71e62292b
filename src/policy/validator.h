// Validation against a Cedar schema: strict typechecking of policies (as Cedar's validator
// does), and checks that requests and entities conform to the schema.
// Thread-safety: a Validator is immutable after construction; its const methods may run
// concurrently. It keeps a reference to the Schema, which must outlive it.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "policy/ast.h"
#include "policy/schema.h"
#include "policy/value.h"

namespace custos::policy {

struct ValidatorOptions {
  // A policy whose condition is false in every request environment the schema allows
  // ("impossible policy"). Cedar's Rust validator reports it as a warning and passes; its
  // Lean specification rejects it. Default false: a warning, as the Rust validator does.
  bool reject_impossible_policies = false;
};

// One problem found in a policy.
struct PolicyDiagnostic {
  std::string policy_id;
  SourceLoc loc;        // position in the policy text (0:0 if unknown)
  std::string message;  // "<file>:<line>:<col>: policy `policy0`: <what>; <how to fix>"
};

struct ValidationResult {
  std::vector<PolicyDiagnostic> errors;
  std::vector<PolicyDiagnostic> warnings;
  bool ok() const { return errors.empty(); }
};

namespace validator_detail {
struct Ty;
}  // namespace validator_detail

// Cedar's strict validation mode. Every policy is typechecked once per request
// environment (action, principal type, resource type) the schema declares; a type error in
// any environment rejects the policy. Records and sets must have one least upper bound
// (same attributes, same entity type); optional attributes and tags need a `has` /
// `hasTag` guard; extension constructors need valid string literals.
class Validator {
 public:
  explicit Validator(const Schema& schema, ValidatorOptions options = {});
  ~Validator();
  Validator(const Validator&) = delete;
  Validator& operator=(const Validator&) = delete;

  // Validates every policy; the result lists every failing policy (first error each).
  ValidationResult Validate(const std::vector<Policy>& policies) const;
  // Validates one policy, appending to `out`.
  void ValidatePolicy(const Policy& policy, ValidationResult& out) const;

  // A request conforms if the action is declared, the principal and resource types are
  // in its appliesTo lists (and valid ids of enumerated types), and the context matches
  // the action's context record type.
  Status ValidateRequest(const EntityUid& principal, const EntityUid& action,
                         const EntityUid& resource, const Value& context) const;

  // An entity conforms if its type is declared (or it is a declared action), its
  // attributes match the type's shape, its parents' types are allowed by memberOfTypes and
  // its tags match the declared tag type. `tags` may be null (no tags).
  Status ValidateEntity(const EntityUid& uid, const RecordData& attributes,
                        const std::vector<EntityUid>& parents, const RecordData* tags) const;

  // Whether `value` has type `type` (entity values must have exactly the named type;
  // records must have every required attribute and no undeclared ones unless the record
  // allows additional attributes). `where` prefixes the message.
  Status CheckValue(const Value& value, const SchemaType& type, std::string_view where) const;

  const Schema& schema() const { return schema_; }

 private:
  using TyPtr = std::shared_ptr<const validator_detail::Ty>;
  struct RequestEnv {
    const ActionSchema* action;
    std::string principal;
    std::string resource;
    TyPtr context;
  };
  friend class PolicyTypechecker;

  // Converts a schema type; `cache` keeps shared schema nodes shared.
  TyPtr Convert(const SchemaType& type, std::map<const SchemaType*, TyPtr>& cache) const;
  TyPtr ConvertRecord(const RecordSchema& record, std::map<const SchemaType*, TyPtr>& cache) const;
  bool DescendentOf(std::string_view type, std::string_view ancestor) const;
  bool ActionDescendentOf(const ActionUid& action, const ActionUid& ancestor) const;
  bool IsValidEntityLiteral(const EntityUid& uid) const;

  const Schema& schema_;
  ValidatorOptions options_;
  std::vector<RequestEnv> envs_;
  std::map<std::string, TyPtr, std::less<>> entity_attrs_;  // record type per entity type
  std::map<std::string, TyPtr, std::less<>> entity_tags_;   // null: no tags
  std::set<std::pair<std::string, std::string>, std::less<>> type_descends_;  // (d, a), d != a
};

}  // namespace custos::policy
