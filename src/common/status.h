// Status and Result<T>: how custos reports expected failures, as values.
// Modelled on absl::Status / absl::StatusOr. A Status is either OK or a code plus a
// message that says what went wrong, where, and how to fix it.
// Thread-safety: plain values; safe to copy between threads, not to mutate concurrently.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace custos {

// Codes after Abseil's. server/ maps each to one HTTP status and problem+json type.
enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     // the caller's input is malformed; retrying the same input fails again
  kNotFound,            // the named thing does not exist
  kAlreadyExists,       // creating something that exists
  kPermissionDenied,    // authenticated, but policy says no
  kUnauthenticated,     // no valid credentials
  kFailedPrecondition,  // system not in the state the operation needs (e.g. sealed)
  kResourceExhausted,   // rate limits, quotas, disk
  kUnavailable,         // transient: retry may succeed
  kDataLoss,            // tampering or corruption detected
  kInternal,            // an invariant broke: a bug in custos
  kUnimplemented,       // a valid request this build cannot serve
};

std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message);

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // "INVALID_ARGUMENT: policy.cedar:3:7: expected ')'" (or "OK").
  std::string ToString() const;

  // Returns a copy whose message is "<context>: <message>"; OK stays OK.
  Status WithContext(std::string_view context) const;

  friend bool operator==(const Status& a, const Status& b) {
    return a.code_ == b.code_ && a.message_ == b.message_;
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

Status InvalidArgumentError(std::string message);
Status NotFoundError(std::string message);
Status AlreadyExistsError(std::string message);
Status PermissionDeniedError(std::string message);
Status UnauthenticatedError(std::string message);
Status FailedPreconditionError(std::string message);
Status ResourceExhaustedError(std::string message);
Status UnavailableError(std::string message);
Status DataLossError(std::string message);
Status InternalError(std::string message);
Status UnimplementedError(std::string message);

// Result<T> holds a T or a non-OK Status. Constructing one from an OK Status is a bug
// and becomes an Internal error rather than undefined behaviour.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::in_place_index<1>, std::move(value)) {}        // NOLINT
  Result(Status status) : state_(std::in_place_index<0>, std::move(status)) {  // NOLINT
    if (std::get<0>(state_).ok()) {
      state_.template emplace<0>(InternalError("Result constructed from an OK status"));
    }
  }

  bool ok() const { return state_.index() == 1; }
  Status status() const { return ok() ? Status::Ok() : std::get<0>(state_); }

  // Precondition for these: ok().
  T& value() & { return std::get<1>(state_); }
  const T& value() const& { return std::get<1>(state_); }
  T&& value() && { return std::get<1>(std::move(state_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<Status, T> state_;
};

namespace detail {
inline Status ToStatus(const Status& s) { return s; }
template <typename T>
Status ToStatus(const Result<T>& r) {
  return r.status();
}
}  // namespace detail

}  // namespace custos

#define CUSTOS_STATUS_CONCAT_INNER(a, b) a##b
#define CUSTOS_STATUS_CONCAT(a, b) CUSTOS_STATUS_CONCAT_INNER(a, b)

// Returns the Status of `expr` (a Status or Result) from the enclosing function if not OK.
#define CUSTOS_RETURN_IF_ERROR(expr)                                      \
  do {                                                                    \
    ::custos::Status custos_status_ = ::custos::detail::ToStatus((expr)); \
    if (!custos_status_.ok()) return custos_status_;                      \
  } while (false)

// `lhs` = the value of Result `expr`, or returns its Status from the enclosing function.
#define CUSTOS_ASSIGN_OR_RETURN(lhs, expr) \
  CUSTOS_ASSIGN_OR_RETURN_IMPL(CUSTOS_STATUS_CONCAT(custos_result_, __LINE__), lhs, expr)
// NOLINTBEGIN(bugprone-macro-parentheses): `lhs` may be a declaration, which cannot be
// parenthesized.
#define CUSTOS_ASSIGN_OR_RETURN_IMPL(result, lhs, expr) \
  auto result = (expr);                                 \
  if (!result.ok()) return result.status();             \
  lhs = std::move(result).value()
// NOLINTEND(bugprone-macro-parentheses)
