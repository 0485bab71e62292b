// Masking rules declared per feature in a repository (after Apache Ranger's masks). The
// catalog parses and type-checks them; features/ applies them when policy grants only
// masked access. Spellings: redact, null, show_last:N, show_first:N, hash, range:W, year.
// Thread-safety: plain values; the functions are pure.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "catalog/value_type.h"
#include "common/status.h"

namespace custos::catalog {

enum class MaskKind : uint8_t {
  kRedact = 0,     // string: letters become x/X, digits n, other characters kept
  kNull = 1,       // any type: the value becomes null
  kShowLast = 2,   // string: all but the last N characters redacted
  kShowFirst = 3,  // string: all but the first N characters redacted
  kHash = 4,       // string or int64: SHA-256 of the value, hex
  kRange = 5,      // int64 or double: the value becomes the range [k*W, (k+1)*W) holding it
  kYear = 6,       // timestamp: the value is truncated to January 1st of its year
};

struct MaskRule {
  MaskKind kind = MaskKind::kNull;
  // N for show_last/show_first (1..1024), W for range (> 0); 0 otherwise.
  double param = 0;
  friend bool operator==(const MaskRule&, const MaskRule&) = default;
};

// Parses one of the spellings above. InvalidArgument lists them when `text` is none.
Result<MaskRule> ParseMaskRule(std::string_view text);
// The spelling ParseMaskRule accepts ("show_last:4", "range:100", "range:0.5").
std::string MaskRuleText(const MaskRule& rule);
// Whether the rule can mask a value of `type`; InvalidArgument says which types it fits.
Status CheckMaskFits(const MaskRule& rule, ValueType type);

}  // namespace custos::catalog
