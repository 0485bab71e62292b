// String grammars for json_schema.cc: date-time, UUID and URI checks, reference resolution,
// JSON Pointer tokens.
#include "lineage/detail/schema_formats.h"

#include <algorithm>
#include <array>
#include <cstdint>

namespace custos::lineage::detail {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsHex(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

int HexDigitValue(char c) {
  if (IsDigit(c)) return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The value of the decimal digits text[at, at + width), or -1 if any is not a digit.
int FixedDigits(std::string_view text, size_t at, size_t width) {
  if (at + width > text.size()) return -1;
  int value = 0;
  for (size_t i = at; i < at + width; ++i) {
    if (!IsDigit(text[i])) return -1;
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

int DaysIn(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

// RFC 3986 character classes.
bool IsUnreserved(char c) {
  return IsAlpha(c) || IsDigit(c) || c == '-' || c == '.' || c == '_' || c == '~';
}
bool IsSubDelim(char c) {
  switch (c) {
    case '!':
    case '$':
    case '&':
    case '\'':
    case '(':
    case ')':
    case '*':
    case '+':
    case ',':
    case ';':
    case '=':
      return true;
    default:
      return false;
  }
}

// True if `text` is made of unreserved, sub-delims, %XX escapes and the characters in
// `extra` (the productions of userinfo, reg-name, segments, query and fragment differ
// only in those extras).
// A table, because every OpenLineage facet carries two URIs ("_producer", "_schemaURL")
// and the per-character tests showed up when ingesting events.
struct EncodedRunTable {
  std::array<bool, 256> plain{};  // unreserved or sub-delim
  EncodedRunTable() {
    for (int c = 0; c < 256; ++c) {
      plain[c] = IsUnreserved(static_cast<char>(c)) || IsSubDelim(static_cast<char>(c));
    }
  }
};

bool IsEncodedRun(std::string_view text, std::string_view extra) {
  static const EncodedRunTable table;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (table.plain[static_cast<unsigned char>(c)]) continue;
    if (c == '%') {
      if (i + 2 >= text.size() || !IsHex(text[i + 1]) || !IsHex(text[i + 2])) return false;
      i += 2;
    } else if (extra.find(c) == std::string_view::npos) {
      return false;
    }
  }
  return true;
}

bool IsScheme(std::string_view s) {
  if (s.empty() || !IsAlpha(s[0])) return false;
  for (char c : s) {
    if (!IsAlpha(c) && !IsDigit(c) && c != '+' && c != '-' && c != '.') return false;
  }
  return true;
}

bool IsIpv4(std::string_view s) {
  int parts = 0;
  size_t i = 0;
  while (i <= s.size()) {
    size_t end = s.find('.', i);
    if (end == std::string_view::npos) end = s.size();
    const std::string_view part = s.substr(i, end - i);
    if (part.empty() || part.size() > 3 || (part.size() > 1 && part[0] == '0')) return false;
    const int value = FixedDigits(part, 0, part.size());
    if (value < 0 || value > 255) return false;
    ++parts;
    i = end + 1;
  }
  return parts == 4;
}

// RFC 3986 IPv6address: eight 16-bit groups (the last two may be an IPv4 address), with
// at most one "::" standing for one or more zero groups.
bool IsIpv6(std::string_view s) {
  int groups = 0;
  bool elided = false;
  size_t i = 0;
  if (s.starts_with("::")) {
    elided = true;
    i = 2;
  }
  while (i < s.size()) {
    size_t end = s.find(':', i);
    const std::string_view group = s.substr(i, end == std::string_view::npos ? s.npos : end - i);
    if (end == std::string_view::npos && group.find('.') != std::string_view::npos) {
      if (!IsIpv4(group)) return false;
      groups += 2;
      break;
    }
    if (group.empty() || group.size() > 4) return false;
    for (char c : group) {
      if (!IsHex(c)) return false;
    }
    ++groups;
    if (end == std::string_view::npos) break;
    if (end + 1 == s.size()) return false;  // a single trailing ':'
    if (s[end + 1] == ':') {
      if (elided) return false;
      elided = true;
      ++end;
      if (end + 1 == s.size()) break;  // trailing "::"
    }
    i = end + 1;
  }
  return elided ? groups <= 7 : groups == 8;
}

std::string_view HostProblem(std::string_view host) {
  if (!host.starts_with('[')) {
    return IsEncodedRun(host, "") ? "" : "the host has a character not allowed there";
  }
  if (!host.ends_with(']')) return "an IP literal host must end with ']'";
  const std::string_view literal = host.substr(1, host.size() - 2);
  if (literal.starts_with('v') || literal.starts_with('V')) {
    const size_t dot = literal.find('.');
    if (dot == std::string_view::npos || dot < 2 || dot + 1 == literal.size()) {
      return "an IPvFuture host needs 'v', hex digits, '.' and an address";
    }
    for (size_t i = 1; i < dot; ++i) {
      if (!IsHex(literal[i])) return "an IPvFuture version must be hex digits";
    }
    return IsEncodedRun(literal.substr(dot + 1), ":") && literal.find('%') == literal.npos
               ? ""
               : "an IPvFuture address has a character not allowed there";
  }
  return IsIpv6(literal) ? "" : "the IP literal host is not an IPv6 address";
}

std::string_view AuthorityProblem(std::string_view authority) {
  const size_t at = authority.rfind('@');
  if (at != std::string_view::npos) {
    if (!IsEncodedRun(authority.substr(0, at), ":")) {
      return "the userinfo has a character not allowed there";
    }
    authority.remove_prefix(at + 1);
  }
  // The port follows the last ':' that is not inside an IP literal.
  const size_t close = authority.rfind(']');
  const size_t colon = authority.rfind(':');
  if (colon != std::string_view::npos && (close == std::string_view::npos || colon > close)) {
    for (char c : authority.substr(colon + 1)) {
      if (!IsDigit(c)) return "the port must be decimal digits";
    }
    authority = authority.substr(0, colon);
  }
  return HostProblem(authority);
}

void RemoveLastSegment(std::string& out) {
  const size_t slash = out.rfind('/');
  out.resize(slash == std::string::npos ? 0 : slash);
}

// RFC 3986 section 5.2.4.
std::string RemoveDotSegments(std::string_view in) {
  std::string out;
  while (!in.empty()) {
    if (in.starts_with("../")) {
      in.remove_prefix(3);
    } else if (in.starts_with("./")) {
      in.remove_prefix(2);
    } else if (in.starts_with("/./")) {
      in.remove_prefix(2);
    } else if (in == "/.") {
      in = "/";
    } else if (in.starts_with("/../")) {
      in.remove_prefix(3);
      RemoveLastSegment(out);
    } else if (in == "/..") {
      in = "/";
      RemoveLastSegment(out);
    } else if (in == "." || in == "..") {
      in = {};
    } else {
      size_t next = in.find('/', 1);
      if (next == std::string_view::npos) next = in.size();
      out.append(in.substr(0, next));
      in.remove_prefix(next);
    }
  }
  return out;
}

// RFC 3986 section 5.2.3.
std::string MergePaths(const UriReference& base, std::string_view reference_path) {
  if (base.authority && base.path.empty()) return "/" + std::string(reference_path);
  const size_t slash = base.path.rfind('/');
  if (slash == std::string_view::npos) return std::string(reference_path);
  return std::string(base.path.substr(0, slash + 1)) + std::string(reference_path);
}

}  // namespace

std::string_view DateTimeProblem(std::string_view s) {
  const int year = FixedDigits(s, 0, 4);
  if (year < 0 || s.size() < 5 || s[4] != '-') return "expected a 4-digit year and '-'";
  const int month = FixedDigits(s, 5, 2);
  if (month < 1 || month > 12 || s.size() < 8 || s[7] != '-') {
    return "expected month 01-12 and '-'";
  }
  const int day = FixedDigits(s, 8, 2);
  if (day < 1 || day > DaysIn(year, month)) return "the day does not exist in that month";
  if (s.size() < 11 || (s[10] != 'T' && s[10] != 't')) {
    return "expected 'T' between date and time";
  }
  const int hour = FixedDigits(s, 11, 2);
  if (hour < 0 || hour > 23 || s.size() < 14 || s[13] != ':') return "expected hour 00-23 and ':'";
  const int minute = FixedDigits(s, 14, 2);
  if (minute < 0 || minute > 59 || s.size() < 17 || s[16] != ':') {
    return "expected minute 00-59 and ':'";
  }
  const int second = FixedDigits(s, 17, 2);
  if (second < 0 || second > 60) return "expected second 00-60";
  size_t pos = 19;
  if (pos < s.size() && s[pos] == '.') {
    const size_t start = ++pos;
    while (pos < s.size() && IsDigit(s[pos])) ++pos;
    if (pos == start) return "expected digits after '.'";
  }
  int offset_minutes = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    const int sign = s[pos] == '-' ? -1 : 1;
    const int offset_hour = FixedDigits(s, pos + 1, 2);
    const int offset_minute = FixedDigits(s, pos + 4, 2);
    // offset_minute >= 0 implies s[pos + 3] exists.
    if (offset_minute < 0 || offset_minute > 59 || offset_hour < 0 || offset_hour > 23 ||
        s[pos + 3] != ':') {
      return "expected a UTC offset +HH:MM or -HH:MM";
    }
    offset_minutes = sign * (offset_hour * 60 + offset_minute);
    pos += 6;
  } else {
    return "expected 'Z' or a UTC offset after the time";
  }
  if (pos != s.size()) return "unexpected characters after the UTC offset";
  if (second == 60) {
    const int utc_minute_of_day = ((hour * 60 + minute - offset_minutes) % 1440 + 1440) % 1440;
    if (utc_minute_of_day != 23 * 60 + 59) return "a leap second must fall at 23:59:60 UTC";
  }
  return "";
}

std::string_view UuidProblem(std::string_view text) {
  if (text.size() != 36) return "wrong length";
  for (size_t i = 0; i < text.size(); ++i) {
    const bool dash_position = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash_position ? text[i] != '-' : !IsHex(text[i])) return "wrong character";
  }
  return "";
}

UriReference SplitUriReference(std::string_view text) {
  UriReference ref;
  const size_t colon = text.find(':');
  if (colon != std::string_view::npos && text.find_first_of("/?#") > colon &&
      IsScheme(text.substr(0, colon))) {
    ref.scheme = text.substr(0, colon);
    text.remove_prefix(colon + 1);
  }
  if (const size_t hash = text.find('#'); hash != std::string_view::npos) {
    ref.fragment = text.substr(hash + 1);
    text = text.substr(0, hash);
  }
  if (const size_t question = text.find('?'); question != std::string_view::npos) {
    ref.query = text.substr(question + 1);
    text = text.substr(0, question);
  }
  if (text.starts_with("//")) {
    const size_t slash = std::min(text.find('/', 2), text.size());
    ref.authority = text.substr(2, slash - 2);
    text.remove_prefix(slash);
  }
  ref.path = text;
  return ref;
}

std::string_view UriProblem(std::string_view text) {
  if (text.empty()) return "it is empty";
  const UriReference ref = SplitUriReference(text);
  if (!ref.scheme) return "it has no scheme (an absolute URI starts with e.g. 'https:')";
  if (ref.authority) {
    if (std::string_view problem = AuthorityProblem(*ref.authority); !problem.empty()) {
      return problem;
    }
  } else if (ref.path.starts_with("//")) {
    return "a path without an authority cannot start with '//'";
  }
  if (!IsEncodedRun(ref.path, ":@/")) return "the path has a character not allowed there";
  if (!IsEncodedRun(ref.query.value_or(""), ":@/?")) {
    return "the query has a character not allowed there";
  }
  if (!IsEncodedRun(ref.fragment.value_or(""), ":@/?")) {
    return "the fragment has a character not allowed there";
  }
  return "";
}

std::string ResolveUriReference(std::string_view base_text, std::string_view reference_text) {
  const UriReference base = SplitUriReference(base_text);
  const UriReference ref = SplitUriReference(reference_text);
  // RFC 3986 section 5.2.2, with the target's fragment always the reference's.
  UriReference target = ref;
  std::string path;
  if (ref.scheme || ref.authority) {
    path = RemoveDotSegments(ref.path);
    if (!ref.scheme) target.scheme = base.scheme;
  } else {
    target.scheme = base.scheme;
    target.authority = base.authority;
    if (ref.path.empty()) {
      path = std::string(base.path);
      if (!ref.query) target.query = base.query;
    } else if (ref.path.starts_with('/')) {
      path = RemoveDotSegments(ref.path);
    } else {
      path = RemoveDotSegments(MergePaths(base, ref.path));
    }
  }
  std::string out;
  if (target.scheme) out.append(*target.scheme).append(":");
  if (target.authority) out.append("//").append(*target.authority);
  out.append(path);
  if (target.query) out.append("?").append(*target.query);
  if (target.fragment) out.append("#").append(*target.fragment);
  return out;
}

std::string EscapeJsonPointerToken(std::string_view token) {
  std::string out(token);
  for (size_t at = out.find_first_of("~/"); at != std::string::npos;
       at = out.find_first_of("~/", at + 2)) {
    out.insert(at + 1, 1, out[at] == '~' ? '0' : '1');
    out[at] = '~';
  }
  return out;
}

bool PercentDecode(std::string_view text, std::string& out) {
  out.clear();
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out.push_back(text[i]);
      continue;
    }
    if (i + 2 >= text.size() || !IsHex(text[i + 1]) || !IsHex(text[i + 2])) return false;
    out.push_back(static_cast<char>(HexDigitValue(text[i + 1]) * 16 + HexDigitValue(text[i + 2])));
    i += 2;
  }
  return true;
}

}  // namespace custos::lineage::detail
