// Mapping of custos status codes to HTTP statuses and problem types.
#include "server/problem.h"

#include <nlohmann/json.hpp>

namespace custos::server {
namespace {

std::string_view TitleOf(std::string_view slug) {
  static const std::pair<std::string_view, std::string_view> kTitles[] = {
      {"malformed-json", "The request body is not valid JSON"},
      {"malformed-request", "The request is not valid HTTP/1.1"},
      {"unsupported-media-type", "The request body has the wrong content type"},
      {"body-too-large", "The request body is too large"},
      {"header-too-large", "The request header is too large"},
      {"request-timeout", "The request did not arrive in time"},
      {"not-found", "No such route"},
      {"method-not-allowed", "The route does not take this method"},
      {"unauthenticated", "Authentication required"},
      {"token-expired", "The access token has expired"},
      {"forbidden", "Denied by policy"},
      {"rate-limited", "Too many requests"},
      {"invalid-argument", "The request is invalid"},
      {"resource-not-found", "The named resource does not exist"},
      {"conflict", "The resource already exists"},
      {"failed-precondition", "The system is not in the state this request needs"},
      {"audit-unavailable", "The audit log cannot record the request"},
      {"unavailable", "Temporarily unavailable"},
      {"data-loss", "Tampering or corruption detected"},
      {"not-implemented", "Not served by this build"},
      {"internal", "Internal error"},
  };
  for (const auto& [s, title] : kTitles) {
    if (s == slug) return title;
  }
  return "Error";
}

}  // namespace

Problem MakeProblem(http::status status, std::string slug, std::string detail) {
  Problem p;
  p.status = status;
  p.title = std::string(TitleOf(slug));
  p.slug = std::move(slug);
  p.detail = std::move(detail);
  return p;
}

Problem ProblemFromStatus(const Status& status) {
  std::string detail(status.message());
  switch (status.code()) {
    case StatusCode::kOk:
      return MakeProblem(http::status::internal_server_error, "internal",
                         "an OK status was reported as an error (a bug in custos)");
    case StatusCode::kInvalidArgument:
      return MakeProblem(http::status::bad_request, "invalid-argument", std::move(detail));
    case StatusCode::kNotFound:
      return MakeProblem(http::status::not_found, "resource-not-found", std::move(detail));
    case StatusCode::kAlreadyExists:
      return MakeProblem(http::status::conflict, "conflict", std::move(detail));
    case StatusCode::kPermissionDenied:
      return MakeProblem(http::status::forbidden, "forbidden", std::move(detail));
    case StatusCode::kUnauthenticated: {
      const bool expired = detail.find("expired") != std::string::npos;
      return MakeProblem(http::status::unauthorized, expired ? "token-expired" : "unauthenticated",
                         std::move(detail));
    }
    case StatusCode::kFailedPrecondition:
      return MakeProblem(http::status::conflict, "failed-precondition", std::move(detail));
    case StatusCode::kResourceExhausted: {
      Problem p = MakeProblem(http::status::too_many_requests, "rate-limited", std::move(detail));
      p.retry_after_seconds = 1;
      return p;
    }
    case StatusCode::kUnavailable: {
      Problem p = MakeProblem(http::status::service_unavailable, "unavailable", std::move(detail));
      p.retry_after_seconds = 1;
      return p;
    }
    case StatusCode::kDataLoss:
      return MakeProblem(http::status::internal_server_error, "data-loss", std::move(detail));
    case StatusCode::kUnimplemented:
      return MakeProblem(http::status::not_implemented, "not-implemented", std::move(detail));
    case StatusCode::kInternal:
      break;
  }
  return MakeProblem(http::status::internal_server_error, "internal", std::move(detail));
}

HttpResponse ProblemResponse(const Problem& problem, std::string_view request_id,
                             std::optional<uint64_t> audit_index, unsigned http_version,
                             bool keep_alive) {
  nlohmann::ordered_json body;
  body["type"] = std::string(kProblemTypeBase) + problem.slug;
  body["title"] = problem.title;
  body["status"] = static_cast<int>(problem.status);
  body["detail"] = problem.detail;
  if (!request_id.empty()) body["instance"] = std::string(request_id);
  if (audit_index) body["audit_index"] = *audit_index;
  HttpResponse response(problem.status, http_version);
  response.set(http::field::content_type, "application/problem+json");
  response.set(http::field::cache_control, "no-store");
  if (problem.retry_after_seconds) {
    response.set(http::field::retry_after, std::to_string(*problem.retry_after_seconds));
  }
  // Invalid UTF-8 in a detail (echoed input) must not throw: replace it.
  response.body() = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  response.keep_alive(keep_alive);
  response.prepare_payload();
  return response;
}

}  // namespace custos::server
