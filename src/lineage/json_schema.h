// JSON Schema (draft 2020-12) validation over nlohmann::json, for the keywords the
// OpenLineage schemas use. Schemas are compiled once into a tree with resolved "$ref"s.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace custos::lineage {

namespace detail {
struct SchemaNode;
struct SchemaSet;
}  // namespace detail

// Supported keywords (anything else that is not a known annotation is refused when the
// schema is compiled, so no assertion is ever skipped silently):
//   core:        $schema (2020-12 only), $id, $ref, $defs
//   applicators: allOf, anyOf, oneOf, not, properties, additionalProperties, items
//   assertions:  type, enum, const, required, dependentRequired, minimum,
//                format (asserted: "date-time" RFC 3339, "uuid" RFC 9562, "uri" RFC 3986)
//   annotations: title, description, default, examples, deprecated, readOnly, writeOnly,
//                $comment, contentEncoding, contentMediaType, contentSchema (ignored)
// Not supported (refused at load): pattern, patternProperties (they need ECMA-262 regular
// expressions), $anchor and $dynamic*, prefixItems and the remaining numeric, string,
// array and object limits.
struct SchemaRegistryOptions {
  // Keywords outside JSON Schema 2020-12 to treat as annotations and ignore, such as
  // OpenAPI's "example". Default: none.
  std::vector<std::string> extra_annotation_keywords;
  // Validation refuses instances nested deeper than this below the value validated (and
  // never recurses further). Default: 64.
  int max_instance_depth = 64;
  // Validation gives up after this many schema evaluations, which bounds the work a hostile
  // instance can cause through nested anyOf/oneOf. Default: 1,000,000 (an OpenLineage
  // event takes a few hundred).
  int64_t max_evaluations = 1'000'000;
};

// One schema document given to SchemaRegistry::Compile.
struct SchemaDocument {
  nlohmann::json schema;
  // Names the document when its root has no "$id" (then an absolute URI is required);
  // otherwise the base against which a relative root "$id" is resolved. Default: "".
  std::string retrieval_uri;
};

// A compiled (sub)schema of a SchemaRegistry, valid while the registry lives. Cheap to copy.
// Thread-safety: immutable; safe to share.
class SchemaHandle {
 public:
  SchemaHandle() = default;

  bool valid() const { return node_ != nullptr; }
  // The schema's absolute location, e.g.
  // "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent". Precondition: valid().
  const std::string& location() const;

 private:
  friend class SchemaRegistry;
  explicit SchemaHandle(const detail::SchemaNode* node) : node_(node) {}

  const detail::SchemaNode* node_ = nullptr;
};

// A set of schema documents, named by their "$id"s, compiled together so that "$ref"s
// between them resolve without network access. A failed validation is InvalidArgument with
// the message
//   <instance JSON Pointer>: <what is wrong and how to fix it> [schema <keyword location>]
// for example
//   /run/runId: "abc" is not a UUID (RFC 9562 form 8-4-4-4-12 hex) [schema
//   https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/Run/properties/runId/format]
// where the instance root is written "(root)" and the keyword location is absolute. When no
// branch of an anyOf/oneOf matches, the error is the one from the branch that got deepest
// into the instance (branches refused by a discriminating "const" or one-value "enum" on a
// direct member, or by "type", count as not applying).
// Thread-safety: immutable after Compile; Validate and Find are safe to call concurrently.
class SchemaRegistry {
 public:
  // Compiles `documents`, resolving every "$ref" (by absolute URI and JSON Pointer
  // fragment, with %-decoding and ~0/~1). InvalidArgument names the document location of
  // the first problem: an unsupported or malformed keyword, an unresolvable "$ref", a
  // duplicate "$id", or a cycle of "$ref"/allOf/anyOf/oneOf/not that would recurse without
  // consuming any of the instance.
  static Result<SchemaRegistry> Compile(std::vector<SchemaDocument> documents,
                                        SchemaRegistryOptions options = {});

  SchemaRegistry(SchemaRegistry&&) noexcept;
  SchemaRegistry& operator=(SchemaRegistry&&) noexcept;
  ~SchemaRegistry();

  // The compiled schema at `uri`: absolute, optionally with a JSON Pointer fragment, e.g.
  // "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/Run". NotFound if no schema
  // is there; InvalidArgument if `uri` is relative or its fragment is not a JSON Pointer.
  Result<SchemaHandle> Find(std::string_view uri) const;

  // Validates `instance` against the schema at `schema_uri` (see Find).
  Status Validate(std::string_view schema_uri, const nlohmann::json& instance) const;

  // Validates `instance` against `schema` (from this registry). `instance_path` is the JSON
  // Pointer of `instance` inside a larger document ("" for none); error messages start with
  // it and the depth limit counts from it.
  Status Validate(SchemaHandle schema, const nlohmann::json& instance,
                  std::string_view instance_path = "") const;

 private:
  explicit SchemaRegistry(std::unique_ptr<detail::SchemaSet> set);

  std::unique_ptr<detail::SchemaSet> set_;
};

}  // namespace custos::lineage
