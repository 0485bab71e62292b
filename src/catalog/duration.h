// Durations as repositories spell them ("90d", "12h", "30m", "1d12h", "0"): ttl and
// retention of feature views. Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace custos::catalog {

// Parses one or more <integer><unit> parts, units w, d, h, m, s (e.g. "1d12h"), or "0".
// Returns seconds. InvalidArgument says what is wrong and shows valid spellings.
Result<int64_t> ParseDuration(std::string_view text);

// The shortest spelling that parses back to `seconds` ("0", "90d", "1d12h", "45s").
std::string FormatDuration(int64_t seconds);

}  // namespace custos::catalog
