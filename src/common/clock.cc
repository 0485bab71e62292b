// Clock implementations and RFC 3339 formatting/parsing (UTC, proleptic Gregorian).
#include "common/clock.h"

#include <cstdio>

namespace custos::common {
namespace {

// Days from civil date, after H. Hinnant's public-domain algorithm description.
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
}

bool IsLeap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned DaysInMonth(int64_t y, unsigned m) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

}  // namespace

TimePoint SystemClock::Now() const {
  return std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
}

int64_t ToUnixMicros(TimePoint t) { return t.time_since_epoch().count(); }
TimePoint FromUnixMicros(int64_t micros) { return TimePoint(std::chrono::microseconds(micros)); }
int64_t ToUnixSeconds(TimePoint t) {
  int64_t us = ToUnixMicros(t);
  return us >= 0 ? us / 1000000 : -((-us + 999999) / 1000000);
}
TimePoint FromUnixSeconds(int64_t seconds) { return FromUnixMicros(seconds * 1000000); }

std::string FormatRfc3339(TimePoint t) {
  int64_t us = ToUnixMicros(t);
  int64_t secs = ToUnixSeconds(t);
  int64_t frac = us - secs * 1000000;
  int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
  int64_t sod = secs - days * 86400;
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, y, m, d);
  if (y < 0 || y > 9999) {
    // Outside what four digits hold (never in practice): the general formatter.
    char buf[64];
    const int n =
        std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lld",
                      static_cast<long long>(y), m, d, static_cast<long long>(sod / 3600),
                      static_cast<long long>(sod / 60 % 60), static_cast<long long>(sod % 60));
    std::string out(buf, static_cast<size_t>(n));
    if (frac != 0) {
      std::snprintf(buf, sizeof buf, ".%06lld", static_cast<long long>(frac));
      out += buf;
    }
    return out + 'Z';
  }
  // Digits by hand: this runs for every timestamp of every online answer, and snprintf
  // showed up in its profile.
  char buf[32] = "0000-00-00T00:00:00";
  const auto put = [&buf](size_t at, int64_t value, int digits) {
    for (int i = digits - 1; i >= 0; --i, value /= 10)
      buf[at + i] = static_cast<char>('0' + value % 10);
  };
  put(0, y, 4);
  put(5, m, 2);
  put(8, d, 2);
  put(11, sod / 3600, 2);
  put(14, sod / 60 % 60, 2);
  put(17, sod % 60, 2);
  size_t length = 19;
  if (frac != 0) {
    buf[length] = '.';
    put(length + 1, frac, 6);
    length += 7;
  }
  buf[length++] = 'Z';
  return std::string(buf, length);
}

Result<TimePoint> ParseRfc3339(std::string_view s) {
  size_t pos = 0;
  auto fail = [&](std::string_view what) {
    return InvalidArgumentError("invalid RFC 3339 timestamp '" + std::string(s) +
                                "': " + std::string(what) + " at offset " + std::to_string(pos) +
                                " (expected e.g. 2026-01-31T12:00:00Z)");
  };
  auto digits = [&](size_t n, int64_t& out) {
    if (pos + n > s.size()) return false;
    out = 0;
    for (size_t i = 0; i < n; ++i) {
      char c = s[pos + i];
      if (c < '0' || c > '9') return false;
      out = out * 10 + (c - '0');
    }
    pos += n;
    return true;
  };
  auto expect = [&](char c) {
    if (pos < s.size() && s[pos] == c) {
      ++pos;
      return true;
    }
    return false;
  };
  int64_t y, mo, d, h, mi, se;
  if (!digits(4, y)) return fail("expected a 4-digit year");
  if (!expect('-') || !digits(2, mo) || mo < 1 || mo > 12) return fail("expected month 01-12");
  if (!expect('-') || !digits(2, d) || d < 1 || d > DaysInMonth(y, static_cast<unsigned>(mo))) {
    return fail("expected a valid day of month");
  }
  if (!(expect('T') || expect('t') || expect(' '))) return fail("expected 'T'");
  if (!digits(2, h) || h > 23) return fail("expected hour 00-23");
  if (!expect(':') || !digits(2, mi) || mi > 59) return fail("expected minute 00-59");
  if (!expect(':') || !digits(2, se) || se > 60) return fail("expected second 00-60");
  if (se == 60) se = 59;  // leap second: clamp, as most systems do
  int64_t micros = 0;
  if (expect('.')) {
    size_t start = pos;
    int64_t scale = 100000;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      micros += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) return fail("expected digits after '.'");
  }
  int64_t offset_sec = 0;
  if (expect('Z') || expect('z')) {
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int sign = s[pos] == '-' ? -1 : 1;
    ++pos;
    int64_t oh, om;
    if (!digits(2, oh) || oh > 23 || !expect(':') || !digits(2, om) || om > 59) {
      return fail("expected offset ±HH:MM");
    }
    offset_sec = sign * (oh * 3600 + om * 60);
  } else {
    return fail("expected 'Z' or an offset");
  }
  if (pos != s.size()) return fail("unexpected trailing characters");
  int64_t days = DaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  int64_t secs = days * 86400 + h * 3600 + mi * 60 + se - offset_sec;
  return FromUnixMicros(secs * 1000000 + micros);
}

}  // namespace custos::common
