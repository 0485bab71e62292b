// The pipeline's stages over RequestContext.
#include "server/stages.h"

#include "server/router.h"

namespace custos::server {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// "127.0.0.1:5555" -> "127.0.0.1"; "[::1]:5555" -> "[::1]".
std::string_view HostOf(std::string_view address) {
  const size_t colon = address.rfind(':');
  return colon == std::string_view::npos ? address : address.substr(0, colon);
}

std::string BodyString(const RequestContext& ctx, const char* name) {
  if (!ctx.body.is_object()) return {};
  auto it = ctx.body.find(name);
  return it != ctx.body.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string AuditAction(const Route& route) {
  return route.audit_action.empty() ? "api." + route.id : route.audit_action;
}

}  // namespace

Status AuthenticateStage::Run(RequestContext& ctx) const {
  const std::string_view header = ToStd(ctx.request[http::field::authorization]);
  const auto& certificate = ctx.peer.client_certificate_principal;
  if (!header.empty()) {
    constexpr std::string_view kBearer = "Bearer ";
    if (header.size() <= kBearer.size() ||
        !boost::beast::iequals(boost::beast::string_view(header.data(), 7), "Bearer ")) {
      return UnauthenticatedError(
          "the Authorization header must be 'Bearer <access token>'; exchange an API key for a "
          "token at POST /v1/auth/token");
    }
    identity::Caller caller{"", ctx.request_id, audit::AuthMethod::kToken};
    CUSTOS_ASSIGN_OR_RETURN(ctx.token, instance_.tokens().Verify(Trim(header.substr(7)), caller));
    CUSTOS_ASSIGN_OR_RETURN(identity::PrincipalId subject,
                            identity::PrincipalId::Parse(ctx.token->subject));
    if (certificate && !(*certificate == subject)) {
      return UnauthenticatedError("the client certificate names " + certificate->ToString() +
                                  " but the access token names " + subject.ToString() +
                                  "; send one credential, or both for the same principal");
    }
    ctx.principal = std::move(subject);
    ctx.auth_method = audit::AuthMethod::kToken;
  } else if (certificate) {
    ctx.principal = *certificate;
    ctx.auth_method = audit::AuthMethod::kMtls;
  } else {
    return UnauthenticatedError(
        "this route needs credentials: send 'Authorization: Bearer <access token>' (POST "
        "/v1/auth/token exchanges an API key for one), or a client certificate on an mTLS "
        "listener");
  }
  // A disabled or deleted principal stops at once, whatever credential it still holds.
  return CheckActive(*ctx.principal);
}

Status AuthenticateStage::CheckActive(const identity::PrincipalId& principal) const {
  // Read the generation first: a change committed after it makes the next call recheck.
  const uint64_t generation = instance_.directory().generation();
  std::string key = principal.ToString();
  {
    std::lock_guard lock(active_mu_);
    if (generation == active_generation_ && active_.contains(key)) return Status::Ok();
  }
  CUSTOS_RETURN_IF_ERROR(instance_.directory().CheckActive(principal));
  std::lock_guard lock(active_mu_);
  if (generation != active_generation_) {
    if (generation < active_generation_) return Status::Ok();  // a newer check won the race
    active_.clear();
    active_generation_ = generation;
  }
  if (active_.size() < 100000) active_.insert(std::move(key));
  return Status::Ok();
}

Status GuardStage::Run(RequestContext& ctx, int64_t* retry_after_seconds) const {
  const std::string key = ctx.principal ? ctx.principal->ToString()
                                        : "address:" + std::string(HostOf(ctx.peer.address));
  const guard::Admission admission = limiter_.Take(key);
  if (admission.admitted) return Status::Ok();
  *retry_after_seconds = admission.retry_after_seconds;
  return ResourceExhaustedError(
      "rate limit of " + std::to_string(static_cast<int64_t>(limiter_.limit().per_second)) +
      " requests/s (burst " + std::to_string(static_cast<int64_t>(limiter_.limit().burst)) +
      ") reached for " + key + "; retry after " + std::to_string(admission.retry_after_seconds) +
      " s");
}

Status AuthorizeStage::Run(RequestContext& ctx) const {
  if (!ctx.route->authorize && !ctx.route->authenticated) {
    ctx.decision = audit::Decision::kAllow;  // public data, no principal
    return Status::Ok();
  }
  if (!ctx.route->authorize) {
    return InternalError("route " + ctx.route->id + " has no authorization step (deny by default)");
  }
  return ctx.route->authorize(ctx);
}

void AuditStage::FillWho(const RequestContext& ctx, audit::AuditEvent& event) const {
  event.time = ctx.received;
  event.request_id = ctx.request_id;
  event.principal_id = ctx.PrincipalText();
  event.auth_method = ctx.auth_method;
  if (ctx.token) {
    event.token_id_mac = instance_.salt().Mac("token_id", ctx.token->token_id);
    if (event.purpose.empty()) event.purpose = ctx.token->purpose;
    if (event.environment.empty()) {
      event.environment = std::string(identity::EnvironmentName(ctx.token->environment));
    }
  }
  event.client_address_mac = instance_.salt().Mac("client_address", HostOf(ctx.peer.address));
  event.risk_score = ctx.risk_score;
}

audit::AuditEvent AuditStage::RequestEvent(const RequestContext& ctx) const {
  audit::AuditEvent event;
  event.action = AuditAction(*ctx.route);
  event.resources = ctx.resources;
  event.decision = ctx.decision;
  event.determining_policies = ctx.determining_policies;
  event.policy_set_version = ctx.policy_set_version;
  event.rows_returned = ctx.rows;
  event.outcome = audit::Outcome::kOk;
  FillWho(ctx, event);
  return event;
}

audit::AuditEvent AuditStage::RefusalEvent(const RequestContext& ctx,
                                           std::string_view reason) const {
  audit::AuditEvent event;
  event.action = ctx.route ? AuditAction(*ctx.route) : "api.refused";
  event.resources = ctx.resources;
  event.decision = audit::Decision::kDeny;
  event.determining_policies = ctx.determining_policies;
  event.policy_set_version = ctx.policy_set_version;
  event.outcome = audit::Outcome::kDenied;
  // Bounded: the reason may echo a client's path.
  event.outcome_detail = std::string(reason.substr(0, 512));
  FillWho(ctx, event);
  return event;
}

void AuditStage::Run(const std::shared_ptr<RequestContext>& ctx,
                     std::function<void(Result<uint64_t>)> done) const {
  audit::AuditEvent event =
      ctx->route->audit_event ? ctx->route->audit_event(*ctx) : RequestEvent(*ctx);
  if (ctx->route->audit_event) FillWho(*ctx, event);
  instance_.audit().AppendAsync(event, std::move(done));
}

Status AuthorizeWithCedar(Instance& instance, RequestContext& ctx, std::string_view action,
                          const policy::EntityUid& resource) {
  ctx.resources.push_back({std::string(resource.type()), std::string(resource.id()), 0});
  if (ctx.token && !ctx.token->scope.Allows(action, resource.ToString())) {
    return PermissionDeniedError("the access token's scope does not include action '" +
                                 std::string(action) + "' on " + resource.ToString() +
                                 "; ask for a token whose scope does");
  }
  CUSTOS_ASSIGN_OR_RETURN(features::ReadContext context, FeatureReadContext(instance, ctx));
  policy::Request request;
  request.principal = ctx.principal->ToEntityUid();
  request.action = policy::EntityUid("Action", std::string(action));
  request.resource = resource;
  request.context = features::ContextRecord(context);
  CUSTOS_ASSIGN_OR_RETURN(policy::EntityStore entities, instance.directory().BuildEntityStore());
  const policy::StoreDecision decision = instance.policies().IsAuthorized(request, entities);
  ctx.policy_set_version = decision.version();
  for (std::string_view id : decision.response.reasons) ctx.determining_policies.emplace_back(id);
  if (decision.response.decision != policy::Decision::kAllow) {
    ctx.decision = audit::Decision::kDeny;
    return PermissionDeniedError("no policy permits " + ctx.principal->ToString() + " to '" +
                                 std::string(action) + "' " + resource.ToString() +
                                 " (deny by default); a data owner can add a Cedar policy or "
                                 "grant access through an access request");
  }
  ctx.decision = audit::Decision::kAllow;
  return Status::Ok();
}

Result<features::ReadContext> FeatureReadContext(Instance& instance, const RequestContext& ctx) {
  features::ReadContext context;
  context.principal = ctx.principal->ToEntityUid();
  context.purpose = BodyString(ctx, "purpose");
  context.environment = BodyString(ctx, "environment");
  context.zone = BodyString(ctx, "zone");
  if (ctx.token) {
    const identity::TokenClaims& t = *ctx.token;
    const std::string environment(identity::EnvironmentName(t.environment));
    if (!context.purpose.empty() && context.purpose != t.purpose) {
      return PermissionDeniedError("purpose '" + context.purpose +
                                   "' differs from the token's purpose '" + t.purpose +
                                   "'; a token is bound to its purpose");
    }
    if (!context.environment.empty() && context.environment != environment) {
      return PermissionDeniedError("environment '" + context.environment +
                                   "' differs from the token's environment '" + environment + "'");
    }
    context.purpose = t.purpose;
    context.environment = environment;
    if (!t.zone.empty()) context.zone = t.zone;
  }
  context.now_seconds = common::ToUnixMicros(ctx.received) / 1000000;
  context.risk = ctx.risk_score;
  (void)instance;
  return context;
}

}  // namespace custos::server
