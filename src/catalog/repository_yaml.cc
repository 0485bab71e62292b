// Reading repository YAML documents (yaml-cpp) into the model, with positions on every
// error. Structure only: references and cross-object rules are checked in
// repository_validate.cc.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdio>
#include <set>

#include "catalog/detail/repository_loader.h"
#include "catalog/duration.h"

namespace custos::catalog::detail {
namespace {

using Keys = std::vector<std::string_view>;

const Keys kKinds = {"Entity", "DataSource", "FeatureView", "FeatureService"};
const Keys kEntityKeys = {"kind", "name", "description", "join_keys"};
const Keys kJoinKeyKeys = {"name", "type"};
const Keys kSourceKeys = {"kind",
                          "name",
                          "description",
                          "type",
                          "path",
                          "table",
                          "query",
                          "dsn_env",
                          "timestamp_field",
                          "created_timestamp_field",
                          "field_mapping",
                          "fields"};
// Keys people reach for that would put a secret into the repository.
const Keys kSecretKeys = {"dsn", "password", "connection_string", "url", "uri", "conninfo"};
const Keys kViewKeys = {"kind",     "name",      "description",    "entities", "source",
                        "features", "tags",      "classification", "owners",   "stewards",
                        "ttl",      "retention", "online"};
const Keys kFeatureKeys = {"name", "type", "classification", "tags", "description", "mask"};
const Keys kServiceKeys = {"kind", "name", "description", "features", "tags", "owners"};
const Keys kSourceTypes = {"csv", "jsonl", "postgres"};
constexpr size_t kMaxListItems = 4096;  // features, entities, owners, ... per object
constexpr size_t kMaxTags = 256;

std::string Join(const Keys& keys) {
  std::string out;
  for (size_t i = 0; i < keys.size(); ++i) {
    out += (i ? ", " : "") + std::string(keys[i]);
  }
  return out;
}

std::string NodeKindName(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Null:
      return "nothing";
    default:
      return "a scalar";
  }
}

class Reader {
 public:
  Reader(const RepositoryFile& file, Repository& repo, ErrorSink& sink)
      : file_(file), repo_(repo), sink_(sink) {}

  void Run() {
    // yaml-cpp 0.7 can loop for ever on malformed UTF-8 (found by fuzzing), and YAML
    // forbids control characters anyway: check the text before parsing it.
    if (!CheckText() || !CheckDocumentStarts()) return;
    std::vector<YAML::Node> docs;
    try {
      docs = YAML::LoadAll(file_.text);
    } catch (const YAML::Exception& e) {
      sink_.Add(Pos(e.mark), "YAML syntax error: " + e.msg + "; fix the YAML syntax");
      return;
    } catch (const std::exception& e) {
      sink_.Add(At(0, 0), std::string("cannot parse YAML: ") + e.what());
      return;
    }
    for (const YAML::Node& doc : docs) {
      try {
        ReadDocument(doc);
      } catch (const std::exception& e) {
        // yaml-cpp throws on malformed nodes it could still load; report, keep going.
        sink_.Add(Pos(doc.Mark()), std::string("cannot read this document: ") + e.what());
      }
    }
  }

 private:
  // Strict UTF-8 (no overlong forms, surrogates or code points past U+10FFFF) without
  // control characters other than tab, line feed and carriage return.
  bool CheckText() {
    const std::string& t = file_.text;
    int line = 1, column = 1;
    for (size_t i = 0; i < t.size();) {
      const auto c = static_cast<unsigned char>(t[i]);
      size_t len = 1;
      uint32_t cp = c;
      if (c >= 0x80) {
        len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
        if (len == 0 || c > 0xF4 || i + len > t.size()) len = 0;
        if (len) {
          cp = c & (0x7F >> len);
          for (size_t k = 1; k < len; ++k) {
            const auto cc = static_cast<unsigned char>(t[i + k]);
            if ((cc & 0xC0) != 0x80) {
              len = 0;
              break;
            }
            cp = (cp << 6) | (cc & 0x3F);
          }
        }
        constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
        if (len == 0 || cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
          char hex[8];
          std::snprintf(hex, sizeof(hex), "0x%02X", c);
          sink_.Add(At(line, column),
                    std::string("invalid UTF-8 (byte ") + hex + "); save the file as UTF-8");
          return false;
        }
      } else if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F) {
        char hex[8];
        std::snprintf(hex, sizeof(hex), "%02X", c);
        sink_.Add(At(line, column), std::string("control character U+00") + hex +
                                        " is not allowed in YAML; remove it");
        return false;
      }
      if (c == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
      i += len;
    }
    return true;
  }

  // yaml-cpp 0.7 also loops for ever on some lines that start with `,` (a document's first
  // token, a line left of the root node's column, after a multi-line quoted scalar: found by
  // fuzzing). Such lines are refused here: only a flow list continued with leading commas,
  // a style repositories do not need, is lost. Document markers are
  // recognised at column 1 (inside block scalars such lines are indented).
  bool CheckDocumentStarts() {
    const std::string& t = file_.text;
    bool at_start = true;
    int line = 0;
    for (size_t pos = 0; pos <= t.size();) {
      size_t end = t.find('\n', pos);
      if (end == std::string::npos) end = t.size();
      std::string_view text(t.data() + pos, end - pos);
      ++line;
      size_t col = 0;
      if (line == 1 && text.substr(0, 3) == "\xEF\xBB\xBF") col = 3;  // byte order mark
      auto is_marker = [&](std::string_view m) {
        return text.substr(col, 3) == m && (text.size() == col + 3 || text[col + 3] == ' ' ||
                                            text[col + 3] == '\t' || text[col + 3] == '\r');
      };
      if (is_marker("---") || is_marker("...")) {
        at_start = true;
        col += 3;
      } else if (at_start && text.substr(col, 1) == "%") {
        col = text.size();  // a directive
      }
      while (col < text.size() && (text[col] == ' ' || text[col] == '\t' || text[col] == '\r')) {
        ++col;
      }
      // A tag or anchor before the document's first token stops at a `,` too ("!k,").
      size_t first = col;
      while (at_start && first < text.size() && (text[first] == '!' || text[first] == '&')) {
        while (first < text.size() && text[first] != ' ' && text[first] != '\t' &&
               text[first] != ',') {
          ++first;
        }
        while (first < text.size() && (text[first] == ' ' || text[first] == '\t')) ++first;
      }
      if (at_start && first < text.size() && text[first] == ',') col = first;
      if (col < text.size() && text[col] == ',') {
        sink_.Add(At(line, static_cast<int>(col) + 1),
                  at_start ? "a document cannot start with `,`; remove it or quote the value"
                           : "a line cannot start with `,` (the YAML parser cannot handle it "
                             "reliably); end the previous line with the comma or quote the "
                             "value");
        return false;
      }
      if (at_start && col < text.size() && text[col] != '#') {
        at_start = false;
      }
      pos = end + 1;
    }
    return true;
  }

  SourcePosition At(int line, int column) const { return {file_.name, line, column}; }
  SourcePosition Pos(const YAML::Mark& m) const {
    if (m.line < 0 || m.column < 0) return At(0, 0);
    return At(m.line + 1, m.column + 1);
  }
  SourcePosition Pos(const YAML::Node& n) const { return Pos(n.Mark()); }

  void Error(const YAML::Node& n, std::string message) { sink_.Add(Pos(n), std::move(message)); }

  // Checks the keys of `map` against `allowed` (unknown keys, duplicates, non-scalar keys).
  void CheckKeys(const YAML::Node& map, const Keys& allowed, std::string_view what) {
    std::set<std::string> seen;
    for (auto it = map.begin(); it != map.end(); ++it) {
      const YAML::Node key = it->first;  // a copy: `it->` yields a temporary proxy
      if (!key.IsScalar()) {
        Error(key,
              "a key in " + std::string(what) + " must be a plain name, not " + NodeKindName(key));
        continue;
      }
      const std::string name = key.Scalar();
      if (!seen.insert(name).second) {
        Error(key,
              "key `" + name + "` appears twice in " + std::string(what) + "; keep one of them");
        continue;
      }
      if (std::find(allowed.begin(), allowed.end(), name) != allowed.end()) continue;
      if (&allowed == &kSourceKeys &&
          std::find(kSecretKeys.begin(), kSecretKeys.end(), name) != kSecretKeys.end()) {
        Error(key, "`" + name +
                       "` would put a connection secret into the repository; set `dsn_env` to "
                       "the name of an environment variable that holds the DSN instead");
        continue;
      }
      Error(key, "unknown key `" + name + "` in " + std::string(what) + DidYouMean(name, allowed) +
                     "; allowed keys: " + Join(allowed));
    }
  }

  // The scalar at `key`, or nullopt (reporting a wrong shape, or absence when required).
  std::optional<std::string> Scalar(const YAML::Node& map, std::string_view key,
                                    std::string_view what, bool required) {
    YAML::Node n = map[std::string(key)];
    if (!n.IsDefined() || n.IsNull()) {
      if (required) {
        Error(n.IsDefined() ? n : map, std::string(n.IsDefined() ? "empty `" : "missing `") +
                                           std::string(key) + "` in " + std::string(what) +
                                           "; add `" + std::string(key) + ": <value>`");
      }
      return std::nullopt;
    }
    if (!n.IsScalar()) {
      Error(n, "`" + std::string(key) + "` in " + std::string(what) +
                   " must be a single value, not " + NodeKindName(n));
      return std::nullopt;
    }
    return n.Scalar();
  }

  std::string Name(const YAML::Node& map, std::string_view what) {
    auto name = Scalar(map, "name", what, /*required=*/true);
    if (!name) return "";
    if (!IsValidName(*name)) {
      Error(map["name"], "`" + *name + "` is not a valid name for " + std::string(what) +
                             "; use letters, digits and _ (not first), at most 128 characters");
    }
    return *name;
  }

  std::optional<ValueType> Type(const YAML::Node& map, std::string_view what) {
    auto text = Scalar(map, "type", what, /*required=*/true);
    if (!text) return std::nullopt;
    auto t = ParseValueType(*text);
    if (!t.ok()) {
      Error(map["type"], t.status().message());
      return std::nullopt;
    }
    return *t;
  }

  std::optional<Classification> ClassificationAt(const YAML::Node& map, std::string_view what) {
    auto text = Scalar(map, "classification", what, /*required=*/false);
    if (!text) return std::nullopt;
    auto c = ParseClassification(*text);
    if (!c.ok()) {
      Error(map["classification"],
            c.status().message() +
                DidYouMean(*text, {"public", "internal", "confidential", "restricted"}));
      return std::nullopt;
    }
    return *c;
  }

  Tags TagsAt(const YAML::Node& map, std::string_view what) {
    Tags tags;
    YAML::Node n = map["tags"];
    if (!n.IsDefined() || n.IsNull()) return tags;
    if (!n.IsMap()) {
      Error(n, "`tags` in " + std::string(what) + " must be a map of name: value, not " +
                   NodeKindName(n));
      return tags;
    }
    if (n.size() > kMaxTags) {
      Error(n, "`tags` in " + std::string(what) + " has " + std::to_string(n.size()) +
                   " entries; at most " + std::to_string(kMaxTags) + " allowed");
      return tags;
    }
    for (auto it = n.begin(); it != n.end(); ++it) {
      if (!it->first.IsScalar() || !(it->second.IsScalar() || it->second.IsNull())) {
        Error(it->first, "each tag is `name: value` with plain text on both sides");
        continue;
      }
      if (!tags.emplace(it->first.Scalar(), it->second.IsNull() ? "" : it->second.Scalar())
               .second) {
        Error(it->first, "tag `" + it->first.Scalar() + "` appears twice; keep one");
      }
    }
    return tags;
  }

  std::vector<YAML::Node> List(const YAML::Node& map, std::string_view key, std::string_view what,
                               bool required) {
    YAML::Node n = map[std::string(key)];
    std::vector<YAML::Node> out;
    if (!n.IsDefined() || n.IsNull()) {
      if (required) {
        Error(n.IsDefined() ? n : map,
              "missing `" + std::string(key) + "` in " + std::string(what) + "; give it a list");
      }
      return out;
    }
    if (!n.IsSequence()) {
      Error(n, "`" + std::string(key) + "` in " + std::string(what) + " must be a list, not " +
                   NodeKindName(n));
      return out;
    }
    // Bounds the work an input can cause (YAML aliases can repeat a large node many times).
    if (n.size() > kMaxListItems) {
      Error(n, "`" + std::string(key) + "` in " + std::string(what) + " has " +
                   std::to_string(n.size()) + " entries; at most " + std::to_string(kMaxListItems) +
                   " allowed");
      return out;
    }
    if (n.size() == 0 && required) {
      Error(n,
            "`" + std::string(key) + "` in " + std::string(what) + " is empty; list at least one");
    }
    for (const auto& item : n) out.push_back(item);
    return out;
  }

  std::vector<policy::EntityUid> Principals(const YAML::Node& map, std::string_view key,
                                            std::string_view what, bool required) {
    std::vector<policy::EntityUid> out;
    for (const YAML::Node& item : List(map, key, what, required)) {
      if (!item.IsScalar()) {
        Error(item, "each entry of `" + std::string(key) +
                        "` is a principal such as "
                        "User::\"alice\" or Group::\"risk\", not " +
                        NodeKindName(item));
        continue;
      }
      auto uid = ParseEntityUidText(item.Scalar());
      if (!uid.ok()) {
        Error(item, uid.status().message() + " (quote the whole entry in YAML: '" +
                        std::string("User::\"alice\"") + "')");
        continue;
      }
      if (std::find(std::begin(kPrincipalTypes), std::end(kPrincipalTypes), uid->type()) ==
          std::end(kPrincipalTypes)) {
        Error(item, "`" + item.Scalar() + "` is not a principal; " + std::string(key) +
                        " must be User, Group or ServiceAccount uids");
        continue;
      }
      if (std::find(out.begin(), out.end(), *uid) != out.end()) {
        Error(item, "`" + item.Scalar() + "` is listed twice in `" + std::string(key) + "`");
        continue;
      }
      out.push_back(*uid);
    }
    return out;
  }

  int64_t DurationAt(const YAML::Node& map, std::string_view key, std::string_view what) {
    auto text = Scalar(map, key, what, /*required=*/false);
    if (!text) return 0;
    auto d = ParseDuration(*text);
    if (!d.ok()) {
      Error(map[std::string(key)], "`" + std::string(key) + "`: " + d.status().message());
      return 0;
    }
    return *d;
  }

  void ReadDocument(const YAML::Node& doc) {
    if (!doc.IsDefined() || doc.IsNull()) return;  // an empty document (e.g. only comments)
    if (!doc.IsMap()) {
      Error(doc,
            "a document must be a map with a `kind:` key (Entity, DataSource, "
            "FeatureView or FeatureService), not " +
                NodeKindName(doc));
      return;
    }
    auto kind = Scalar(doc, "kind", "this document", /*required=*/false);
    if (!kind) {
      if (!doc["kind"].IsDefined()) {
        Error(doc,
              "missing `kind:`; start the document with kind: Entity, DataSource, "
              "FeatureView or FeatureService");
      }
      return;
    }
    if (*kind == "Entity") return ReadEntity(doc);
    if (*kind == "DataSource") return ReadSource(doc);
    if (*kind == "FeatureView") return ReadView(doc);
    if (*kind == "FeatureService") return ReadService(doc);
    Error(doc["kind"], "unknown kind `" + *kind + "`" + DidYouMean(*kind, kKinds) +
                           "; use one of: " + Join(kKinds));
  }

  void ReadEntity(const YAML::Node& doc) {
    CheckKeys(doc, kEntityKeys, "an Entity");
    Entity e;
    e.where = Pos(doc);
    e.name = Name(doc, "an Entity");
    e.description = Scalar(doc, "description", "an Entity", false).value_or("");
    for (const YAML::Node& item : List(doc, "join_keys", "an Entity", /*required=*/true)) {
      if (!item.IsMap()) {
        Error(item, "each join key is a map `{name: customer_id, type: int64}`, not " +
                        NodeKindName(item));
        continue;
      }
      CheckKeys(item, kJoinKeyKeys, "a join key");
      JoinKey k;
      k.name = Name(item, "a join key");
      auto t = Type(item, "a join key");
      if (t) {
        if (t->is_list || t->scalar == ScalarType::kDouble) {
          Error(item["type"], "join key type " + ValueTypeName(*t) +
                                  " cannot identify an entity; use int64, string, bool or "
                                  "timestamp");
        }
        k.type = *t;
      }
      if (std::any_of(e.join_keys.begin(), e.join_keys.end(),
                      [&](const JoinKey& o) { return o.name == k.name; }) &&
          !k.name.empty()) {
        Error(item, "join key `" + k.name + "` is listed twice; keep one");
      }
      e.join_keys.push_back(std::move(k));
    }
    repo_.entities.push_back(std::move(e));
  }

  void ReadSource(const YAML::Node& doc) {
    const std::string_view what = "a DataSource";
    CheckKeys(doc, kSourceKeys, what);
    DataSource s;
    s.where = Pos(doc);
    s.name = Name(doc, what);
    s.description = Scalar(doc, "description", what, false).value_or("");
    auto type = Scalar(doc, "type", what, /*required=*/true);
    bool type_ok = false;
    if (type) {
      if (*type == "csv") {
        s.kind = SourceKind::kCsv;
        type_ok = true;
      } else if (*type == "jsonl") {
        s.kind = SourceKind::kJsonLines;
        type_ok = true;
      } else if (*type == "postgres") {
        s.kind = SourceKind::kPostgres;
        type_ok = true;
      } else {
        Error(doc["type"], "unknown source type `" + *type + "`" + DidYouMean(*type, kSourceTypes) +
                               "; use csv, jsonl or postgres");
      }
    }
    auto path = Scalar(doc, "path", what, false);
    auto table = Scalar(doc, "table", what, false);
    auto query = Scalar(doc, "query", what, false);
    auto dsn_env = Scalar(doc, "dsn_env", what, false);
    if (type_ok && s.kind != SourceKind::kPostgres) {
      if (!path) {
        Error(doc, "missing `path` in a " + *type +
                       " DataSource; give the file's path relative to the repository");
      }
      for (std::string_view k : {"table", "query", "dsn_env"}) {
        if (doc[std::string(k)].IsDefined()) {
          Error(doc[std::string(k)], "`" + std::string(k) + "` is for postgres sources; a " +
                                         *type + " source reads `path`");
        }
      }
    }
    if (type_ok && s.kind == SourceKind::kPostgres) {
      if (path) Error(doc["path"], "`path` is for csv and jsonl sources; use `table` or `query`");
      if (table.has_value() == query.has_value()) {
        Error(doc, "a postgres DataSource needs exactly one of `table` and `query`");
      }
      if (!dsn_env) {
        Error(doc,
              "missing `dsn_env` in a postgres DataSource; name the environment variable "
              "that holds the DSN, e.g. dsn_env: FRAUD_PG_DSN");
      } else if (!IsEnvName(*dsn_env)) {
        // The value is not echoed: it may well be the DSN, password included.
        Error(doc["dsn_env"],
              "`dsn_env` must name an environment variable (letters, digits and "
              "_, e.g. FRAUD_PG_DSN), never hold the DSN itself; its value is "
              "not shown in case it is a secret");
      }
    }
    s.path = path.value_or("");
    s.table = table.value_or("");
    s.query = query.value_or("");
    s.dsn_env = dsn_env.value_or("");
    s.timestamp_field = Scalar(doc, "timestamp_field", what, /*required=*/true).value_or("");
    s.created_timestamp_field = Scalar(doc, "created_timestamp_field", what, false).value_or("");
    YAML::Node mapping = doc["field_mapping"];
    if (mapping.IsDefined() && !mapping.IsNull()) {
      if (!mapping.IsMap()) {
        Error(mapping,
              "`field_mapping` must be a map of source_column: name, not " + NodeKindName(mapping));
      } else if (mapping.size() > kMaxListItems) {
        Error(mapping, "`field_mapping` has " + std::to_string(mapping.size()) +
                           " entries; at most " + std::to_string(kMaxListItems) + " allowed");
      } else {
        for (auto it = mapping.begin(); it != mapping.end(); ++it) {
          if (!it->first.IsScalar() || !it->second.IsScalar()) {
            Error(it->first, "each field_mapping entry is `source_column: name`");
            continue;
          }
          if (!IsValidName(it->second.Scalar())) {
            Error(it->second, "`" + it->second.Scalar() +
                                  "` is not a valid field name; use letters, digits and _");
          }
          if (!s.field_mapping.emplace(it->first.Scalar(), it->second.Scalar()).second) {
            Error(it->first, "column `" + it->first.Scalar() + "` is mapped twice; keep one");
          }
        }
      }
    }
    YAML::Node fields = doc["fields"];
    if (fields.IsDefined() && !fields.IsNull()) {
      if (!fields.IsMap()) {
        Error(fields, "`fields` must be a map of name: type (e.g. amount: double), not " +
                          NodeKindName(fields));
      } else if (fields.size() > kMaxListItems) {
        Error(fields, "`fields` has " + std::to_string(fields.size()) + " entries; at most " +
                          std::to_string(kMaxListItems) + " allowed");
      } else {
        for (auto it = fields.begin(); it != fields.end(); ++it) {
          if (!it->first.IsScalar() || !it->second.IsScalar()) {
            Error(it->first, "each entry of `fields` is `name: type`");
            continue;
          }
          auto t = ParseValueType(it->second.Scalar());
          if (!t.ok()) {
            Error(it->second, t.status().message());
            continue;
          }
          const std::string name = it->first.Scalar();
          if (std::any_of(s.fields.begin(), s.fields.end(),
                          [&](const SourceField& f) { return f.name == name; })) {
            Error(it->first, "field `" + name + "` is declared twice; keep one");
            continue;
          }
          s.fields.push_back({name, *t});
        }
      }
    }
    repo_.sources.push_back(std::move(s));
  }

  static bool IsEnvName(std::string_view s) {
    if (s.empty() || s.size() > 128 || (s[0] >= '0' && s[0] <= '9')) return false;
    return std::all_of(s.begin(), s.end(), [](char c) {
      return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    });
  }

  void ReadView(const YAML::Node& doc) {
    const std::string_view what = "a FeatureView";
    CheckKeys(doc, kViewKeys, what);
    FeatureView v;
    v.where = Pos(doc);
    v.name = Name(doc, what);
    v.description = Scalar(doc, "description", what, false).value_or("");
    for (const YAML::Node& item : List(doc, "entities", what, /*required=*/true)) {
      if (!item.IsScalar()) {
        Error(item, "each entry of `entities` is an entity name, not " + NodeKindName(item));
        continue;
      }
      v.entities.push_back(item.Scalar());
      v.entities_where.push_back(Pos(item));
    }
    auto source = Scalar(doc, "source", what, /*required=*/true);
    v.source = source.value_or("");
    if (source) v.source_where = Pos(doc["source"]);
    v.tags = TagsAt(doc, what);
    if (auto c = ClassificationAt(doc, what)) v.classification = *c;
    v.owners = Principals(doc, "owners", what, /*required=*/true);
    v.stewards = Principals(doc, "stewards", what, /*required=*/false);
    v.ttl_seconds = DurationAt(doc, "ttl", what);
    v.retention_seconds = DurationAt(doc, "retention", what);
    if (auto online = Scalar(doc, "online", what, false)) {
      if (*online == "true") {
        v.online = true;
      } else if (*online == "false") {
        v.online = false;
      } else {
        Error(doc["online"], "`online` must be true or false, not `" + *online + "`");
      }
    }
    for (const YAML::Node& item : List(doc, "features", what, /*required=*/true)) {
      if (!item.IsMap()) {
        Error(item,
              "each feature is a map `{name: amount, type: double}`, not " + NodeKindName(item));
        continue;
      }
      CheckKeys(item, kFeatureKeys, "a feature");
      Feature f;
      f.where = Pos(item);
      f.name = Name(item, "a feature");
      auto t = Type(item, "a feature");
      if (t) f.type = *t;
      f.classification = ClassificationAt(item, "a feature").value_or(v.classification);
      f.tags = TagsAt(item, "a feature");
      f.description = Scalar(item, "description", "a feature", false).value_or("");
      // `mask: null` is YAML's null, not the string; both mean the null mask.
      if (item["mask"].IsDefined() && item["mask"].IsNull()) f.mask = MaskRule{MaskKind::kNull, 0};
      if (auto mask = Scalar(item, "mask", "a feature", false)) {
        auto rule = ParseMaskRule(*mask);
        if (!rule.ok()) {
          Error(item["mask"], rule.status().message());
        } else {
          f.mask = *rule;
          if (t) {
            Status fits = CheckMaskFits(*rule, *t);
            if (!fits.ok()) Error(item["mask"], "feature `" + f.name + "`: " + fits.message());
          }
        }
      }
      v.features.push_back(std::move(f));
    }
    repo_.views.push_back(std::move(v));
  }

  void ReadService(const YAML::Node& doc) {
    const std::string_view what = "a FeatureService";
    CheckKeys(doc, kServiceKeys, what);
    FeatureService s;
    s.where = Pos(doc);
    s.name = Name(doc, what);
    s.description = Scalar(doc, "description", what, false).value_or("");
    s.tags = TagsAt(doc, what);
    s.owners = Principals(doc, "owners", what, /*required=*/false);
    for (const YAML::Node& item : List(doc, "features", what, /*required=*/true)) {
      if (!item.IsScalar()) {
        Error(item,
              "each entry of `features` is `view` or `view:feature`, not " + NodeKindName(item));
        continue;
      }
      const std::string text = item.Scalar();
      FeatureRef ref;
      ref.where = Pos(item);
      size_t colon = text.find(':');
      ref.view = text.substr(0, colon);
      if (colon != std::string::npos) ref.feature = text.substr(colon + 1);
      if (ref.view.empty() || (colon != std::string::npos && ref.feature.empty())) {
        Error(item, "`" + text + "` is not a feature reference; write `view` or `view:feature`");
        continue;
      }
      if (std::find(s.features.begin(), s.features.end(), ref) != s.features.end()) {
        Error(item, "`" + text + "` is listed twice; keep one");
        continue;
      }
      s.features.push_back(std::move(ref));
    }
    repo_.services.push_back(std::move(s));
  }

  const RepositoryFile& file_;
  Repository& repo_;
  ErrorSink& sink_;
};

}  // namespace

void ReadRepositoryFile(const RepositoryFile& file, Repository& repo, ErrorSink& sink) {
  Reader(file, repo, sink).Run();
}

}  // namespace custos::catalog::detail
