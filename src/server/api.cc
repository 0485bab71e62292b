// The pipeline's composition: route matching and body checks, then the stages in order,
// then the handler on a worker thread once the request is on the audit log.
#include "server/api.h"

#include <boost/asio/post.hpp>

#include "common/ids.h"

namespace custos::server {
namespace {

bool IsJsonContentType(std::string_view value) {
  const size_t semi = value.find(';');
  std::string_view media = value.substr(0, semi);
  while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
  return boost::beast::iequals(boost::beast::string_view(media.data(), media.size()),
                               "application/json");
}

Metrics::Outcome OutcomeOf(http::status status) {
  switch (status) {
    case http::status::unauthorized:
    case http::status::forbidden:
    case http::status::too_many_requests:
      return Metrics::kDeny;
    default:
      return Metrics::kError;
  }
}

Problem TransportProblem(TransportRefusal refusal) {
  switch (refusal) {
    case TransportRefusal::kMalformed:
      return MakeProblem(http::status::bad_request, "malformed-request",
                         "the request is not valid HTTP/1.1; check the request line and headers");
    case TransportRefusal::kHeaderTooLarge:
      return MakeProblem(http::status::request_header_fields_too_large, "header-too-large",
                         "the request header is larger than the server accepts; send fewer or "
                         "shorter headers");
    case TransportRefusal::kBodyTooLarge:
      return MakeProblem(http::status::payload_too_large, "body-too-large",
                         "the request body is larger than the server accepts; split the request "
                         "(e.g. fewer entity rows per call)");
    case TransportRefusal::kHeaderTimeout:
      return MakeProblem(http::status::request_timeout, "request-timeout",
                         "the request header did not arrive in time; send the whole header at "
                         "once");
    case TransportRefusal::kBodyTimeout:
      break;
  }
  return MakeProblem(http::status::request_timeout, "request-timeout",
                     "the request body did not arrive in time");
}

}  // namespace

Api::Api(Instance& instance, ApiOptions options)
    : instance_(instance),
      options_(std::move(options)),
      limiter_(instance.clock(), options_.rate_limit),
      authenticate_(instance),
      guard_(limiter_),
      audit_(instance),
      workers_(std::max<size_t>(1, options_.worker_threads)) {
  AddRoutes();
  std::vector<std::string> ids;
  for (const Route& route : router_.routes()) ids.push_back(route.id);
  metrics_ = std::make_unique<Metrics>(std::move(ids));
}

Api::~Api() { Drain(); }

void Api::Drain() { workers_.join(); }

void Api::Post(std::function<void()> task) { boost::asio::post(workers_, std::move(task)); }

void Api::AddRoutes() {
  AddOpsRoutes(router_, *this);
  AddAuthRoutes(router_, *this);
  AddCatalogRoutes(router_, *this);
  AddFeatureRoutes(router_, *this);
  AddAccessRoutes(router_, *this);
  AddAuditRoutes(router_, *this);
  AddLineageRoutes(router_, *this);
  AddArtifactRoutes(router_, *this);
}

size_t Api::BodyLimitFor(http::verb method, std::string_view target) const {
  const Router::Match match = router_.Find(method, target.substr(0, target.find('?')));
  return match.kind == Router::MatchKind::kFound ? match.route->max_body_bytes : 0;
}

size_t Api::RouteIndex(const Route* route) const {
  if (route == nullptr) return metrics_->unrouted();
  return static_cast<size_t>(route - router_.routes().data());
}

void Api::Dispatch(HttpRequest request, const PeerInfo& peer,
                   std::shared_ptr<Responder> responder) {
  auto ctx = std::make_shared<RequestContext>();
  ctx->request = std::move(request);
  ctx->peer = peer;
  ctx->responder = std::move(responder);
  ctx->request_id = common::NewId("req");
  ctx->received = instance_.clock().Now();
  ctx->started = std::chrono::steady_clock::now();

  const std::string_view target = ToStd(ctx->request.target());
  const size_t question = target.find('?');
  const std::string_view path = target.substr(0, question);
  Router::Match match = router_.Find(ctx->request.method(), path);
  if (match.kind == Router::MatchKind::kNoPath) {
    return Fail(ctx,
                MakeProblem(http::status::not_found, "not-found",
                            "no route " + std::string(ctx->request.method_string()) + " " +
                                std::string(path.substr(0, 200)) +
                                "; the routes are listed in docs/openapi.yaml"),
                true);
  }
  if (match.kind == Router::MatchKind::kWrongMethod) {
    return Fail(ctx,
                MakeProblem(http::status::method_not_allowed, "method-not-allowed",
                            std::string(path.substr(0, 200)) + " takes " + match.allowed +
                                ", not " + std::string(ctx->request.method_string())),
                true);
  }
  ctx->route = match.route;
  ctx->params = std::move(match.params);
  if (question != std::string_view::npos) {
    auto query = ParseQuery(target.substr(question + 1));
    if (!query.ok()) return Fail(ctx, ProblemFromStatus(query.status()), true);
    ctx->query = std::move(*query);
  }
  if (ctx->route->json_body) {
    const std::string_view type = ToStd(ctx->request[http::field::content_type]);
    if (!IsJsonContentType(type)) {
      return Fail(
          ctx,
          MakeProblem(http::status::unsupported_media_type, "unsupported-media-type",
                      "this route takes a JSON body: send 'Content-Type: "
                      "application/json'" +
                          (type.empty() ? std::string(" (none was sent)")
                                        : " (got '" + std::string(type.substr(0, 100)) + "')")),
          true);
    }
    const std::string& text = ctx->request.body();
    if (text.empty()) {
      ctx->body = nlohmann::json::object();
    } else {
      try {
        ctx->body = nlohmann::json::parse(text);
      } catch (const nlohmann::json::parse_error& e) {
        return Fail(ctx,
                    MakeProblem(http::status::bad_request, "malformed-json",
                                "request body: not valid JSON at byte " + std::to_string(e.byte) +
                                    "; send one JSON object"),
                    true);
      }
      if (!ctx->body.is_object() && !(ctx->route->json_array_ok && ctx->body.is_array())) {
        return Fail(ctx,
                    MakeProblem(http::status::bad_request, "malformed-json",
                                "request body: expected a JSON object, got " +
                                    std::string(ctx->body.type_name())),
                    true);
      }
    }
  }
  if (ctx->route->authenticated) {
    if (Status s = authenticate_.Run(*ctx); !s.ok()) {
      return Fail(ctx, ProblemFromStatus(s), true);
    }
    int64_t retry_after = 1;
    if (Status s = guard_.Run(*ctx, &retry_after); !s.ok()) {
      Problem problem = ProblemFromStatus(s);
      problem.retry_after_seconds = retry_after;
      return Fail(ctx, std::move(problem), true);
    }
  }
  if (Status s = authorize_.Run(*ctx); !s.ok()) return Fail(ctx, ProblemFromStatus(s), true);
  Continue(ctx);
}

void Api::Continue(const std::shared_ptr<RequestContext>& ctx) {
  if (!ctx->route->audited) {
    if (ctx->route->on_worker) {
      Post([this, ctx] { RunHandler(ctx); });
    } else {
      RunHandler(ctx);
    }
    return;
  }
  audit_.Run(ctx, [this, ctx](Result<uint64_t> index) {
    // On the log's thread, which must not wait: hand over at once.
    RunAfterAudit(*ctx, [this, ctx, index = std::move(index)] {
      if (!index.ok()) {
        return Fail(ctx,
                    MakeProblem(http::status::service_unavailable, "audit-unavailable",
                                "the audit log could not record this request (" +
                                    std::string(index.status().message()) +
                                    "); no data is served without an audit record, retry later"),
                    false);
      }
      ctx->audit_index = *index;
      RunHandler(ctx);
    });
  });
}

void Api::RunAfterAudit(const RequestContext& ctx, std::function<void()> task) {
  // A short handler runs on its connection's own thread: the answer then leaves without
  // another hop (the worker pool would cost a wake-up and a post back per request).
  if (ctx.route != nullptr && ctx.route->on_worker) return Post(std::move(task));
  // False: the client has gone, so there is no one to answer.
  (void)ctx.responder->RunOnConnection(std::move(task));
}

void Api::RunHandler(const std::shared_ptr<RequestContext>& ctx) {
  const Route& route = *ctx->route;
  if (route.stream_handler) {
    HttpResponse header(http::status::ok, ctx->request.version());
    SetReceiptHeaders(*ctx, header);
    Status s = route.stream_handler(*ctx, std::move(header));
    if (!ctx->stream_opened) {
      if (!s.ok()) return Fail(ctx, ProblemFromStatus(s), route.audited);
      return Fail(ctx,
                  MakeProblem(http::status::internal_server_error, "internal",
                              "the streaming handler answered nothing"),
                  false);
    }
    metrics_->Record(RouteIndex(&route), s.ok() ? Metrics::kAllow : Metrics::kError,
                     std::chrono::steady_clock::now() - ctx->started);
    return;
  }
  Result<Reply> reply = route.handler(*ctx);
  if (!reply.ok()) return Fail(ctx, ProblemFromStatus(reply.status()), route.audited);
  HttpResponse response(reply->status, ctx->request.version());
  response.set(http::field::content_type, reply->content_type);
  for (const auto& [name, value] : reply->headers) response.set(name, value);
  response.body() = std::move(reply->body);
  SetReceiptHeaders(*ctx, response);
  response.keep_alive(ctx->request.keep_alive());
  response.prepare_payload();
  Answer(ctx, std::move(response), Metrics::kAllow);
}

void Api::SetReceiptHeaders(const RequestContext& ctx, HttpResponse& response) const {
  response.set("Custos-Request-Id", ctx.request_id);
  if (ctx.audit_index) response.set("Custos-Audit-Index", std::to_string(*ctx.audit_index));
}

void Api::Answer(const std::shared_ptr<RequestContext>& ctx, HttpResponse response,
                 Metrics::Outcome outcome) {
  metrics_->Record(RouteIndex(ctx->route), outcome,
                   std::chrono::steady_clock::now() - ctx->started);
  ctx->responder->Send(std::move(response));
}

void Api::Fail(const std::shared_ptr<RequestContext>& ctx, Problem problem, bool audit) {
  auto send = [this, ctx, problem](std::optional<uint64_t> index) {
    ctx->audit_index = index;
    HttpResponse response = ProblemResponse(problem, ctx->request_id, index, ctx->request.version(),
                                            ctx->request.keep_alive());
    SetReceiptHeaders(*ctx, response);
    Answer(ctx, std::move(response), OutcomeOf(problem.status));
  };
  if (!audit) return send(ctx->audit_index);
  const std::string reason =
      std::to_string(static_cast<int>(problem.status)) + " " + problem.slug + ": " + problem.detail;
  instance_.audit().AppendAsync(
      audit_.RefusalEvent(*ctx, reason), [this, ctx, send](Result<uint64_t> index) {
        // A refusal's answer is short work: on the connection's thread.
        (void)ctx->responder->RunOnConnection([send, index = std::move(index)] {
          // A refusal carries no data: answer it even when the
          // log cannot record it.
          send(index.ok() ? std::optional<uint64_t>(*index) : std::nullopt);
        });
      });
}

void Api::Refuse(TransportRefusal refusal, const PeerInfo& peer,
                 std::shared_ptr<Responder> responder) {
  auto ctx = std::make_shared<RequestContext>();
  ctx->peer = peer;
  ctx->responder = std::move(responder);
  ctx->request_id = common::NewId("req");
  ctx->received = instance_.clock().Now();
  ctx->started = std::chrono::steady_clock::now();
  ctx->request.version(11);
  ctx->request.keep_alive(false);
  Fail(ctx, TransportProblem(refusal), true);
}

Result<std::string> RequiredString(const nlohmann::json& body, const char* field) {
  auto it = body.find(field);
  if (it == body.end() || !it->is_string() || it->get_ref<const std::string&>().empty()) {
    return InvalidArgumentError(std::string("request body: \"") + field +
                                "\" is required and must be a non-empty string");
  }
  return it->get<std::string>();
}

Result<std::vector<std::string>> StringList(const nlohmann::json& body, const char* field,
                                            bool required) {
  auto it = body.find(field);
  if (it == body.end()) {
    if (required) {
      return InvalidArgumentError(std::string("request body: \"") + field +
                                  "\" is required: a list of strings");
    }
    return std::vector<std::string>{};
  }
  if (!it->is_array()) {
    return InvalidArgumentError(std::string("request body: \"") + field +
                                "\" must be a list of strings");
  }
  std::vector<std::string> out;
  for (size_t i = 0; i < it->size(); ++i) {
    if (!(*it)[i].is_string()) {
      return InvalidArgumentError(std::string("request body: \"") + field + "\"[" +
                                  std::to_string(i) + "] must be a string");
    }
    out.push_back((*it)[i].get<std::string>());
  }
  if (required && out.empty()) {
    return InvalidArgumentError(std::string("request body: \"") + field +
                                "\" must list at least one item");
  }
  return out;
}

Result<uint64_t> ParseWholeNumber(std::string_view text, std::string_view what) {
  uint64_t value = 0;
  if (text.empty() || text.size() > 20) {
    return InvalidArgumentError(std::string(what) + " must be a whole number, got '" +
                                std::string(text.substr(0, 40)) + "'");
  }
  for (char c : text) {
    if (c < '0' || c > '9' || value > (UINT64_MAX - 9) / 10) {
      return InvalidArgumentError(std::string(what) + " must be a whole number, got '" +
                                  std::string(text) + "'");
    }
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  return value;
}

}  // namespace custos::server
