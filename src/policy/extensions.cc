// Cedar extension types: exact parsing rules (they decide which policies error) and the
// arithmetic behind the extension methods.
#include "policy/extensions.h"

#include <array>
#include <cstdint>
#include <cstdio>
#include <limits>

namespace custos::policy {

namespace {

// 128-bit integers make the overflow checks exact (a GCC/Clang extension).
__extension__ typedef __int128 Int128;
__extension__ typedef unsigned __int128 Uint128;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Status IpError(std::string_view text, std::string_view why) {
  return InvalidArgumentError("ip(\"" + std::string(text) + "\"): " + std::string(why));
}

// Dotted quad: four decimal octets of 1-3 digits, no leading zeros, each <= 255.
bool ParseIpv4(std::string_view s, std::array<uint8_t, 16>* out) {
  size_t pos = 0;
  for (int i = 0; i < 4; ++i) {
    if (i > 0) {
      if (pos >= s.size() || s[pos] != '.') return false;
      ++pos;
    }
    size_t start = pos;
    int value = 0;
    while (pos < s.size() && IsDigit(s[pos])) {
      value = value * 10 + (s[pos] - '0');
      ++pos;
      if (pos - start > 3) return false;
    }
    size_t digits = pos - start;
    if (digits == 0 || value > 255) return false;
    if (digits > 1 && s[start] == '0') return false;
    (*out)[i] = static_cast<uint8_t>(value);
  }
  return pos == s.size();
}

// Reads up to `limit` colon-separated groups of 1-4 hex digits starting at *pos.
// A separator is consumed only if a group follows it. Returns the number read.
size_t ReadGroups(std::string_view s, size_t* pos, uint16_t* groups, size_t limit) {
  size_t n = 0;
  while (n < limit) {
    size_t p = *pos;
    if (n > 0) {
      if (p >= s.size() || s[p] != ':') break;
      ++p;
    }
    size_t start = p;
    uint32_t v = 0;
    while (p < s.size() && HexValue(s[p]) >= 0 && p - start < 4) {
      v = v * 16 + static_cast<uint32_t>(HexValue(s[p]));
      ++p;
    }
    if (p == start) break;
    if (p < s.size() && HexValue(s[p]) >= 0) return static_cast<size_t>(-1);  // > 4 digits
    groups[n++] = static_cast<uint16_t>(v);
    *pos = p;
  }
  return n;
}

bool ParseIpv6(std::string_view s, std::array<uint8_t, 16>* out) {
  uint16_t head[8] = {0};
  size_t pos = 0;
  size_t head_n = ReadGroups(s, &pos, head, 8);
  if (head_n == static_cast<size_t>(-1)) return false;
  uint16_t groups[8] = {0};
  if (head_n == 8) {
    if (pos != s.size()) return false;
    for (int i = 0; i < 8; ++i) groups[i] = head[i];
  } else {
    if (s.substr(pos, 2) != "::") return false;
    pos += 2;
    uint16_t tail[7] = {0};
    size_t limit = 8 - (head_n + 1);
    size_t tail_n = ReadGroups(s, &pos, tail, limit);
    if (tail_n == static_cast<size_t>(-1)) return false;
    if (pos != s.size()) return false;
    for (size_t i = 0; i < head_n; ++i) groups[i] = head[i];
    for (size_t i = 0; i < tail_n; ++i) groups[8 - tail_n + i] = tail[i];
  }
  for (int i = 0; i < 8; ++i) {
    (*out)[2 * i] = static_cast<uint8_t>(groups[i] >> 8);
    (*out)[2 * i + 1] = static_cast<uint8_t>(groups[i] & 0xff);
  }
  return true;
}

bool AtLeastTwo(std::string_view s, char c) {
  size_t i = s.find(c);
  return i != std::string_view::npos && s.find(c, i + 1) != std::string_view::npos;
}

bool ParseAddress(std::string_view s, IpAddr* ip) {
  std::array<uint8_t, 16> bytes{};
  if (ParseIpv4(s, &bytes)) {
    ip->v6 = false;
    ip->bytes = bytes;
    return true;
  }
  bytes = {};
  if (ParseIpv6(s, &bytes)) {
    ip->v6 = true;
    ip->bytes = bytes;
    return true;
  }
  return false;
}

Uint128 Ip6AsInt(const IpAddr& ip) {
  Uint128 v = 0;
  for (int i = 0; i < 16; ++i) v = (v << 8) | ip.bytes[i];
  return v;
}

uint32_t Ip4AsInt(const IpAddr& ip) {
  return (uint32_t{ip.bytes[0]} << 24) | (uint32_t{ip.bytes[1]} << 16) |
         (uint32_t{ip.bytes[2]} << 8) | uint32_t{ip.bytes[3]};
}

// Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's days_from_civil).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool IsLeap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned DaysInMonth(int64_t y, unsigned m) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

// Parses exactly `n` ASCII digits at s[pos..].
bool Digits(std::string_view s, size_t pos, size_t n, unsigned* out) {
  if (pos + n > s.size()) return false;
  unsigned v = 0;
  for (size_t i = 0; i < n; ++i) {
    if (!IsDigit(s[pos + i])) return false;
    v = v * 10 + static_cast<unsigned>(s[pos + i] - '0');
  }
  *out = v;
  return true;
}

constexpr int64_t kDayMs = 86400000;

}  // namespace

Result<IpAddr> ParseIpAddr(std::string_view text) {
  if (text.size() > 43) return IpError(text, "string is too long");
  if (AtLeastTwo(text, ':') && AtLeastTwo(text, '.')) {
    return IpError(text, "IPv4 embedded in IPv6 is not accepted");
  }
  IpAddr ip;
  size_t slash = text.find('/');
  if (slash == std::string_view::npos) {
    if (!ParseAddress(text, &ip)) return IpError(text, "not an IP address");
    ip.prefix = ip.v6 ? 128 : 32;
    return ip;
  }
  if (!ParseAddress(text.substr(0, slash), &ip)) return IpError(text, "not an IP address");
  std::string_view prefix = text.substr(slash + 1);
  size_t max_len = ip.v6 ? 3 : 2;
  unsigned max = ip.v6 ? 128 : 32;
  if (prefix.empty() || prefix.size() > max_len) return IpError(text, "bad prefix length");
  unsigned value = 0;
  for (char c : prefix) {
    if (!IsDigit(c)) return IpError(text, "prefix is not a number");
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (prefix.size() > 1 && prefix[0] == '0') return IpError(text, "prefix has leading zeros");
  if (value > max) return IpError(text, "prefix is too large");
  ip.prefix = static_cast<uint8_t>(value);
  return ip;
}

std::string FormatIpAddr(const IpAddr& ip) {
  char buf[64];
  if (!ip.v6) {
    std::snprintf(buf, sizeof(buf), "%u.%u.%u.%u/%u", ip.bytes[0], ip.bytes[1], ip.bytes[2],
                  ip.bytes[3], ip.prefix);
    return buf;
  }
  std::string out;
  for (int i = 0; i < 8; ++i) {
    if (i > 0) out += ':';
    std::snprintf(buf, sizeof(buf), "%x", (ip.bytes[2 * i] << 8) | ip.bytes[2 * i + 1]);
    out += buf;
  }
  return out + "/" + std::to_string(ip.prefix);
}

bool IpIsLoopback(const IpAddr& ip) {
  if (!ip.v6) return ip.bytes[0] == 127 && ip.prefix >= 8;
  for (int i = 0; i < 15; ++i) {
    if (ip.bytes[i] != 0) return false;
  }
  return ip.bytes[15] == 1 && ip.prefix >= 128;
}

bool IpIsMulticast(const IpAddr& ip) {
  if (!ip.v6) return ip.bytes[0] >= 224 && ip.bytes[0] <= 239 && ip.prefix >= 4;
  return ip.bytes[0] == 0xff && ip.prefix >= 8;
}

bool IpIsInRange(const IpAddr& child, const IpAddr& parent) {
  if (child.v6 != parent.v6) return false;
  if (!child.v6) {
    auto netmask = [](unsigned p) -> uint32_t { return p == 0 ? 0 : ~uint32_t{0} << (32 - p); };
    auto hostmask = [](unsigned p) -> uint32_t { return p >= 32 ? 0 : ~uint32_t{0} >> p; };
    uint32_t c = Ip4AsInt(child), p = Ip4AsInt(parent);
    uint32_t cn = c & netmask(child.prefix), pn = p & netmask(parent.prefix);
    uint32_t cb = c | hostmask(child.prefix), pb = p | hostmask(parent.prefix);
    return pn <= cn && cb <= pb;
  }
  using U = Uint128;
  const U all = ~U{0};
  auto netmask = [&](unsigned p) -> U { return p == 0 ? 0 : all << (128 - p); };
  auto hostmask = [&](unsigned p) -> U { return p >= 128 ? 0 : all >> p; };
  U c = Ip6AsInt(child), p = Ip6AsInt(parent);
  U cn = c & netmask(child.prefix), pn = p & netmask(parent.prefix);
  U cb = c | hostmask(child.prefix), pb = p | hostmask(parent.prefix);
  return pn <= cn && cb <= pb;
}

Result<Decimal> ParseDecimal(std::string_view text) {
  auto fail = [&](std::string_view why) {
    return InvalidArgumentError("decimal(\"" + std::string(text) + "\"): " + std::string(why));
  };
  size_t pos = 0;
  bool negative = false;
  if (pos < text.size() && text[pos] == '-') {
    negative = true;
    ++pos;
  }
  size_t int_start = pos;
  while (pos < text.size() && IsDigit(text[pos])) ++pos;
  size_t int_end = pos;
  if (int_end == int_start || pos >= text.size() || text[pos] != '.') {
    return fail("expected digits, '.', digits");
  }
  ++pos;
  size_t frac_start = pos;
  while (pos < text.size() && IsDigit(text[pos])) ++pos;
  if (pos == frac_start || pos != text.size()) return fail("expected digits, '.', digits");
  // Integer part as a signed 64-bit value (Cedar parses "-0" as 0, and then adds the
  // fraction: decimal("-0.5") equals decimal("0.5"); we keep that behaviour).
  Int128 l = 0;
  for (size_t i = int_start; i < int_end; ++i) {
    l = l * 10 + (text[i] - '0');
    if (l > (Int128{1} << 64)) return fail("overflow");
  }
  if (negative) l = -l;
  if (l > std::numeric_limits<int64_t>::max() || l < std::numeric_limits<int64_t>::min()) {
    return fail("overflow");
  }
  size_t frac_len = pos - frac_start;
  if (frac_len > 4) return fail("too many digits after the decimal point (at most 4)");
  int64_t r = 0;
  for (size_t i = frac_start; i < pos; ++i) r = r * 10 + (text[i] - '0');
  for (size_t i = frac_len; i < 4; ++i) r *= 10;
  Int128 scaled = l * 10000;
  if (scaled > std::numeric_limits<int64_t>::max() ||
      scaled < std::numeric_limits<int64_t>::min()) {
    return fail("overflow");
  }
  Int128 value = l >= 0 ? scaled + r : scaled - r;
  if (value > std::numeric_limits<int64_t>::max() || value < std::numeric_limits<int64_t>::min()) {
    return fail("overflow");
  }
  return Decimal{static_cast<int64_t>(value)};
}

std::string FormatDecimal(Decimal d) {
  int64_t int_part = d.scaled / 10000;
  int64_t frac = d.scaled % 10000;
  if (frac < 0) frac = -frac;
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%s%lld.%04lld", (d.scaled < 0 && int_part == 0) ? "-" : "",
                static_cast<long long>(int_part), static_cast<long long>(frac));
  return buf;
}

Result<Datetime> ParseDatetime(std::string_view text) {
  auto fail = [&](std::string_view why) {
    return InvalidArgumentError("datetime(\"" + std::string(text) + "\"): " + std::string(why));
  };
  unsigned year, month, day;
  if (!Digits(text, 0, 4, &year) || text.size() < 10 || text[4] != '-' ||
      !Digits(text, 5, 2, &month) || text[7] != '-' || !Digits(text, 8, 2, &day)) {
    return fail("expected YYYY-MM-DD");
  }
  auto date_ok = [&] {
    return month >= 1 && month <= 12 && day >= 1 && day <= DaysInMonth(year, month);
  };
  int64_t days = 0;
  if (text.size() == 10) {
    if (!date_ok()) return fail("invalid date");
    days = DaysFromCivil(year, month, day);
    return Datetime{days * kDayMs};
  }
  unsigned h, mi, s;
  if (text.size() < 19 || text[10] != 'T' || !Digits(text, 11, 2, &h) || text[13] != ':' ||
      !Digits(text, 14, 2, &mi) || text[16] != ':' || !Digits(text, 17, 2, &s)) {
    return fail("expected Thh:mm:ss after the date");
  }
  std::string_view rest = text.substr(19);
  unsigned ms = 0;
  if (!rest.empty() && rest[0] == '.') {
    if (!Digits(rest, 1, 3, &ms)) return fail("expected .SSS");
    rest = rest.substr(4);
  }
  int64_t offset_s = 0;
  bool offset_ok = true;
  if (rest == "Z") {
  } else if (rest.size() == 5 && (rest[0] == '+' || rest[0] == '-')) {
    unsigned oh, om;
    if (!Digits(rest, 1, 2, &oh) || !Digits(rest, 3, 2, &om)) {
      return fail("expected Z or (+|-)hhmm at the end");
    }
    offset_ok = oh < 24 && om < 60;
    offset_s = (rest[0] == '+' ? 1 : -1) * static_cast<int64_t>(oh * 3600 + om * 60);
  } else {
    return fail("expected Z or (+|-)hhmm at the end");
  }
  if (!date_ok()) return fail("invalid date");
  if (h >= 24 || mi >= 60 || s >= 60) return fail("invalid time of day");
  if (!offset_ok) return fail("invalid UTC offset");
  days = DaysFromCivil(year, month, day);
  int64_t total = days * kDayMs + static_cast<int64_t>(h) * 3600000 +
                  static_cast<int64_t>(mi) * 60000 + static_cast<int64_t>(s) * 1000 + ms -
                  offset_s * 1000;
  return Datetime{total};
}

Result<Duration> ParseDuration(std::string_view text) {
  auto fail = [&](std::string_view why) {
    return InvalidArgumentError("duration(\"" + std::string(text) + "\"): " + std::string(why));
  };
  if (text.empty() || text == "-") return fail("empty duration");
  size_t pos = 0;
  bool negative = false;
  if (text[0] == '-') {
    negative = true;
    pos = 1;
  }
  // Units in the only order allowed: d, h, m, s, ms.
  static constexpr int64_t kUnitMs[] = {kDayMs, 3600000, 60000, 1000, 1};
  int next_unit = 0;
  Uint128 total = 0;
  bool overflow = false;
  while (pos < text.size()) {
    size_t start = pos;
    Uint128 n = 0;
    bool big = false;
    while (pos < text.size() && IsDigit(text[pos])) {
      n = n * 10 + static_cast<unsigned>(text[pos] - '0');
      if (n > std::numeric_limits<uint64_t>::max()) big = true, n = 0;
      ++pos;
    }
    if (pos == start || pos >= text.size()) return fail("expected a number and a unit");
    int unit;
    if (text[pos] == 'm' && pos + 1 < text.size() && text[pos + 1] == 's') {
      unit = 4;
      pos += 2;
    } else if (text[pos] == 'd') {
      unit = 0, ++pos;
    } else if (text[pos] == 'h') {
      unit = 1, ++pos;
    } else if (text[pos] == 'm') {
      unit = 2, ++pos;
    } else if (text[pos] == 's') {
      unit = 3, ++pos;
    } else {
      return fail("unknown unit (use d, h, m, s, ms)");
    }
    if (unit < next_unit) return fail("units must appear in the order d, h, m, s, ms");
    next_unit = unit + 1;
    if (big) {
      overflow = true;
      continue;
    }
    total += n * static_cast<Uint128>(kUnitMs[unit]);
    if (total > (static_cast<Uint128>(1) << 64)) overflow = true;
  }
  if (overflow) return fail("overflows a signed 64-bit count of milliseconds");
  const Uint128 max_pos = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  if (negative) {
    if (total > max_pos + 1) return fail("overflows a signed 64-bit count of milliseconds");
    if (total == max_pos + 1) return Duration{std::numeric_limits<int64_t>::min()};
    return Duration{-static_cast<int64_t>(total)};
  }
  if (total > max_pos) return fail("overflows a signed 64-bit count of milliseconds");
  return Duration{static_cast<int64_t>(total)};
}

std::optional<Datetime> DatetimeOffset(Datetime dt, Duration d) {
  int64_t out;
  if (__builtin_add_overflow(dt.ms, d.ms, &out)) return std::nullopt;
  return Datetime{out};
}

std::optional<Duration> DatetimeDurationSince(Datetime a, Datetime b) {
  int64_t out;
  if (__builtin_sub_overflow(a.ms, b.ms, &out)) return std::nullopt;
  return Duration{out};
}

std::optional<Datetime> DatetimeToDate(Datetime dt) {
  int64_t rem = dt.ms % kDayMs;
  if (rem < 0) rem += kDayMs;
  int64_t out;
  if (__builtin_sub_overflow(dt.ms, rem, &out)) return std::nullopt;
  return Datetime{out};
}

Duration DatetimeToTime(Datetime dt) {
  int64_t rem = dt.ms % kDayMs;
  if (rem < 0) rem += kDayMs;
  return Duration{rem};
}

}  // namespace custos::policy
