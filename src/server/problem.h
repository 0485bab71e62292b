// RFC 9457 problem details: every error the server answers is application/problem+json
// with a stable `type` URI (clients branch on it), the HTTP status, and a `detail` that
// says what is wrong and how to fix it.
// Thread-safety: plain values and free functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "server/http_types.h"

namespace custos::server {

inline constexpr std::string_view kProblemTypeBase = "https://custos.dev/problems/";

struct Problem {
  http::status status = http::status::internal_server_error;
  std::string slug;                            // the stable part of the type URI, e.g. "forbidden"
  std::string title;                           // short, the same for every problem of this type
  std::string detail;                          // this occurrence: what is wrong and how to fix it
  std::optional<int64_t> retry_after_seconds;  // 429 and 503
};

// The problem for a failed Status: its code sets status and type; its message is the
// detail. Unauthenticated with "expired" in the message becomes token-expired.
Problem ProblemFromStatus(const Status& status);

Problem MakeProblem(http::status status, std::string slug, std::string detail);

// The response: problem+json with `instance` (the request id) and, when the refusal was
// recorded, `audit_index` (also in the Custos-Audit-Index header, set by the caller).
HttpResponse ProblemResponse(const Problem& problem, std::string_view request_id,
                             std::optional<uint64_t> audit_index, unsigned http_version,
                             bool keep_alive);

}  // namespace custos::server
