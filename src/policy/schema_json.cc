// The JSON form of Cedar schemas: namespaces holding entityTypes, actions and commonTypes,
// read into the raw declarations that schema.cc resolves.
#include <nlohmann/json.hpp>

#include "policy/schema.h"

namespace custos::policy {
namespace {

using nlohmann::json;
using schema_raw::RawType;

constexpr int kMaxJsonDepth = 200;

class JsonSchemaReader {
 public:
  explicit JsonSchemaReader(std::string_view filename) : filename_(filename) {
    raw_.filename = std::string(filename);
  }

  Result<schema_raw::RawSchema> Run(const json& doc) {
    if (!doc.is_object()) return Error("", "a schema must be a JSON object of namespaces");
    for (const auto& [ns, body] : doc.items()) {
      std::string path = "/" + Escape(ns);
      if (ns == "__cedar" || ns.rfind("__cedar::", 0) == 0) {
        return Error(path, "the namespace `__cedar` is reserved; choose another name");
      }
      CUSTOS_RETURN_IF_ERROR(CheckPath(ns, path, /*allow_empty=*/true));
      CUSTOS_RETURN_IF_ERROR(ReadNamespace(ns, body, path));
    }
    return std::move(raw_);
  }

 private:
  // JSON Pointer escaping for the paths shown in messages.
  static std::string Escape(const std::string& key) {
    std::string out;
    for (char c : key) {
      if (c == '~') {
        out += "~0";
      } else if (c == '/') {
        out += "~1";
      } else {
        out += c;
      }
    }
    return out;
  }

  Status Error(const std::string& path, const std::string& what) const {
    return InvalidArgumentError(filename_ + ": at " + (path.empty() ? "/" : path) + ": " + what);
  }
  std::string Where(const std::string& path) const {
    return filename_ + ": at " + (path.empty() ? "/" : path);
  }

  static bool IsIdent(std::string_view s) {
    if (s.empty()) return false;
    auto start = [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    };
    if (!start(s[0])) return false;
    for (char c : s) {
      if (!start(c) && !(c >= '0' && c <= '9')) return false;
    }
    return true;
  }

  Status CheckPath(const std::string& name, const std::string& path, bool allow_empty) const {
    if (name.empty()) {
      if (allow_empty) return Status::Ok();
      return Error(path, "a name cannot be empty");
    }
    size_t start = 0;
    while (true) {
      size_t sep = name.find("::", start);
      std::string_view part = std::string_view(name).substr(
          start, sep == std::string::npos ? std::string::npos : sep - start);
      if (!IsIdent(part)) {
        return Error(path, "`" + name + "` is not a valid name (identifiers joined by `::`)");
      }
      if (sep == std::string::npos) return Status::Ok();
      start = sep + 2;
    }
  }

  Status CheckKeys(const json& obj, const std::string& path,
                   std::initializer_list<std::string_view> allowed) const {
    for (const auto& [key, value] : obj.items()) {
      bool ok = false;
      for (auto a : allowed) ok = ok || key == a;
      if (!ok) {
        std::string list;
        for (auto a : allowed) {
          if (!list.empty()) list += ", ";
          list += a;
        }
        return Error(path, "unknown field `" + key + "`; expected one of: " + list);
      }
    }
    return Status::Ok();
  }

  Result<SchemaAnnotations> ReadAnnotations(const json& obj, const std::string& path) const {
    SchemaAnnotations out;
    auto it = obj.find("annotations");
    if (it == obj.end()) return out;
    if (!it->is_object()) return Error(path + "/annotations", "annotations must be an object");
    for (const auto& [k, v] : it->items()) {
      if (!v.is_string()) {
        return Error(path + "/annotations/" + Escape(k), "an annotation value must be a string");
      }
      out.emplace(k, v.get<std::string>());
    }
    return out;
  }

  Status ReadNamespace(const std::string& ns, const json& body, const std::string& path) {
    if (!body.is_object()) return Error(path, "a namespace must be an object");
    CUSTOS_RETURN_IF_ERROR(
        CheckKeys(body, path, {"entityTypes", "actions", "commonTypes", "annotations"}));
    auto entities = body.find("entityTypes");
    auto actions = body.find("actions");
    if (entities == body.end()) return Error(path, "missing field `entityTypes`");
    if (actions == body.end()) return Error(path, "missing field `actions`");
    if (auto common = body.find("commonTypes"); common != body.end()) {
      if (!common->is_object()) return Error(path + "/commonTypes", "must be an object");
      for (const auto& [name, type] : common->items()) {
        std::string p = path + "/commonTypes/" + Escape(name);
        CUSTOS_RETURN_IF_ERROR(ReadCommonType(ns, name, type, p));
      }
    }
    if (!entities->is_object()) return Error(path + "/entityTypes", "must be an object");
    for (const auto& [name, decl] : entities->items()) {
      std::string p = path + "/entityTypes/" + Escape(name);
      CUSTOS_RETURN_IF_ERROR(ReadEntityType(ns, name, decl, p));
    }
    if (!actions->is_object()) return Error(path + "/actions", "must be an object");
    for (const auto& [name, decl] : actions->items()) {
      std::string p = path + "/actions/" + Escape(name);
      CUSTOS_RETURN_IF_ERROR(ReadAction(ns, name, decl, p));
    }
    return Status::Ok();
  }

  Status ReadCommonType(const std::string& ns, const std::string& name, const json& type,
                        const std::string& path) {
    if (!IsIdent(name)) return Error(path, "`" + name + "` is not a valid common type name");
    static constexpr std::string_view kReserved[] = {
        "Bool", "Boolean", "Entity", "EntityOrCommon", "Extension",
        "Long", "Record",  "Set",    "String",         "__cedar"};
    for (auto r : kReserved) {
      if (name == r) {
        return Error(path, "`" + name + "` is reserved and cannot name a common type");
      }
    }
    schema_raw::RawCommonDecl decl;
    decl.ns = ns;
    decl.basename = name;
    decl.where = Where(path);
    if (type.is_object()) {
      CUSTOS_ASSIGN_OR_RETURN(decl.annotations, ReadAnnotations(type, path));
    }
    CUSTOS_ASSIGN_OR_RETURN(decl.type, ReadType(type, path, 0, /*attribute=*/false));
    raw_.common_types.push_back(std::move(decl));
    return Status::Ok();
  }

  Status ReadEntityType(const std::string& ns, const std::string& name, const json& decl,
                        const std::string& path) {
    if (!IsIdent(name)) return Error(path, "`" + name + "` is not a valid entity type name");
    if (!decl.is_object()) return Error(path, "an entity type must be an object");
    CUSTOS_RETURN_IF_ERROR(
        CheckKeys(decl, path, {"memberOfTypes", "shape", "tags", "enum", "annotations"}));
    schema_raw::RawEntityDecl out;
    out.ns = ns;
    out.basename = name;
    out.where = Where(path);
    CUSTOS_ASSIGN_OR_RETURN(out.annotations, ReadAnnotations(decl, path));
    if (auto it = decl.find("memberOfTypes"); it != decl.end()) {
      if (!it->is_array()) return Error(path + "/memberOfTypes", "must be an array of names");
      for (size_t i = 0; i < it->size(); ++i) {
        std::string p = path + "/memberOfTypes/" + std::to_string(i);
        if (!(*it)[i].is_string()) return Error(p, "must be an entity type name");
        std::string parent = (*it)[i].get<std::string>();
        CUSTOS_RETURN_IF_ERROR(CheckPath(parent, p, false));
        out.parents.emplace_back(parent, Where(p));
      }
    }
    if (auto it = decl.find("shape"); it != decl.end()) {
      CUSTOS_ASSIGN_OR_RETURN(out.shape, ReadType(*it, path + "/shape", 0, false));
    }
    if (auto it = decl.find("tags"); it != decl.end()) {
      CUSTOS_ASSIGN_OR_RETURN(out.tags, ReadType(*it, path + "/tags", 0, false));
    }
    if (auto it = decl.find("enum"); it != decl.end()) {
      if (!it->is_array()) return Error(path + "/enum", "must be an array of strings");
      if (decl.contains("shape") || decl.contains("memberOfTypes") || decl.contains("tags")) {
        return Error(path, "an enumerated entity type cannot have shape, memberOfTypes or tags");
      }
      out.enum_ids.emplace();
      for (size_t i = 0; i < it->size(); ++i) {
        if (!(*it)[i].is_string()) {
          return Error(path + "/enum/" + std::to_string(i), "must be a string");
        }
        out.enum_ids->push_back((*it)[i].get<std::string>());
      }
    }
    raw_.entity_types.push_back(std::move(out));
    return Status::Ok();
  }

  Status ReadAction(const std::string& ns, const std::string& id, const json& decl,
                    const std::string& path) {
    if (!decl.is_object()) return Error(path, "an action must be an object");
    CUSTOS_RETURN_IF_ERROR(CheckKeys(decl, path, {"memberOf", "appliesTo", "annotations"}));
    schema_raw::RawActionDecl out;
    out.ns = ns;
    out.id = id;
    out.where = Where(path);
    CUSTOS_ASSIGN_OR_RETURN(out.annotations, ReadAnnotations(decl, path));
    if (auto it = decl.find("memberOf"); it != decl.end()) {
      if (!it->is_array()) return Error(path + "/memberOf", "must be an array");
      for (size_t i = 0; i < it->size(); ++i) {
        std::string p = path + "/memberOf/" + std::to_string(i);
        const json& ref = (*it)[i];
        if (!ref.is_object()) return Error(p, "must be an object {\"id\": ..., \"type\": ...}");
        CUSTOS_RETURN_IF_ERROR(CheckKeys(ref, p, {"id", "type"}));
        auto idv = ref.find("id");
        if (idv == ref.end() || !idv->is_string()) return Error(p, "needs a string `id`");
        schema_raw::RawActionRef r;
        r.id = idv->get<std::string>();
        r.where = Where(p);
        if (auto tv = ref.find("type"); tv != ref.end()) {
          if (!tv->is_string()) return Error(p + "/type", "must be a string");
          r.type = tv->get<std::string>();
          CUSTOS_RETURN_IF_ERROR(CheckPath(*r.type, p + "/type", false));
        }
        out.parents.push_back(std::move(r));
      }
    }
    if (auto it = decl.find("appliesTo"); it != decl.end()) {
      std::string p = path + "/appliesTo";
      if (!it->is_object()) return Error(p, "must be an object");
      CUSTOS_RETURN_IF_ERROR(CheckKeys(*it, p, {"principalTypes", "resourceTypes", "context"}));
      out.has_applies_to = true;
      for (const char* key : {"principalTypes", "resourceTypes"}) {
        auto list = it->find(key);
        if (list == it->end()) continue;
        std::string lp = p + "/" + key;
        if (!list->is_array()) return Error(lp, "must be an array of entity type names");
        auto& dest = std::string_view(key) == "principalTypes" ? out.principals : out.resources;
        for (size_t i = 0; i < list->size(); ++i) {
          std::string ep = lp + "/" + std::to_string(i);
          if (!(*list)[i].is_string()) return Error(ep, "must be an entity type name");
          std::string name = (*list)[i].get<std::string>();
          CUSTOS_RETURN_IF_ERROR(CheckPath(name, ep, false));
          dest.emplace_back(name, Where(ep));
        }
      }
      if (auto ctx = it->find("context"); ctx != it->end()) {
        CUSTOS_ASSIGN_OR_RETURN(out.context, ReadType(*ctx, p + "/context", 0, false));
      }
    }
    raw_.actions.push_back(std::move(out));
    return Status::Ok();
  }

  Result<std::shared_ptr<RawType>> ReadType(const json& j, const std::string& path, int depth,
                                            bool attribute) {
    if (depth > kMaxJsonDepth) {
      return Error(
          path, "types nest too deeply (more than " + std::to_string(kMaxJsonDepth) + " levels)");
    }
    if (!j.is_object()) return Error(path, "a type must be an object with a `type` field");
    auto tv = j.find("type");
    if (tv == j.end() || !tv->is_string()) return Error(path, "missing string field `type`");
    std::string type = tv->get<std::string>();
    auto t = std::make_shared<RawType>();
    t->where = Where(path);
    std::vector<std::string_view> allowed = {"type", "annotations"};
    if (attribute) allowed.push_back("required");
    if (type == "Long" || type == "String" || type == "Boolean" || type == "Bool") {
      t->kind = type == "Long"     ? RawType::Kind::kLong
                : type == "String" ? RawType::Kind::kString
                                   : RawType::Kind::kBool;
    } else if (type == "Set") {
      allowed.push_back("element");
      auto el = j.find("element");
      if (el == j.end()) return Error(path, "a Set type needs an `element` type");
      t->kind = RawType::Kind::kSet;
      CUSTOS_ASSIGN_OR_RETURN(t->element, ReadType(*el, path + "/element", depth + 1, false));
    } else if (type == "Record") {
      allowed.push_back("attributes");
      allowed.push_back("additionalAttributes");
      t->kind = RawType::Kind::kRecord;
      auto attrs = j.find("attributes");
      if (attrs != j.end()) {
        if (!attrs->is_object()) return Error(path + "/attributes", "must be an object");
        for (const auto& [name, at] : attrs->items()) {
          std::string ap = path + "/attributes/" + Escape(name);
          schema_raw::RawAttr attr;
          attr.name = name;
          attr.where = Where(ap);
          CUSTOS_ASSIGN_OR_RETURN(attr.type, ReadType(at, ap, depth + 1, true));
          if (auto req = at.find("required"); req != at.end()) {
            if (!req->is_boolean()) return Error(ap + "/required", "must be true or false");
            attr.required = req->get<bool>();
          }
          t->attributes.push_back(std::move(attr));
        }
      }
      if (auto add = j.find("additionalAttributes"); add != j.end()) {
        if (!add->is_boolean()) {
          return Error(path + "/additionalAttributes", "must be true or false");
        }
        t->additional_attributes = add->get<bool>();
      }
    } else if (type == "Entity" || type == "Extension" || type == "EntityOrCommon") {
      allowed.push_back("name");
      auto nv = j.find("name");
      if (nv == j.end() || !nv->is_string()) {
        return Error(path, "a " + type + " type needs a string field `name`");
      }
      t->name = nv->get<std::string>();
      CUSTOS_RETURN_IF_ERROR(CheckPath(t->name, path + "/name", false));
      t->kind = type == "Entity"      ? RawType::Kind::kEntity
                : type == "Extension" ? RawType::Kind::kExtension
                                      : RawType::Kind::kName;
    } else {
      CUSTOS_RETURN_IF_ERROR(CheckPath(type, path + "/type", false));
      t->kind = RawType::Kind::kCommon;
      t->name = type;
    }
    for (const auto& [key, value] : j.items()) {
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
        return Error(path, "unknown field `" + key + "` for a type `" + type + "`");
      }
    }
    return t;
  }

  std::string filename_;
  schema_raw::RawSchema raw_;
};

// nlohmann's parser recurses once per nesting level; refuse inputs nested deeper than
// any schema needs before handing them over, so hostile input cannot exhaust the stack.
bool NestsTooDeeply(std::string_view text, int limit) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > limit) return true;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return false;
}

}  // namespace

Result<Schema> Schema::ParseJsonSchema(std::string_view text, std::string_view filename) {
  if (NestsTooDeeply(text, 2 * kMaxJsonDepth + 16)) {
    return InvalidArgumentError(std::string(filename) +
                                ": JSON nests too deeply to be a schema (more than " +
                                std::to_string(2 * kMaxJsonDepth + 16) + " levels)");
  }
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    // nlohmann reports a byte offset; turn it into line:col.
    size_t offset = e.byte == 0 ? 0 : e.byte - 1;
    int line = 1, col = 1;
    for (size_t i = 0; i < offset && i < text.size(); ++i) {
      if (text[i] == '\n') {
        ++line;
        col = 1;
      } else if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
        ++col;
      }
    }
    std::string what = e.what();
    // Drop nlohmann's "[json.exception...] parse error at line L, column C: " prefix.
    auto column_at = what.find("column ");
    auto pos = what.find(": ", column_at == std::string::npos ? 0 : column_at);
    if (pos != std::string::npos) what = what.substr(pos + 2);
    return InvalidArgumentError(std::string(filename) + ":" + std::to_string(line) + ":" +
                                std::to_string(col) + ": invalid JSON: " + what);
  } catch (const nlohmann::json::exception& e) {
    // e.g. out_of_range for a number too large to represent.
    std::string what = e.what();
    auto pos = what.find("] ");
    if (pos != std::string::npos) what = what.substr(pos + 2);
    return InvalidArgumentError(std::string(filename) + ": invalid JSON: " + what);
  }
  Result<schema_raw::RawSchema> raw = InternalError("schema reader did not run");
  try {
    raw = JsonSchemaReader(filename).Run(doc);
  } catch (const nlohmann::json::exception& e) {
    // The reader checks every type before converting; this is a safety net only.
    return InternalError(std::string(filename) + ": unexpected JSON error: " + e.what());
  }
  if (!raw.ok()) return raw.status();
  return schema_raw::BuildSchema(*raw);
}

}  // namespace custos::policy
