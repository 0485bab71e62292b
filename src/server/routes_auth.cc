// Token exchange: a long-lived API key buys a short-lived access token (PASETO v4.public)
// bound to a purpose, environment, zone and scope. The key is checked in the Authorize
// step, so the request's audit event names the principal it authenticated.
#include <openssl/crypto.h>

#include "server/api.h"

namespace custos::server {

void AddAuthRoutes(Router& router, Api& api) {
  Instance& in = api.instance();
  router.Add(
      {.id = "auth.token",
       .method = http::verb::post,
       .path = "/v1/auth/token",
       .summary = "Exchange an API key for a short-lived access token",
       .authenticated = false,
       .json_body = true,
       .authorize = [&in](RequestContext& ctx) -> Status {
         CUSTOS_ASSIGN_OR_RETURN(std::string key, RequiredString(ctx.body, "api_key"));
         identity::Caller caller{"", ctx.request_id, audit::AuthMethod::kNone};
         auto principal = in.api_keys().Authenticate(caller, key);
         // The key is a long-lived secret: do not leave it in memory after use.
         OPENSSL_cleanse(key.data(), key.size());
         OPENSSL_cleanse(ctx.request.body().data(), ctx.request.body().size());
         auto& held = ctx.body["api_key"].get_ref<std::string&>();
         OPENSSL_cleanse(held.data(), held.size());
         if (!principal.ok()) return principal.status();
         CUSTOS_RETURN_IF_ERROR(in.directory().CheckActive(*principal));
         ctx.principal = std::move(*principal);
         ctx.resources.push_back(ctx.principal->ToAuditRef());
         ctx.decision = audit::Decision::kAllow;
         return Status::Ok();
       },
       .handler = [&in](RequestContext& ctx) -> Result<Reply> {
         identity::TokenRequest request;
         request.subject = ctx.principal->ToString();
         CUSTOS_ASSIGN_OR_RETURN(request.purpose, RequiredString(ctx.body, "purpose"));
         const std::string environment = ctx.body.value("environment", std::string("dev"));
         CUSTOS_ASSIGN_OR_RETURN(request.environment, identity::ParseEnvironment(environment));
         request.zone = ctx.body.value("zone", std::string());
         CUSTOS_ASSIGN_OR_RETURN(request.resources, StringList(ctx.body, "resources", false));
         CUSTOS_ASSIGN_OR_RETURN(request.actions, StringList(ctx.body, "actions", false));
         if (auto ttl = ctx.body.find("ttl_seconds"); ttl != ctx.body.end()) {
           if (!ttl->is_number_integer() || ttl->get<int64_t>() <= 0) {
             return InvalidArgumentError(
                 "request body: \"ttl_seconds\" must be a positive whole number of seconds "
                 "(at most 3600)");
           }
           request.lifetime = std::chrono::seconds(ttl->get<int64_t>());
         }
         identity::Caller caller{ctx.principal->ToString(), ctx.request_id,
                                 audit::AuthMethod::kNone};
         CUSTOS_ASSIGN_OR_RETURN(identity::IssuedToken issued, in.tokens().Issue(request, caller));
         nlohmann::ordered_json j;
         j["token"] = issued.token;
         j["token_id"] = issued.claims.token_id;
         j["subject"] = issued.claims.subject;
         j["purpose"] = issued.claims.purpose;
         j["environment"] = std::string(identity::EnvironmentName(issued.claims.environment));
         j["expires_at"] = common::FormatRfc3339(issued.claims.expires_at);
         Reply reply = Reply::Json(j.dump());
         reply.headers.push_back({"Cache-Control", "no-store"});
         return reply;
       }});
}

}  // namespace custos::server
