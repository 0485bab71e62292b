// Access workflow routes: purpose-bound requests, N-of-M approvals (with TOTP for MFA),
// denials, grants and revocation. Who may approve, deny or revoke is the workflow's own
// rule set (owners and stewards, separation of duties, MFA by classification), enforced by
// AccessService; the Authorize step here admits any authenticated, active principal to ask.
#include "common/duration.h"
#include "server/api.h"
#include "server/json_views.h"

namespace custos::server {
namespace {

Status AdmitToWorkflow(RequestContext& ctx) {
  ctx.decision = audit::Decision::kAllow;
  ctx.determining_policies.push_back("access-workflow");
  if (const std::string* id = ctx.Param("id")) {
    ctx.resources.push_back({id->starts_with("gnt_") ? "Grant" : "AccessRequest", *id, 0});
  }
  return Status::Ok();
}

// The acting principal as the workflow sees it; a fresh TOTP code in the body counts as MFA.
Result<access::Actor> ActorOf(Instance& in, const RequestContext& ctx) {
  if (auto code = ctx.body.find("mfa_code"); code != ctx.body.end()) {
    if (!code->is_string()) {
      return InvalidArgumentError(
          "request body: \"mfa_code\" must be the 6-digit code as a string");
    }
    identity::Caller caller{ctx.principal->ToString(), ctx.request_id, ctx.auth_method};
    CUSTOS_RETURN_IF_ERROR(
        in.mfa().Verify(caller, *ctx.principal, code->get<std::string>()).status());
  }
  return in.ActorFor(*ctx.principal, ctx.auth_method);
}

Result<std::optional<access::RequestState>> RequestStateFilter(const RequestContext& ctx) {
  const std::string text = ctx.QueryOr("state", "");
  if (text.empty()) return std::optional<access::RequestState>();
  for (auto s : {access::RequestState::kPending, access::RequestState::kApproved,
                 access::RequestState::kDenied, access::RequestState::kWithdrawn,
                 access::RequestState::kExpired, access::RequestState::kRevoked}) {
    if (access::RequestStateName(s) == text) return std::optional<access::RequestState>(s);
  }
  return InvalidArgumentError(
      "query parameter state must be pending, approved, denied, withdrawn, expired or revoked, "
      "not '" +
      text + "'");
}

Result<std::optional<access::GrantState>> GrantStateFilter(const RequestContext& ctx) {
  const std::string text = ctx.QueryOr("state", "");
  if (text.empty()) return std::optional<access::GrantState>();
  for (auto s :
       {access::GrantState::kActive, access::GrantState::kExpired, access::GrantState::kRevoked}) {
    if (access::GrantStateName(s) == text) return std::optional<access::GrantState>(s);
  }
  return InvalidArgumentError("query parameter state must be active, expired or revoked, not '" +
                              text + "'");
}

Result<std::vector<policy::EntityUid>> ResourceList(const nlohmann::json& body) {
  CUSTOS_ASSIGN_OR_RETURN(std::vector<std::string> texts, StringList(body, "resources", true));
  std::vector<policy::EntityUid> out;
  for (size_t i = 0; i < texts.size(); ++i) {
    const std::string& t = texts[i];
    const size_t sep = t.find("::");
    if (sep == std::string::npos || sep == 0 || sep + 2 >= t.size()) {
      return InvalidArgumentError("request body: \"resources\"[" + std::to_string(i) + "] '" + t +
                                  "' must be Type::id or Type::\"id\", e.g. "
                                  "FeatureView::customer_transactions");
    }
    std::string id = t.substr(sep + 2);
    if (id.size() >= 2 && id.front() == '"' && id.back() == '"') id = id.substr(1, id.size() - 2);
    out.emplace_back(t.substr(0, sep), id);
  }
  return out;
}

}  // namespace

void AddAccessRoutes(Router& router, Api& api) {
  Instance& in = api.instance();
  router.Add(
      {.id = "access.request.create",
       .method = http::verb::post,
       .path = "/v1/access/requests",
       .summary = "Ask for purpose-bound, time-boxed access",
       .json_body = true,
       .authorize = AdmitToWorkflow,
       .handler = [&in](RequestContext& ctx) -> Result<Reply> {
         access::RequestSpec spec;
         CUSTOS_ASSIGN_OR_RETURN(spec.purpose, RequiredString(ctx.body, "purpose"));
         CUSTOS_ASSIGN_OR_RETURN(spec.resources, ResourceList(ctx.body));
         CUSTOS_ASSIGN_OR_RETURN(spec.actions, StringList(ctx.body, "actions", true));
         CUSTOS_ASSIGN_OR_RETURN(std::string duration, RequiredString(ctx.body, "duration"));
         CUSTOS_ASSIGN_OR_RETURN(auto ms, common::ParseDuration(duration));
         spec.duration = std::chrono::duration_cast<std::chrono::seconds>(ms);
         CUSTOS_ASSIGN_OR_RETURN(spec.justification, RequiredString(ctx.body, "justification"));
         CUSTOS_ASSIGN_OR_RETURN(access::Actor actor, ActorOf(in, ctx));
         CUSTOS_ASSIGN_OR_RETURN(access::AccessRequest r, in.access().CreateRequest(spec, actor));
         return Reply::Json(RequestJson(r).dump(), http::status::created);
       }});
  router.Add({.id = "access.request.list",
              .method = http::verb::get,
              .path = "/v1/access/requests",
              .summary = "Access requests, optionally by state",
              .authorize = AdmitToWorkflow,
              .handler = [&in](RequestContext& ctx) -> Result<Reply> {
                CUSTOS_ASSIGN_OR_RETURN(auto state, RequestStateFilter(ctx));
                CUSTOS_ASSIGN_OR_RETURN(auto requests, in.access().ListRequests(state));
                nlohmann::ordered_json list = nlohmann::ordered_json::array();
                for (const auto& r : requests) list.push_back(RequestJson(r));
                return Reply::Json(nlohmann::ordered_json{{"requests", list}}.dump());
              }});
  router.Add({.id = "access.request.get",
              .method = http::verb::get,
              .path = "/v1/access/requests/{id}",
              .summary = "One access request",
              .authorize = AdmitToWorkflow,
              .handler = [&in](RequestContext& ctx) -> Result<Reply> {
                CUSTOS_ASSIGN_OR_RETURN(auto r, in.access().GetRequest(*ctx.Param("id")));
                return Reply::Json(RequestJson(r).dump());
              }});
  router.Add({.id = "access.request.approve",
              .method = http::verb::post,
              .path = "/v1/access/requests/{id}/approve",
              .summary = "Approve a request (with \"mfa_code\" when its rule needs MFA)",
              .json_body = true,
              .authorize = AdmitToWorkflow,
              .handler = [&in](RequestContext& ctx) -> Result<Reply> {
                CUSTOS_ASSIGN_OR_RETURN(access::Actor actor, ActorOf(in, ctx));
                CUSTOS_ASSIGN_OR_RETURN(access::ApproveResult result,
                                        in.access().Approve(*ctx.Param("id"), actor));
                nlohmann::ordered_json j;
                j["request"] = RequestJson(result.request);
                j["grant"] = result.grant ? GrantJson(*result.grant) : nlohmann::ordered_json();
                j["policy_set_version"] = result.policy_set_version;
                return Reply::Json(j.dump());
              }});
  router.Add({.id = "access.request.deny",
              .method = http::verb::post,
              .path = "/v1/access/requests/{id}/deny",
              .summary = "Deny a pending request",
              .json_body = true,
              .authorize = AdmitToWorkflow,
              .handler = [&in](RequestContext& ctx) -> Result<Reply> {
                CUSTOS_ASSIGN_OR_RETURN(std::string reason, RequiredString(ctx.body, "reason"));
                CUSTOS_ASSIGN_OR_RETURN(access::Actor actor, ActorOf(in, ctx));
                CUSTOS_ASSIGN_OR_RETURN(auto r, in.access().Deny(*ctx.Param("id"), actor, reason));
                return Reply::Json(RequestJson(r).dump());
              }});
  router.Add({.id = "access.grant.list",
              .method = http::verb::get,
              .path = "/v1/access/grants",
              .summary = "Grants, optionally by state",
              .authorize = AdmitToWorkflow,
              .handler = [&in](RequestContext& ctx) -> Result<Reply> {
                CUSTOS_ASSIGN_OR_RETURN(auto state, GrantStateFilter(ctx));
                CUSTOS_ASSIGN_OR_RETURN(auto grants, in.access().ListGrants(state));
                nlohmann::ordered_json list = nlohmann::ordered_json::array();
                for (const auto& g : grants) list.push_back(GrantJson(g));
                return Reply::Json(nlohmann::ordered_json{{"grants", list}}.dump());
              }});
  router.Add({.id = "access.grant.get",
              .method = http::verb::get,
              .path = "/v1/access/grants/{id}",
              .summary = "One grant",
              .authorize = AdmitToWorkflow,
              .handler = [&in](RequestContext& ctx) -> Result<Reply> {
                CUSTOS_ASSIGN_OR_RETURN(auto g, in.access().GetGrant(*ctx.Param("id")));
                return Reply::Json(GrantJson(g).dump());
              }});
  router.Add({.id = "access.grant.revoke",
              .method = http::verb::post,
              .path = "/v1/access/grants/{id}/revoke",
              .summary = "Revoke a grant at once",
              .json_body = true,
              .authorize = AdmitToWorkflow,
              .handler = [&in](RequestContext& ctx) -> Result<Reply> {
                CUSTOS_ASSIGN_OR_RETURN(std::string reason, RequiredString(ctx.body, "reason"));
                CUSTOS_ASSIGN_OR_RETURN(access::Actor actor, ActorOf(in, ctx));
                CUSTOS_ASSIGN_OR_RETURN(auto g,
                                        in.access().Revoke(*ctx.Param("id"), actor, reason));
                return Reply::Json(GrantJson(g).dump());
              }});
}

}  // namespace custos::server
