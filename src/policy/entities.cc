// Entity store construction (transitive ancestors) and Cedar's JSON formats for entities,
// context and values, optionally guided by a schema as Cedar's own parser is.
#include "policy/entities.h"

#include <algorithm>
#include <deque>
#include <limits>
#include <nlohmann/json.hpp>
#include <unordered_set>

#include "policy/evaluator.h"
#include "policy/schema.h"

namespace custos::policy {

namespace {

using Json = nlohmann::json;

constexpr int kMaxJsonDepth = 256;

bool UidLess(const EntityUid& a, const EntityUid& b) {
  if (a.hash() != b.hash()) return a.hash() < b.hash();
  return (a <=> b) < 0;
}

Status JsonError(std::string_view where, std::string_view what) {
  return InvalidArgumentError(std::string(where) + ": " + std::string(what));
}

Result<EntityUid> UidFromTypeAndId(const Json& j, std::string_view where) {
  if (!j.is_object()) return JsonError(where, "expected an object {\"type\": ..., \"id\": ...}");
  auto t = j.find("type");
  auto i = j.find("id");
  if (t == j.end() || i == j.end() || !t->is_string() || !i->is_string()) {
    return JsonError(where, "an entity uid needs string fields \"type\" and \"id\"");
  }
  const std::string& type = t->get_ref<const std::string&>();
  if (type.empty()) return JsonError(where, "entity type must not be empty");
  return EntityUid(type, i->get_ref<const std::string&>());
}

// `{"type","id"}` or `{"__entity": {"type","id"}}`.
Result<EntityUid> UidFromJson(const Json& j, std::string_view where) {
  if (j.is_object()) {
    auto e = j.find("__entity");
    if (e != j.end()) return UidFromTypeAndId(*e, where);
    if (j.contains("__expr")) return JsonError(where, "the `__expr` escape is not supported");
  }
  return UidFromTypeAndId(j, where);
}

Result<Value> ValueFromJson(const Json& j, const SchemaType* expected, const std::string& where,
                            int depth);

// `{"fn": name, "arg": v}` or `{"fn": name, "args": [v...]}`.
Result<Value> ExtnFromJson(const Json& j, const std::string& where, int depth) {
  if (!j.is_object()) return JsonError(where, "`__extn` needs an object {\"fn\", \"arg\"}");
  auto f = j.find("fn");
  if (f == j.end() || !f->is_string()) return JsonError(where, "`__extn` needs a string \"fn\"");
  ExtFn fn;
  if (!ExtFnFromName(f->get_ref<const std::string&>(), &fn)) {
    return JsonError(where, "unknown extension function `" + f->get<std::string>() + "`");
  }
  std::vector<Value> args;
  if (auto a = j.find("arg"); a != j.end()) {
    CUSTOS_ASSIGN_OR_RETURN(Value v, ValueFromJson(*a, nullptr, where, depth + 1));
    args.push_back(std::move(v));
  } else if (auto as = j.find("args"); as != j.end() && as->is_array()) {
    for (const auto& x : *as) {
      CUSTOS_ASSIGN_OR_RETURN(Value v, ValueFromJson(x, nullptr, where, depth + 1));
      args.push_back(std::move(v));
    }
  } else {
    return JsonError(where, "`__extn` needs \"arg\" or \"args\"");
  }
  auto r = ApplyExtFn(fn, args.data(), args.size());
  if (!r.ok()) return JsonError(where, r.status().message());
  return r;
}

Result<Value> ValueFromJson(const Json& j, const SchemaType* expected, const std::string& where,
                            int depth) {
  if (depth > kMaxJsonDepth) return JsonError(where, "value nested too deeply");
  if (expected != nullptr) {
    switch (expected->kind) {
      case SchemaType::Kind::kEntity: {
        CUSTOS_ASSIGN_OR_RETURN(EntityUid uid, UidFromJson(j, where));
        return Value(std::move(uid));
      }
      case SchemaType::Kind::kExtension: {
        if (j.is_object()) {
          if (auto e = j.find("__extn"); e != j.end()) return ExtnFromJson(*e, where, depth);
          if (j.contains("fn")) return ExtnFromJson(j, where, depth);
        }
        if (j.is_string()) {
          ExtFn fn = ExtFn::kIp;
          switch (expected->extension) {
            case ExtensionType::kIpAddr:
              fn = ExtFn::kIp;
              break;
            case ExtensionType::kDecimal:
              fn = ExtFn::kDecimal;
              break;
            case ExtensionType::kDatetime:
              fn = ExtFn::kDatetime;
              break;
            case ExtensionType::kDuration:
              fn = ExtFn::kDuration;
              break;
          }
          Value arg = Value::String(j.get_ref<const std::string&>());
          auto r = ApplyExtFn(fn, &arg, 1);
          if (!r.ok()) return JsonError(where, r.status().message());
          return r;
        }
        return JsonError(where, "expected a " +
                                    std::string(ExtensionTypeName(expected->extension)) +
                                    " value (a string or an `__extn` object)");
      }
      case SchemaType::Kind::kSet: {
        if (!j.is_array()) return JsonError(where, "expected a JSON array for a set");
        std::vector<Value> items;
        items.reserve(j.size());
        for (const auto& x : j) {
          CUSTOS_ASSIGN_OR_RETURN(Value v,
                                  ValueFromJson(x, expected->element.get(), where, depth + 1));
          items.push_back(std::move(v));
        }
        return Value::Set(std::move(items));
      }
      case SchemaType::Kind::kRecord: {
        if (!j.is_object()) return JsonError(where, "expected a JSON object for a record");
        std::vector<std::pair<std::string, Value>> fields;
        fields.reserve(j.size());
        for (const auto& [k, x] : j.items()) {
          const AttributeSchema* attr = expected->record.Find(k);
          CUSTOS_ASSIGN_OR_RETURN(Value v, ValueFromJson(x, attr ? attr->type.get() : nullptr,
                                                         where + "." + k, depth + 1));
          fields.emplace_back(k, std::move(v));
        }
        return Value::Record(std::move(fields));
      }
      default:
        break;  // Bool, Long, String: no special rules
    }
  }
  switch (j.type()) {
    case Json::value_t::boolean:
      return Value(j.get<bool>());
    case Json::value_t::number_integer:
      return Value(j.get<int64_t>());
    case Json::value_t::number_unsigned: {
      uint64_t u = j.get<uint64_t>();
      if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return JsonError(where, "integer out of the signed 64-bit range");
      }
      return Value(static_cast<int64_t>(u));
    }
    case Json::value_t::number_float:
      return JsonError(where, "Cedar has no floating-point numbers (use decimal)");
    case Json::value_t::string:
      return Value::String(j.get_ref<const std::string&>());
    case Json::value_t::array: {
      std::vector<Value> items;
      items.reserve(j.size());
      for (const auto& x : j) {
        CUSTOS_ASSIGN_OR_RETURN(Value v, ValueFromJson(x, nullptr, where, depth + 1));
        items.push_back(std::move(v));
      }
      return Value::Set(std::move(items));
    }
    case Json::value_t::object: {
      if (auto e = j.find("__entity"); e != j.end()) {
        CUSTOS_ASSIGN_OR_RETURN(EntityUid uid, UidFromTypeAndId(*e, where));
        return Value(std::move(uid));
      }
      if (auto e = j.find("__extn"); e != j.end()) return ExtnFromJson(*e, where, depth);
      if (j.contains("__expr")) return JsonError(where, "the `__expr` escape is not supported");
      std::vector<std::pair<std::string, Value>> fields;
      fields.reserve(j.size());
      for (const auto& [k, x] : j.items()) {
        CUSTOS_ASSIGN_OR_RETURN(Value v, ValueFromJson(x, nullptr, where + "." + k, depth + 1));
        fields.emplace_back(k, std::move(v));
      }
      return Value::Record(std::move(fields));
    }
    case Json::value_t::null:
      return JsonError(where, "null is not a Cedar value");
    default:
      return JsonError(where, "unsupported JSON value");
  }
}

Result<Json> ParseJsonText(std::string_view text, std::string_view filename) {
  try {
    return Json::parse(text.begin(), text.end());
  } catch (const Json::parse_error& e) {
    return InvalidArgumentError(std::string(filename) + ": invalid JSON at byte " +
                                std::to_string(e.byte) + ": " + e.what());
  } catch (const std::exception& e) {
    return InvalidArgumentError(std::string(filename) + ": invalid JSON: " + e.what());
  }
}

Result<EntityStore> EntitiesFromJson(const Json& doc, const Schema* schema,
                                     std::string_view filename) {
  if (!doc.is_array()) {
    return InvalidArgumentError(std::string(filename) + ": expected a JSON array of entities");
  }
  EntityStore store;
  size_t index = 0;
  for (const auto& item : doc) {
    std::string where = std::string(filename) + ": entity [" + std::to_string(index++) + "]";
    if (!item.is_object()) return JsonError(where, "expected an object");
    auto u = item.find("uid");
    if (u == item.end()) return JsonError(where, "missing \"uid\"");
    Entity e;
    CUSTOS_ASSIGN_OR_RETURN(e.uid, UidFromJson(*u, where + ".uid"));
    where += " (" + e.uid.ToString() + ")";
    const EntityTypeSchema* type_schema = schema ? schema->FindEntityType(e.uid.type()) : nullptr;
    if (auto a = item.find("attrs"); a != item.end() && !a->is_null()) {
      if (!a->is_object()) return JsonError(where, "\"attrs\" must be an object");
      std::vector<std::pair<std::string, Value>> fields;
      for (const auto& [k, x] : a->items()) {
        const AttributeSchema* attr = type_schema ? type_schema->shape.Find(k) : nullptr;
        CUSTOS_ASSIGN_OR_RETURN(
            Value v, ValueFromJson(x, attr ? attr->type.get() : nullptr, where + ".attrs." + k, 1));
        fields.emplace_back(k, std::move(v));
      }
      e.attrs = Value::Record(std::move(fields));
    }
    if (auto t = item.find("tags"); t != item.end() && !t->is_null()) {
      if (!t->is_object()) return JsonError(where, "\"tags\" must be an object");
      const SchemaType* tag_type = type_schema ? type_schema->tags.get() : nullptr;
      std::vector<std::pair<std::string, Value>> fields;
      for (const auto& [k, x] : t->items()) {
        CUSTOS_ASSIGN_OR_RETURN(Value v, ValueFromJson(x, tag_type, where + ".tags." + k, 1));
        fields.emplace_back(k, std::move(v));
      }
      e.tags = Value::Record(std::move(fields));
    }
    if (auto p = item.find("parents"); p != item.end() && !p->is_null()) {
      if (!p->is_array()) return JsonError(where, "\"parents\" must be an array");
      for (const auto& x : *p) {
        CUSTOS_ASSIGN_OR_RETURN(EntityUid parent, UidFromJson(x, where + ".parents"));
        e.parents.push_back(std::move(parent));
      }
    }
    CUSTOS_RETURN_IF_ERROR(store.Add(std::move(e)));
  }
  if (schema != nullptr) {
    for (const auto& [uid, action] : schema->actions()) {
      Entity e;
      e.uid = EntityUid(uid.type, uid.id);
      for (const auto& p : action.member_of) e.parents.emplace_back(p.type, p.id);
      store.AddIfAbsent(std::move(e));
    }
  }
  store.Build();
  return store;
}

}  // namespace

bool Entity::IsDescendantOf(const EntityUid& uid) const {
  const size_t h = uid.hash();
  auto it = std::lower_bound(ancestor_hashes.begin(), ancestor_hashes.end(), h);
  for (; it != ancestor_hashes.end() && *it == h; ++it) {
    if (ancestors[static_cast<size_t>(it - ancestor_hashes.begin())] == uid) return true;
  }
  return false;
}

Status EntityStore::Add(Entity entity) {
  EntityUid uid = entity.uid;
  index_.clear();
  auto [it, inserted] = entities_.emplace(uid, std::move(entity));
  if (!inserted) {
    return AlreadyExistsError("duplicate entity " + uid.ToString() + "; each uid may appear once");
  }
  return Status::Ok();
}

void EntityStore::AddIfAbsent(Entity entity) {
  EntityUid uid = entity.uid;
  index_.clear();
  entities_.emplace(uid, std::move(entity));
}

void EntityStore::Build() {
  // Breadth-first search from each entity over parent edges. Parents missing from the
  // store are ancestors without further parents. Cycles terminate via the visited set.
  std::unordered_set<EntityUid, EntityUidHash> seen;
  std::deque<const EntityUid*> queue;
  for (auto& [uid, entity] : entities_) {
    seen.clear();
    queue.clear();
    std::vector<EntityUid> out;
    for (const auto& p : entity.parents) {
      if (seen.insert(p).second) queue.push_back(&p);
    }
    while (!queue.empty()) {
      const EntityUid* cur = queue.front();
      queue.pop_front();
      out.push_back(*cur);
      auto it = entities_.find(*cur);
      if (it == entities_.end()) continue;
      for (const auto& p : it->second.parents) {
        if (seen.insert(p).second) queue.push_back(&p);
      }
    }
    std::sort(out.begin(), out.end(), UidLess);
    entity.ancestor_hashes.clear();
    for (const auto& a : out) entity.ancestor_hashes.push_back(a.hash());
    entity.ancestors = std::move(out);
  }
  BuildIndex();
}

EntityStore::EntityStore(const EntityStore& other) : entities_(other.entities_) {
  if (!other.index_.empty()) BuildIndex();
}

EntityStore& EntityStore::operator=(const EntityStore& other) {
  if (this != &other) {
    entities_ = other.entities_;
    index_.clear();
    if (!other.index_.empty()) BuildIndex();
  }
  return *this;
}

void EntityStore::BuildIndex() {
  // Power-of-two table at most half full.
  size_t capacity = 16;
  while (capacity < entities_.size() * 2) capacity *= 2;
  index_.assign(capacity, Slot{});
  index_mask_ = capacity - 1;
  for (const auto& [uid, entity] : entities_) {
    size_t i = uid.hash() & index_mask_;
    while (index_[i].entity != nullptr) i = (i + 1) & index_mask_;
    index_[i] = Slot{uid.hash(), &entity};
  }
}

Result<EntityStore> ParseEntitiesJson(std::string_view json, const Schema* schema,
                                      std::string_view filename) {
  CUSTOS_ASSIGN_OR_RETURN(Json doc, ParseJsonText(json, filename));
  try {
    return EntitiesFromJson(doc, schema, filename);
  } catch (const std::exception& e) {
    return InvalidArgumentError(std::string(filename) + ": " + e.what());
  }
}

Result<Value> ParseContextJson(std::string_view json, const Schema* schema,
                               const EntityUid* action) {
  CUSTOS_ASSIGN_OR_RETURN(Json doc, ParseJsonText(json, "<context>"));
  if (!doc.is_object()) return InvalidArgumentError("<context>: expected a JSON object");
  try {
    const ActionSchema* action_schema =
        (schema && action) ? schema->FindAction(action->type(), action->id()) : nullptr;
    if (action_schema != nullptr) {
      auto type = SchemaType::Record(action_schema->context);
      return ValueFromJson(doc, type.get(), "context", 0);
    }
    return ValueFromJson(doc, nullptr, "context", 0);
  } catch (const std::exception& e) {
    return InvalidArgumentError(std::string("<context>: ") + e.what());
  }
}

Result<EntityUid> ParseEntityUidJson(std::string_view json) {
  CUSTOS_ASSIGN_OR_RETURN(Json doc, ParseJsonText(json, "<uid>"));
  try {
    return UidFromJson(doc, "<uid>");
  } catch (const std::exception& e) {
    return InvalidArgumentError(std::string("<uid>: ") + e.what());
  }
}

Result<Value> ParseValueJson(std::string_view json) {
  CUSTOS_ASSIGN_OR_RETURN(Json doc, ParseJsonText(json, "<value>"));
  try {
    return ValueFromJson(doc, nullptr, "<value>", 0);
  } catch (const std::exception& e) {
    return InvalidArgumentError(std::string("<value>: ") + e.what());
  }
}

}  // namespace custos::policy
