// What the pipeline's stages share about one request: the request and its peer, the route
// and its parameters, who is asking (Authenticate), the decision (Authorize), the audit
// receipt (Audit), and how to answer.
// Thread-safety: one request's stages run one after another (possibly on different
// threads, never at once).
#pragma once

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "audit/event.h"
#include "common/clock.h"
#include "features/entity_rows.h"
#include "features/feature_store.h"
#include "identity/token_claims.h"
#include "server/http_types.h"

namespace custos::server {

struct Route;

struct RequestContext {
  HttpRequest request;
  PeerInfo peer;
  std::shared_ptr<Responder> responder;
  std::string request_id;
  common::TimePoint received;
  std::chrono::steady_clock::time_point started;

  // Routing.
  const Route* route = nullptr;
  std::map<std::string, std::string, std::less<>> params;  // path parameters
  std::map<std::string, std::string, std::less<>> query;   // decoded query parameters
  nlohmann::json body;                                     // when the route takes JSON

  // Authenticate.
  std::optional<identity::PrincipalId> principal;
  audit::AuthMethod auth_method = audit::AuthMethod::kNone;
  std::shared_ptr<const identity::TokenClaims> token;

  // Guard.
  uint32_t risk_score = 0;

  // Authorize: the decision the Audit stage records.
  audit::Decision decision = audit::Decision::kDeny;
  std::vector<std::string> determining_policies;
  uint64_t policy_set_version = 0;
  std::vector<audit::ResourceRef> resources;
  std::optional<features::ReadAuthorization> feature_read;  // feature routes
  features::EntityKeys entity_keys;                         // online reads
  std::optional<features::EntityRows> entity_rows;          // training sets
  size_t rows = 0;                                          // rows the read will return

  // Audit.
  std::optional<uint64_t> audit_index;

  // A streaming handler opened its response: errors can no longer become a problem answer.
  bool stream_opened = false;

  // Metrics label: "allow", "deny" or "error".
  std::string outcome = "error";

  const std::string* Param(std::string_view name) const {
    auto it = params.find(name);
    return it == params.end() ? nullptr : &it->second;
  }
  std::string QueryOr(std::string_view name, std::string fallback) const {
    auto it = query.find(name);
    return it == query.end() ? fallback : it->second;
  }
  // The principal's Cedar uid text (`User::"alice"`), or "" when anonymous.
  std::string PrincipalText() const { return principal ? principal->ToString() : std::string(); }
};

}  // namespace custos::server
