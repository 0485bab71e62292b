// Parsing, printing and type checks of masking rules.
#include "catalog/mask_rule.h"

#include <charconv>
#include <cmath>

namespace custos::catalog {
namespace {

constexpr std::string_view kNames[] = {"redact", "null",  "show_last", "show_first",
                                       "hash",   "range", "year"};
constexpr std::string_view kSpellings =
    "redact, null, show_last:N, show_first:N, hash, range:<width> or year";

bool TakesParam(MaskKind k) {
  return k == MaskKind::kShowLast || k == MaskKind::kShowFirst || k == MaskKind::kRange;
}

// The shortest text that parses back to `v` ("100", "0.05").
std::string FormatNumber(double v) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  return ec == std::errc() ? std::string(buf, end) : std::to_string(v);
}

}  // namespace

Result<MaskRule> ParseMaskRule(std::string_view text) {
  size_t colon = text.find(':');
  std::string_view name = text.substr(0, colon);
  int kind = -1;
  for (size_t i = 0; i < std::size(kNames); ++i) {
    if (kNames[i] == name) kind = static_cast<int>(i);
  }
  if (kind < 0) {
    return InvalidArgumentError("unknown mask `" + std::string(text) + "`; use " +
                                std::string(kSpellings));
  }
  MaskRule rule{static_cast<MaskKind>(kind), 0};
  if (!TakesParam(rule.kind)) {
    if (colon != std::string_view::npos) {
      return InvalidArgumentError("mask `" + std::string(name) + "` takes no parameter; write `" +
                                  std::string(name) + "`");
    }
    return rule;
  }
  std::string_view example = rule.kind == MaskKind::kRange ? ":100" : ":4";
  if (colon == std::string_view::npos || colon + 1 == text.size()) {
    return InvalidArgumentError("mask `" + std::string(name) + "` needs a parameter, e.g. `" +
                                std::string(name) + std::string(example) + "`");
  }
  std::string_view arg = text.substr(colon + 1);
  if (rule.kind == MaskKind::kRange) {
    double w = 0;
    auto [p, ec] = std::from_chars(arg.data(), arg.data() + arg.size(), w);
    if (ec != std::errc() || p != arg.data() + arg.size() || !(w > 0) || !std::isfinite(w)) {
      return InvalidArgumentError("range width `" + std::string(arg) +
                                  "` must be a positive number, e.g. `range:100`");
    }
    rule.param = w;
  } else {
    int64_t n = 0;
    auto [p, ec] = std::from_chars(arg.data(), arg.data() + arg.size(), n);
    if (ec != std::errc() || p != arg.data() + arg.size() || n < 1 || n > 1024) {
      return InvalidArgumentError(
          "`" + std::string(name) + "` needs a whole number of characters " +
          "from 1 to 1024, not `" + std::string(arg) + "`, e.g. `" + std::string(name) + ":4`");
    }
    rule.param = static_cast<double>(n);
  }
  return rule;
}

std::string MaskRuleText(const MaskRule& rule) {
  std::string out(kNames[static_cast<size_t>(rule.kind)]);
  if (TakesParam(rule.kind)) out += ":" + FormatNumber(rule.param);
  return out;
}

Status CheckMaskFits(const MaskRule& rule, ValueType type) {
  if (rule.kind == MaskKind::kNull) return Status::Ok();
  std::string_view fits;
  bool ok = false;
  switch (rule.kind) {
    case MaskKind::kRedact:
    case MaskKind::kShowLast:
    case MaskKind::kShowFirst:
      ok = type.scalar == ScalarType::kString;
      fits = "string";
      break;
    case MaskKind::kHash:
      ok = type.scalar == ScalarType::kString || type.scalar == ScalarType::kInt64;
      fits = "string and int64";
      break;
    case MaskKind::kRange:
      ok = type.scalar == ScalarType::kInt64 || type.scalar == ScalarType::kDouble;
      fits = "int64 and double";
      break;
    case MaskKind::kYear:
      ok = type.scalar == ScalarType::kTimestamp;
      fits = "timestamp";
      break;
    case MaskKind::kNull:
      break;
  }
  if (ok && !type.is_list) return Status::Ok();
  return InvalidArgumentError("mask `" + MaskRuleText(rule) + "` does not fit type " +
                              ValueTypeName(type) + "; it masks " + std::string(fits) +
                              " values only (lists take `null`); choose another mask or type");
}

}  // namespace custos::catalog
