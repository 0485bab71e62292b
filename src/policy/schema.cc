// Cedar schemas: the type model, name resolution shared by both schema forms, and the
// parser of the human-readable form (.cedarschema). The JSON form is in schema_json.cc.
#include "policy/schema.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <functional>
#include <set>
#include <unordered_map>
#include <utility>

namespace custos::policy {

// ---------------------------------------------------------------------------------------
// Type model.

std::string_view ExtensionTypeName(ExtensionType type) {
  switch (type) {
    case ExtensionType::kIpAddr:
      return "ipaddr";
    case ExtensionType::kDecimal:
      return "decimal";
    case ExtensionType::kDatetime:
      return "datetime";
    case ExtensionType::kDuration:
      return "duration";
  }
  return "ipaddr";
}

SchemaTypePtr SchemaType::Bool() {
  auto t = std::make_shared<SchemaType>();
  t->kind = Kind::kBool;
  return t;
}
SchemaTypePtr SchemaType::Long() {
  auto t = std::make_shared<SchemaType>();
  t->kind = Kind::kLong;
  return t;
}
SchemaTypePtr SchemaType::String() {
  auto t = std::make_shared<SchemaType>();
  t->kind = Kind::kString;
  return t;
}
SchemaTypePtr SchemaType::Set(SchemaTypePtr element) {
  auto t = std::make_shared<SchemaType>();
  t->kind = Kind::kSet;
  t->element = std::move(element);
  return t;
}
SchemaTypePtr SchemaType::Record(RecordSchema record) {
  auto t = std::make_shared<SchemaType>();
  t->kind = Kind::kRecord;
  t->record = std::move(record);
  return t;
}
SchemaTypePtr SchemaType::Entity(std::string qualified_name) {
  auto t = std::make_shared<SchemaType>();
  t->kind = Kind::kEntity;
  t->entity_type = std::move(qualified_name);
  return t;
}
SchemaTypePtr SchemaType::Extension(ExtensionType type) {
  auto t = std::make_shared<SchemaType>();
  t->kind = Kind::kExtension;
  t->extension = type;
  return t;
}

namespace {

// Appends `t` to `out`, giving up with "..." once `out` reaches `limit` characters: shared
// common types can make the full text exponentially long.
void AppendType(const SchemaType& t, std::string& out, size_t limit) {
  if (out.size() >= limit) {
    if (out.size() < limit + 3) out += "...";
    return;
  }
  switch (t.kind) {
    case SchemaType::Kind::kBool:
      out += "Bool";
      return;
    case SchemaType::Kind::kLong:
      out += "Long";
      return;
    case SchemaType::Kind::kString:
      out += "String";
      return;
    case SchemaType::Kind::kSet:
      out += "Set<";
      if (t.element) AppendType(*t.element, out, limit);
      out += ">";
      return;
    case SchemaType::Kind::kRecord: {
      out += "{";
      bool first = true;
      for (const auto& [name, attr] : t.record.attributes) {
        if (out.size() >= limit) {
          out += "...";
          break;
        }
        if (!first) out += ", ";
        first = false;
        out += name;
        out += attr.required ? ": " : "?: ";
        if (attr.type) AppendType(*attr.type, out, limit);
      }
      out += "}";
      return;
    }
    case SchemaType::Kind::kEntity:
      out += t.entity_type;
      return;
    case SchemaType::Kind::kExtension:
      out += ExtensionTypeName(t.extension);
      return;
  }
}

}  // namespace

std::string SchemaType::ToString() const {
  std::string out;
  AppendType(*this, out, 400);
  return out;
}

bool SameType(const SchemaType& a, const SchemaType& b) {
  if (&a == &b) return true;
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case SchemaType::Kind::kBool:
    case SchemaType::Kind::kLong:
    case SchemaType::Kind::kString:
      return true;
    case SchemaType::Kind::kSet:
      return a.element && b.element && SameType(*a.element, *b.element);
    case SchemaType::Kind::kEntity:
      return a.entity_type == b.entity_type;
    case SchemaType::Kind::kExtension:
      return a.extension == b.extension;
    case SchemaType::Kind::kRecord: {
      if (a.record.additional_attributes != b.record.additional_attributes) return false;
      if (a.record.attributes.size() != b.record.attributes.size()) return false;
      auto it = b.record.attributes.begin();
      for (const auto& [name, attr] : a.record.attributes) {
        if (it->first != name || it->second.required != attr.required) return false;
        if (!attr.type || !it->second.type || !SameType(*attr.type, *it->second.type)) {
          return false;
        }
        ++it;
      }
      return true;
    }
  }
  return false;
}

// ---------------------------------------------------------------------------------------
// Schema lookups.

const EntityTypeSchema* Schema::FindEntityType(std::string_view qualified_name) const {
  auto it = entity_types_.find(qualified_name);
  return it == entity_types_.end() ? nullptr : &it->second;
}

const ActionSchema* Schema::FindAction(std::string_view action_type,
                                       std::string_view action_id) const {
  auto it = actions_.find(ActionUid{std::string(action_type), std::string(action_id)});
  return it == actions_.end() ? nullptr : &it->second;
}

bool Schema::IsActionEntityType(std::string_view type) const {
  return std::binary_search(action_entity_types_.begin(), action_entity_types_.end(), type);
}

const std::vector<std::string>& Schema::DescendantTypes(std::string_view type) const {
  static const std::vector<std::string> kEmpty;  // immutable, so not mutable global state
  auto it = descendant_types_.find(type);
  return it == descendant_types_.end() ? kEmpty : it->second;
}

const std::vector<ActionUid>& Schema::ActionAncestors(const ActionUid& action) const {
  static const std::vector<ActionUid> kEmpty;
  auto it = action_ancestors_.find(action);
  return it == action_ancestors_.end() ? kEmpty : it->second;
}

// ---------------------------------------------------------------------------------------
// Resolution: raw declarations (either form) to a Schema.

namespace {

std::string Qualify(std::string_view ns, std::string_view basename) {
  if (ns.empty()) return std::string(basename);
  std::string out(ns);
  out += "::";
  out += basename;
  return out;
}

std::string ActionTypeFor(std::string_view ns) { return Qualify(ns, "Action"); }

std::optional<SchemaTypePtr> BuiltinType(std::string_view name) {
  if (name == "Bool") return SchemaType::Bool();
  if (name == "Long") return SchemaType::Long();
  if (name == "String") return SchemaType::String();
  if (name == "ipaddr") return SchemaType::Extension(ExtensionType::kIpAddr);
  if (name == "decimal") return SchemaType::Extension(ExtensionType::kDecimal);
  if (name == "datetime") return SchemaType::Extension(ExtensionType::kDatetime);
  if (name == "duration") return SchemaType::Extension(ExtensionType::kDuration);
  return std::nullopt;
}

constexpr int kMaxTypeDepth = 200;
constexpr uint64_t kMaxExpandedTypeSize = 100000;

}  // namespace

class SchemaBuilder {
 public:
  explicit SchemaBuilder(schema_raw::RawSchema& raw) : raw_(raw) {}

  Result<Schema> Build() {
    // Index every declared name first: resolution may refer forward.
    for (auto& c : raw_.common_types) {
      std::string full = Qualify(c.ns, c.basename);
      if (!common_.emplace(full, &c).second) {
        return Error(c.where, "common type `" + full + "` is declared twice; rename one");
      }
    }
    for (auto& e : raw_.entity_types) {
      std::string full = Qualify(e.ns, e.basename);
      if (entity_names_.count(full) != 0) {
        return Error(e.where, "entity type `" + full + "` is declared twice; remove one");
      }
      entity_names_.insert(full);
    }
    for (auto& a : raw_.actions) {
      ActionUid uid{ActionTypeFor(a.ns), a.id};
      if (action_uids_.count(uid) != 0) {
        return Error(a.where,
                     "action `" + uid.type + "::\"" + a.id + "\"` is declared twice; remove one");
      }
      action_uids_.insert(uid);
    }

    // Resolve every common type, used or not, so that errors in any of them (unknown
    // names, cycles) are reported.
    for (auto& c : raw_.common_types) {
      CUSTOS_RETURN_IF_ERROR(ResolveCommon(Qualify(c.ns, c.basename), c.where, 0).status());
    }

    CUSTOS_RETURN_IF_ERROR(CheckEmptyNamespaceShadowing());

    Schema schema;
    for (auto& e : raw_.entity_types) {
      EntityTypeSchema out;
      out.name = Qualify(e.ns, e.basename);
      out.annotations = e.annotations;
      for (const auto& [parent, where] : e.parents) {
        CUSTOS_ASSIGN_OR_RETURN(std::string full, ResolveEntityName(parent, e.ns, where));
        if (std::find(out.member_of_types.begin(), out.member_of_types.end(), full) ==
            out.member_of_types.end()) {
          out.member_of_types.push_back(std::move(full));
        }
      }
      if (e.shape) {
        CUSTOS_ASSIGN_OR_RETURN(SchemaTypePtr shape, Resolve(*e.shape, e.ns, 0));
        if (shape->kind != SchemaType::Kind::kRecord) {
          return Error(e.shape->where, "the shape of entity type `" + out.name +
                                           "` must be a record type, not " + shape->ToString());
        }
        out.shape = shape->record;
      }
      if (e.tags) {
        CUSTOS_ASSIGN_OR_RETURN(out.tags, Resolve(*e.tags, e.ns, 0));
      }
      if (e.enum_ids) {
        if (e.enum_ids->empty()) {
          return Error(e.where, "enumerated entity type `" + out.name +
                                    "` needs at least one id in its enum list");
        }
        out.enum_ids = *e.enum_ids;
      }
      schema.entity_types_.emplace(out.name, std::move(out));
    }

    for (auto& a : raw_.actions) {
      ActionSchema out;
      out.uid = ActionUid{ActionTypeFor(a.ns), a.id};
      out.annotations = a.annotations;
      for (const auto& ref : a.parents) {
        CUSTOS_ASSIGN_OR_RETURN(ActionUid parent, ResolveActionRef(ref, a.ns));
        if (std::find(out.member_of.begin(), out.member_of.end(), parent) == out.member_of.end()) {
          out.member_of.push_back(std::move(parent));
        }
      }
      out.has_applies_to = a.has_applies_to;
      for (const auto& [name, where] : a.principals) {
        CUSTOS_ASSIGN_OR_RETURN(std::string full, ResolveEntityName(name, a.ns, where));
        if (std::find(out.principal_types.begin(), out.principal_types.end(), full) ==
            out.principal_types.end()) {
          out.principal_types.push_back(std::move(full));
        }
      }
      for (const auto& [name, where] : a.resources) {
        CUSTOS_ASSIGN_OR_RETURN(std::string full, ResolveEntityName(name, a.ns, where));
        if (std::find(out.resource_types.begin(), out.resource_types.end(), full) ==
            out.resource_types.end()) {
          out.resource_types.push_back(std::move(full));
        }
      }
      if (a.context) {
        CUSTOS_ASSIGN_OR_RETURN(SchemaTypePtr context, Resolve(*a.context, a.ns, 0));
        if (context->kind != SchemaType::Kind::kRecord) {
          return Error(a.context->where, "the context of action \"" + a.id +
                                             "\" must be a record type, not " +
                                             context->ToString());
        }
        out.context = context->record;
      }
      schema.action_entity_types_.push_back(out.uid.type);
      ActionUid key = out.uid;
      schema.actions_.emplace(std::move(key), std::move(out));
    }
    std::sort(schema.action_entity_types_.begin(), schema.action_entity_types_.end());
    schema.action_entity_types_.erase(
        std::unique(schema.action_entity_types_.begin(), schema.action_entity_types_.end()),
        schema.action_entity_types_.end());

    // Common types are shared, so a few lines can describe a type whose expanded tree is
    // exponentially large; consumers walk types as trees, so bound the expanded size.
    for (auto& e : raw_.entity_types) {
      const EntityTypeSchema& et = schema.entity_types_.at(Qualify(e.ns, e.basename));
      uint64_t size = 1;
      for (const auto& [name, attr] : et.shape.attributes) size += ExpandedSize(*attr.type);
      if (et.tags) size += ExpandedSize(*et.tags);
      if (size > kMaxExpandedTypeSize) {
        return Error(e.where, "the types of entity type `" + et.name + "` expand to more than " +
                                  std::to_string(kMaxExpandedTypeSize) + " nodes; simplify them");
      }
    }
    for (auto& a : raw_.actions) {
      const ActionSchema& action = schema.actions_.at(ActionUid{ActionTypeFor(a.ns), a.id});
      uint64_t size = 1;
      for (const auto& [name, attr] : action.context.attributes) {
        size += ExpandedSize(*attr.type);
      }
      if (size > kMaxExpandedTypeSize) {
        return Error(a.where, "the context type of action \"" + a.id + "\" expands to more than " +
                                  std::to_string(kMaxExpandedTypeSize) + " nodes; simplify it");
      }
    }

    CUSTOS_RETURN_IF_ERROR(ComputeActionAncestors(schema));
    ComputeDescendantTypes(schema);
    return schema;
  }

 private:
  Status Error(const std::string& where, const std::string& what) const {
    return InvalidArgumentError(where + ": " + what);
  }

  // Cedar 4 (RFC 70): a declaration in a namespace may not reuse the name of an entity
  // type or common type (or, for actions, of an action) declared in the empty namespace,
  // since unqualified references could not reach the latter.
  Status CheckEmptyNamespaceShadowing() const {
    std::set<std::string> empty_types, empty_actions;
    for (const auto& c : raw_.common_types) {
      if (c.ns.empty()) empty_types.insert(c.basename);
    }
    for (const auto& e : raw_.entity_types) {
      if (e.ns.empty()) empty_types.insert(e.basename);
    }
    for (const auto& a : raw_.actions) {
      if (a.ns.empty()) empty_actions.insert(a.id);
    }
    auto shadow = [&](const std::string& ns, const std::string& name, const std::string& where,
                      const char* what) -> Status {
      return Error(where, std::string(what) + " `" + Qualify(ns, name) + "` shadows `" + name +
                              "` declared in the empty namespace; rename one of them");
    };
    for (const auto& c : raw_.common_types) {
      if (!c.ns.empty() && empty_types.count(c.basename) != 0) {
        return shadow(c.ns, c.basename, c.where, "common type");
      }
    }
    for (const auto& e : raw_.entity_types) {
      if (!e.ns.empty() && empty_types.count(e.basename) != 0) {
        return shadow(e.ns, e.basename, e.where, "entity type");
      }
    }
    for (const auto& a : raw_.actions) {
      if (!a.ns.empty() && empty_actions.count(a.id) != 0) {
        return Error(a.where, "action \"" + a.id + "\" in namespace `" + a.ns +
                                  "` shadows the action of that name in the empty namespace; "
                                  "rename one of them");
      }
    }
    return Status::Ok();
  }

  // An entity type name in memberOfTypes / principal / resource: `N` means `NS::N` if
  // declared, else `N` in the empty namespace.
  Result<std::string> ResolveEntityName(const std::string& name, const std::string& ns,
                                        const std::string& where) const {
    if (name.find("::") == std::string::npos && !ns.empty()) {
      std::string full = Qualify(ns, name);
      if (entity_names_.count(full) != 0) return full;
    }
    if (entity_names_.count(name) != 0) return name;
    return Error(where, "unknown entity type `" + name + "`; declare it with `entity " + name +
                            ";` or fix the name");
  }

  Result<ActionUid> ResolveActionRef(const schema_raw::RawActionRef& ref,
                                     const std::string& ns) const {
    if (!ref.type) {
      ActionUid uid{ActionTypeFor(ns), ref.id};
      if (action_uids_.count(uid) != 0) return uid;
      return Error(ref.where, "unknown action group \"" + ref.id +
                                  "\"; declare it as an action in this namespace");
    }
    const std::string& type = *ref.type;
    if (type.find("::") == std::string::npos && !ns.empty()) {
      ActionUid uid{Qualify(ns, type), ref.id};
      if (action_uids_.count(uid) != 0) return uid;
    }
    ActionUid uid{type, ref.id};
    if (action_uids_.count(uid) != 0) return uid;
    return Error(ref.where, "unknown action group " + type + "::\"" + ref.id +
                                "\"; declare it as an action first");
  }

  Result<SchemaTypePtr> ResolveName(const std::string& name, const std::string& ns,
                                    const std::string& where, int depth) {
    constexpr std::string_view kCedarPrefix = "__cedar::";
    if (name.compare(0, kCedarPrefix.size(), kCedarPrefix) == 0) {
      if (auto t = BuiltinType(std::string_view(name).substr(kCedarPrefix.size()))) {
        return *t;
      }
      return Error(where, "unknown builtin type `" + name +
                              "`; __cedar:: names Bool, Long, String, ipaddr, decimal, "
                              "datetime and duration");
    }
    std::vector<std::string> candidates;
    if (name.find("::") == std::string::npos && !ns.empty()) {
      candidates.push_back(Qualify(ns, name));
    }
    candidates.push_back(name);
    for (const auto& full : candidates) {
      if (common_.count(full) != 0) return ResolveCommon(full, where, depth);
      if (entity_names_.count(full) != 0) return SchemaType::Entity(full);
    }
    if (name.find("::") == std::string::npos) {
      if (auto t = BuiltinType(name)) return *t;
    }
    return Error(where, "unknown type `" + name +
                            "`; declare it as an entity type or a common type (`type " + name +
                            " = ...;`)");
  }

  Result<SchemaTypePtr> ResolveCommon(const std::string& full, const std::string& where,
                                      int depth) {
    auto done = resolved_common_.find(full);
    if (done != resolved_common_.end()) return done->second;
    if (!in_progress_.insert(full).second) {
      return Error(
          where, "common type `" + full + "` refers to itself; a common type cannot be recursive");
    }
    schema_raw::RawCommonDecl* decl = common_.at(full);
    Result<SchemaTypePtr> t = Resolve(*decl->type, decl->ns, depth + 1);
    in_progress_.erase(full);
    if (!t.ok()) return t.status();
    resolved_common_.emplace(full, *t);
    return t;
  }

  Result<SchemaTypePtr> Resolve(const schema_raw::RawType& raw, const std::string& ns, int depth) {
    if (depth > kMaxTypeDepth) {
      return Error(raw.where, "types nest too deeply (more than " + std::to_string(kMaxTypeDepth) +
                                  " levels)");
    }
    using K = schema_raw::RawType::Kind;
    switch (raw.kind) {
      case K::kBool:
        return SchemaType::Bool();
      case K::kLong:
        return SchemaType::Long();
      case K::kString:
        return SchemaType::String();
      case K::kName:
        return ResolveName(raw.name, ns, raw.where, depth);
      case K::kCommon: {
        // JSON `{"type": "Name"}`: a common type, or (Cedar 4) an entity type.
        return ResolveName(raw.name, ns, raw.where, depth);
      }
      case K::kEntity: {
        CUSTOS_ASSIGN_OR_RETURN(std::string full, ResolveEntityName(raw.name, ns, raw.where));
        return SchemaType::Entity(std::move(full));
      }
      case K::kExtension: {
        std::string_view name = raw.name;
        if (name.compare(0, 9, "__cedar::") == 0) name.remove_prefix(9);
        if (name == "ipaddr" || name == "decimal" || name == "datetime" || name == "duration") {
          return *BuiltinType(name);
        }
        return Error(raw.where, "unknown extension type `" + raw.name +
                                    "`; expected ipaddr, decimal, datetime or duration");
      }
      case K::kSet: {
        if (!raw.element) return Error(raw.where, "a Set type needs an element type");
        CUSTOS_ASSIGN_OR_RETURN(SchemaTypePtr element, Resolve(*raw.element, ns, depth + 1));
        return SchemaType::Set(std::move(element));
      }
      case K::kRecord: {
        RecordSchema record;
        record.additional_attributes = raw.additional_attributes;
        for (const auto& attr : raw.attributes) {
          CUSTOS_ASSIGN_OR_RETURN(SchemaTypePtr t, Resolve(*attr.type, ns, depth + 1));
          if (!record.attributes.emplace(attr.name, AttributeSchema{t, attr.required}).second) {
            return Error(attr.where, "attribute `" + attr.name +
                                         "` is declared twice in this record; remove one");
          }
        }
        return SchemaType::Record(std::move(record));
      }
    }
    return Error(raw.where, "unsupported type");
  }

  // Number of nodes of `t` written out as a tree (saturating), memoized per shared node.
  uint64_t ExpandedSize(const SchemaType& t) {
    auto it = expanded_size_.find(&t);
    if (it != expanded_size_.end()) return it->second;
    uint64_t size = 1;
    if (t.kind == SchemaType::Kind::kSet && t.element) {
      size += ExpandedSize(*t.element);
    } else if (t.kind == SchemaType::Kind::kRecord) {
      for (const auto& [name, attr] : t.record.attributes) {
        size += ExpandedSize(*attr.type);
        if (size > kMaxExpandedTypeSize) break;
      }
    }
    size = std::min<uint64_t>(size, kMaxExpandedTypeSize + 1);
    expanded_size_.emplace(&t, size);
    return size;
  }

  Status ComputeActionAncestors(Schema& schema) const {
    // Iterative DFS per action; a cycle in memberOf is an error, as in Cedar.
    for (const auto& [uid, action] : schema.actions_) {
      std::vector<ActionUid> ancestors;
      std::set<ActionUid> seen;
      std::vector<ActionUid> stack(action.member_of.begin(), action.member_of.end());
      while (!stack.empty()) {
        ActionUid next = std::move(stack.back());
        stack.pop_back();
        if (next == uid) {
          return InvalidArgumentError(raw_.filename + ": action " + uid.type + "::\"" + uid.id +
                                      "\" is (transitively) a member of itself; remove the "
                                      "cycle in its `in` groups");
        }
        if (!seen.insert(next).second) continue;
        ancestors.push_back(next);
        auto it = schema.actions_.find(next);
        if (it != schema.actions_.end()) {
          for (const auto& p : it->second.member_of) stack.push_back(p);
        }
      }
      std::sort(ancestors.begin(), ancestors.end());
      schema.action_ancestors_.emplace(uid, std::move(ancestors));
    }
    return Status::Ok();
  }

  static void ComputeDescendantTypes(Schema& schema) {
    // children[p] = types that list p in memberOfTypes.
    std::map<std::string, std::vector<std::string>> children;
    for (const auto& [name, et] : schema.entity_types_) {
      for (const auto& p : et.member_of_types) children[p].push_back(name);
    }
    for (const auto& [name, et] : schema.entity_types_) {
      std::set<std::string> seen{name};
      std::vector<std::string> stack{name};
      while (!stack.empty()) {
        std::string next = std::move(stack.back());
        stack.pop_back();
        auto it = children.find(next);
        if (it == children.end()) continue;
        for (const auto& c : it->second) {
          if (seen.insert(c).second) stack.push_back(c);
        }
      }
      schema.descendant_types_.emplace(name, std::vector<std::string>(seen.begin(), seen.end()));
    }
  }

  schema_raw::RawSchema& raw_;
  std::map<std::string, schema_raw::RawCommonDecl*> common_;
  std::set<std::string> entity_names_;
  std::set<ActionUid> action_uids_;
  std::map<std::string, SchemaTypePtr> resolved_common_;
  std::set<std::string> in_progress_;
  std::map<const SchemaType*, uint64_t> expanded_size_;
};

namespace schema_raw {
Result<Schema> BuildSchema(RawSchema& raw) { return SchemaBuilder(raw).Build(); }
}  // namespace schema_raw

// ---------------------------------------------------------------------------------------
// The human-readable form.

namespace {

enum class Tok {
  kIdent,
  kString,
  kLBrace,
  kRBrace,
  kLBracket,
  kRBracket,
  kLAngle,
  kRAngle,
  kLParen,
  kRParen,
  kComma,
  kSemi,
  kColon,
  kPathSep,
  kEq,
  kQuestion,
  kAt,
  kEnd,
};

struct Token {
  Tok kind = Tok::kEnd;
  std::string text;  // identifier, or the unescaped string value
  int line = 1;
  int col = 1;
};

std::string Describe(const Token& t) {
  switch (t.kind) {
    case Tok::kIdent:
      return "`" + t.text + "`";
    case Tok::kString:
      return "a string literal";
    case Tok::kEnd:
      return "end of input";
    case Tok::kLBrace:
      return "'{'";
    case Tok::kRBrace:
      return "'}'";
    case Tok::kLBracket:
      return "'['";
    case Tok::kRBracket:
      return "']'";
    case Tok::kLAngle:
      return "'<'";
    case Tok::kRAngle:
      return "'>'";
    case Tok::kLParen:
      return "'('";
    case Tok::kRParen:
      return "')'";
    case Tok::kComma:
      return "','";
    case Tok::kSemi:
      return "';'";
    case Tok::kColon:
      return "':'";
    case Tok::kPathSep:
      return "'::'";
    case Tok::kEq:
      return "'='";
    case Tok::kQuestion:
      return "'?'";
    case Tok::kAt:
      return "'@'";
  }
  return "?";
}

bool IsIdentStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsIdentChar(char c) { return IsIdentStart(c) || (c >= '0' && c <= '9'); }

void AppendUtf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

class Lexer {
 public:
  Lexer(std::string_view text, std::string_view filename) : text_(text), filename_(filename) {}

  Result<std::vector<Token>> Run() {
    std::vector<Token> out;
    while (true) {
      SkipSpaceAndComments();
      Token t;
      t.line = line_;
      t.col = col_;
      if (pos_ >= text_.size()) {
        t.kind = Tok::kEnd;
        out.push_back(std::move(t));
        return out;
      }
      char c = text_[pos_];
      if (IsIdentStart(c)) {
        size_t start = pos_;
        while (pos_ < text_.size() && IsIdentChar(text_[pos_])) Advance();
        t.kind = Tok::kIdent;
        t.text = std::string(text_.substr(start, pos_ - start));
      } else if (c == '"') {
        CUSTOS_ASSIGN_OR_RETURN(t.text, ReadString());
        t.kind = Tok::kString;
      } else if (c == ':' && pos_ + 1 < text_.size() && text_[pos_ + 1] == ':') {
        Advance();
        Advance();
        t.kind = Tok::kPathSep;
      } else {
        switch (c) {
          case '{':
            t.kind = Tok::kLBrace;
            break;
          case '}':
            t.kind = Tok::kRBrace;
            break;
          case '[':
            t.kind = Tok::kLBracket;
            break;
          case ']':
            t.kind = Tok::kRBracket;
            break;
          case '<':
            t.kind = Tok::kLAngle;
            break;
          case '>':
            t.kind = Tok::kRAngle;
            break;
          case '(':
            t.kind = Tok::kLParen;
            break;
          case ')':
            t.kind = Tok::kRParen;
            break;
          case ',':
            t.kind = Tok::kComma;
            break;
          case ';':
            t.kind = Tok::kSemi;
            break;
          case ':':
            t.kind = Tok::kColon;
            break;
          case '=':
            t.kind = Tok::kEq;
            break;
          case '?':
            t.kind = Tok::kQuestion;
            break;
          case '@':
            t.kind = Tok::kAt;
            break;
          default: {
            std::string shown =
                (static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) < 0x7f)
                    ? std::string("'") + c + "'"
                    : "byte 0x" + Hex(static_cast<unsigned char>(c));
            return ErrorAt(line_, col_, "unexpected character " + shown);
          }
        }
        Advance();
      }
      out.push_back(std::move(t));
    }
  }

 private:
  static std::string Hex(unsigned v) {
    static constexpr char kDigits[] = "0123456789abcdef";
    return std::string{kDigits[(v >> 4) & 0xF], kDigits[v & 0xF]};
  }

  Status ErrorAt(int line, int col, const std::string& what) const {
    return InvalidArgumentError(std::string(filename_) + ":" + std::to_string(line) + ":" +
                                std::to_string(col) + ": " + what);
  }

  // Columns count characters, not bytes: UTF-8 continuation bytes do not advance them.
  void Advance() {
    char c = text_[pos_++];
    if (c == '\n') {
      ++line_;
      col_ = 1;
    } else if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) {
      ++col_;
    }
  }

  void SkipSpaceAndComments() {
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        Advance();
      } else if (c == '/' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '/') {
        while (pos_ < text_.size() && text_[pos_] != '\n') Advance();
      } else {
        return;
      }
    }
  }

  Result<std::string> ReadString() {
    int start_line = line_, start_col = col_;
    Advance();  // opening quote
    std::string out;
    while (true) {
      if (pos_ >= text_.size()) {
        return ErrorAt(start_line, start_col, "unterminated string literal; add the closing '\"'");
      }
      char c = text_[pos_];
      if (c == '"') {
        Advance();
        return out;
      }
      if (c != '\\') {
        out += c;
        Advance();
        continue;
      }
      int esc_line = line_, esc_col = col_;
      Advance();
      if (pos_ >= text_.size()) {
        return ErrorAt(start_line, start_col, "unterminated string literal");
      }
      char e = text_[pos_];
      Advance();
      switch (e) {
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case '0':
          out += '\0';
          break;
        case '\\':
          out += '\\';
          break;
        case '\'':
          out += '\'';
          break;
        case '"':
          out += '"';
          break;
        case 'x': {
          // \xHH: an ASCII character (at most 0x7f).
          uint32_t v = 0;
          for (int i = 0; i < 2; ++i) {
            if (pos_ >= text_.size() || !std::isxdigit(static_cast<unsigned char>(text_[pos_]))) {
              return ErrorAt(esc_line, esc_col, "\\x needs two hex digits");
            }
            v = v * 16 + HexValue(text_[pos_]);
            Advance();
          }
          if (v > 0x7f) return ErrorAt(esc_line, esc_col, "\\x escape above 0x7f");
          out += static_cast<char>(v);
          break;
        }
        case 'u': {
          if (pos_ >= text_.size() || text_[pos_] != '{') {
            return ErrorAt(esc_line, esc_col, "expected '{' after \\u, as in \\u{1F600}");
          }
          Advance();
          uint32_t v = 0;
          int digits = 0;
          while (pos_ < text_.size() && text_[pos_] != '}') {
            if (!std::isxdigit(static_cast<unsigned char>(text_[pos_])) || digits >= 6) {
              return ErrorAt(esc_line, esc_col, "\\u{...} takes 1 to 6 hex digits");
            }
            v = v * 16 + HexValue(text_[pos_]);
            ++digits;
            Advance();
          }
          if (pos_ >= text_.size() || digits == 0) {
            return ErrorAt(esc_line, esc_col, "\\u{...} takes 1 to 6 hex digits and a '}'");
          }
          Advance();
          if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) {
            return ErrorAt(esc_line, esc_col, "\\u{...} is not a Unicode scalar value");
          }
          AppendUtf8(out, v);
          break;
        }
        default:
          return ErrorAt(esc_line, esc_col,
                         std::string("unknown escape sequence '\\") +
                             (static_cast<unsigned char>(e) < 0x80 ? e : '?') + "'");
      }
    }
  }

  static uint32_t HexValue(char c) {
    if (c >= '0' && c <= '9') return static_cast<uint32_t>(c - '0');
    if (c >= 'a' && c <= 'f') return static_cast<uint32_t>(c - 'a' + 10);
    return static_cast<uint32_t>(c - 'A' + 10);
  }

  std::string_view text_;
  std::string_view filename_;
  size_t pos_ = 0;
  int line_ = 1;
  int col_ = 1;
};

// Recursive descent over the Cedar 4 schema grammar:
//   Schema    := {Namespace | Decl}
//   Namespace := Annotations 'namespace' Path '{' {Decl} '}'
//   Decl      := Annotations (Entity | Action | TypeDecl)
//   Entity    := 'entity' Idents ['in' EntOrTyps] [['='] RecType] ['tags' Type] ';'
//              | 'entity' Idents 'enum' '[' STR {',' STR} ']' ';'
//   Action    := 'action' Names ['in' RefOrRefs] [AppliesTo] ';'
//   TypeDecl  := 'type' IDENT '=' Type ';'
//   Type      := Path | 'Set' '<' Type '>' | RecType
//   RecType   := '{' [Annotations Name ['?'] ':' Type {',' ...} [',']] '}'
class CedarSchemaParser {
 public:
  CedarSchemaParser(std::vector<Token> tokens, std::string_view filename)
      : toks_(std::move(tokens)), filename_(filename) {
    raw_.filename = std::string(filename);
  }

  Result<schema_raw::RawSchema> Run() {
    while (Peek().kind != Tok::kEnd) {
      SchemaAnnotations annotations;
      CUSTOS_RETURN_IF_ERROR(ParseAnnotations(annotations));
      if (IsKeyword("namespace")) {
        CUSTOS_RETURN_IF_ERROR(ParseNamespace());
      } else {
        CUSTOS_RETURN_IF_ERROR(ParseDecl("", std::move(annotations)));
      }
    }
    return std::move(raw_);
  }

 private:
  const Token& Peek(size_t ahead = 0) const {
    size_t i = std::min(pos_ + ahead, toks_.size() - 1);
    return toks_[i];
  }
  const Token& Next() {
    const Token& t = toks_[pos_];
    if (pos_ + 1 < toks_.size()) ++pos_;
    return t;
  }
  bool IsKeyword(std::string_view kw, size_t ahead = 0) const {
    return Peek(ahead).kind == Tok::kIdent && Peek(ahead).text == kw;
  }
  std::string Where(const Token& t) const {
    return std::string(filename_) + ":" + std::to_string(t.line) + ":" + std::to_string(t.col);
  }
  Status Expected(const std::string& what) const {
    return InvalidArgumentError(Where(Peek()) + ": expected " + what + ", found " +
                                Describe(Peek()));
  }
  Status Expect(Tok kind, const std::string& what) {
    if (Peek().kind != kind) return Expected(what);
    Next();
    return Status::Ok();
  }

  Status ParseAnnotations(SchemaAnnotations& out) {
    while (Peek().kind == Tok::kAt) {
      Next();
      if (Peek().kind != Tok::kIdent) return Expected("an annotation name after '@'");
      const Token& name = Next();
      std::string value;
      if (Peek().kind == Tok::kLParen) {
        Next();
        if (Peek().kind != Tok::kString) return Expected("a string literal as annotation value");
        value = Next().text;
        CUSTOS_RETURN_IF_ERROR(Expect(Tok::kRParen, "')' after the annotation value"));
      }
      if (!out.emplace(name.text, std::move(value)).second) {
        return InvalidArgumentError(Where(name) + ": duplicate annotation @" + name.text +
                                    "; keep one");
      }
    }
    return Status::Ok();
  }

  Result<std::string> ParsePath(const std::string& what) {
    if (Peek().kind != Tok::kIdent) return Expected(what);
    std::string path = Next().text;
    while (Peek().kind == Tok::kPathSep && Peek(1).kind == Tok::kIdent) {
      Next();
      path += "::";
      path += Next().text;
    }
    return path;
  }

  Status ParseNamespace() {
    const Token& kw = Next();  // namespace
    CUSTOS_ASSIGN_OR_RETURN(std::string ns, ParsePath("a namespace name after `namespace`"));
    if (ns == "__cedar" || ns.compare(0, 9, "__cedar::") == 0) {
      return InvalidArgumentError(Where(kw) +
                                  ": the namespace `__cedar` is reserved; "
                                  "choose another name");
    }
    if (!namespaces_.insert(ns).second) {
      return InvalidArgumentError(Where(kw) + ": namespace `" + ns +
                                  "` is declared twice; merge the two blocks");
    }
    CUSTOS_RETURN_IF_ERROR(Expect(Tok::kLBrace, "'{' after the namespace name"));
    while (Peek().kind != Tok::kRBrace) {
      if (Peek().kind == Tok::kEnd) return Expected("'}' closing namespace `" + ns + "`");
      SchemaAnnotations annotations;
      CUSTOS_RETURN_IF_ERROR(ParseAnnotations(annotations));
      CUSTOS_RETURN_IF_ERROR(ParseDecl(ns, std::move(annotations)));
    }
    Next();
    return Status::Ok();
  }

  Status ParseDecl(const std::string& ns, SchemaAnnotations annotations) {
    if (IsKeyword("entity")) return ParseEntity(ns, std::move(annotations));
    if (IsKeyword("action")) return ParseAction(ns, std::move(annotations));
    if (IsKeyword("type")) return ParseCommonType(ns, std::move(annotations));
    return Expected("`entity`, `action`, `type` or `namespace`");
  }

  Status CheckDeclName(const Token& t, const char* kind) const {
    if (t.text == "__cedar") {
      return InvalidArgumentError(Where(t) + ": `__cedar` is reserved and cannot name " + kind);
    }
    return Status::Ok();
  }

  Status ParseEntity(const std::string& ns, SchemaAnnotations annotations) {
    Next();  // entity
    std::vector<std::pair<std::string, std::string>> names;
    while (true) {
      if (Peek().kind != Tok::kIdent) return Expected("an entity type name");
      const Token& name = Next();
      CUSTOS_RETURN_IF_ERROR(CheckDeclName(name, "an entity type"));
      names.emplace_back(name.text, Where(name));
      if (Peek().kind != Tok::kComma) break;
      Next();
    }
    std::vector<std::pair<std::string, std::string>> parents;
    std::shared_ptr<schema_raw::RawType> shape;
    std::shared_ptr<schema_raw::RawType> tags;
    std::optional<std::vector<std::string>> enum_ids;
    if (IsKeyword("enum")) {
      Next();
      CUSTOS_RETURN_IF_ERROR(Expect(Tok::kLBracket, "'[' after `enum`"));
      enum_ids.emplace();
      while (true) {
        if (Peek().kind != Tok::kString) return Expected("a string literal in the enum list");
        enum_ids->push_back(Next().text);
        if (Peek().kind == Tok::kComma) {
          Next();
          if (Peek().kind == Tok::kRBracket) break;  // trailing comma
          continue;
        }
        break;
      }
      CUSTOS_RETURN_IF_ERROR(Expect(Tok::kRBracket, "']' closing the enum list"));
    } else {
      if (IsKeyword("in")) {
        Next();
        CUSTOS_RETURN_IF_ERROR(ParseEntityTypeList(parents, "a parent entity type"));
      }
      if (Peek().kind == Tok::kEq) {
        Next();
        if (Peek().kind != Tok::kLBrace) return Expected("'{' starting the entity's attributes");
      }
      if (Peek().kind == Tok::kLBrace) {
        CUSTOS_ASSIGN_OR_RETURN(auto rec, ParseRecordType(0));
        shape = std::move(rec);
      }
      if (IsKeyword("tags")) {
        Next();
        CUSTOS_ASSIGN_OR_RETURN(auto t, ParseType(0));
        tags = std::move(t);
      }
    }
    if (Peek().kind != Tok::kSemi) {
      return Expected(enum_ids ? "';' after the enum list"
                               : "`in`, '{', `tags` or ';' in the entity declaration");
    }
    Next();
    for (auto& [name, where] : names) {
      schema_raw::RawEntityDecl decl;
      decl.ns = ns;
      decl.basename = name;
      decl.where = where;
      decl.parents = parents;
      decl.shape = shape;
      decl.tags = tags;
      decl.enum_ids = enum_ids;
      decl.annotations = annotations;
      raw_.entity_types.push_back(std::move(decl));
    }
    return Status::Ok();
  }

  // EntOrTyps := Path | '[' [Path {',' Path} [',']] ']'
  Status ParseEntityTypeList(std::vector<std::pair<std::string, std::string>>& out,
                             const std::string& what) {
    if (Peek().kind == Tok::kLBracket) {
      Next();
      while (Peek().kind != Tok::kRBracket) {
        const Token& at = Peek();
        CUSTOS_ASSIGN_OR_RETURN(std::string path, ParsePath(what + " or ']'"));
        out.emplace_back(std::move(path), Where(at));
        if (Peek().kind == Tok::kComma) {
          Next();
          continue;
        }
        if (Peek().kind != Tok::kRBracket) return Expected("',' or ']' in the type list");
      }
      Next();
      return Status::Ok();
    }
    const Token& at = Peek();
    CUSTOS_ASSIGN_OR_RETURN(std::string path, ParsePath(what + " or '['"));
    out.emplace_back(std::move(path), Where(at));
    return Status::Ok();
  }

  Result<std::shared_ptr<schema_raw::RawType>> ParseType(int depth) {
    if (depth > kMaxTypeDepth) {
      return InvalidArgumentError(Where(Peek()) + ": types nest too deeply (more than " +
                                  std::to_string(kMaxTypeDepth) + " levels)");
    }
    const Token& at = Peek();
    if (at.kind == Tok::kLBrace) return ParseRecordType(depth);
    if (at.kind == Tok::kIdent && at.text == "Set" && Peek(1).kind == Tok::kLAngle) {
      Next();
      Next();
      auto t = std::make_shared<schema_raw::RawType>();
      t->kind = schema_raw::RawType::Kind::kSet;
      t->where = Where(at);
      CUSTOS_ASSIGN_OR_RETURN(t->element, ParseType(depth + 1));
      CUSTOS_RETURN_IF_ERROR(Expect(Tok::kRAngle, "'>' closing Set<...>"));
      return t;
    }
    if (at.kind != Tok::kIdent) return Expected("a type (a name, Set<...> or {...})");
    auto t = std::make_shared<schema_raw::RawType>();
    t->kind = schema_raw::RawType::Kind::kName;
    t->where = Where(at);
    CUSTOS_ASSIGN_OR_RETURN(t->name, ParsePath("a type name"));
    return t;
  }

  Result<std::shared_ptr<schema_raw::RawType>> ParseRecordType(int depth) {
    if (depth > kMaxTypeDepth) {
      return InvalidArgumentError(Where(Peek()) + ": types nest too deeply (more than " +
                                  std::to_string(kMaxTypeDepth) + " levels)");
    }
    const Token& open = Peek();
    CUSTOS_RETURN_IF_ERROR(Expect(Tok::kLBrace, "'{'"));
    auto t = std::make_shared<schema_raw::RawType>();
    t->kind = schema_raw::RawType::Kind::kRecord;
    t->where = Where(open);
    while (Peek().kind != Tok::kRBrace) {
      SchemaAnnotations ignored;
      CUSTOS_RETURN_IF_ERROR(ParseAnnotations(ignored));
      const Token& name = Peek();
      if (name.kind != Tok::kIdent && name.kind != Tok::kString) {
        return Expected("an attribute name or '}'");
      }
      Next();
      schema_raw::RawAttr attr;
      attr.name = name.text;
      attr.where = Where(name);
      if (Peek().kind == Tok::kQuestion) {
        Next();
        attr.required = false;
      }
      CUSTOS_RETURN_IF_ERROR(Expect(Tok::kColon, "':' after attribute name `" + name.text + "`"));
      CUSTOS_ASSIGN_OR_RETURN(attr.type, ParseType(depth + 1));
      t->attributes.push_back(std::move(attr));
      if (Peek().kind == Tok::kComma) {
        Next();
        continue;
      }
      if (Peek().kind != Tok::kRBrace) return Expected("',' or '}' after the attribute type");
    }
    Next();
    return t;
  }

  Status ParseAction(const std::string& ns, SchemaAnnotations annotations) {
    Next();  // action
    std::vector<std::pair<std::string, std::string>> names;
    while (true) {
      const Token& name = Peek();
      if (name.kind != Tok::kIdent && name.kind != Tok::kString) {
        return Expected("an action name (identifier or string literal)");
      }
      Next();
      names.emplace_back(name.text, Where(name));
      if (Peek().kind != Tok::kComma) break;
      Next();
    }
    std::vector<schema_raw::RawActionRef> parents;
    if (IsKeyword("in")) {
      Next();
      if (Peek().kind == Tok::kLBracket) {
        Next();
        while (Peek().kind != Tok::kRBracket) {
          CUSTOS_ASSIGN_OR_RETURN(schema_raw::RawActionRef ref, ParseActionRef());
          parents.push_back(std::move(ref));
          if (Peek().kind == Tok::kComma) {
            Next();
            continue;
          }
          if (Peek().kind != Tok::kRBracket) return Expected("',' or ']' in the action list");
        }
        Next();
      } else {
        CUSTOS_ASSIGN_OR_RETURN(schema_raw::RawActionRef ref, ParseActionRef());
        parents.push_back(std::move(ref));
      }
    }
    bool has_applies_to = false;
    std::vector<std::pair<std::string, std::string>> principals, resources;
    std::shared_ptr<schema_raw::RawType> context;
    if (IsKeyword("appliesTo")) {
      Next();
      has_applies_to = true;
      CUSTOS_RETURN_IF_ERROR(Expect(Tok::kLBrace, "'{' after `appliesTo`"));
      bool seen_p = false, seen_r = false, seen_c = false;
      while (Peek().kind != Tok::kRBrace) {
        const Token& key = Peek();
        if (key.kind != Tok::kIdent ||
            (key.text != "principal" && key.text != "resource" && key.text != "context")) {
          return Expected("`principal`, `resource`, `context` or '}' in appliesTo");
        }
        Next();
        bool& seen = key.text == "principal" ? seen_p : key.text == "resource" ? seen_r : seen_c;
        if (seen) {
          return InvalidArgumentError(Where(key) + ": `" + key.text +
                                      "` appears twice in appliesTo; keep one");
        }
        seen = true;
        CUSTOS_RETURN_IF_ERROR(Expect(Tok::kColon, "':' after `" + key.text + "`"));
        if (key.text == "context") {
          CUSTOS_ASSIGN_OR_RETURN(context, ParseType(0));
        } else {
          CUSTOS_RETURN_IF_ERROR(ParseEntityTypeList(
              key.text == "principal" ? principals : resources, "an entity type"));
        }
        if (Peek().kind == Tok::kComma) {
          Next();
          continue;
        }
        if (Peek().kind != Tok::kRBrace) return Expected("',' or '}' in appliesTo");
      }
      Next();
    }
    if (Peek().kind != Tok::kSemi) {
      return Expected(has_applies_to ? "';' after the action declaration"
                                     : "`in`, `appliesTo` or ';' in the action declaration");
    }
    Next();
    for (auto& [name, where] : names) {
      schema_raw::RawActionDecl decl;
      decl.ns = ns;
      decl.id = name;
      decl.where = where;
      decl.parents = parents;
      decl.has_applies_to = has_applies_to;
      decl.principals = principals;
      decl.resources = resources;
      decl.context = context;
      decl.annotations = annotations;
      raw_.actions.push_back(std::move(decl));
    }
    return Status::Ok();
  }

  // Ref := Path '::' STR | Name
  Result<schema_raw::RawActionRef> ParseActionRef() {
    schema_raw::RawActionRef ref;
    const Token& at = Peek();
    ref.where = Where(at);
    if (at.kind == Tok::kString) {
      ref.id = Next().text;
      return ref;
    }
    if (at.kind != Tok::kIdent) return Expected("an action name or Type::\"id\"");
    std::string path = Next().text;
    while (Peek().kind == Tok::kPathSep) {
      Next();
      if (Peek().kind == Tok::kString) {
        ref.type = path;
        ref.id = Next().text;
        return ref;
      }
      if (Peek().kind != Tok::kIdent) return Expected("an identifier or a string after '::'");
      path += "::";
      path += Next().text;
    }
    if (path.find("::") != std::string::npos) {
      return InvalidArgumentError(ref.where + ": expected an action reference like Action::\"" +
                                  path + "\" (a qualified name needs a quoted id)");
    }
    ref.id = path;
    return ref;
  }

  Status ParseCommonType(const std::string& ns, SchemaAnnotations annotations) {
    Next();  // type
    if (Peek().kind != Tok::kIdent) return Expected("a type name after `type`");
    const Token& name = Next();
    static constexpr std::string_view kReserved[] = {
        "Bool", "Boolean", "Entity", "EntityOrCommon", "Extension",
        "Long", "Record",  "Set",    "String",         "__cedar"};
    for (auto r : kReserved) {
      if (name.text == r) {
        return InvalidArgumentError(Where(name) + ": `" + name.text +
                                    "` is reserved and cannot name a common type");
      }
    }
    CUSTOS_RETURN_IF_ERROR(Expect(Tok::kEq, "'=' after the common type name"));
    schema_raw::RawCommonDecl decl;
    decl.ns = ns;
    decl.basename = name.text;
    decl.where = Where(name);
    decl.annotations = std::move(annotations);
    CUSTOS_ASSIGN_OR_RETURN(decl.type, ParseType(0));
    CUSTOS_RETURN_IF_ERROR(Expect(Tok::kSemi, "';' after the common type declaration"));
    raw_.common_types.push_back(std::move(decl));
    return Status::Ok();
  }

  std::vector<Token> toks_;
  size_t pos_ = 0;
  std::string_view filename_;
  schema_raw::RawSchema raw_;
  std::set<std::string> namespaces_;
};

}  // namespace

Result<Schema> Schema::Parse(std::string_view text, std::string_view filename) {
  size_t i = text.find_first_not_of(" \t\r\n");
  if (i != std::string_view::npos && text[i] == '{') return ParseJsonSchema(text, filename);
  return ParseCedarSchema(text, filename);
}

Result<Schema> Schema::ParseCedarSchema(std::string_view text, std::string_view filename) {
  CUSTOS_ASSIGN_OR_RETURN(std::vector<Token> tokens, Lexer(text, filename).Run());
  CUSTOS_ASSIGN_OR_RETURN(schema_raw::RawSchema raw,
                          CedarSchemaParser(std::move(tokens), filename).Run());
  return schema_raw::BuildSchema(raw);
}

}  // namespace custos::policy
