// The /v1 API: matches a request to its route and runs it through the pipeline
// (Authenticate -> Guard -> Authorize -> Audit -> Handler), answering errors as
// problem+json. Every audited answer carries its receipt (Custos-Audit-Index) and every
// answer its request id (Custos-Request-Id). Refusals, including the transport's
// (oversized, slow or malformed requests), are audited too.
// Thread-safety: Dispatch and Refuse are called concurrently from transport threads;
// handlers of routes that may block run on the Api's worker pool, the others (online
// reads, refusals) on the request's connection thread.
#pragma once

#include <atomic>
#include <boost/asio/thread_pool.hpp>
#include <functional>
#include <memory>
#include <vector>

#include "guard/rate_limiter.h"
#include "server/http_types.h"
#include "server/instance.h"
#include "server/metrics.h"
#include "server/problem.h"
#include "server/router.h"
#include "server/stages.h"

namespace custos::server {

struct ApiOptions {
  guard::RateLimit rate_limit;
  // Threads that run handlers after the audit append (the transport's threads never wait
  // for a group commit).
  size_t worker_threads = 2;
  // Gauges the transport adds at scrape time (open connections and the like).
  std::function<std::vector<Metrics::Gauge>()> transport_gauges;
};

class Api {
 public:
  Api(Instance& instance, ApiOptions options);
  ~Api();  // Drain()

  void Dispatch(HttpRequest request, const PeerInfo& peer, std::shared_ptr<Responder> responder);
  void Refuse(TransportRefusal refusal, const PeerInfo& peer, std::shared_ptr<Responder> responder);

  // Waits for every queued handler and audit callback (graceful shutdown, after the
  // transport stopped taking requests).
  void Drain();

  const Router& router() const { return router_; }
  Metrics& metrics() { return *metrics_; }
  Instance& instance() { return instance_; }

  // The transport's gauges (empty without a transport).
  std::vector<Metrics::Gauge> TransportGauges() const {
    return options_.transport_gauges ? options_.transport_gauges() : std::vector<Metrics::Gauge>{};
  }

  // Runs `task` on the worker pool.
  void Post(std::function<void()> task);

  // The body limit of a request to `target` (path and query): its route's max_body_bytes,
  // or 0 (the transport's default) when the route has none or nothing matches. For
  // HttpServerOptions::body_limit_for.
  size_t BodyLimitFor(http::verb method, std::string_view target) const;

 private:
  void AddRoutes();
  void Continue(const std::shared_ptr<RequestContext>& ctx);
  // Runs `task` (the handler, once the request is on the log) on the worker pool or, for
  // a route that does not block, on the request's connection thread.
  void RunAfterAudit(const RequestContext& ctx, std::function<void()> task);
  void RunHandler(const std::shared_ptr<RequestContext>& ctx);
  void Fail(const std::shared_ptr<RequestContext>& ctx, Problem problem, bool audit);
  void Answer(const std::shared_ptr<RequestContext>& ctx, HttpResponse response,
              Metrics::Outcome outcome);
  void SetReceiptHeaders(const RequestContext& ctx, HttpResponse& response) const;
  size_t RouteIndex(const Route* route) const;

  Instance& instance_;
  ApiOptions options_;
  Router router_;
  std::unique_ptr<Metrics> metrics_;
  guard::RateLimiter limiter_;
  AuthenticateStage authenticate_;
  GuardStage guard_;
  AuthorizeStage authorize_;
  AuditStage audit_;
  boost::asio::thread_pool workers_;
};

// Route registration, one file per area (routes_*.cc).
void AddOpsRoutes(Router& router, Api& api);
void AddAuthRoutes(Router& router, Api& api);
void AddCatalogRoutes(Router& router, Api& api);
void AddFeatureRoutes(Router& router, Api& api);
void AddAccessRoutes(Router& router, Api& api);
void AddAuditRoutes(Router& router, Api& api);
void AddLineageRoutes(Router& router, Api& api);
void AddArtifactRoutes(Router& router, Api& api);

// JSON body field helpers for handlers: InvalidArgument naming the field and what it must be.
Result<std::string> RequiredString(const nlohmann::json& body, const char* field);
Result<std::vector<std::string>> StringList(const nlohmann::json& body, const char* field,
                                            bool required);
// A path or query value that must be a whole number: InvalidArgument naming `what`.
Result<uint64_t> ParseWholeNumber(std::string_view text, std::string_view what);

}  // namespace custos::server
