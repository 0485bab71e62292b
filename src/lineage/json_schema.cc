// JSON Schema 2020-12: the compiler (documents -> tree of SchemaNodes with resolved refs)
// and the validator that walks an instance against that tree (see json_schema.h).
#include "lineage/json_schema.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <deque>
#include <optional>
#include <unordered_map>
#include <utility>

#include "lineage/detail/schema_formats.h"

namespace custos::lineage {

using Json = nlohmann::json;

namespace detail {

enum class Format : uint8_t { kNone, kDateTime, kUuid, kUri };

// Bits of SchemaNode::types.
enum TypeBit : uint8_t {
  kNullBit = 1,
  kBooleanBit = 2,
  kObjectBit = 4,
  kArrayBit = 8,
  kNumberBit = 16,
  kStringBit = 32,
  kIntegerBit = 64,
};

// One compiled schema. Invariants after SchemaRegistry::Compile: every pointer names a node
// of the same registry, and the graph of in-place edges (ref, all_of, any_of, one_of,
// not_schema) has no cycle, so evaluating one instance location always terminates.
struct SchemaNode {
  uint32_t id = 0;           // position in SchemaSet::nodes
  std::string location;      // absolute URI '#' JSON Pointer, for messages
  bool rejects_all = false;  // the boolean schema false (true is a node with no keywords)
  uint8_t types = 0;         // TypeBits; 0 when there is no "type"
  Format format = Format::kNone;
  std::optional<Json> const_value;
  std::optional<Json> enum_values;  // an array
  std::optional<Json> minimum;      // a number
  std::vector<std::string> required;
  std::vector<std::pair<std::string, std::vector<std::string>>> dependent_required;
  std::vector<std::pair<std::string, const SchemaNode*>> properties;  // sorted by name
  const SchemaNode* additional_properties = nullptr;
  const SchemaNode* items = nullptr;
  const SchemaNode* ref = nullptr;
  std::vector<const SchemaNode*> all_of;
  std::vector<const SchemaNode*> any_of;
  std::vector<const SchemaNode*> one_of;
  const SchemaNode* not_schema = nullptr;
};

// Everything a SchemaRegistry owns.
struct SchemaSet {
  SchemaRegistryOptions options;
  std::deque<SchemaNode> nodes;  // a deque, so node addresses stay put as it grows
  // "<absolute URI>#<JSON Pointer>" (pointer tokens ~-escaped, not %-encoded) -> node.
  std::unordered_map<std::string, const SchemaNode*> index;
};

}  // namespace detail

using detail::SchemaNode;
using detail::SchemaSet;

namespace {

constexpr std::string_view kDialect = "https://json-schema.org/draft/2020-12/schema";
constexpr int kMaxSchemaNesting = 128;

constexpr std::array<std::string_view, 11> kAnnotationKeywords = {
    "title",     "description", "default",         "examples",         "deprecated",   "readOnly",
    "writeOnly", "$comment",    "contentEncoding", "contentMediaType", "contentSchema"};

// Standard keywords this validator does not implement: named in the error so the reader
// knows the schema is fine JSON Schema, just beyond this validator.
constexpr std::array<std::string_view, 30> kUnsupportedKeywords = {
    // Need ECMA-262 regular expressions, which std::regex does not match exactly.
    "pattern", "patternProperties",
    // Further array, string, number and object assertions.
    "prefixItems", "contains", "minContains", "maxContains", "minItems", "maxItems", "uniqueItems",
    "minLength", "maxLength", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf",
    "minProperties", "maxProperties",
    // Further applicators and identifiers.
    "propertyNames", "dependentSchemas", "if", "then", "else", "unevaluatedItems",
    "unevaluatedProperties", "$anchor", "$dynamicAnchor", "$dynamicRef", "$vocabulary",
    // Earlier drafts' names for $defs and dependentRequired/dependentSchemas.
    "definitions", "dependencies"};

template <size_t N>
bool Contains(const std::array<std::string_view, N>& list, std::string_view word) {
  return std::find(list.begin(), list.end(), word) != list.end();
}

using detail::EscapeJsonPointerToken;

// Length of the well-formed UTF-8 sequence at text[i], or 0 if there is none.
size_t Utf8SequenceLength(std::string_view text, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = byte(i);
  size_t length = 0;
  unsigned char low = 0x80;
  unsigned char high = 0xbf;
  if (lead >= 0xc2 && lead <= 0xdf) {
    length = 2;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3;
    if (lead == 0xe0) low = 0xa0;
    if (lead == 0xed) high = 0x9f;  // no UTF-16 surrogates
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4;
    if (lead == 0xf0) low = 0x90;
    if (lead == 0xf4) high = 0x8f;
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  if (byte(i + 1) < low || byte(i + 1) > high) return 0;
  for (size_t k = i + 2; k < i + length; ++k) {
    if (byte(k) < 0x80 || byte(k) > 0xbf) return 0;
  }
  return length;
}

// Appends at most `limit` bytes of `text` so that the message stays valid, printable UTF-8
// whatever the instance held; inside quotes, '"' and '\' are escaped too.
void AppendPrintable(std::string& out, std::string_view text, bool quoted, size_t limit) {
  static constexpr char kHex[] = "0123456789abcdef";
  size_t i = 0;
  while (i < text.size() && i < limit) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      const size_t length = Utf8SequenceLength(text, i);
      if (length > 0) {
        out.append(text.substr(i, length));
        i += length;
        continue;
      }
    }
    if (c < 0x20 || c == 0x7f || c >= 0x80) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    } else {
      if (quoted && (c == '"' || c == '\\')) out += '\\';
      out += static_cast<char>(c);
    }
    ++i;
  }
  if (i < text.size()) out += "...";
}

std::string Quote(std::string_view text) {
  std::string out = "\"";
  AppendPrintable(out, text, true, 80);
  out += '"';
  return out;
}

struct TypeName {
  std::string_view name;
  uint8_t bit;
  std::string_view phrase;
};
constexpr std::array<TypeName, 7> kTypeNames = {{
    {"object", detail::kObjectBit, "an object"},
    {"array", detail::kArrayBit, "an array"},
    {"string", detail::kStringBit, "a string"},
    {"number", detail::kNumberBit, "a number"},
    {"integer", detail::kIntegerBit, "an integer"},
    {"boolean", detail::kBooleanBit, "a boolean"},
    {"null", detail::kNullBit, "null"},
}};

// The TypeBit naming a value's JSON kind: kIntegerBit for integers, kNumberBit for other
// numbers (even 1.0), 0 for what JSON cannot hold (binary, discarded).
uint8_t KindBit(const Json& value) {
  switch (value.type()) {
    case Json::value_t::null:
      return detail::kNullBit;
    case Json::value_t::boolean:
      return detail::kBooleanBit;
    case Json::value_t::object:
      return detail::kObjectBit;
    case Json::value_t::array:
      return detail::kArrayBit;
    case Json::value_t::string:
      return detail::kStringBit;
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
      return detail::kIntegerBit;
    case Json::value_t::number_float:
      return detail::kNumberBit;
    default:
      return 0;
  }
}

std::string_view KindOf(const Json& value) {
  const uint8_t bit = KindBit(value);
  for (const TypeName& type : kTypeNames) {
    if (type.bit == bit) return type.phrase;
  }
  return "a non-JSON value";
}

// A short rendering of an instance value for messages.
std::string Render(const Json& value) {
  if (value.is_string()) return Quote(value.get_ref<const std::string&>());
  if (value.is_null() || value.is_boolean() || value.is_number()) return value.dump();
  return std::string(KindOf(value));
}

std::string TypePhrase(uint8_t types) {
  std::string out;
  for (const TypeName& type : kTypeNames) {
    if ((types & type.bit) == 0) continue;
    if (!out.empty()) out += " or ";
    out += type.phrase;
  }
  return out;
}

bool MatchesType(uint8_t types, const Json& value) {
  const uint8_t bit = KindBit(value);
  if (bit == detail::kIntegerBit) return types & (detail::kNumberBit | detail::kIntegerBit);
  if (bit == detail::kNumberBit && !(types & detail::kNumberBit) && (types & detail::kIntegerBit)) {
    // 2020-12: "integer" is any number with a zero fractional part, so 1.0 counts.
    const double d = *value.get_ptr<const double*>();
    return std::isfinite(d) && std::trunc(d) == d;
  }
  return types & bit;
}

// True if `value` nests arrays and objects more than `limit` levels deep; recurses at most
// `limit` levels, so it is safe on hostile input (copying or comparing would not be).
bool NestsDeeperThan(const Json& value, int limit) {
  if (!value.is_structured()) return false;
  if (limit == 0) return true;
  return std::any_of(value.begin(), value.end(),
                     [&](const Json& child) { return NestsDeeperThan(child, limit - 1); });
}

// a < b for JSON numbers, exact between integers of either signedness.
bool NumberLess(const Json& a, const Json& b) {
  if (a.is_number_float() || b.is_number_float()) return a.get<double>() < b.get<double>();
  if (a.is_number_unsigned() && b.is_number_unsigned()) {
    return a.get<uint64_t>() < b.get<uint64_t>();
  }
  if (a.is_number_unsigned()) {  // a >= 0
    const int64_t bv = b.get<int64_t>();
    return bv >= 0 && a.get<uint64_t>() < static_cast<uint64_t>(bv);
  }
  if (b.is_number_unsigned()) {
    const int64_t av = a.get<int64_t>();
    return av < 0 || static_cast<uint64_t>(av) < b.get<uint64_t>();
  }
  return a.get<int64_t>() < b.get<int64_t>();
}

// "<base>#<pointer>" for an absolute URI whose fragment is empty or a JSON Pointer (which
// may be %-encoded); the form SchemaSet::index is keyed by.
Result<std::string> IndexKey(std::string_view uri) {
  if (!detail::SplitUriReference(uri).scheme.has_value()) {
    return InvalidArgumentError(Quote(uri) + " is not an absolute URI");
  }
  const size_t hash = uri.find('#');
  std::string key = detail::ResolveUriReference("", uri.substr(0, hash));
  key += '#';
  if (hash == std::string_view::npos) return key;
  std::string pointer;
  if (!detail::PercentDecode(uri.substr(hash + 1), pointer)) {
    return InvalidArgumentError(Quote(uri) + " has a malformed %-escape in its fragment");
  }
  if (!pointer.empty() && pointer.front() != '/') {
    return InvalidArgumentError(Quote(uri) +
                                ": plain-name fragments ($anchor) are not supported; "
                                "use a JSON Pointer such as #/$defs/Name");
  }
  for (size_t i = 0; i < pointer.size(); ++i) {
    if (pointer[i] == '~' &&
        (i + 1 == pointer.size() || (pointer[i + 1] != '0' && pointer[i + 1] != '1'))) {
      return InvalidArgumentError(Quote(uri) + ": '~' in a JSON Pointer must be ~0 or ~1");
    }
  }
  key += pointer;
  return key;
}

// Builds SchemaNodes from documents; refs are recorded while walking and resolved once
// every document is in the index.
class Compiler {
 public:
  explicit Compiler(SchemaSet& out) : out_(out) {}

  Status AddDocument(const SchemaDocument& document, size_t number) {
    if (document.schema.is_discarded()) {
      return InvalidArgumentError("schema document " + std::to_string(number) +
                                  " is not JSON (it failed to parse)");
    }
    std::string base;
    if (!document.retrieval_uri.empty()) {
      if (!detail::SplitUriReference(document.retrieval_uri).scheme.has_value()) {
        return InvalidArgumentError("schema document " + std::to_string(number) +
                                    ": retrieval_uri " + Quote(document.retrieval_uri) +
                                    " is not an absolute URI");
      }
      base = detail::ResolveUriReference("", document.retrieval_uri);
    }
    const bool has_id = document.schema.is_object() && document.schema.contains("$id");
    if (base.empty() && !has_id) {
      return InvalidArgumentError("schema document " + std::to_string(number) +
                                  " has no \"$id\"; give it one or set retrieval_uri");
    }
    // The root scope is the retrieval URI; a root $id replaces it in CompileSchema.
    std::vector<Scope> scopes;
    if (!base.empty()) scopes.push_back({base, ""});
    return CompileSchema(document.schema, std::move(scopes), 0).status();
  }

  Status ResolveRefs() {
    for (const PendingRef& pending : pending_) {
      auto key = IndexKey(pending.target);
      if (!key.ok()) return InvalidArgumentError(pending.location + ": " + key.status().message());
      auto it = out_.index.find(*key);
      if (it == out_.index.end()) {
        return InvalidArgumentError(pending.location + ": \"$ref\" " + Quote(pending.target) +
                                    " names no schema in the registry (add the document "
                                    "with that $id, or fix the JSON Pointer)");
      }
      pending.node->ref = it->second;
    }
    return Status::Ok();
  }

  // Refuses a cycle of in-place applicators: it would recurse on one instance location
  // forever. Iterative depth-first search, so long ref chains cannot exhaust the stack.
  Status CheckNoInPlaceCycle() const {
    enum : uint8_t { kWhite, kGray, kBlack };
    std::vector<uint8_t> color(out_.nodes.size(), kWhite);
    struct Frame {
      const SchemaNode* node;
      std::vector<const SchemaNode*> next;
      size_t position;
    };
    for (const SchemaNode& start : out_.nodes) {
      if (color[start.id] != kWhite) continue;
      std::vector<Frame> stack;
      stack.push_back({&start, InPlaceChildren(start), 0});
      color[start.id] = kGray;
      while (!stack.empty()) {
        Frame& top = stack.back();
        if (top.position == top.next.size()) {
          color[top.node->id] = kBlack;
          stack.pop_back();
          continue;
        }
        const SchemaNode* child = top.next[top.position++];
        if (color[child->id] == kGray) return CycleError(stack, child);
        if (color[child->id] == kWhite) {
          color[child->id] = kGray;
          stack.push_back({child, InPlaceChildren(*child), 0});
        }
      }
    }
    return Status::Ok();
  }

 private:
  // A resource (its absolute base URI) and the JSON Pointer from its root to here.
  struct Scope {
    std::string base;
    std::string pointer;
  };
  struct PendingRef {
    SchemaNode* node;
    std::string target;    // absolute URI the $ref resolved to
    std::string location;  // the $ref keyword's own location, for messages
  };

  static std::vector<Scope> Descend(const std::vector<Scope>& scopes, std::string_view token) {
    std::vector<Scope> out = scopes;
    for (Scope& scope : out) scope.pointer += "/" + EscapeJsonPointerToken(token);
    return out;
  }

  static std::vector<const SchemaNode*> InPlaceChildren(const SchemaNode& node) {
    std::vector<const SchemaNode*> out;
    if (node.ref != nullptr) out.push_back(node.ref);
    out.insert(out.end(), node.all_of.begin(), node.all_of.end());
    out.insert(out.end(), node.any_of.begin(), node.any_of.end());
    out.insert(out.end(), node.one_of.begin(), node.one_of.end());
    if (node.not_schema != nullptr) out.push_back(node.not_schema);
    return out;
  }

  template <typename Frame>
  static Status CycleError(const std::vector<Frame>& stack, const SchemaNode* back_to) {
    std::string chain;
    bool in_cycle = false;
    for (const Frame& frame : stack) {
      in_cycle = in_cycle || frame.node == back_to;
      if (in_cycle) chain += frame.node->location + " -> ";
    }
    chain += back_to->location;
    return InvalidArgumentError(back_to->location +
                                ": schemas apply each other in a cycle that consumes no part "
                                "of the instance, so validation would never end: " +
                                chain +
                                " (a recursive schema must recurse through properties, "
                                "additionalProperties or items)");
  }

  Status Register(const std::vector<Scope>& scopes, const SchemaNode* node) {
    for (const Scope& scope : scopes) {
      std::string key = scope.base + "#" + scope.pointer;
      auto [it, inserted] = out_.index.emplace(key, node);
      if (!inserted) {
        return InvalidArgumentError(node->location + ": " + Quote(key) +
                                    " already names another schema (duplicate \"$id\"?)");
      }
    }
    return Status::Ok();
  }

  Result<const SchemaNode*> Child(const Json& value, const std::vector<Scope>& scopes,
                                  std::string_view keyword, int nesting) {
    return CompileSchema(value, Descend(scopes, keyword), nesting + 1);
  }

  // Compiles each member of an object-valued keyword (properties, $defs).
  Result<std::vector<std::pair<std::string, const SchemaNode*>>> ChildMap(
      const Json& value, const std::vector<Scope>& scopes, const std::string& where,
      std::string_view keyword, int nesting) {
    if (!value.is_object()) return InvalidArgumentError(where + ": must be an object");
    std::vector<std::pair<std::string, const SchemaNode*>> out;
    const std::vector<Scope> inner = Descend(scopes, keyword);
    for (auto it = value.begin(); it != value.end(); ++it) {
      CUSTOS_ASSIGN_OR_RETURN(const SchemaNode* child,
                              CompileSchema(it.value(), Descend(inner, it.key()), nesting + 1));
      out.emplace_back(it.key(), child);
    }
    return out;  // nlohmann objects iterate in key order, so `out` is sorted
  }

  Result<std::vector<const SchemaNode*>> ChildList(const Json& value,
                                                   const std::vector<Scope>& scopes,
                                                   const std::string& where,
                                                   std::string_view keyword, int nesting) {
    if (!value.is_array() || value.empty()) {
      return InvalidArgumentError(where + ": must be a non-empty array of schemas");
    }
    std::vector<const SchemaNode*> out;
    const std::vector<Scope> inner = Descend(scopes, keyword);
    for (size_t i = 0; i < value.size(); ++i) {
      CUSTOS_ASSIGN_OR_RETURN(
          const SchemaNode* child,
          CompileSchema(value[i], Descend(inner, std::to_string(i)), nesting + 1));
      out.push_back(child);
    }
    return out;
  }

  static Result<std::vector<std::string>> UniqueStrings(const Json& value,
                                                        const std::string& where) {
    if (!value.is_array()) return InvalidArgumentError(where + ": must be an array of strings");
    std::vector<std::string> out;
    for (const Json& item : value) {
      if (!item.is_string()) return InvalidArgumentError(where + ": must hold only strings");
      const std::string& s = item.get_ref<const std::string&>();
      if (std::find(out.begin(), out.end(), s) != out.end()) {
        return InvalidArgumentError(where + ": " + Quote(s) + " is listed twice");
      }
      out.push_back(s);
    }
    return out;
  }

  static Result<uint8_t> TypeBits(const Json& value, const std::string& where) {
    const auto bit_of = [&](const Json& name) -> Result<uint8_t> {
      if (name.is_string()) {
        for (const TypeName& type : kTypeNames) {
          if (type.name == name.get_ref<const std::string&>()) return type.bit;
        }
      }
      return InvalidArgumentError(where + ": " + Render(name) +
                                  " is not a type (object, array, string, number, integer, "
                                  "boolean, null)");
    };
    if (!value.is_array()) return bit_of(value);
    if (value.empty()) return InvalidArgumentError(where + ": must not be an empty array");
    uint8_t bits = 0;
    for (const Json& name : value) {
      CUSTOS_ASSIGN_OR_RETURN(uint8_t bit, bit_of(name));
      if (bits & bit) return InvalidArgumentError(where + ": lists " + Render(name) + " twice");
      bits |= bit;
    }
    return bits;
  }

  static Result<detail::Format> FormatOf(const Json& value, const std::string& where) {
    if (value == "date-time") return detail::Format::kDateTime;
    if (value == "uuid") return detail::Format::kUuid;
    if (value == "uri") return detail::Format::kUri;
    return InvalidArgumentError(where + ": format " + Render(value) +
                                " is not supported (supported: date-time, uuid, uri); it "
                                "is refused rather than left unchecked");
  }

  Result<const SchemaNode*> CompileSchema(const Json& schema, std::vector<Scope> scopes,
                                          int nesting) {
    const std::string here = scopes.empty() ? std::string("(document)")
                                            : scopes.back().base + "#" + scopes.back().pointer;
    if (nesting > kMaxSchemaNesting) {
      return InvalidArgumentError(here + ": schemas nested more than " +
                                  std::to_string(kMaxSchemaNesting) + " levels deep");
    }
    if (schema.is_object() && schema.contains("$id")) {
      const Json& id = schema["$id"];
      const std::string base = scopes.empty() ? std::string() : scopes.back().base;
      if (!id.is_string()) return InvalidArgumentError(here + "/$id: must be a string");
      const std::string& text = id.get_ref<const std::string&>();
      std::string resolved = detail::ResolveUriReference(base, text);
      if (resolved.ends_with('#')) resolved.pop_back();
      if (!detail::SplitUriReference(resolved).scheme.has_value() ||
          resolved.find('#') != std::string::npos) {
        return InvalidArgumentError(here + "/$id: " + Quote(text) +
                                    " must resolve to an absolute URI without a fragment");
      }
      // A root $id equal to the retrieval URI names the same resource.
      if (scopes.empty() || scopes.back().base != resolved || !scopes.back().pointer.empty()) {
        scopes.push_back({std::move(resolved), ""});
      }
    }
    SchemaNode& node = out_.nodes.emplace_back();
    node.id = static_cast<uint32_t>(out_.nodes.size() - 1);
    node.location = scopes.back().base + "#" + scopes.back().pointer;
    CUSTOS_RETURN_IF_ERROR(Register(scopes, &node));
    if (schema.is_boolean()) {
      node.rejects_all = !schema.get<bool>();
      return &node;
    }
    if (!schema.is_object()) {
      return InvalidArgumentError(node.location +
                                  ": a schema must be an object or a boolean, not " +
                                  std::string(KindOf(schema)));
    }
    for (auto it = schema.begin(); it != schema.end(); ++it) {
      CUSTOS_RETURN_IF_ERROR(CompileKeyword(node, it.key(), it.value(), scopes, nesting));
    }
    return &node;
  }

  Status CompileKeyword(SchemaNode& node, const std::string& keyword, const Json& value,
                        const std::vector<Scope>& scopes, int nesting) {
    const std::string where = node.location + "/" + EscapeJsonPointerToken(keyword);
    if (keyword == "$id") return Status::Ok();  // handled by CompileSchema
    if (keyword == "$schema") {
      if (value == kDialect || value == std::string(kDialect) + "#") return Status::Ok();
      return InvalidArgumentError(where + ": only " + std::string(kDialect) +
                                  " is supported, not " + Render(value));
    }
    if (keyword == "$ref") {
      if (!value.is_string()) return InvalidArgumentError(where + ": must be a string");
      pending_.push_back(
          {&node,
           detail::ResolveUriReference(scopes.back().base, value.get_ref<const std::string&>()),
           where});
      return Status::Ok();
    }
    if (keyword == "$defs") return ChildMap(value, scopes, where, keyword, nesting).status();
    if (keyword == "properties") {
      CUSTOS_ASSIGN_OR_RETURN(node.properties, ChildMap(value, scopes, where, keyword, nesting));
      return Status::Ok();
    }
    if (keyword == "additionalProperties") {
      CUSTOS_ASSIGN_OR_RETURN(node.additional_properties, Child(value, scopes, keyword, nesting));
      return Status::Ok();
    }
    if (keyword == "items") {
      if (value.is_array()) {
        return InvalidArgumentError(where +
                                    ": in 2020-12 \"items\" takes one schema (the array form "
                                    "became prefixItems, which is not supported)");
      }
      CUSTOS_ASSIGN_OR_RETURN(node.items, Child(value, scopes, keyword, nesting));
      return Status::Ok();
    }
    if (keyword == "not") {
      CUSTOS_ASSIGN_OR_RETURN(node.not_schema, Child(value, scopes, keyword, nesting));
      return Status::Ok();
    }
    if (keyword == "allOf" || keyword == "anyOf" || keyword == "oneOf") {
      auto& list = keyword == "allOf"   ? node.all_of
                   : keyword == "anyOf" ? node.any_of
                                        : node.one_of;
      CUSTOS_ASSIGN_OR_RETURN(list, ChildList(value, scopes, where, keyword, nesting));
      return Status::Ok();
    }
    if (keyword == "type") {
      CUSTOS_ASSIGN_OR_RETURN(node.types, TypeBits(value, where));
      return Status::Ok();
    }
    if (keyword == "required") {
      CUSTOS_ASSIGN_OR_RETURN(node.required, UniqueStrings(value, where));
      return Status::Ok();
    }
    if (keyword == "dependentRequired") {
      if (!value.is_object()) return InvalidArgumentError(where + ": must be an object");
      for (auto it = value.begin(); it != value.end(); ++it) {
        CUSTOS_ASSIGN_OR_RETURN(
            std::vector<std::string> needed,
            UniqueStrings(it.value(), where + "/" + EscapeJsonPointerToken(it.key())));
        node.dependent_required.emplace_back(it.key(), std::move(needed));
      }
      return Status::Ok();
    }
    if ((keyword == "enum" || keyword == "const") && NestsDeeperThan(value, kMaxSchemaNesting)) {
      return InvalidArgumentError(where + ": value nested more than " +
                                  std::to_string(kMaxSchemaNesting) + " levels deep");
    }
    if (keyword == "enum") {
      if (!value.is_array()) return InvalidArgumentError(where + ": must be an array");
      node.enum_values = value;
      return Status::Ok();
    }
    if (keyword == "const") {
      node.const_value = value;
      return Status::Ok();
    }
    if (keyword == "minimum") {
      if (!value.is_number()) return InvalidArgumentError(where + ": must be a number");
      node.minimum = value;
      return Status::Ok();
    }
    if (keyword == "format") {
      CUSTOS_ASSIGN_OR_RETURN(node.format, FormatOf(value, where));
      return Status::Ok();
    }
    if (Contains(kAnnotationKeywords, keyword)) return Status::Ok();
    const auto& extra = out_.options.extra_annotation_keywords;
    if (std::find(extra.begin(), extra.end(), keyword) != extra.end()) return Status::Ok();
    if (Contains(kUnsupportedKeywords, keyword)) {
      return InvalidArgumentError(where + ": keyword " + Quote(keyword) +
                                  " is not supported by this validator; it refuses the schema "
                                  "rather than skip an assertion");
    }
    return InvalidArgumentError(where + ": unknown keyword " + Quote(keyword) +
                                "; if it is only an annotation, list it in "
                                "SchemaRegistryOptions::extra_annotation_keywords");
  }

  SchemaSet& out_;
  std::vector<PendingRef> pending_;
};

// A step on the way from the validated value to the current instance location. Frames
// live on the validator's stack; the JSON Pointer is rendered only for an error.
struct PathFrame {
  const PathFrame* parent = nullptr;
  std::string_view key;  // member name, unless is_index
  size_t index = 0;
  bool is_index = false;
};

// How a failure bears on choosing the most relevant anyOf/oneOf branch.
enum class FailureKind : uint8_t {
  kOther,
  kType,           // a "type" mismatch
  kDiscriminator,  // a "const" or one-value "enum" mismatch
};

struct Failure {
  std::string message;
  int depth = 0;  // instance depth of the failing location
  FailureKind kind = FailureKind::kOther;
};

// One validation run. Not thread-safe; each Validate call makes its own.
class Evaluation {
 public:
  Evaluation(const SchemaRegistryOptions& options, std::string_view prefix)
      : options_(options), prefix_(prefix) {}

  Status Run(const SchemaNode& schema, const Json& instance, int start_depth) {
    Failure failure;
    const PathFrame root;
    const bool ok = Check(schema, instance, root, start_depth, &failure);
    if (aborted_) return InvalidArgumentError(std::move(abort_.message));
    if (ok) return Status::Ok();
    return InvalidArgumentError(std::move(failure.message));
  }

 private:
  // True if `value` (at `path`, `depth`) is valid against `node`. When it is not and
  // `failure` is set, *failure explains the first violation found. With `failure` null
  // (anyOf/oneOf/not probing) nothing is allocated on success or failure.
  bool Check(const SchemaNode& node, const Json& value, const PathFrame& path, int depth,
             Failure* failure) {
    if (aborted_) return false;
    if (++evaluations_ > options_.max_evaluations) {
      return Abort(path, depth, node, "",
                   "validation needs more than " + std::to_string(options_.max_evaluations) +
                       " schema evaluations; send a smaller or simpler document");
    }
    if (node.rejects_all) {
      return Fail(failure, path, depth, node, "",
                  [] { return "no value is allowed here (the schema is false)"; });
    }
    if (node.types != 0 && !MatchesType(node.types, value)) {
      return Fail(
          failure, path, depth, node, "/type",
          [&] {
            return "must be " + TypePhrase(node.types) + ", not " + std::string(KindOf(value));
          },
          FailureKind::kType);
    }
    if (node.const_value && value != *node.const_value) {
      return Fail(
          failure, path, depth, node, "/const",
          [&] { return "must be " + Render(*node.const_value) + ", not " + Render(value); },
          FailureKind::kDiscriminator);
    }
    if (node.enum_values && !InEnum(*node.enum_values, value)) {
      return FailEnum(failure, path, depth, node, value);
    }
    if (node.format != detail::Format::kNone && value.is_string() &&
        !CheckFormat(node, value, path, depth, failure)) {
      return false;
    }
    if (node.minimum && value.is_number() && NumberLess(value, *node.minimum)) {
      return Fail(failure, path, depth, node, "/minimum", [&] {
        return Render(value) + " is less than the minimum " + Render(*node.minimum);
      });
    }
    if (value.is_object() && !CheckObject(node, value, path, depth, failure)) return false;
    if (value.is_array() && node.items != nullptr) {
      size_t index = 0;
      for (const Json& item : value) {
        const PathFrame child{&path, {}, index++, true};
        if (!Descend(*node.items, item, child, depth, failure)) return false;
      }
    }
    if (node.ref != nullptr && !Check(*node.ref, value, path, depth, failure)) return false;
    for (const SchemaNode* branch : node.all_of) {
      if (!Check(*branch, value, path, depth, failure)) return false;
    }
    if (!node.any_of.empty() && !CheckAnyOf(node, value, path, depth, failure)) return false;
    if (!node.one_of.empty() && !CheckOneOf(node, value, path, depth, failure)) return false;
    if (node.not_schema != nullptr) {
      const bool matched = Check(*node.not_schema, value, path, depth, nullptr);
      if (aborted_) return false;
      if (matched) {
        return Fail(failure, path, depth, node, "/not",
                    [&] { return "must not match the schema at " + node.not_schema->location; });
      }
    }
    return true;
  }

  bool Descend(const SchemaNode& node, const Json& value, const PathFrame& child, int depth,
               Failure* failure) {
    if (depth + 1 > options_.max_instance_depth) {
      return Abort(child, depth + 1, node, "",
                   "nested more than " + std::to_string(options_.max_instance_depth) +
                       " levels deep; flatten the document");
    }
    return Check(node, value, child, depth + 1, failure);
  }

  // Members first, then presence: a failure deep inside a member says more, and lets a
  // discriminating member mark an anyOf/oneOf branch as not applying.
  bool CheckObject(const SchemaNode& node, const Json& object, const PathFrame& path, int depth,
                   Failure* failure) {
    if (!CheckMembers(node, object, path, depth, failure)) return false;
    for (const std::string& name : node.required) {
      if (!object.contains(name)) {
        return Fail(failure, path, depth, node, "/required",
                    [&] { return "missing required property " + Quote(name); });
      }
    }
    for (const auto& dependency : node.dependent_required) {
      const std::string& trigger = dependency.first;  // not a binding: lambdas capture it
      if (!object.contains(trigger)) continue;
      for (const std::string& name : dependency.second) {
        if (object.contains(name)) continue;
        if (failure == nullptr) return false;
        return Fail(failure, path, depth, node,
                    "/dependentRequired/" + EscapeJsonPointerToken(trigger), [&] {
                      return "property " + Quote(trigger) + " requires property " + Quote(name) +
                             " as well; add it or remove " + Quote(trigger);
                    });
      }
    }
    return true;
  }

  // properties and additionalProperties.
  bool CheckMembers(const SchemaNode& node, const Json& object, const PathFrame& path, int depth,
                    Failure* failure) {
    if (node.additional_properties == nullptr) {
      for (const auto& [name, schema] : node.properties) {
        const auto it = object.find(name);
        if (it == object.end()) continue;
        const PathFrame child{&path, name};
        if (!Descend(*schema, *it, child, depth, failure)) return false;
      }
      return true;
    }
    for (auto it = object.begin(); it != object.end(); ++it) {
      const PathFrame child{&path, it.key()};
      const SchemaNode* schema = FindProperty(node, it.key());
      if (schema == nullptr && node.additional_properties->rejects_all) {
        return Fail(failure, child, depth + 1, node, "/additionalProperties", [&] {
          return "property " + Quote(it.key()) + " is not allowed here" + AllowedProperties(node);
        });
      }
      if (schema == nullptr) schema = node.additional_properties;
      if (!Descend(*schema, it.value(), child, depth, failure)) return false;
    }
    return true;
  }

  bool CheckAnyOf(const SchemaNode& node, const Json& value, const PathFrame& path, int depth,
                  Failure* failure) {
    for (const SchemaNode* branch : node.any_of) {
      if (Check(*branch, value, path, depth, nullptr)) return true;
      if (aborted_) return false;
    }
    if (failure != nullptr) ExplainBranches(node.any_of, value, path, depth, failure);
    return false;
  }

  bool CheckOneOf(const SchemaNode& node, const Json& value, const PathFrame& path, int depth,
                  Failure* failure) {
    std::optional<size_t> matched;
    for (size_t i = 0; i < node.one_of.size(); ++i) {
      const bool ok = Check(*node.one_of[i], value, path, depth, nullptr);
      if (aborted_) return false;
      if (!ok) continue;
      if (matched) {
        return Fail(failure, path, depth, node, "/oneOf", [&] {
          return "matches both oneOf branches " + std::to_string(*matched) + " and " +
                 std::to_string(i) + " (" + node.one_of[*matched]->location + " and " +
                 node.one_of[i]->location + "); it must match exactly one";
        });
      }
      matched = i;
    }
    if (matched) return true;
    if (failure != nullptr) ExplainBranches(node.one_of, value, path, depth, failure);
    return false;
  }

  // Every branch failed: keep the failure of the branch that most likely was meant, i.e.
  // one that applies (not refused by its type or a discriminating member) and got deepest.
  void ExplainBranches(const std::vector<const SchemaNode*>& branches, const Json& value,
                       const PathFrame& path, int depth, Failure* best) {
    bool have = false;
    bool best_applies = false;
    for (const SchemaNode* branch : branches) {
      Failure candidate;
      if (Check(*branch, value, path, depth, &candidate) || aborted_) return;
      const bool applies =
          !(candidate.kind == FailureKind::kType && candidate.depth == depth) &&
          !(candidate.kind == FailureKind::kDiscriminator && candidate.depth == depth + 1);
      const bool better = !have || (applies && !best_applies) ||
                          (applies == best_applies && candidate.depth > best->depth);
      if (better) {
        *best = std::move(candidate);
        best_applies = applies;
        have = true;
      }
    }
  }

  bool CheckFormat(const SchemaNode& node, const Json& value, const PathFrame& path, int depth,
                   Failure* failure) {
    const std::string& text = value.get_ref<const std::string&>();
    switch (node.format) {
      case detail::Format::kDateTime:
        if (const std::string_view problem = detail::DateTimeProblem(text); !problem.empty()) {
          return Fail(failure, path, depth, node, "/format", [&] {
            return Render(value) + " is not an RFC 3339 date-time such as 2024-01-31T12:00:00Z: " +
                   std::string(problem);
          });
        }
        return true;
      case detail::Format::kUuid:
        if (!detail::UuidProblem(text).empty()) {
          return Fail(failure, path, depth, node, "/format", [&] {
            return Render(value) + " is not a UUID (RFC 9562 form 8-4-4-4-12 hex)";
          });
        }
        return true;
      case detail::Format::kUri:
        if (const std::string_view problem = detail::UriProblem(text); !problem.empty()) {
          return Fail(failure, path, depth, node, "/format", [&] {
            return Render(value) + " is not an absolute URI (RFC 3986): " + std::string(problem);
          });
        }
        return true;
      case detail::Format::kNone:
        return true;
    }
    return true;
  }

  bool FailEnum(Failure* failure, const PathFrame& path, int depth, const SchemaNode& node,
                const Json& value) {
    if (failure == nullptr) return false;
    const Json& allowed = *node.enum_values;
    std::string what = Render(value) + " is not one of ";
    size_t shown = 0;
    for (const Json& option : allowed) {
      if (shown == 12) {
        what += ", ...";
        break;
      }
      if (shown++ > 0) what += ", ";
      what += Render(option);
    }
    if (allowed.empty()) what = "no value is allowed (the enum is empty)";
    return Fail(
        failure, path, depth, node, "/enum", [&] { return std::move(what); },
        allowed.size() == 1 ? FailureKind::kDiscriminator : FailureKind::kOther);
  }

  static bool InEnum(const Json& allowed, const Json& value) {
    return std::any_of(allowed.begin(), allowed.end(),
                       [&](const Json& option) { return option == value; });
  }

  static const SchemaNode* FindProperty(const SchemaNode& node, std::string_view name) {
    const auto it =
        std::lower_bound(node.properties.begin(), node.properties.end(), name,
                         [](const auto& entry, std::string_view key) { return entry.first < key; });
    return it != node.properties.end() && it->first == name ? it->second : nullptr;
  }

  static std::string AllowedProperties(const SchemaNode& node) {
    if (node.properties.empty()) return " (the schema allows no properties)";
    std::string out = " (allowed: ";
    for (size_t i = 0; i < node.properties.size(); ++i) {
      if (i > 0) out += ", ";
      out += node.properties[i].first;
    }
    return out + ")";
  }

  // Records a violation if the caller asked for one. `what` (a callable returning the
  // message) runs only then, so probing anyOf/oneOf/not branches allocates nothing.
  template <typename What>
  bool Fail(Failure* failure, const PathFrame& path, int depth, const SchemaNode& node,
            std::string_view keyword, What&& what, FailureKind kind = FailureKind::kOther) const {
    if (failure == nullptr) return false;
    failure->message = Describe(path, node, keyword, std::string(what()));
    failure->depth = depth;
    failure->kind = kind;
    return false;
  }

  // Ends the whole validation, whatever anyOf/oneOf/not would make of a plain failure.
  bool Abort(const PathFrame& path, int depth, const SchemaNode& node, std::string_view keyword,
             const std::string& what) {
    aborted_ = true;
    abort_.message = Describe(path, node, keyword, what);
    abort_.depth = depth;
    return false;
  }

  std::string Describe(const PathFrame& path, const SchemaNode& node, std::string_view keyword,
                       const std::string& what) const {
    std::string out = RenderPath(path);
    out += ": ";
    out += what;
    out += " [schema ";
    out += node.location;
    out += keyword;
    out += ']';
    return out;
  }

  std::string RenderPath(const PathFrame& path) const {
    std::vector<const PathFrame*> frames;
    for (const PathFrame* frame = &path; frame->parent != nullptr; frame = frame->parent) {
      frames.push_back(frame);
    }
    std::string out;
    AppendPrintable(out, prefix_, false, prefix_.size());
    for (auto it = frames.rbegin(); it != frames.rend(); ++it) {
      out += '/';
      if ((*it)->is_index) {
        out += std::to_string((*it)->index);
      } else {
        AppendPrintable(out, EscapeJsonPointerToken((*it)->key), false, 200);
      }
    }
    return out.empty() ? "(root)" : out;
  }

  const SchemaRegistryOptions& options_;
  const std::string_view prefix_;
  int64_t evaluations_ = 0;
  bool aborted_ = false;
  Failure abort_;
};

}  // namespace

const std::string& SchemaHandle::location() const { return node_->location; }

SchemaRegistry::SchemaRegistry(std::unique_ptr<SchemaSet> set) : set_(std::move(set)) {}
SchemaRegistry::SchemaRegistry(SchemaRegistry&&) noexcept = default;
SchemaRegistry& SchemaRegistry::operator=(SchemaRegistry&&) noexcept = default;
SchemaRegistry::~SchemaRegistry() = default;

Result<SchemaRegistry> SchemaRegistry::Compile(std::vector<SchemaDocument> documents,
                                               SchemaRegistryOptions options) {
  if (options.max_instance_depth < 1 || options.max_evaluations < 1) {
    return InvalidArgumentError("max_instance_depth and max_evaluations must be positive");
  }
  auto set = std::make_unique<SchemaSet>();
  set->options = std::move(options);
  Compiler compiler(*set);
  for (size_t i = 0; i < documents.size(); ++i) {
    CUSTOS_RETURN_IF_ERROR(compiler.AddDocument(documents[i], i));
  }
  CUSTOS_RETURN_IF_ERROR(compiler.ResolveRefs());
  CUSTOS_RETURN_IF_ERROR(compiler.CheckNoInPlaceCycle());
  return SchemaRegistry(std::move(set));
}

Result<SchemaHandle> SchemaRegistry::Find(std::string_view uri) const {
  auto key = IndexKey(uri);
  if (!key.ok()) return key.status();
  const auto it = set_->index.find(*key);
  if (it == set_->index.end()) {
    return NotFoundError("no schema at " + Quote(uri) + " in the registry");
  }
  return SchemaHandle(it->second);
}

Status SchemaRegistry::Validate(std::string_view schema_uri, const Json& instance) const {
  CUSTOS_ASSIGN_OR_RETURN(SchemaHandle schema, Find(schema_uri));
  return Validate(schema, instance);
}

Status SchemaRegistry::Validate(SchemaHandle schema, const Json& instance,
                                std::string_view instance_path) const {
  if (!schema.valid()) return InvalidArgumentError("Validate called with an empty SchemaHandle");
  const int start_depth =
      static_cast<int>(std::count(instance_path.begin(), instance_path.end(), '/'));
  Evaluation evaluation(set_->options, instance_path);
  return evaluation.Run(*schema.node_, instance, start_depth);
}

}  // namespace custos::lineage
