// The string grammars json_schema.cc needs: the formats it asserts (RFC 3339 date-time,
// RFC 9562 UUID, RFC 3986 URI), RFC 3986 reference resolution for "$id" and "$ref", and
// RFC 6901 JSON Pointer tokens.
// Thread-safety: free functions over their arguments; safe from any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace custos::lineage::detail {

// Each *Problem function returns "" when `text` matches the grammar, else a short static
// phrase saying what is wrong (no allocation, so the happy path stays cheap).

// RFC 3339 section 5.6 `date-time`, e.g. "2024-01-31T12:00:00.5+01:00". 'T' and 'Z' may be
// lower case; a leap second (:60) is accepted only where it falls at 23:59:60 UTC.
std::string_view DateTimeProblem(std::string_view text);

// The RFC 9562 text form: 8-4-4-4-12 hex digits, either case, any version and variant.
std::string_view UuidProblem(std::string_view text);

// RFC 3986 section 3 `URI`: absolute (a scheme is required; a fragment is allowed).
std::string_view UriProblem(std::string_view text);

// The five components of a URI reference (RFC 3986 appendix B). An absent component is
// nullopt, which differs from an empty one ("x:?#" has an empty query and fragment).
struct UriReference {
  std::optional<std::string_view> scheme;
  std::optional<std::string_view> authority;
  std::string_view path;  // always present, possibly empty
  std::optional<std::string_view> query;
  std::optional<std::string_view> fragment;
};
UriReference SplitUriReference(std::string_view text);

// RFC 3986 section 5.2: `reference` resolved against the absolute URI `base`, with dot
// segments removed.
std::string ResolveUriReference(std::string_view base, std::string_view reference);

// One JSON Pointer reference token, escaped per RFC 6901: '~' -> "~0", '/' -> "~1".
std::string EscapeJsonPointerToken(std::string_view token);

// Decodes %XX escapes; returns false on a malformed escape.
bool PercentDecode(std::string_view text, std::string& out);

}  // namespace custos::lineage::detail
