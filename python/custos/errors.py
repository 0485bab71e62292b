"""Exceptions raised by the custos client: one class per kind of refusal, built from the
server's RFC 9457 problem+json answers, plus ReceiptError for audit receipts that fail to
verify. Callers branch on the class (or on `slug`), never on message text."""

from typing import Any, Dict, Iterable, Optional, Type

PROBLEM_TYPE_BASE = "https://custos.dev/problems/"
_REDACTED = "[redacted]"


class CustosError(Exception):
    """Base of every error the client raises.

    Attributes (None when the error did not come from a server answer):
      status: the HTTP status code.
      type: the problem type URI; slug: its last part ("forbidden", "token-expired", ...).
      title, detail: the problem's short title and what-is-wrong-and-how-to-fix-it text.
      instance: the server's request id; audit_index: the audit log index of the event that
      recorded the refusal (use Client.audit_proof on it for a receipt).
    """

    def __init__(self, message: str, *, status: Optional[int] = None,
                 type: Optional[str] = None, title: Optional[str] = None,
                 detail: Optional[str] = None, instance: Optional[str] = None,
                 audit_index: Optional[int] = None, request_id: Optional[str] = None):
        super().__init__(message)
        self.status = status
        self.type = type
        self.title = title
        self.detail = detail
        self.instance = instance
        self.audit_index = audit_index
        self.request_id = request_id

    @property
    def slug(self) -> Optional[str]:
        if self.type and self.type.startswith(PROBLEM_TYPE_BASE):
            return self.type[len(PROBLEM_TYPE_BASE):]
        return None


class TransportError(CustosError):
    """The server could not be reached or the TLS handshake failed (no HTTP answer)."""


class ProtocolError(CustosError):
    """The server answered something the client cannot read (not JSON, a stream cut short)."""


class ReceiptError(CustosError):
    """An audit receipt (C2SP tlog-proof), checkpoint or signed note failed to parse or verify.
    The message says which part failed and why."""


class BadRequest(CustosError):
    """400: the request is malformed or an argument is invalid (invalid-argument, ...)."""


class Unauthenticated(CustosError):
    """401: no credentials, or the token/API key/certificate is not valid."""


class TokenExpired(Unauthenticated):
    """401 token-expired: the access token expired; log in again (automatic with api_key)."""


class Forbidden(CustosError):
    """403: policy denied the request (detail names the reason; audit_index the event)."""


class NotFound(CustosError):
    """404: unknown route or resource."""


class MethodNotAllowed(CustosError):
    """405: the route exists with another method."""


class RequestTimeout(CustosError):
    """408: the request took too long to arrive."""


class Conflict(CustosError):
    """409: the request conflicts with the current state (e.g. approving twice)."""


class FailedPrecondition(Conflict):
    """409 failed-precondition: the request is valid but the resource is not in a state that
    allows it (e.g. approving a request that was denied)."""


class PayloadTooLarge(CustosError):
    """413 / 431: body or headers too large."""


class UnsupportedMediaType(CustosError):
    """415: the body must be application/json."""


class RateLimited(CustosError):
    """429: too many requests; retry after `retry_after` seconds (None if not said)."""

    def __init__(self, message: str, *, retry_after: Optional[float] = None, **kwargs: Any):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ServerError(CustosError):
    """500 and other 5xx answers: internal or data-loss errors on the server."""


class DataLoss(ServerError):
    """The server found corrupted or tampered data."""


class Unavailable(ServerError):
    """503: the server is not ready (sealed, starting, overloaded); see retry_after."""

    def __init__(self, message: str, *, retry_after: Optional[float] = None, **kwargs: Any):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class AuditUnavailable(Unavailable):
    """503 audit-unavailable: the audit log could not record the request, so it was refused
    (custos fails closed)."""


_BY_SLUG: Dict[str, Type[CustosError]] = {
    "malformed-json": BadRequest,
    "invalid-argument": BadRequest,
    "failed-precondition": FailedPrecondition,
    "unauthenticated": Unauthenticated,
    "token-expired": TokenExpired,
    "forbidden": Forbidden,
    "not-found": NotFound,
    "resource-not-found": NotFound,
    "method-not-allowed": MethodNotAllowed,
    "request-timeout": RequestTimeout,
    "conflict": Conflict,
    "body-too-large": PayloadTooLarge,
    "header-too-large": PayloadTooLarge,
    "unsupported-media-type": UnsupportedMediaType,
    "rate-limited": RateLimited,
    "audit-unavailable": AuditUnavailable,
    "unavailable": Unavailable,
    "data-loss": DataLoss,
    "internal": ServerError,
}

_BY_STATUS: Dict[int, Type[CustosError]] = {
    400: BadRequest, 401: Unauthenticated, 403: Forbidden, 404: NotFound,
    405: MethodNotAllowed, 408: RequestTimeout, 409: Conflict, 412: FailedPrecondition,
    413: PayloadTooLarge, 415: UnsupportedMediaType, 429: RateLimited, 431: PayloadTooLarge,
    503: Unavailable,
}


def error_class(status: int, slug: Optional[str]) -> Type[CustosError]:
    """The class for an answer: the problem type when known, else the HTTP status."""
    if slug in _BY_SLUG:
        return _BY_SLUG[slug]
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if 500 <= status <= 599:
        return ServerError
    if status == 422:
        return BadRequest
    return CustosError


def redact(text: Optional[str], secrets: Iterable[Optional[str]]) -> Optional[str]:
    """`text` with every non-empty secret replaced, so a server that echoes a credential
    cannot make it end up in an exception message, a log or a traceback."""
    if text is None:
        return None
    for secret in secrets:
        if secret and len(secret) >= 8 and secret in text:
            text = text.replace(secret, _REDACTED)
    return text


def error_from_problem(status: int, problem: Optional[Dict[str, Any]], *,
                       fallback_text: str = "", method: str = "", path: str = "",
                       retry_after: Optional[float] = None,
                       audit_index: Optional[int] = None, request_id: Optional[str] = None,
                       secrets: Iterable[Optional[str]] = ()) -> CustosError:
    """Builds the exception for a non-2xx answer. `problem` is the parsed problem+json body
    (None if the body was something else; then `fallback_text` is quoted, shortened)."""
    secrets = list(secrets)
    problem = problem if isinstance(problem, dict) else {}
    type_uri = problem.get("type") if isinstance(problem.get("type"), str) else None
    title = redact(problem.get("title") if isinstance(problem.get("title"), str) else None,
                   secrets)
    detail = redact(problem.get("detail") if isinstance(problem.get("detail"), str) else None,
                    secrets)
    instance = problem.get("instance") if isinstance(problem.get("instance"), str) else None
    index = problem.get("audit_index")
    if isinstance(index, int) and not isinstance(index, bool):
        audit_index = index
    slug = type_uri[len(PROBLEM_TYPE_BASE):] if type_uri and type_uri.startswith(
        PROBLEM_TYPE_BASE) else None
    cls = error_class(status, slug)

    what = detail or title
    if not what:
        snippet = redact(fallback_text.strip(), secrets) or ""
        what = (snippet[:200] + "...") if len(snippet) > 200 else snippet
        what = what or "no problem details in the answer"
    message = f"{method} {path}: {status}"
    if slug:
        message += f" {slug}"
    message += f": {what}"
    if audit_index is not None:
        message += f" (audit index {audit_index})"
    kwargs: Dict[str, Any] = dict(status=status, type=type_uri, title=title, detail=detail,
                                  instance=instance, audit_index=audit_index,
                                  request_id=request_id or instance)
    if issubclass(cls, (RateLimited, Unavailable)):
        kwargs["retry_after"] = retry_after
    return cls(message, **kwargs)
