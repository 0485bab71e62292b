// JSON Schema 2020-12 validator: each keyword on its own (exact code and instance path),
// $ref across documents, boolean schemas, load-time refusals and the recursion bounds.
#include "lineage/json_schema.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "lineage/detail/schema_formats.h"

namespace custos::lineage {
namespace {

using Json = nlohmann::json;

constexpr std::string_view kId = "https://example.test/schemas/main.json";

// Compiles `schema` as the document kId (plus `others`).
Result<SchemaRegistry> CompileMain(Json schema, std::vector<Json> others = {},
                                   SchemaRegistryOptions options = {}) {
  schema["$id"] = kId;
  std::vector<SchemaDocument> documents;
  documents.push_back({std::move(schema), ""});
  for (Json& other : others) documents.push_back({std::move(other), ""});
  return SchemaRegistry::Compile(std::move(documents), std::move(options));
}

Status Check(const Json& schema, const Json& instance) {
  auto registry = CompileMain(schema);
  if (!registry.ok()) return InternalError("test schema refused: " + registry.status().message());
  return registry->Validate(kId, instance);
}

// A refusal must be InvalidArgument and start with the failing instance path.
::testing::AssertionResult RefusedAt(const Status& status, std::string_view path) {
  if (status.code() != StatusCode::kInvalidArgument) {
    return ::testing::AssertionFailure() << "expected INVALID_ARGUMENT, got " << status.ToString();
  }
  const std::string prefix = std::string(path) + ": ";
  if (!status.message().starts_with(prefix)) {
    return ::testing::AssertionFailure()
           << "expected the message to start with '" << prefix << "', got: " << status.message();
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult Mentions(const Status& status, std::string_view text) {
  if (status.message().find(text) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "'" << text << "' not in: " << status.message();
}

// --- type -----------------------------------------------------------------------------

TEST(JsonSchemaTypeTest, EachTypeAcceptsItsValues) {
  const std::vector<std::pair<std::string, Json>> cases = {{"null", nullptr},
                                                           {"boolean", false},
                                                           {"object", Json::object()},
                                                           {"array", {1, 2}},
                                                           {"number", 1.5},
                                                           {"number", -3},
                                                           {"string", "x"},
                                                           {"integer", 7},
                                                           {"integer", 1.0},
                                                           {"integer", -2.0},
                                                           {"integer", 18446744073709551615u}};
  for (const auto& [type, value] : cases) {
    EXPECT_TRUE(Check({{"type", type}}, value).ok()) << type << " " << value.dump();
  }
}

TEST(JsonSchemaTypeTest, MismatchNamesPathAndBothTypes) {
  const Json schema = {{"type", "object"},
                       {"properties", {{"a", {{"properties", {{"b", {{"type", "string"}}}}}}}}}};
  const Status status = Check(schema, {{"a", {{"b", 5}}}});
  EXPECT_TRUE(RefusedAt(status, "/a/b"));
  EXPECT_EQ(status.message(), "/a/b: must be a string, not an integer [schema " + std::string(kId) +
                                  "#/properties/a/properties/b/type]");
  EXPECT_TRUE(RefusedAt(Check(schema, "text"), "(root)"));
}

TEST(JsonSchemaTypeTest, IntegerMeansZeroFractionalPart) {
  EXPECT_TRUE(RefusedAt(Check({{"type", "integer"}}, 1.5), "(root)"));
  EXPECT_TRUE(Mentions(Check({{"type", "integer"}}, 1.5), "must be an integer, not a number"));
  EXPECT_TRUE(RefusedAt(Check({{"type", "integer"}}, "1"), "(root)"));
  EXPECT_TRUE(Check({{"type", "number"}}, 4).ok());
}

TEST(JsonSchemaTypeTest, ArrayOfTypesAcceptsAnyOfThem) {
  const Json schema = {{"type", {"string", "null"}}};
  EXPECT_TRUE(Check(schema, "x").ok());
  EXPECT_TRUE(Check(schema, nullptr).ok());
  const Status status = Check(schema, 3);
  EXPECT_TRUE(RefusedAt(status, "(root)"));
  EXPECT_TRUE(Mentions(status, "must be a string or null, not an integer"));
}

// --- boolean schemas ------------------------------------------------------------------

TEST(JsonSchemaBooleanTest, TrueAcceptsAllFalseRejectsAll) {
  const Json schema = {{"properties", {{"yes", true}, {"no", false}}}};
  EXPECT_TRUE(Check(schema, {{"yes", {{"any", "thing"}}}}).ok());
  const Status status = Check(schema, {{"no", 0}});
  EXPECT_TRUE(RefusedAt(status, "/no"));
  EXPECT_TRUE(Mentions(status, "no value is allowed here (the schema is false) [schema " +
                                   std::string(kId) + "#/properties/no]"));
}

TEST(JsonSchemaBooleanTest, WholeDocumentMayBeABoolean) {
  auto registry = SchemaRegistry::Compile({{false, "https://example.test/never.json"}});
  ASSERT_TRUE(registry.ok()) << registry.status().ToString();
  EXPECT_TRUE(RefusedAt(registry->Validate("https://example.test/never.json", 1), "(root)"));
}

// --- objects --------------------------------------------------------------------------

TEST(JsonSchemaObjectTest, RequiredNamesTheObjectAndTheMissingMember) {
  const Json schema = {{"properties", {{"run", {{"required", {"runId"}}}}}}};
  const Status status = Check(schema, {{"run", {{"other", 1}}}});
  EXPECT_TRUE(RefusedAt(status, "/run"));
  EXPECT_TRUE(Mentions(status, "missing required property \"runId\""));
  EXPECT_TRUE(Mentions(status, "#/properties/run/required]"));
  // "required" constrains objects only.
  EXPECT_TRUE(Check(schema, {{"run", "text"}}).ok());
}

TEST(JsonSchemaObjectTest, AdditionalPropertiesFalseRefusesUnlistedMembers) {
  const Json schema = {{"properties", {{"a", true}}}, {"additionalProperties", false}};
  EXPECT_TRUE(Check(schema, {{"a", 1}}).ok());
  const Status status = Check(schema, {{"a", 1}, {"b/c", 2}});
  EXPECT_TRUE(RefusedAt(status, "/b~1c"));
  EXPECT_TRUE(Mentions(status, "property \"b/c\" is not allowed here (allowed: a)"));
}

TEST(JsonSchemaObjectTest, AdditionalPropertiesSchemaSkipsListedMembers) {
  const Json schema = {{"properties", {{"name", {{"type", "string"}}}}},
                       {"additionalProperties", {{"type", "integer"}}}};
  EXPECT_TRUE(Check(schema, {{"name", "n"}, {"count", 3}}).ok());
  EXPECT_TRUE(RefusedAt(Check(schema, {{"name", "n"}, {"count", "3"}}), "/count"));
  EXPECT_TRUE(RefusedAt(Check(schema, {{"name", 1}}), "/name"));
}

TEST(JsonSchemaObjectTest, DependentRequired) {
  const Json schema = {{"dependentRequired", {{"namespace", {"name"}}}}};
  EXPECT_TRUE(Check(schema, Json::object()).ok());
  EXPECT_TRUE(Check(schema, {{"namespace", "n"}, {"name", "x"}}).ok());
  EXPECT_TRUE(Check(schema, {{"name", "x"}}).ok());
  const Status status = Check({{"properties", {{"job", schema}}}}, {{"job", {{"namespace", "n"}}}});
  EXPECT_TRUE(RefusedAt(status, "/job"));
  EXPECT_TRUE(Mentions(status, "property \"namespace\" requires property \"name\" as well"));
  EXPECT_TRUE(Mentions(status, "#/properties/job/dependentRequired/namespace]"));
}

// --- arrays ---------------------------------------------------------------------------

TEST(JsonSchemaArrayTest, ItemsPathHasTheIndex) {
  const Json schema = {{"properties", {{"list", {{"items", {{"type", "integer"}}}}}}}};
  EXPECT_TRUE(Check(schema, {{"list", {1, 2, 3}}}).ok());
  const Status status = Check(schema, {{"list", {1, 2, "three"}}});
  EXPECT_TRUE(RefusedAt(status, "/list/2"));
  EXPECT_TRUE(Mentions(status, "#/properties/list/items/type]"));
}

// --- enum, const, minimum -------------------------------------------------------------

TEST(JsonSchemaValueTest, EnumUsesJsonEquality) {
  const Json schema = {{"enum", {1, "a", {{"k", {1, 2}}}}}};
  EXPECT_TRUE(Check(schema, 1.0).ok());
  EXPECT_TRUE(Check(schema, {{"k", {1.0, 2}}}).ok());
  const Status status = Check({{"properties", {{"e", schema}}}}, {{"e", "b"}});
  EXPECT_TRUE(RefusedAt(status, "/e"));
  EXPECT_TRUE(Mentions(status, "\"b\" is not one of 1, \"a\", an object"));
}

TEST(JsonSchemaValueTest, ConstUsesJsonEquality) {
  EXPECT_TRUE(Check({{"const", 2}}, 2.0).ok());
  EXPECT_TRUE(Check({{"const", nullptr}}, nullptr).ok());
  const Status status = Check({{"items", {{"const", "binary"}}}}, {"binary", "compare"});
  EXPECT_TRUE(RefusedAt(status, "/1"));
  EXPECT_TRUE(Mentions(status, "must be \"binary\", not \"compare\""));
}

TEST(JsonSchemaValueTest, MinimumIsInclusiveAndExactAcrossNumberKinds) {
  const Json schema = {{"properties", {{"n", {{"minimum", 1}}}}}};
  EXPECT_TRUE(Check(schema, {{"n", 1}}).ok());
  EXPECT_TRUE(Check(schema, {{"n", 1.0}}).ok());
  EXPECT_TRUE(Check(schema, {{"n", 18446744073709551615u}}).ok());
  EXPECT_TRUE(Check(schema, {{"n", "0"}}).ok());  // minimum constrains numbers only
  const Status status = Check(schema, {{"n", 0}});
  EXPECT_TRUE(RefusedAt(status, "/n"));
  EXPECT_TRUE(Mentions(status, "0 is less than the minimum 1"));
  EXPECT_TRUE(RefusedAt(Check(schema, {{"n", 0.5}}), "/n"));
  EXPECT_TRUE(RefusedAt(Check(schema, {{"n", -9223372036854775807LL}}), "/n"));
  EXPECT_TRUE(
      RefusedAt(Check({{"minimum", 18446744073709551615u}}, 9223372036854775807LL), "(root)"));
}

// --- applicators ----------------------------------------------------------------------

TEST(JsonSchemaApplicatorTest, AllOfReportsTheFailingBranch) {
  const Json schema = {
      {"allOf", {{{"type", "object"}}, {{"properties", {{"x", {{"type", "string"}}}}}}}}};
  const Status status = Check(schema, {{"x", 1}});
  EXPECT_TRUE(RefusedAt(status, "/x"));
  EXPECT_TRUE(Mentions(status, "#/allOf/1/properties/x/type]"));
}

TEST(JsonSchemaApplicatorTest, AnyOfReportsTheBranchThatGotDeepest) {
  const Json schema = {
      {"anyOf",
       {{{"type", "string"}},
        {{"type", "object"},
         {"properties", {{"a", {{"properties", {{"b", {{"type", "integer"}}}}}}}}}}}}};
  EXPECT_TRUE(Check(schema, "s").ok());
  EXPECT_TRUE(Check(schema, {{"a", {{"b", 1}}}}).ok());
  const Status status = Check(schema, {{"a", {{"b", "x"}}}});
  EXPECT_TRUE(RefusedAt(status, "/a/b"));
  EXPECT_TRUE(Mentions(status, "#/anyOf/1/properties/a/properties/b/type]"));
}

TEST(JsonSchemaApplicatorTest, OneOfSkipsBranchesRefusedByADiscriminator) {
  // The "location" branch fails deeper (/type) than the "binary" one (the object), but
  // its const says it does not apply.
  const Json schema = {
      {"oneOf",
       {{{"properties", {{"type", {{"const", "location"}}}}}, {"required", {"locations"}}},
        {{"properties", {{"type", {{"const", "binary"}}}}}, {"required", {"operator"}}}}}};
  EXPECT_TRUE(Check(schema, {{"type", "binary"}, {"operator", "AND"}}).ok());
  const Status status = Check(schema, {{"type", "binary"}});
  EXPECT_TRUE(RefusedAt(status, "(root)"));
  EXPECT_TRUE(Mentions(status, "missing required property \"operator\""));
}

TEST(JsonSchemaApplicatorTest, OneOfRefusesTwoMatches) {
  const Json schema = {{"oneOf", {{{"type", "integer"}}, {{"type", "number"}, {"minimum", 0}}}}};
  EXPECT_TRUE(Check(schema, -1).ok());
  EXPECT_TRUE(Check(schema, 0.5).ok());
  const Status status = Check(schema, 1);
  EXPECT_TRUE(RefusedAt(status, "(root)"));
  EXPECT_TRUE(Mentions(status, "matches both oneOf branches 0 and 1"));
  EXPECT_TRUE(RefusedAt(Check(schema, "x"), "(root)"));
}

TEST(JsonSchemaApplicatorTest, Not) {
  const Json schema = {{"properties", {{"e", {{"not", {{"required", {"job", "run"}}}}}}}}};
  EXPECT_TRUE(Check(schema, {{"e", {{"job", 1}}}}).ok());
  const Status status = Check(schema, {{"e", {{"job", 1}, {"run", 2}}}});
  EXPECT_TRUE(RefusedAt(status, "/e"));
  EXPECT_TRUE(
      Mentions(status, "must not match the schema at " + std::string(kId) + "#/properties/e/not"));
}

// --- formats --------------------------------------------------------------------------

TEST(JsonSchemaFormatTest, DateTimeFollowsRfc3339) {
  const Json schema = {{"format", "date-time"}};
  for (const char* ok :
       {"2023-07-17T10:54:22.355067Z", "2020-02-29T00:00:00+01:00", "1990-12-31t23:59:60z",
        "1990-12-31T15:59:60-08:00", "2024-01-31T12:00:00.5-00:00"}) {
    EXPECT_TRUE(Check(schema, ok).ok()) << ok;
  }
  for (const char* bad :
       {"2023-07-17", "2023-07-17 10:54:22Z", "2023-13-01T00:00:00Z", "2021-02-29T00:00:00Z",
        "2023-07-17T24:00:00Z", "2023-07-17T10:54:22", "2023-07-17T10:54:22.Z",
        "2023-07-17T10:54:22+0100", "1990-12-31T23:58:60Z", "2023-07-17T10:54:22Zx", "abc"}) {
    const Status status = Check({{"properties", {{"t", schema}}}}, {{"t", bad}});
    EXPECT_TRUE(RefusedAt(status, "/t")) << bad;
    EXPECT_TRUE(Mentions(status, "is not an RFC 3339 date-time")) << bad;
  }
  EXPECT_TRUE(Check(schema, 20230717).ok());  // formats constrain strings only
}

TEST(JsonSchemaFormatTest, UuidIsTheHyphenatedHexForm) {
  const Json schema = {{"properties", {{"id", {{"format", "uuid"}}}}}};
  EXPECT_TRUE(Check(schema, {{"id", "f69a6e9b-9bac-3c9a-9cf6-eacb70ecc9a9"}}).ok());
  EXPECT_TRUE(Check(schema, {{"id", "F69A6E9B-9BAC-3C9A-9CF6-EACB70ECC9A9"}}).ok());
  EXPECT_EQ(Check(schema, {{"id", "abc"}}).message(),
            "/id: \"abc\" is not a UUID (RFC 9562 form 8-4-4-4-12 hex) [schema " +
                std::string(kId) + "#/properties/id/format]");
  for (const char* bad :
       {"f69a6e9b9bac3c9a9cf6eacb70ecc9a9", "f69a6e9b-9bac-3c9a-9cf6-eacb70ecc9ag",
        "{f69a6e9b-9bac-3c9a-9cf6-eacb70ecc9a9}"}) {
    EXPECT_TRUE(RefusedAt(Check(schema, {{"id", bad}}), "/id")) << bad;
  }
}

TEST(JsonSchemaFormatTest, UriMustBeAbsoluteRfc3986) {
  const Json schema = {{"format", "uri"}};
  for (const char* ok : {"https://openlineage.io/spec/facets/1-0-0/LineageFacet.json#/$defs/X",
                         "http://123", "urn:isbn:0451450523", "http://[::1]:8080/a?b=c",
                         "http://[2001:db8::7]/c=GB?objectClass?one", "mailto:a@example.com",
                         "file:///etc/hosts", "http://user:pw@h.example:80/%20x"}) {
    EXPECT_TRUE(Check(schema, ok).ok()) << ok;
  }
  for (const char* bad : {"", "relative/path", "//host/path", "http://exa mple.com",
                          "http://host:port/", "http://[::1/", "http://h/%zz", "1http://h",
                          "http://h/a#b#c", "http://[1:2:3:4:5:6:7:8:9]/"}) {
    const Status status = Check({{"items", schema}}, {bad});
    EXPECT_TRUE(RefusedAt(status, "/0")) << bad;
    EXPECT_TRUE(Mentions(status, "is not an absolute URI (RFC 3986)")) << bad;
  }
}

TEST(JsonSchemaFormatTest, UriReferenceResolutionFollowsRfc3986Examples) {
  // RFC 3986 section 5.4.
  const std::string_view base = "http://a/b/c/d;p?q";
  const std::vector<std::pair<std::string_view, std::string_view>> cases = {
      {"g:h", "g:h"},
      {"g", "http://a/b/c/g"},
      {"./g", "http://a/b/c/g"},
      {"g/", "http://a/b/c/g/"},
      {"/g", "http://a/g"},
      {"//g", "http://g"},
      {"?y", "http://a/b/c/d;p?y"},
      {"g?y", "http://a/b/c/g?y"},
      {"#s", "http://a/b/c/d;p?q#s"},
      {"g#s", "http://a/b/c/g#s"},
      {"", "http://a/b/c/d;p?q"},
      {".", "http://a/b/c/"},
      {"..", "http://a/b/"},
      {"../g", "http://a/b/g"},
      {"../../g", "http://a/g"},
      {"../../../g", "http://a/g"},
      {"/./g", "http://a/g"},
      {"g/../h", "http://a/b/c/h"},
      {"g;x=1/./y", "http://a/b/c/g;x=1/y"}};
  for (const auto& [reference, expected] : cases) {
    EXPECT_EQ(detail::ResolveUriReference(base, reference), expected) << reference;
  }
}

// --- $ref and documents ---------------------------------------------------------------

TEST(JsonSchemaRefTest, ResolvesRelativeRefsAcrossDocuments) {
  const Json other = {{"$id", "https://example.test/schemas/facets/other.json"},
                      {"$defs", {{"Id", {{"type", "string"}, {"format", "uuid"}}}}}};
  const Json schema = {{"properties", {{"runId", {{"$ref", "facets/other.json#/$defs/Id"}}}}}};
  auto registry = CompileMain(schema, {other});
  ASSERT_TRUE(registry.ok()) << registry.status().ToString();
  EXPECT_TRUE(registry->Validate(kId, {{"runId", "f69a6e9b-9bac-3c9a-9cf6-eacb70ecc9a9"}}).ok());
  const Status status = registry->Validate(kId, {{"runId", "nope"}});
  EXPECT_TRUE(RefusedAt(status, "/runId"));
  // The keyword location is where the failing keyword stands: in the other document.
  EXPECT_TRUE(
      Mentions(status, "[schema https://example.test/schemas/facets/other.json#/$defs/Id/format]"));
}

TEST(JsonSchemaRefTest, PointerEscapesAndPercentDecoding) {
  const Json schema = {{"$defs", {{"a/b~c d", {{"type", "integer"}}}}},
                       {"properties", {{"x", {{"$ref", "#/$defs/a~1b~0c%20d"}}}}}};
  EXPECT_TRUE(Check(schema, {{"x", 1}}).ok());
  EXPECT_TRUE(RefusedAt(Check(schema, {{"x", "1"}}), "/x"));
  auto registry = CompileMain(schema);
  ASSERT_TRUE(registry.ok());
  auto handle = registry->Find(std::string(kId) + "#/$defs/a~1b~0c%20d");
  ASSERT_TRUE(handle.ok()) << handle.status().ToString();
  EXPECT_EQ(handle->location(), std::string(kId) + "#/$defs/a~1b~0c d");
}

TEST(JsonSchemaRefTest, RecursionThroughPropertiesIsFine) {
  const Json schema = {{"$ref", "#/$defs/Node"},
                       {"$defs",
                        {{"Node",
                          {{"type", "object"},
                           {"properties", {{"children", {{"items", {{"$ref", "#/$defs/Node"}}}}}}},
                           {"required", {"name"}}}}}}};
  const Json tree = {{"name", "a"}, {"children", {{{"name", "b"}, {"children", Json::array()}}}}};
  EXPECT_TRUE(Check(schema, tree).ok());
  const Json broken = {{"name", "a"}, {"children", {{{"children", Json::array()}}}}};
  EXPECT_TRUE(RefusedAt(Check(schema, broken), "/children/0"));
}

TEST(JsonSchemaRefTest, NestedIdStartsANewBase) {
  const Json schema = {
      {"$defs", {{"inner", {{"$id", "inner/x.json"}, {"$defs", {{"s", {{"type", "string"}}}}}}}}},
      {"$ref", "inner/x.json#/$defs/s"}};
  auto registry = CompileMain(schema);
  ASSERT_TRUE(registry.ok()) << registry.status().ToString();
  EXPECT_TRUE(registry->Validate(kId, "x").ok());
  const Status status = registry->Validate(kId, 1);
  EXPECT_TRUE(Mentions(status, "[schema https://example.test/schemas/inner/x.json#/$defs/s/type]"));
  EXPECT_TRUE(registry->Find("https://example.test/schemas/inner/x.json").ok());
}

TEST(JsonSchemaRefTest, FindAndValidateByUri) {
  auto registry = CompileMain({{"$defs", {{"S", {{"type", "string"}}}}}});
  ASSERT_TRUE(registry.ok());
  EXPECT_EQ(registry->Find("https://example.test/schemas/none.json").status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(registry->Find(std::string(kId) + "#/$defs/T").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(registry->Find("main.json").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(registry->Find(std::string(kId) + "#anchor").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_TRUE(registry->Find(std::string(kId) + "#").ok());
  EXPECT_TRUE(registry->Validate(std::string(kId) + "#/$defs/S", "s").ok());
  EXPECT_TRUE(RefusedAt(registry->Validate(std::string(kId) + "#/$defs/S", 1), "(root)"));
}

TEST(JsonSchemaRefTest, InstancePathPrefixLeadsTheMessage) {
  auto registry = CompileMain({{"properties", {{"nominalStartTime", {{"format", "date-time"}}}}}});
  ASSERT_TRUE(registry.ok());
  auto handle = registry->Find(kId);
  ASSERT_TRUE(handle.ok());
  const Status status =
      registry->Validate(*handle, {{"nominalStartTime", "soon"}}, "/run/facets/nominalTime");
  EXPECT_TRUE(RefusedAt(status, "/run/facets/nominalTime/nominalStartTime"));
}

TEST(JsonSchemaRefTest, RetrievalUriNamesADocumentWithoutId) {
  auto registry =
      SchemaRegistry::Compile({{Json{{"$ref", "b.json"}}, "https://example.test/a.json"},
                               {Json{{"type", "string"}}, "https://example.test/b.json"}});
  ASSERT_TRUE(registry.ok()) << registry.status().ToString();
  EXPECT_TRUE(registry->Validate("https://example.test/a.json", "s").ok());
  EXPECT_TRUE(RefusedAt(registry->Validate("https://example.test/a.json", 2), "(root)"));
}

// --- refusals at load -----------------------------------------------------------------

TEST(JsonSchemaLoadTest, UnsupportedAssertionKeywordIsRefusedWithItsPointer) {
  auto registry = CompileMain({{"properties", {{"name", {{"pattern", "^a"}}}}}});
  ASSERT_FALSE(registry.ok());
  EXPECT_EQ(registry.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(registry.status().message().starts_with(std::string(kId) +
                                                      "#/properties/name/pattern: keyword "
                                                      "\"pattern\" is not supported"))
      << registry.status().message();
}

TEST(JsonSchemaLoadTest, UnknownKeywordIsRefusedUnlessDeclaredAnAnnotation) {
  const Json schema = {{"$defs", {{"X", {{"type", "string"}, {"example", "x"}}}}}};
  auto refused = CompileMain(schema);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(refused.status().message().starts_with(std::string(kId) +
                                                     "#/$defs/X/example: unknown keyword"))
      << refused.status().message();
  SchemaRegistryOptions options;
  options.extra_annotation_keywords = {"example"};
  EXPECT_TRUE(CompileMain(schema, {}, options).ok());
}

TEST(JsonSchemaLoadTest, StandardAnnotationsAreIgnored) {
  const Json schema = {{"title", "t"},
                       {"description", "d"},
                       {"default", 1},
                       {"examples", {1, 2}},
                       {"deprecated", true},
                       {"$comment", "c"},
                       {"$schema", "https://json-schema.org/draft/2020-12/schema"}};
  EXPECT_TRUE(Check(schema, "anything").ok());
}

TEST(JsonSchemaLoadTest, MalformedKeywordsAreRefused) {
  const std::vector<std::pair<Json, std::string>> cases = {
      {{{"format", "email"}}, "#/format: format \"email\" is not supported"},
      {{{"type", "text"}}, "#/type: \"text\" is not a type"},
      {{{"type", {"string", "string"}}}, "#/type: lists \"string\" twice"},
      {{{"required", {"a", 1}}}, "#/required: must hold only strings"},
      {{{"minimum", "1"}}, "#/minimum: must be a number"},
      {{{"items", {true, false}}}, "#/items: in 2020-12 \"items\" takes one schema"},
      {{{"allOf", Json::array()}}, "#/allOf: must be a non-empty array of schemas"},
      {{{"properties", {{"a", 3}}}}, "#/properties/a: a schema must be an object or a boolean"},
      {{{"$schema", "http://json-schema.org/draft-07/schema#"}}, "#/$schema: only"},
      {{{"$ref", "#/$defs/missing"}},
       "#/$ref: \"$ref\" \"" + std::string(kId) + "#/$defs/missing\" names no schema"},
      {{{"$ref", "#foo"}}, "#/$ref: \"" + std::string(kId) + "#foo\": plain-name fragments"},
  };
  for (const auto& [schema, message] : cases) {
    auto registry = CompileMain(schema);
    ASSERT_FALSE(registry.ok()) << schema.dump();
    EXPECT_EQ(registry.status().code(), StatusCode::kInvalidArgument);
    EXPECT_TRUE(registry.status().message().starts_with(std::string(kId) + message))
        << registry.status().message();
  }
}

TEST(JsonSchemaLoadTest, DocumentsNeedDistinctAbsoluteIds) {
  auto no_id = SchemaRegistry::Compile({{Json{{"type", "string"}}, ""}});
  EXPECT_EQ(no_id.status().code(), StatusCode::kInvalidArgument);
  auto relative = SchemaRegistry::Compile({{Json{{"$id", "a.json"}}, ""}});
  EXPECT_EQ(relative.status().code(), StatusCode::kInvalidArgument);
  auto twice = CompileMain(Json::object(), {Json{{"$id", kId}}});
  EXPECT_EQ(twice.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Mentions(twice.status(), "already names another schema"));
  auto unparsed = SchemaRegistry::Compile({{Json::parse("{", nullptr, false), "https://x.test/"}});
  EXPECT_EQ(unparsed.status().code(), StatusCode::kInvalidArgument);
}

TEST(JsonSchemaLoadTest, RefCycleWithoutProgressIsRefused) {
  const std::vector<Json> cyclic = {
      {{"$ref", "#"}},
      {{"$defs", {{"a", {{"$ref", "#/$defs/b"}}}, {"b", {{"allOf", {{{"$ref", "#/$defs/a"}}}}}}}}},
      {{"anyOf", {{{"type", "string"}}, {{"not", {{"$ref", "#"}}}}}}}};
  for (const Json& schema : cyclic) {
    auto registry = CompileMain(schema);
    ASSERT_FALSE(registry.ok()) << schema.dump();
    EXPECT_EQ(registry.status().code(), StatusCode::kInvalidArgument);
    EXPECT_TRUE(Mentions(registry.status(), "cycle that consumes no part of the instance"));
  }
}

// --- bounds ---------------------------------------------------------------------------

Json NestedArrays(int depth) {
  Json value = Json::array();
  for (int i = 0; i < depth; ++i) value = Json::array({std::move(value)});
  return value;
}

TEST(JsonSchemaBoundsTest, InstanceDepthIsBounded) {
  const Json schema = {
      {"$ref", "#/$defs/list"},
      {"$defs", {{"list", {{"type", "array"}, {"items", {{"$ref", "#/$defs/list"}}}}}}}};
  EXPECT_TRUE(Check(schema, NestedArrays(64)).ok());
  const Status status = Check(schema, NestedArrays(70));
  std::string path;
  for (int i = 0; i < 65; ++i) path += "/0";
  EXPECT_TRUE(RefusedAt(status, path));
  EXPECT_TRUE(Mentions(status, "nested more than 64 levels deep"));

  // The bound is absolute: a "not" around it does not turn it into success.
  const Json negated = {{"not", {{"$ref", "#/$defs/list"}}},
                        {"$defs", {{"list", {{"items", {{"$ref", "#/$defs/list"}}}}}}}};
  EXPECT_TRUE(RefusedAt(Check(negated, NestedArrays(70)), path));
}

TEST(JsonSchemaBoundsTest, DeepConstAndEnumValuesAreRefusedAtLoad) {
  for (const char* keyword : {"const", "enum"}) {
    auto registry = CompileMain({{keyword, Json::array({NestedArrays(200)})}});
    ASSERT_FALSE(registry.ok());
    EXPECT_EQ(registry.status().message(),
              std::string(kId) + "#/" + keyword + ": value nested more than 128 levels deep");
  }
}

TEST(JsonSchemaBoundsTest, UnconstrainedDeepDataIsNotWalked) {
  const Json schema = {{"properties", {{"payload", true}}}, {"additionalProperties", true}};
  EXPECT_TRUE(Check(schema, {{"payload", NestedArrays(100000)}}).ok());
}

TEST(JsonSchemaBoundsTest, EvaluationBudgetIsBounded) {
  SchemaRegistryOptions options;
  options.max_evaluations = 50;
  auto registry = CompileMain(
      {{"items", {{"anyOf", {{{"type", "string"}}, {{"type", "integer"}}}}}}}, {}, options);
  ASSERT_TRUE(registry.ok());
  EXPECT_TRUE(registry->Validate(kId, Json::array({1, 2, 3})).ok());
  const Status status = registry->Validate(kId, Json(std::vector<int>(100, 1)));
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Mentions(status, "validation needs more than 50 schema evaluations"));
}

TEST(JsonSchemaBoundsTest, MessagesStayPrintableForAnyString) {
  const Status status = Check({{"enum", {"a"}}}, std::string("x\xff\"\n\xc3\xa9", 6));
  EXPECT_TRUE(RefusedAt(status, "(root)"));
  EXPECT_TRUE(Mentions(status, "\"x\\xff\\\"\\x0a\xc3\xa9\" is not one of \"a\""));
}

}  // namespace
}  // namespace custos::lineage
