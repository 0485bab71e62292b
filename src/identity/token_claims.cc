// Access-token claims: JSON encoding, strict parsing and structural checks.
#include "identity/token_claims.h"

#include <array>
#include <nlohmann/json.hpp>
#include <optional>

namespace custos::identity {
namespace {

using nlohmann::json;

// Every claim a custos token carries, in encoding order. A payload must have exactly
// these (the bit index is the position here).
constexpr std::array<std::string_view, 12> kClaimNames = {
    "iss", "sub",     "aud",         "jti",  "iat",       "nbf",
    "exp", "purpose", "environment", "zone", "resources", "actions"};

int ClaimIndex(std::string_view name) {
  for (size_t i = 0; i < kClaimNames.size(); ++i) {
    if (kClaimNames[i] == name) return static_cast<int>(i);
  }
  return -1;
}

Status ClaimError(std::string_view claim, std::string_view what) {
  return InvalidArgumentError("token claim '" + std::string(claim) + "': " + std::string(what));
}

Result<std::string> StringClaim(const json& object, std::string_view name) {
  const json& value = object.find(name).value();
  if (!value.is_string()) {
    return ClaimError(name, std::string("must be a string, got ") + value.type_name());
  }
  return value.get<std::string>();
}

Result<common::TimePoint> TimeClaim(const json& object, std::string_view name) {
  CUSTOS_ASSIGN_OR_RETURN(std::string text, StringClaim(object, name));
  auto time = common::ParseRfc3339(text);
  if (!time.ok()) return ClaimError(name, time.status().message());
  return *time;
}

Result<std::vector<std::string>> ListClaim(const json& object, std::string_view name) {
  const json& value = object.find(name).value();
  if (!value.is_array()) {
    return ClaimError(name, std::string("must be an array of strings, got ") + value.type_name());
  }
  std::vector<std::string> out;
  out.reserve(value.size());
  for (size_t i = 0; i < value.size(); ++i) {
    if (!value[i].is_string()) {
      return ClaimError(
          name, "item " + std::to_string(i) + " must be a string, got " + value[i].type_name());
    }
    out.push_back(value[i].get<std::string>());
  }
  return out;
}

Status CheckString(std::string_view claim, std::string_view value) {
  if (value.empty()) return ClaimError(claim, "must not be empty");
  if (value.size() > kMaxClaimString) {
    return ClaimError(claim, "is " + std::to_string(value.size()) + " bytes, more than the " +
                                 std::to_string(kMaxClaimString) + " allowed");
  }
  return Status::Ok();
}

Status CheckList(std::string_view claim, const std::vector<std::string>& items) {
  if (items.empty()) return ClaimError(claim, "must list at least one item");
  if (items.size() > kMaxScopeItems) {
    return ClaimError(claim, "has " + std::to_string(items.size()) + " items, more than the " +
                                 std::to_string(kMaxScopeItems) + " allowed");
  }
  for (size_t i = 0; i < items.size(); ++i) {
    // The item's name is only built for a refusal: this runs on every new token.
    if (items[i].empty() || items[i].size() > kMaxClaimString) {
      return CheckString(std::string(claim) + "[" + std::to_string(i) + "]", items[i]);
    }
  }
  return Status::Ok();
}

}  // namespace

std::string_view EnvironmentName(Environment environment) {
  switch (environment) {
    case Environment::kDev:
      return "dev";
    case Environment::kStaging:
      return "staging";
    case Environment::kProd:
      return "prod";
  }
  return "unknown";
}

Result<Environment> ParseEnvironment(std::string_view text) {
  if (text == "dev") return Environment::kDev;
  if (text == "staging") return Environment::kStaging;
  if (text == "prod") return Environment::kProd;
  return InvalidArgumentError("unknown environment '" + std::string(text.substr(0, 64)) +
                              "': use one of dev, staging, prod");
}

bool TokenScope::Allows(std::string_view action, std::string_view resource) const {
  bool action_ok = false;
  for (const std::string& a : actions_) {
    if (a == action) {
      action_ok = true;
      break;
    }
  }
  if (!action_ok) return false;
  for (const std::string& pattern : resources_) {
    if (!pattern.empty() && pattern.back() == '*') {
      if (resource.starts_with(std::string_view(pattern).substr(0, pattern.size() - 1))) {
        return true;
      }
    } else if (pattern == resource) {
      return true;
    }
  }
  return false;
}

std::string EncodeTokenClaims(const TokenClaims& claims) {
  // nlohmann's ordered_json keeps insertion order, so equal claims encode equally.
  nlohmann::ordered_json out;
  out["iss"] = claims.issuer;
  out["sub"] = claims.subject;
  out["aud"] = claims.audience;
  out["jti"] = claims.token_id;
  out["iat"] = common::FormatRfc3339(claims.issued_at);
  out["nbf"] = common::FormatRfc3339(claims.not_before);
  out["exp"] = common::FormatRfc3339(claims.expires_at);
  out["purpose"] = claims.purpose;
  out["environment"] = std::string(EnvironmentName(claims.environment));
  out["zone"] = claims.zone;
  out["resources"] = claims.scope.resources();
  out["actions"] = claims.scope.actions();
  return out.dump(-1, ' ', /*ensure_ascii=*/false, json::error_handler_t::replace);
}

namespace detail {

Result<TokenClaims> ParseTokenClaimsGeneric(std::string_view payload) {
  // A duplicated claim is refused (JSON parsers disagree on which copy wins, which is
  // how claim-smuggling attacks start); the callback sees each top-level key once.
  uint32_t seen = 0;
  std::string duplicate;
  std::string unknown;
  auto on_event = [&](int depth, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::key && depth == 1) {
      const auto& name = parsed.get_ref<const std::string&>();
      int index = ClaimIndex(name);
      if (index < 0) {
        if (unknown.empty()) unknown = name.substr(0, 64);
      } else if (seen & (1u << index)) {
        if (duplicate.empty()) duplicate = name;
      } else {
        seen |= 1u << index;
      }
    }
    return true;
  };
  json object = json::parse(payload.begin(), payload.end(), on_event, /*allow_exceptions=*/false);
  if (object.is_discarded()) {
    return InvalidArgumentError("token payload is not valid JSON");
  }
  if (!object.is_object()) {
    return InvalidArgumentError(std::string("token payload must be a JSON object, got ") +
                                object.type_name());
  }
  if (!duplicate.empty()) return ClaimError(duplicate, "appears more than once");
  if (!unknown.empty()) {
    return ClaimError(unknown, "is not a custos token claim (remove it, or upgrade custos)");
  }
  for (size_t i = 0; i < kClaimNames.size(); ++i) {
    if (!(seen & (1u << i))) return ClaimError(kClaimNames[i], "is missing");
  }

  TokenClaims claims;
  CUSTOS_ASSIGN_OR_RETURN(claims.issuer, StringClaim(object, "iss"));
  CUSTOS_ASSIGN_OR_RETURN(claims.subject, StringClaim(object, "sub"));
  CUSTOS_ASSIGN_OR_RETURN(claims.audience, StringClaim(object, "aud"));
  CUSTOS_ASSIGN_OR_RETURN(claims.token_id, StringClaim(object, "jti"));
  CUSTOS_ASSIGN_OR_RETURN(claims.issued_at, TimeClaim(object, "iat"));
  CUSTOS_ASSIGN_OR_RETURN(claims.not_before, TimeClaim(object, "nbf"));
  CUSTOS_ASSIGN_OR_RETURN(claims.expires_at, TimeClaim(object, "exp"));
  CUSTOS_ASSIGN_OR_RETURN(claims.purpose, StringClaim(object, "purpose"));
  CUSTOS_ASSIGN_OR_RETURN(std::string environment, StringClaim(object, "environment"));
  auto parsed_environment = ParseEnvironment(environment);
  if (!parsed_environment.ok()) {
    return ClaimError("environment", parsed_environment.status().message());
  }
  claims.environment = *parsed_environment;
  CUSTOS_ASSIGN_OR_RETURN(claims.zone, StringClaim(object, "zone"));
  CUSTOS_ASSIGN_OR_RETURN(std::vector<std::string> resources, ListClaim(object, "resources"));
  CUSTOS_ASSIGN_OR_RETURN(std::vector<std::string> actions, ListClaim(object, "actions"));
  claims.scope = TokenScope(std::move(resources), std::move(actions));
  CUSTOS_RETURN_IF_ERROR(ValidateTokenClaims(claims));
  return claims;
}

namespace {

// A strict reader for the common case only: one object whose values are ASCII strings
// (escapes other than \u allowed) or arrays of them, each claim once. It gives up (nullopt)
// on anything else, and the generic parser then decides and explains; what it accepts is
// valid JSON that the generic parser maps to the same claims (checked by the fuzzer).
class FastClaimsReader {
 public:
  explicit FastClaimsReader(std::string_view text) : text_(text) {}

  std::optional<TokenClaims> Read() {
    std::string values[kClaimNames.size()];
    std::vector<std::string> lists[2];
    uint32_t seen = 0;
    SkipSpace();
    if (!Take('{')) return std::nullopt;
    for (;;) {
      std::string key;
      SkipSpace();
      if (!ReadString(key)) return std::nullopt;
      const int index = ClaimIndex(key);
      if (index < 0 || (seen & (1u << index))) return std::nullopt;
      seen |= 1u << index;
      SkipSpace();
      if (!Take(':')) return std::nullopt;
      SkipSpace();
      if (index >= kFirstList) {
        if (!ReadList(lists[index - kFirstList])) return std::nullopt;
      } else if (!ReadString(values[index])) {
        return std::nullopt;
      }
      SkipSpace();
      if (Take('}')) break;
      if (!Take(',')) return std::nullopt;
    }
    SkipSpace();
    if (pos_ != text_.size() || seen != (1u << kClaimNames.size()) - 1) return std::nullopt;

    TokenClaims claims;
    auto iat = common::ParseRfc3339(values[4]);
    auto nbf = common::ParseRfc3339(values[5]);
    auto exp = common::ParseRfc3339(values[6]);
    auto environment = ParseEnvironment(values[8]);
    if (!iat.ok() || !nbf.ok() || !exp.ok() || !environment.ok()) return std::nullopt;
    claims.issuer = std::move(values[0]);
    claims.subject = std::move(values[1]);
    claims.audience = std::move(values[2]);
    claims.token_id = std::move(values[3]);
    claims.issued_at = *iat;
    claims.not_before = *nbf;
    claims.expires_at = *exp;
    claims.purpose = std::move(values[7]);
    claims.environment = *environment;
    claims.zone = std::move(values[9]);
    claims.scope = TokenScope(std::move(lists[0]), std::move(lists[1]));
    return claims;
  }

 private:
  static constexpr int kFirstList = 10;  // "resources", then "actions"

  void SkipSpace() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\n' || text_[pos_] == '\r')) {
      ++pos_;
    }
  }
  bool Take(char c) {
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool ReadString(std::string& out) {
    if (!Take('"')) return false;
    const size_t start = pos_;
    // Plain runs are appended in one go; escapes one by one.
    size_t run = start;
    for (;;) {
      if (pos_ >= text_.size()) return false;
      const auto c = static_cast<unsigned char>(text_[pos_]);
      if (c == '"') {
        out.append(text_.substr(run, pos_ - run));
        ++pos_;
        return true;
      }
      if (c < 0x20 || c >= 0x80) return false;
      if (c != '\\') {
        ++pos_;
        continue;
      }
      out.append(text_.substr(run, pos_ - run));
      if (pos_ + 1 >= text_.size()) return false;
      switch (text_[pos_ + 1]) {
        case '"':
          out.push_back('"');
          break;
        case '\\':
          out.push_back('\\');
          break;
        case '/':
          out.push_back('/');
          break;
        case 'b':
          out.push_back('\b');
          break;
        case 'f':
          out.push_back('\f');
          break;
        case 'n':
          out.push_back('\n');
          break;
        case 'r':
          out.push_back('\r');
          break;
        case 't':
          out.push_back('\t');
          break;
        default:
          return false;  // \u and invalid escapes: the generic parser decides
      }
      pos_ += 2;
      run = pos_;
    }
  }
  bool ReadList(std::vector<std::string>& out) {
    if (!Take('[')) return false;
    SkipSpace();
    if (Take(']')) return true;
    for (;;) {
      SkipSpace();
      out.emplace_back();
      if (!ReadString(out.back())) return false;
      SkipSpace();
      if (Take(']')) return true;
      if (!Take(',')) return false;
    }
  }

  std::string_view text_;
  size_t pos_ = 0;
};

}  // namespace

std::optional<TokenClaims> ParseTokenClaimsFast(std::string_view payload) {
  return FastClaimsReader(payload).Read();
}

}  // namespace detail

Result<TokenClaims> ParseTokenClaims(std::string_view payload) {
  // The verifier parses every new token, so the common shape skips building a JSON DOM;
  // anything else (including every malformed payload) goes to the generic parser.
  if (std::optional<TokenClaims> fast = detail::ParseTokenClaimsFast(payload)) {
    CUSTOS_RETURN_IF_ERROR(ValidateTokenClaims(*fast));
    return std::move(*fast);
  }
  return detail::ParseTokenClaimsGeneric(payload);
}

Status ValidateTokenClaims(const TokenClaims& claims) {
  CUSTOS_RETURN_IF_ERROR(CheckString("iss", claims.issuer));
  CUSTOS_RETURN_IF_ERROR(CheckString("sub", claims.subject));
  CUSTOS_RETURN_IF_ERROR(CheckString("aud", claims.audience));
  CUSTOS_RETURN_IF_ERROR(CheckString("jti", claims.token_id));
  CUSTOS_RETURN_IF_ERROR(CheckString("purpose", claims.purpose));
  CUSTOS_RETURN_IF_ERROR(CheckString("zone", claims.zone));
  CUSTOS_RETURN_IF_ERROR(CheckList("resources", claims.scope.resources()));
  CUSTOS_RETURN_IF_ERROR(CheckList("actions", claims.scope.actions()));
  if (claims.expires_at <= claims.issued_at) {
    return ClaimError("exp", "(" + common::FormatRfc3339(claims.expires_at) +
                                 ") is not after iat (" + common::FormatRfc3339(claims.issued_at) +
                                 ")");
  }
  if (claims.not_before < claims.issued_at) {
    return ClaimError("nbf", "(" + common::FormatRfc3339(claims.not_before) + ") is before iat (" +
                                 common::FormatRfc3339(claims.issued_at) + ")");
  }
  if (claims.not_before >= claims.expires_at) {
    return ClaimError("nbf", "(" + common::FormatRfc3339(claims.not_before) +
                                 ") is not before exp (" +
                                 common::FormatRfc3339(claims.expires_at) + ")");
  }
  if (claims.expires_at - claims.issued_at > kMaxTokenLifetime) {
    return ClaimError("exp", "the token lives longer than the maximum of " +
                                 std::to_string(kMaxTokenLifetime.count()) + " minutes");
  }
  return Status::Ok();
}

}  // namespace custos::identity
