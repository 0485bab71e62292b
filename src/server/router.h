// Routes: a method and a path template ("/v1/access/requests/{id}/approve", a last
// segment "{path...}" takes the rest) with what the pipeline must do for them (authenticate,
// authorize, audit, where the handler runs). The router matches a request to one, and
// lists them all (the OpenAPI test compares that list with docs/openapi.yaml).
// Thread-safety: built once at start, then read-only (safe for concurrent Match).
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "audit/event.h"
#include "common/status.h"
#include "server/request_context.h"

namespace custos::server {

// A handler's answer; Streamed when the handler answered through a stream itself.
struct Reply {
  http::status status = http::status::ok;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  bool streamed = false;
  static Reply Json(std::string body, http::status status = http::status::ok) {
    return Reply{status, "application/json", std::move(body), {}, false};
  }
  static Reply Text(std::string body) {
    return Reply{http::status::ok, "text/plain; charset=utf-8", std::move(body), {}, false};
  }
  static Reply Streamed() { return Reply{http::status::ok, {}, {}, {}, true}; }
};

// The Authorize stage's step for a route: sets ctx's decision and resources; an error is
// the refusal (PermissionDenied for a policy deny).
using AuthorizeFn = std::function<Status(RequestContext&)>;
// The event the Audit stage appends (default: one built from ctx's fields).
using AuditEventFn = std::function<audit::AuditEvent(const RequestContext&)>;
using HandlerFn = std::function<Result<Reply>(RequestContext&)>;
// Streaming handlers get the context after it was audited and write the body themselves
// through OpenStream (the receipt headers are already set on `header`).
using StreamHandlerFn = std::function<Status(RequestContext&, HttpResponse header)>;

struct Route {
  std::string id;  // stable name: metrics label and audit action "api.<id>"
  http::verb method = http::verb::get;
  std::string path;
  std::string summary;
  bool authenticated = true;   // Authenticate + Guard + Authorize
  bool audited = true;         // Audit (public, read-only routes are not)
  bool json_body = false;      // requires Content-Type: application/json, parsed into ctx.body
  bool json_array_ok = false;  // with json_body: an array (a batch) is accepted as well
  bool on_worker = true;       // the handler may block (false: runs wherever audit answered)
  // The largest request body this route takes; 0: the server's limit
  // (HttpServerOptions::max_body_bytes). Only for routes whose bodies are larger by nature.
  size_t max_body_bytes = 0;
  // The audit action of this route's events, allowed or refused (default "api.<id>"), so
  // one query finds every attempt at the same thing.
  std::string audit_action;
  AuthorizeFn authorize;
  AuditEventFn audit_event;
  HandlerFn handler;
  StreamHandlerFn stream_handler;

  std::vector<std::string> segments;  // the template split at '/' (set by Router::Add)
};

class Router {
 public:
  void Add(Route route);

  enum class MatchKind { kFound, kNoPath, kWrongMethod };
  struct Match {
    MatchKind kind = MatchKind::kNoPath;
    const Route* route = nullptr;
    std::map<std::string, std::string, std::less<>> params;
    std::string allowed;  // for kWrongMethod: "GET, POST"
  };
  // `path` without the query string.
  Match Find(http::verb method, std::string_view path) const;

  const std::vector<Route>& routes() const { return routes_; }

 private:
  std::vector<Route> routes_;
};

// Splits "a=1&b=x%20y" into decoded pairs. InvalidArgument for a bad percent-escape.
Result<std::map<std::string, std::string, std::less<>>> ParseQuery(std::string_view query);
// Percent-decoding of one path segment or query component ('+' is a space in queries).
Result<std::string> PercentDecode(std::string_view text, bool plus_is_space);

}  // namespace custos::server
