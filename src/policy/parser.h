// Parsing Cedar policy text (Cedar 4.x syntax) into policies and templates, and linking
// templates. Errors read `<file>:<line>:<col>: <what was expected>`.
// Thread-safety: free functions; safe from any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "policy/ast.h"

namespace custos::policy {

struct ParseOptions {
  // Name of the source in error messages and in Policy::filename. Default "<policy>".
  std::string filename = "<policy>";
  // Policies get ids `<id_prefix><index>` in file order (Cedar's convention: policy0..N).
  std::string id_prefix = "policy";
  // If true, a policy annotated `@id("x")` gets the id "x" instead (must be unique).
  bool use_id_annotation = false;
  // Maximum nesting of parenthesised / bracketed sub-expressions while parsing, and
  // maximum depth of the resulting expression tree (long `&&` chains count). Deeper input
  // is rejected with an error instead of risking the stack. Defaults 256 and 2000.
  int max_nesting = 256;
  int max_depth = 2000;
};

// Parses a whole file of policies and templates (templates have ?principal / ?resource in
// their scope). On error, nothing is returned: the first error with its position.
Result<std::vector<Policy>> ParsePolicies(std::string_view text, const ParseOptions& options = {});

// Parses exactly one policy (or template); `id` becomes its id.
Result<Policy> ParsePolicy(std::string_view text, std::string_view id,
                           const ParseOptions& options = {});

// Fills a template's slots: `principal` for ?principal, `resource` for ?resource (pass
// only those the template has; extra or missing values are errors). The result is a
// static policy with id `link_id` and template_id set to the template's id.
Result<Policy> LinkTemplate(const Policy& templ, std::string_view link_id,
                            const EntityUid* principal, const EntityUid* resource);

}  // namespace custos::policy
