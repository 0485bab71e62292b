// Access-token claims: what a custos PASETO v4.public token says, its one JSON encoding,
// and the strict parser the verifier runs on every new token. Also TokenScope, the
// resources and actions a token is limited to.
//
// Payload (JSON object, every field required, no other field accepted):
//   iss  issuer (string)          sub  principal uid (string)   aud  audience (string)
//   jti  token id (string)        iat, nbf, exp  RFC 3339 UTC times (microsecond precision)
//   purpose, zone (strings)       environment  "dev" | "staging" | "prod"
//   resources, actions  arrays of non-empty strings
// Registered claims follow the PASETO spec (paseto-spec docs/02-Implementation-Guide/
// 04-Claims.md); the others are custos claims.
// Thread-safety: plain values and free functions; safe from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"

namespace custos::identity {

// Default and maximum access-token lifetimes (issue 5).
inline constexpr std::chrono::minutes kDefaultTokenLifetime{15};
inline constexpr std::chrono::minutes kMaxTokenLifetime{60};
// Longest accepted claim string (bytes) and list length, so one token stays small.
inline constexpr size_t kMaxClaimString = 512;
inline constexpr size_t kMaxScopeItems = 256;

enum class Environment : uint8_t { kDev = 0, kStaging = 1, kProd = 2 };
// "dev", "staging", "prod".
std::string_view EnvironmentName(Environment environment);
// InvalidArgument naming the accepted values for anything else.
Result<Environment> ParseEnvironment(std::string_view text);

// The actions and resources a token may be used for. A token narrows what policy
// allows, never widens it: callers AND Allows() with the policy decision.
//
// A resource pattern is an exact resource (e.g. `FeatureView::"driver_stats"`) or a
// prefix ending in '*' (e.g. `Feature::"driver_stats.*`); an action is an exact name.
// An empty scope allows nothing.
class TokenScope {
 public:
  TokenScope() = default;
  TokenScope(std::vector<std::string> resources, std::vector<std::string> actions)
      : resources_(std::move(resources)), actions_(std::move(actions)) {}

  bool Allows(std::string_view action, std::string_view resource) const;

  const std::vector<std::string>& resources() const { return resources_; }
  const std::vector<std::string>& actions() const { return actions_; }
  friend bool operator==(const TokenScope&, const TokenScope&) = default;

 private:
  std::vector<std::string> resources_;
  std::vector<std::string> actions_;
};

struct TokenClaims {
  std::string issuer;            // iss
  std::string subject;           // sub: the principal uid
  std::string audience;          // aud: also bound as the PASETO implicit assertion
  std::string token_id;          // jti: "tok_" + 128 random bits
  common::TimePoint issued_at;   // iat
  common::TimePoint not_before;  // nbf
  common::TimePoint expires_at;  // exp
  std::string purpose;
  Environment environment = Environment::kDev;
  std::string zone;
  TokenScope scope;
  friend bool operator==(const TokenClaims&, const TokenClaims&) = default;
};

// The JSON payload. Precondition: ValidateTokenClaims(claims) is OK.
std::string EncodeTokenClaims(const TokenClaims& claims);

// Strict parse of a payload: InvalidArgument naming the claim and what is wrong (not
// JSON, not an object, a missing, duplicate-free but unknown, wrongly typed or empty
// claim, a bad time or environment), then ValidateTokenClaims. Never throws.
Result<TokenClaims> ParseTokenClaims(std::string_view payload);

namespace detail {
// The two halves of ParseTokenClaims, exposed for the fuzzer to compare: a fast reader
// for well-formed ASCII payloads (nullopt when it gives up, before validation) and the
// generic nlohmann-json parser that explains every refusal.
std::optional<TokenClaims> ParseTokenClaimsFast(std::string_view payload);
Result<TokenClaims> ParseTokenClaimsGeneric(std::string_view payload);
}  // namespace detail

// Checks that don't need a clock: non-empty strings within kMaxClaimString, nbf and exp
// not before iat, a lifetime (exp - iat) of at most kMaxTokenLifetime, scope limits.
Status ValidateTokenClaims(const TokenClaims& claims);

}  // namespace custos::identity
