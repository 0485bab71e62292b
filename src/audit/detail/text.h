// Small text helpers shared by the audit wire formats (checkpoints, receipts, tile paths).
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace custos::audit::detail {

// ASCII decimal with no sign, no leading zeros (except "0" itself) and no overflow.
inline std::optional<uint64_t> ParseCanonicalDecimal(std::string_view s) {
  if (s.empty() || s.size() > 20 || (s.size() > 1 && s[0] == '0')) return std::nullopt;
  uint64_t value = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    uint64_t digit = static_cast<uint64_t>(c - '0');
    if (value > (UINT64_MAX - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  return value;
}

}  // namespace custos::audit::detail
