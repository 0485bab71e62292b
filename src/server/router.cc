// Segment-wise matching of request paths against the route templates.
#include "server/router.h"

namespace custos::server {
namespace {

std::vector<std::string> SplitPath(std::string_view path) {
  std::vector<std::string> parts;
  size_t start = 1;  // paths begin with '/'
  while (start <= path.size()) {
    const size_t slash = path.find('/', start);
    const size_t end = slash == std::string_view::npos ? path.size() : slash;
    parts.emplace_back(path.substr(start, end - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return parts;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Matches `parts` against `route`; fills `params` on success.
bool MatchSegments(const Route& route, const std::vector<std::string>& parts,
                   std::map<std::string, std::string, std::less<>>* params) {
  const auto& tmpl = route.segments;
  for (size_t i = 0; i < tmpl.size(); ++i) {
    const std::string& t = tmpl[i];
    const bool is_param = t.size() > 2 && t.front() == '{' && t.back() == '}';
    if (is_param && t.ends_with("...}")) {
      if (i >= parts.size()) return false;
      std::string rest;
      for (size_t j = i; j < parts.size(); ++j) {
        if (j > i) rest += '/';
        rest += parts[j];
      }
      (*params)[t.substr(1, t.size() - 5)] = rest;
      return true;
    }
    if (i >= parts.size()) return false;
    if (is_param) {
      if (parts[i].empty()) return false;
      auto decoded = PercentDecode(parts[i], false);
      if (!decoded.ok()) return false;
      (*params)[t.substr(1, t.size() - 2)] = std::move(*decoded);
    } else if (t != parts[i]) {
      return false;
    }
  }
  return parts.size() == tmpl.size();
}

}  // namespace

void Router::Add(Route route) {
  route.segments = SplitPath(route.path);
  routes_.push_back(std::move(route));
}

Router::Match Router::Find(http::verb method, std::string_view path) const {
  Match match;
  if (path.empty() || path.front() != '/') return match;
  const std::vector<std::string> parts = SplitPath(path);
  for (const Route& route : routes_) {
    std::map<std::string, std::string, std::less<>> params;
    if (!MatchSegments(route, parts, &params)) continue;
    if (route.method == method) {
      match.kind = MatchKind::kFound;
      match.route = &route;
      match.params = std::move(params);
      return match;
    }
    match.kind = MatchKind::kWrongMethod;
    if (!match.allowed.empty()) match.allowed += ", ";
    match.allowed += std::string(http::to_string(route.method));
  }
  return match;
}

Result<std::string> PercentDecode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%') {
      const int h = i + 2 < text.size() ? HexValue(text[i + 1]) : -1;
      const int l = i + 2 < text.size() ? HexValue(text[i + 2]) : -1;
      if (h < 0 || l < 0) {
        return InvalidArgumentError("'" + std::string(text) +
                                    "': a '%' must be followed by two hex digits");
      }
      out.push_back(static_cast<char>(h * 16 + l));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

Result<std::map<std::string, std::string, std::less<>>> ParseQuery(std::string_view query) {
  std::map<std::string, std::string, std::less<>> out;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    CUSTOS_ASSIGN_OR_RETURN(std::string name, PercentDecode(pair.substr(0, eq), true));
    std::string value;
    if (eq != std::string_view::npos) {
      CUSTOS_ASSIGN_OR_RETURN(value, PercentDecode(pair.substr(eq + 1), true));
    }
    out[std::move(name)] = std::move(value);
  }
  return out;
}

}  // namespace custos::server
