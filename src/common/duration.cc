// Parsing and formatting human durations (see duration.h).
#include "common/duration.h"

#include <cstdint>
#include <limits>

namespace custos::common {
namespace {

struct Unit {
  std::string_view suffix;
  int64_t millis;
};
// Longest suffix first, so "ms" is not read as "m".
constexpr Unit kUnits[] = {{"ms", 1},        {"w", 604'800'000}, {"d", 86'400'000},
                           {"h", 3'600'000}, {"m", 60'000},      {"s", 1'000}};

}  // namespace

Result<std::chrono::milliseconds> ParseDuration(std::string_view text) {
  auto fail = [&](const std::string& what) {
    return InvalidArgumentError("invalid duration '" + std::string(text) + "': " + what +
                                " (write e.g. 90d, 12h, 30m, 45s, 500ms, 1w or 1h30m)");
  };
  if (text.empty()) return fail("it is empty");
  if (text == "0") return std::chrono::milliseconds(0);
  int64_t total = 0;
  size_t pos = 0;
  int64_t last_unit = std::numeric_limits<int64_t>::max();  // units go largest first, once each
  while (pos < text.size()) {
    if (text[pos] < '0' || text[pos] > '9') return fail("expected a number");
    const size_t start = pos;
    int64_t n = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (n > (std::numeric_limits<int64_t>::max() - 9) / 10) return fail("it is too large");
      n = n * 10 + (text[pos] - '0');
      ++pos;
    }
    if (pos == text.size()) {
      return fail("the number " + std::string(text.substr(start, pos - start)) + " has no unit");
    }
    const Unit* unit = nullptr;
    for (const Unit& u : kUnits) {
      if (text.substr(pos).starts_with(u.suffix)) {
        unit = &u;
        break;
      }
    }
    if (unit == nullptr) {
      return fail("unknown unit `" + std::string(1, text[pos]) + "` (use w, d, h, m, s or ms)");
    }
    if (unit->millis >= last_unit) return fail("units must go from largest to smallest, once each");
    last_unit = unit->millis;
    pos += unit->suffix.size();
    if (n > (std::numeric_limits<int64_t>::max() - total) / unit->millis) {
      return fail("it is too large");
    }
    total += n * unit->millis;
  }
  return std::chrono::milliseconds(total);
}

std::string FormatDuration(std::chrono::milliseconds duration) {
  int64_t left = duration.count();
  if (left <= 0) return "0s";
  std::string out;
  for (const Unit& u : {kUnits[2], kUnits[3], kUnits[4], kUnits[5], kUnits[0]}) {
    if (left >= u.millis) {
      out += std::to_string(left / u.millis) + std::string(u.suffix);
      left %= u.millis;
    }
  }
  return out;
}

}  // namespace custos::common
