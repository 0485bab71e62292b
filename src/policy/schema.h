// Cedar schemas: the entity types, actions and attribute types a policy set is written
// against, read from the human form (.cedarschema) or the JSON form, fully resolved.
// Thread-safety: a Schema is immutable after parsing; safe to share between threads.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace custos::policy {

// The four extension types of Cedar 4 (`ipaddr`, `decimal`, `datetime`, `duration`).
enum class ExtensionType { kIpAddr, kDecimal, kDatetime, kDuration };

// "ipaddr", "decimal", "datetime", "duration".
std::string_view ExtensionTypeName(ExtensionType type);

struct SchemaType;
using SchemaTypePtr = std::shared_ptr<const SchemaType>;

// One attribute of a record or entity shape.
struct AttributeSchema {
  SchemaTypePtr type;    // never null after parsing
  bool required = true;  // false for `name?: T`
};

// A record type. Attribute names are unique; iteration is in name order.
struct RecordSchema {
  std::map<std::string, AttributeSchema, std::less<>> attributes;
  // JSON form only (`additionalAttributes: true`): values may carry attributes not listed.
  bool additional_attributes = false;

  const AttributeSchema* Find(std::string_view name) const {
    auto it = attributes.find(name);
    return it == attributes.end() ? nullptr : &it->second;
  }
};

// A Cedar type as a schema names it, after common types were substituted and every
// entity type name was made fully qualified. Types are immutable and shared.
struct SchemaType {
  enum class Kind { kBool, kLong, kString, kSet, kRecord, kEntity, kExtension };

  Kind kind = Kind::kBool;
  SchemaTypePtr element;                             // kSet: the element type
  RecordSchema record;                               // kRecord
  std::string entity_type;                           // kEntity: fully qualified name
  ExtensionType extension = ExtensionType::kIpAddr;  // kExtension

  static SchemaTypePtr Bool();
  static SchemaTypePtr Long();
  static SchemaTypePtr String();
  static SchemaTypePtr Set(SchemaTypePtr element);
  static SchemaTypePtr Record(RecordSchema record);
  static SchemaTypePtr Entity(std::string qualified_name);
  static SchemaTypePtr Extension(ExtensionType type);

  // Cedar-like rendering for messages: `Set<Long>`, `{a: Bool, b?: NS::User}`.
  std::string ToString() const;
};

// Structural equality (attribute requiredness and additional_attributes included).
bool SameType(const SchemaType& a, const SchemaType& b);

// Annotations written on a schema declaration: `@doc("...")` gives {"doc", "..."};
// `@flag` alone gives {"flag", ""}.
using SchemaAnnotations = std::map<std::string, std::string, std::less<>>;

// One entity type.
struct EntityTypeSchema {
  std::string name;                          // fully qualified: `NS::User`, `User`
  std::vector<std::string> member_of_types;  // fully qualified parent entity types
  RecordSchema shape;                        // attributes (empty record if none declared)
  SchemaTypePtr tags;                        // type of tag values; null: no tags allowed
  // Enumerated entity type (`entity E enum ["a", "b"]`): the only valid ids. Such types
  // have no attributes, no tags and no parents.
  std::optional<std::vector<std::string>> enum_ids;
  SchemaAnnotations annotations;
};

// An action entity reference: type `Action` or `NS::Action`, plus its id.
struct ActionUid {
  std::string type;
  std::string id;
  friend bool operator==(const ActionUid&, const ActionUid&) = default;
  friend auto operator<=>(const ActionUid&, const ActionUid&) = default;
};

// One action.
struct ActionSchema {
  ActionUid uid;
  std::vector<ActionUid> member_of;  // direct parent action groups
  // True when the declaration has `appliesTo`. Without it (or with an empty principal or
  // resource list) no request can use this action; it still serves as an action group.
  bool has_applies_to = false;
  std::vector<std::string> principal_types;  // fully qualified
  std::vector<std::string> resource_types;   // fully qualified
  RecordSchema context;                      // the request context's shape
  SchemaAnnotations annotations;
};

// A parsed, resolved and checked schema. Build it with one of the Parse functions.
// Names resolve as Cedar 4 does: an unqualified name in namespace NS is a common type
// NS::N, else an entity type NS::N, else a common type N, else an entity type N, else a
// builtin (Bool, Long, String, ipaddr, decimal, datetime, duration; `__cedar::X` always
// names the builtin). Parsing rejects unknown names, duplicates, cyclic common types and
// action groups, declarations shadowing the empty namespace (RFC 70), reserved names,
// nesting deeper than 200 levels and types whose expanded size exceeds 100,000 nodes.
class Schema {
 public:
  Schema() = default;

  // The human-readable form (Cedar 4.x .cedarschema). `filename` only names the source in
  // error messages, which read `<filename>:<line>:<col>: <what was expected>`.
  static Result<Schema> ParseCedarSchema(std::string_view text, std::string_view filename);
  // The JSON form. Errors name the JSON path of the offending element.
  static Result<Schema> ParseJsonSchema(std::string_view text, std::string_view filename);
  // Either form: JSON if the first non-blank character is '{' (a human-readable schema
  // cannot start with one), else the human-readable form.
  static Result<Schema> Parse(std::string_view text, std::string_view filename);

  // Null when unknown. `qualified_name` as written in policies: `NS::User`.
  const EntityTypeSchema* FindEntityType(std::string_view qualified_name) const;
  // Null when unknown. `action_type` is `Action` or `NS::Action`.
  const ActionSchema* FindAction(std::string_view action_type, std::string_view action_id) const;

  // Declared entity types, in name order (action entity types are not listed here).
  const std::map<std::string, EntityTypeSchema, std::less<>>& entity_types() const {
    return entity_types_;
  }
  // Declared actions, ordered by (type, id).
  const std::map<ActionUid, ActionSchema>& actions() const { return actions_; }

  // True if `type` is the type of some declared action (`Action`, `NS::Action`).
  bool IsActionEntityType(std::string_view type) const;

  // Entity types (including `type` itself) whose entities may be descendants of an
  // entity of type `type` under memberOfTypes, transitively. Empty if `type` is unknown.
  const std::vector<std::string>& DescendantTypes(std::string_view type) const;

  // Transitive ancestors of an action (its groups, their groups, ...), not itself.
  // Empty if unknown.
  const std::vector<ActionUid>& ActionAncestors(const ActionUid& action) const;

 private:
  friend class SchemaBuilder;

  std::map<std::string, EntityTypeSchema, std::less<>> entity_types_;
  std::map<ActionUid, ActionSchema> actions_;
  std::map<std::string, std::vector<std::string>, std::less<>> descendant_types_;
  std::map<ActionUid, std::vector<ActionUid>> action_ancestors_;
  std::vector<std::string> action_entity_types_;  // sorted
};

// Intermediate form shared by the two schema parsers (schema.cc, schema_json.cc): names as
// written, not yet resolved. Not for other callers; use Schema.
namespace schema_raw {

struct RawType;
struct RawAttr {
  std::string name;
  std::shared_ptr<RawType> type;
  bool required = true;
  std::string where;  // "file:line:col" or "file: <json path>"
};
struct RawType {
  // kName: a name to resolve (common type, entity type or builtin); kCommon: the JSON
  // form's `{"type": "Name"}`; kEntity / kExtension: the JSON form's explicit kinds.
  enum class Kind { kBool, kLong, kString, kName, kCommon, kEntity, kExtension, kSet, kRecord };
  Kind kind = Kind::kName;
  std::string name;
  std::shared_ptr<RawType> element;
  std::vector<RawAttr> attributes;
  bool additional_attributes = false;
  std::string where;
};
struct RawEntityDecl {
  std::string ns, basename, where;
  std::vector<std::pair<std::string, std::string>> parents;  // (name, where)
  std::shared_ptr<RawType> shape, tags;
  std::optional<std::vector<std::string>> enum_ids;
  SchemaAnnotations annotations;
};
struct RawActionRef {
  std::optional<std::string> type;  // absent: the declaring namespace's Action
  std::string id, where;
};
struct RawActionDecl {
  std::string ns, id, where;
  std::vector<RawActionRef> parents;
  bool has_applies_to = false;
  std::vector<std::pair<std::string, std::string>> principals, resources;  // (name, where)
  std::shared_ptr<RawType> context;
  SchemaAnnotations annotations;
};
struct RawCommonDecl {
  std::string ns, basename, where;
  std::shared_ptr<RawType> type;
  SchemaAnnotations annotations;
};
struct RawSchema {
  std::string filename;
  std::vector<RawCommonDecl> common_types;
  std::vector<RawEntityDecl> entity_types;
  std::vector<RawActionDecl> actions;
};

// Resolves names, checks the declarations and builds the Schema.
Result<Schema> BuildSchema(RawSchema& raw);

}  // namespace schema_raw

}  // namespace custos::policy
