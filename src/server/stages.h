// The request pipeline's stages (DESIGN.md, "The spine"): Authenticate, Guard, Authorize
// and Audit, each a small class with one entry point over the shared RequestContext. They
// do not know each other; the Api composes them, and a handler runs only after all four.
// Thread-safety: every stage is safe for concurrent use by many requests.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_set>

#include "guard/rate_limiter.h"
#include "server/instance.h"
#include "server/request_context.h"

namespace custos::server {

// A bearer token (PASETO v4.public) or, on an mTLS listener, the client certificate's
// service account becomes ctx.principal. Unauthenticated saying what to send otherwise.
class AuthenticateStage {
 public:
  explicit AuthenticateStage(Instance& instance) : instance_(instance) {}
  Status Run(RequestContext& ctx) const;

 private:
  // The principal exists and is enabled. Remembered per directory generation: any
  // committed directory change (a disable, a delete) makes the next request check again.
  Status CheckActive(const identity::PrincipalId& principal) const;

  Instance& instance_;
  mutable std::mutex active_mu_;
  mutable uint64_t active_generation_ = 0;
  mutable std::unordered_set<std::string> active_;  // principals checked at that generation
};

// Per-principal token buckets (per client address before authentication).
// ResourceExhausted, with the seconds until a token in *retry_after_seconds, when empty.
class GuardStage {
 public:
  explicit GuardStage(guard::RateLimiter& limiter) : limiter_(limiter) {}
  Status Run(RequestContext& ctx, int64_t* retry_after_seconds) const;

 private:
  guard::RateLimiter& limiter_;
};

// Runs the route's authorization step, which sets the decision (a public route may have
// one too: token exchange authenticates its API key there). A route that needs a principal
// but has no step is refused (deny by default).
class AuthorizeStage {
 public:
  Status Run(RequestContext& ctx) const;
};

// Appends the request's event (the route's, or one built from the context) before any
// data is read; `done` gets the status of the append, on the log's writer thread (it must
// not block). Fail closed: the caller answers 503 and no data when it failed.
class AuditStage {
 public:
  explicit AuditStage(Instance& instance) : instance_(instance) {}
  void Run(const std::shared_ptr<RequestContext>& ctx,
           std::function<void(Result<uint64_t>)> done) const;

  // The event of a refused request (status text in outcome_detail), for the refusal path.
  audit::AuditEvent RefusalEvent(const RequestContext& ctx, std::string_view reason) const;
  // The event built from the context's fields (action "api.<route id>").
  audit::AuditEvent RequestEvent(const RequestContext& ctx) const;

 private:
  void FillWho(const RequestContext& ctx, audit::AuditEvent& event) const;
  Instance& instance_;
};

// A Cedar decision on `action` over `resource` for ctx's principal, with the context
// {purpose, environment, zone, mfa, now, risk}; sets ctx's decision fields and returns
// PermissionDenied (naming the action and resource) on deny. Also requires the token's
// scope, when there is one, to allow the action on the resource.
Status AuthorizeWithCedar(Instance& instance, RequestContext& ctx, std::string_view action,
                          const policy::EntityUid& resource);

// The read context of a feature read: principal, and purpose, environment and zone from
// the token (bound) or from the request body for mTLS callers; a body value that differs
// from the token's is PermissionDenied.
Result<features::ReadContext> FeatureReadContext(Instance& instance, const RequestContext& ctx);

}  // namespace custos::server
