// Repository durations in whole seconds, over common/duration (the one parser of
// human durations).
#include "catalog/duration.h"

#include <chrono>

#include "common/duration.h"

namespace custos::catalog {

Result<int64_t> ParseDuration(std::string_view text) {
  CUSTOS_ASSIGN_OR_RETURN(std::chrono::milliseconds ms, common::ParseDuration(text));
  if (ms.count() % 1000 != 0) {
    return InvalidArgumentError("invalid duration '" + std::string(text) +
                                "': use whole seconds (s, m, h, d, w), e.g. 90d or 1d12h");
  }
  return ms.count() / 1000;
}

std::string FormatDuration(int64_t seconds) {
  if (seconds == 0) return "0";
  return common::FormatDuration(std::chrono::milliseconds(seconds * 1000));
}

}  // namespace custos::catalog
