// Durations as people write them in flags and YAML: "90d", "12h", "30m", "45s", "500ms",
// "1w", and sums of them ("1h30m"). Plain "0" is zero.
// Thread-safety: pure functions.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "common/status.h"

namespace custos::common {

// InvalidArgument saying what is wrong and showing accepted forms. Units: w, d, h, m, s,
// ms. Negative values and overflow past ~292 years are refused.
Result<std::chrono::milliseconds> ParseDuration(std::string_view text);

// The shortest form ParseDuration reads back: "7d", "1h30m", "0s".
std::string FormatDuration(std::chrono::milliseconds duration);

}  // namespace custos::common
