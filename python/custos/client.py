"""The custos HTTP client: TLS (or mTLS) to a custos server, API key -> short-lived token
exchange with refresh, the feature, access and audit routes of /v1, and problem+json answers
raised as CustosError subclasses. Standard library only; pandas is used when installed."""

import base64
import datetime
import http.client
import ipaddress
import json
import re
import socket
import ssl
import threading
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence

from . import receipt as _receipt
from .errors import (CustosError, ProtocolError, TransportError, Unauthenticated,
                     error_from_problem)

_USER_AGENT = "custos-python/0.1"
# Refresh a token when less than this share of its lifetime (or 30 s) is left, so that a
# request never leaves with a token about to expire in flight.
_REFRESH_FRACTION = 0.2
_REFRESH_MIN_SECONDS = 30.0
# A keep-alive connection idle this long may have been closed by the server; a request that
# must not be sent twice then opens a fresh one instead of risking a silent retry.
_IDLE_RECONNECT_SECONDS = 5.0


def parse_rfc3339(text: str) -> float:
    """Seconds since the epoch of an RFC 3339 timestamp ("2026-11-23T12:00:00Z",
    fractional seconds and offsets allowed)."""
    m = re.fullmatch(r"(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})",
                     text or "")
    if not m:
        raise ValueError(f"'{text}' is not an RFC 3339 timestamp")
    date, clock, frac, zone = m.groups()
    zone = "+00:00" if zone in ("Z", "z") else zone
    stamp = datetime.datetime.fromisoformat(f"{date}T{clock}{zone}")
    return stamp.timestamp() + (float(frac) if frac else 0.0)


def _json_default(value: Any) -> Any:
    """JSON for what callers naturally pass: datetimes as RFC 3339 (naive ones are taken as
    UTC, as Feast does), dates, and numpy/pandas scalars."""
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=datetime.timezone.utc)
        text = value.astimezone(datetime.timezone.utc).isoformat()
        return text.replace("+00:00", "Z")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if hasattr(value, "to_pydatetime"):  # pandas.Timestamp
        return _json_default(value.to_pydatetime())
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _entity_row_list(entity_rows: Any) -> List[Dict[str, Any]]:
    if hasattr(entity_rows, "to_dict") and hasattr(entity_rows, "columns"):  # a DataFrame
        return list(entity_rows.to_dict(orient="records"))
    return list(entity_rows)


def online_features_to_dict(response: Dict[str, Any]) -> Dict[str, List[Any]]:
    """{feature name: [value per entity row]} from a Feast-shaped online response (what
    Feast's OnlineResponse.to_dict() gives). Denied or missing values are None."""
    try:
        names = response["metadata"]["feature_names"]
        results = response["results"]
    except (KeyError, TypeError):
        raise ProtocolError("online features: the answer lacks metadata.feature_names or "
                            "results") from None
    if len(names) != len(results):
        raise ProtocolError(f"online features: {len(names)} feature names but {len(results)} "
                            "result columns")
    return {name: list(column.get("values", [])) for name, column in zip(names, results)}


class TrainingRows(list):
    """The rows of a training set as a list of dicts, with the server's `manifest` (the
    dataset's provenance: principal, purpose, feature modes, view versions, hashes)."""

    def __init__(self, rows: Sequence[Dict[str, Any]] = (), manifest: Optional[dict] = None):
        super().__init__(rows)
        self.manifest = manifest


@dataclass(frozen=True)
class AuditProof:
    """GET /v1/audit/proof/{index}: the receipt text (C2SP tlog-proof) and the entry bytes
    as stored in the log. Verify with `verify(vkey)` or custos.verify_receipt."""
    index: int
    receipt: str
    entry: bytes

    def verify(self, public_key, *, origin: Optional[str] = None,
               backend: Optional[str] = None) -> _receipt.Checkpoint:
        return _receipt.verify_receipt(self.receipt, self.entry, public_key, origin=origin,
                                       backend=backend)


class Client:
    """A connection to one custos server.

    base_url: "https://host:port" (http:// only for a loopback host, as the server allows
      plain HTTP only there with --plain-loopback).
    ca_file: the custos CA certificate (PEM) to trust; None uses the system's CAs.
    token: a ready access token (PASETO v4.public); api_key: a long-lived key that the
      client exchanges for tokens at POST /v1/auth/token, refreshing them before expiry.
      The scope of those tokens (purpose, environment, zone, resources, actions,
      ttl_seconds) is given here or to login().
    cert_file/key_file: a client certificate issued by the custos CA, for the mTLS listener.
    timeout: seconds for connecting and for each read.

    After each call, `last_receipt` is the Custos-Audit-Index of the answer (the audit log
    index of the event that recorded the request; None if the answer had none) and
    `last_request_id` its Custos-Request-Id.

    Thread-safety: a Client may be shared by threads; requests are serialized on its one
    keep-alive connection (use one Client per thread for parallel requests).
    """

    def __init__(self, base_url: str, ca_file: Optional[str] = None,
                 token: Optional[str] = None, api_key: Optional[str] = None,
                 cert_file: Optional[str] = None, key_file: Optional[str] = None,
                 timeout: float = 30, *, purpose: Optional[str] = None,
                 environment: Optional[str] = None, zone: Optional[str] = None,
                 resources: Optional[Sequence[str]] = None,
                 actions: Optional[Sequence[str]] = None,
                 ttl_seconds: Optional[int] = None,
                 clock: Callable[[], float] = time.time):
        parsed = urllib.parse.urlsplit(base_url)
        if parsed.scheme not in ("https", "http") or not parsed.hostname:
            raise ValueError(f"base_url '{base_url}' must be https://host[:port] (or http:// "
                             "on a loopback address)")
        if parsed.scheme == "http" and not _is_loopback(parsed.hostname):
            raise ValueError(f"base_url '{base_url}': plain http is only allowed to a loopback "
                             "address (credentials would travel in clear); use https://")
        if parsed.query or parsed.fragment:
            raise ValueError(f"base_url '{base_url}' must not have a query or fragment")
        if (cert_file is None) != (key_file is None):
            raise ValueError("cert_file and key_file go together (the client certificate and "
                             "its private key for mTLS)")
        self._scheme = parsed.scheme
        self._host = parsed.hostname
        self._port = parsed.port or (443 if parsed.scheme == "https" else 80)
        self._prefix = parsed.path.rstrip("/")
        self.base_url = f"{parsed.scheme}://{parsed.netloc}{self._prefix}"
        self.timeout = timeout
        self._clock = clock
        self._ssl: Optional[ssl.SSLContext] = None
        if parsed.scheme == "https":
            try:
                self._ssl = ssl.create_default_context(cafile=ca_file)
                if cert_file:
                    self._ssl.load_cert_chain(cert_file, key_file)
            except (OSError, ssl.SSLError) as e:
                raise TransportError(f"TLS setup failed: {e} (check ca_file/cert_file/"
                                     "key_file paths and that they are PEM)") from None
        elif cert_file:
            raise ValueError("cert_file/key_file need an https:// base_url")
        self._token = token
        self._token_expires: Optional[float] = None  # epoch seconds; None: unknown
        self._token_lifetime: Optional[float] = None
        self._api_key = api_key
        self._scope: Dict[str, Any] = {}
        self._set_scope(purpose=purpose, environment=environment, zone=zone,
                        resources=resources, actions=actions, ttl_seconds=ttl_seconds)
        self.token_info: Optional[Dict[str, Any]] = None  # the last /v1/auth/token answer
        self.last_receipt: Optional[int] = None
        self.last_request_id: Optional[str] = None
        self.last_manifest: Optional[Dict[str, Any]] = None
        self.last_lineage: Optional[Dict[str, Any]] = None
        self._lock = threading.RLock()
        self._conn: Optional[http.client.HTTPConnection] = None
        self._conn_used_at = 0.0
        self._conn_requests = 0
        self._streaming = False  # a training-set stream owns the connection

    def __repr__(self) -> str:
        auth = "api_key" if self._api_key else ("token" if self._token else "none")
        return f"Client({self.base_url!r}, auth={auth})"

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- authentication ----------------------------------------------------------------------

    def _set_scope(self, **scope: Any) -> None:
        for key, value in scope.items():
            if value is None:
                continue
            if key in ("resources", "actions"):
                if isinstance(value, str):
                    value = [value]
                value = list(value)
            self._scope[key] = value

    def login(self, purpose: Optional[str] = None, environment: Optional[str] = None,
              zone: Optional[str] = None, resources: Optional[Sequence[str]] = None,
              actions: Optional[Sequence[str]] = None,
              ttl_seconds: Optional[int] = None) -> Dict[str, Any]:
        """Exchanges the API key for an access token scoped as given (arguments left out keep
        the constructor's or the previous login's values). Returns the token answer without
        the token itself ({"token_id", "expires_at", "subject"})."""
        if not self._api_key:
            raise Unauthenticated("login needs an api_key (pass api_key= to Client)")
        self._set_scope(purpose=purpose, environment=environment, zone=zone,
                        resources=resources, actions=actions, ttl_seconds=ttl_seconds)
        body = dict(self._scope)
        body["api_key"] = self._api_key
        with self._lock:
            answer = self._call("POST", "/v1/auth/token", body, auth=False, idempotent=True)
            if not isinstance(answer, dict) or not isinstance(answer.get("token"), str):
                raise ProtocolError("POST /v1/auth/token: the answer has no 'token'")
            now = self._clock()
            self._token = answer["token"]
            self._token_expires = None
            self._token_lifetime = None
            if isinstance(answer.get("expires_at"), str):
                try:
                    expires = parse_rfc3339(answer["expires_at"])
                except ValueError:
                    expires = None  # unknown expiry: refreshed when the server says so
                # A lifetime too short to refresh ahead (or a clock skewed against the
                # server's) would mean a login per request: rely on the server's
                # token-expired answer instead, which logs in again and retries once.
                if expires is not None and expires - now > 2 * _REFRESH_MIN_SECONDS:
                    self._token_expires = expires
                    self._token_lifetime = expires - now
            self.token_info = {k: v for k, v in answer.items() if k != "token"}
            return dict(self.token_info)

    def _token_for_request(self) -> Optional[str]:
        if self._api_key:
            if self._token is None:
                self.login()
            elif self._token_expires is not None:
                margin = max(_REFRESH_MIN_SECONDS, _REFRESH_FRACTION * (self._token_lifetime or 0))
                if self._token_expires - self._clock() <= margin:
                    self.login()
        return self._token

    # --- transport ---------------------------------------------------------------------------

    def _connection(self, fresh: bool) -> http.client.HTTPConnection:
        if self._conn is not None and fresh:
            self._conn.close()
            self._conn = None
        if self._conn is None:
            if self._scheme == "https":
                self._conn = http.client.HTTPSConnection(self._host, self._port,
                                                         timeout=self.timeout,
                                                         context=self._ssl)
            else:
                self._conn = http.client.HTTPConnection(self._host, self._port,
                                                        timeout=self.timeout)
            self._conn_requests = 0
        return self._conn

    def _send(self, method: str, path: str, body: Optional[bytes], headers: Dict[str, str],
              idempotent: bool) -> http.client.HTTPResponse:
        """Sends one request and returns the response with its body unread. A reused
        keep-alive connection the server closed meanwhile is retried once on a new
        connection when the request is idempotent; other requests get a fresh connection
        up front when the old one sat idle."""
        idle = time.monotonic() - self._conn_used_at
        fresh = not idempotent and idle > _IDLE_RECONNECT_SECONDS
        for attempt in (0, 1):
            conn = self._connection(fresh or attempt == 1)
            reused = self._conn_requests > 0
            try:
                conn.request(method, self._prefix + path, body=body, headers=headers)
                self._conn_requests += 1
                response = conn.getresponse()
                self._conn_used_at = time.monotonic()
                return response
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError,
                    http.client.CannotSendRequest, http.client.ResponseNotReady) as e:
                self.close()
                if attempt == 0 and reused and idempotent:
                    continue
                raise TransportError(f"{method} {path}: the connection to {self.base_url} "
                                     f"broke ({type(e).__name__}: {e})") from None
            except ssl.SSLCertVerificationError as e:
                self.close()
                raise TransportError(f"{method} {path}: the server certificate of "
                                     f"{self.base_url} does not verify ({e.verify_message}); "
                                     "pass ca_file= the custos CA certificate (custos ca "
                                     "certificate --out ca.pem)") from None
            except (ssl.SSLError, OSError, socket.timeout) as e:
                self.close()
                raise TransportError(f"{method} {path}: cannot reach {self.base_url} "
                                     f"({type(e).__name__}: {e})") from None
        raise AssertionError("unreachable")

    def _request(self, method: str, path: str, body: Any = None, *, auth: bool = True,
                 idempotent: bool = False,
                 accept: str = "application/json") -> http.client.HTTPResponse:
        """Sends a request and returns a 2xx response whose body is not yet read; raises the
        CustosError for any other answer. A 401 token-expired with an API key logs in again
        and repeats the request once (refused at authentication, it had no effect)."""
        if self._streaming:
            raise CustosError(f"{method} {path}: a training-set stream is still open on this "
                              "client; exhaust or close it first, or use another Client")
        try:
            payload = None if body is None else json.dumps(
                body, separators=(",", ":"), default=_json_default, allow_nan=False).encode()
        except (TypeError, ValueError) as e:
            raise ValueError(f"{method} {path}: the request cannot be sent as JSON: {e}") from None
        for attempt in (0, 1):
            headers = {"Accept": accept, "User-Agent": _USER_AGENT}
            if payload is not None:
                headers["Content-Type"] = "application/json"
            if auth:
                token = self._token_for_request()
                if token:
                    headers["Authorization"] = "Bearer " + token
            response = self._send(method, path, payload, headers, idempotent)
            self._note_receipt(response)
            if 200 <= response.status < 300:
                return response
            error = self._error(method, path, response)
            if (attempt == 0 and auth and self._api_key and response.status == 401 and
                    error.slug == "token-expired"):
                self._token = None
                continue
            raise error
        raise AssertionError("unreachable")

    def _note_receipt(self, response: http.client.HTTPResponse) -> None:
        index = response.getheader("Custos-Audit-Index")
        try:
            self.last_receipt = int(index) if index is not None else None
        except ValueError:
            self.last_receipt = None
        self.last_request_id = response.getheader("Custos-Request-Id")

    def _error(self, method: str, path: str,
               response: http.client.HTTPResponse) -> CustosError:
        try:
            raw = response.read()
        except (OSError, http.client.HTTPException):
            raw = b""
            self.close()
        text = raw.decode("utf-8", "replace")
        problem = None
        ctype = (response.getheader("Content-Type") or "").split(";")[0].strip().lower()
        if ctype in ("application/problem+json", "application/json"):
            try:
                problem = json.loads(text)
            except ValueError:
                problem = None
        retry_after = None
        header = response.getheader("Retry-After")
        if header is not None:
            try:
                retry_after = float(header)
            except ValueError:
                retry_after = None  # an HTTP date; custos sends seconds
        if response.getheader("Connection", "").lower() == "close":
            self.close()
        return error_from_problem(response.status, problem, fallback_text=text, method=method,
                                  path=path.split("?")[0], retry_after=retry_after,
                                  audit_index=self.last_receipt,
                                  request_id=self.last_request_id,
                                  secrets=(self._token, self._api_key))

    def _read_all(self, method: str, path: str, response: http.client.HTTPResponse) -> bytes:
        try:
            return response.read()
        except (OSError, http.client.HTTPException) as e:
            self.close()
            raise TransportError(f"{method} {path}: reading the answer failed "
                                 f"({type(e).__name__}: {e})") from None

    def _call(self, method: str, path: str, body: Any = None, *, auth: bool = True,
              idempotent: bool = False) -> Any:
        with self._lock:
            response = self._request(method, path, body, auth=auth, idempotent=idempotent)
            raw = self._read_all(method, path, response)
        if not raw.strip():
            return {}
        try:
            return json.loads(raw.decode("utf-8"))
        except ValueError as e:
            raise ProtocolError(f"{method} {path}: the answer is not JSON ({e})") from None

    def _text(self, path: str, *, auth: bool = True) -> str:
        with self._lock:
            response = self._request("GET", path, auth=auth, idempotent=True,
                                     accept="text/plain")
            return self._read_all("GET", path, response).decode("utf-8")

    # --- health and catalog ------------------------------------------------------------------

    def health(self) -> Dict[str, Any]:
        """GET /v1/health (no credentials): {"status": "ok"}."""
        return self._call("GET", "/v1/health", auth=False, idempotent=True)

    def ready(self) -> Dict[str, Any]:
        """GET /v1/ready: {"status": "ready"}; Unavailable while the server is not."""
        return self._call("GET", "/v1/ready", auth=False, idempotent=True)

    def list_views(self) -> List[Dict[str, Any]]:
        """The published feature views (latest versions)."""
        return self._call("GET", "/v1/catalog/views", idempotent=True).get("views", [])

    def get_view(self, name: str) -> Dict[str, Any]:
        """One feature view (latest version); NotFound if there is none by that name."""
        return self._call("GET", "/v1/catalog/views/" + _segment(name), idempotent=True)

    # --- features ----------------------------------------------------------------------------

    def _read_context(self, purpose: Optional[str]) -> Dict[str, Any]:
        """purpose/environment/zone for a read: needed on the mTLS listener (no token);
        with a token they must equal the token's, which is what the scope holds."""
        context = {k: self._scope[k] for k in ("purpose", "environment", "zone")
                   if self._scope.get(k)}
        if purpose is not None:
            context["purpose"] = purpose
        return context

    def get_online_features(self, features: Sequence[str],
                            entities: Dict[str, Sequence[Any]], *,
                            purpose: Optional[str] = None) -> Dict[str, Any]:
        """Online feature values in Feast's shape: {"metadata": {"feature_names": [...]},
        "results": [{"values", "statuses", "event_timestamps", ...} per feature]}. Each
        feature comes in the mode policy allows (raw, masked, pseudonymized) or is DENIED.
        `features`: "view:feature" or "view" names; `entities`: {join key: [values]}.
        online_features_to_dict() turns the answer into {feature: [values]}. `purpose`
        (default: the client's) is what the read is for; with a token it must be the
        token's own."""
        if isinstance(features, str):
            features = [features]
        body = {"features": list(features),
                "entities": {k: list(v) for k, v in entities.items()}}
        body.update(self._read_context(purpose))
        return self._call("POST", "/v1/features/online", body, idempotent=True)

    def iter_training_set(self, features: Sequence[str],
                          entity_rows: Sequence[Dict[str, Any]],
                          manifest_out: Optional[Dict[str, Any]] = None, *,
                          purpose: Optional[str] = None) -> Iterator[Dict[str, Any]]:
        """Streams a point-in-time training set row by row (the NDJSON answer is read line by
        line, never whole). `entity_rows`: dicts with the join keys and "event_timestamp"
        (RFC 3339 text or datetime; naive datetimes are UTC), or a pandas DataFrame with those
        columns (Feast's entity_df). The final {"manifest": ...} line is not yielded: it is stored in
        `manifest_out["manifest"]` (when given) and in self.last_manifest. The client's
        connection (and its lock) is held until the generator is exhausted or closed: use
        another Client for other requests meanwhile."""
        if isinstance(features, str):
            features = [features]
        path = "/v1/features/training-set"
        body = {"features": list(features), "entity_rows": _entity_row_list(entity_rows)}
        body.update(self._read_context(purpose))
        self.last_manifest = None
        with self._lock:
            response = self._request("POST", path, body, idempotent=True,
                                     accept="application/x-ndjson")
            rows = 0
            manifest = None
            self._streaming = True
            try:
                for line_no, line in enumerate(_lines(response, self, path), start=1):
                    if not line.strip():
                        continue
                    try:
                        item = json.loads(line)
                    except ValueError as e:
                        raise ProtocolError(f"POST {path}: line {line_no} of the stream is not "
                                            f"JSON ({e})") from None
                    if manifest is not None:
                        raise ProtocolError(f"POST {path}: line {line_no} follows the "
                                            "manifest line, which must be last")
                    if not isinstance(item, dict):
                        raise ProtocolError(f"POST {path}: line {line_no} is not a JSON object")
                    if (isinstance(item.get("manifest"), dict)
                            and set(item) <= {"manifest", "lineage"}):
                        manifest = item["manifest"]
                        # The training set's node in custos's lineage graph, when recorded.
                        self.last_lineage = item.get("lineage")
                        continue
                    problem = item.get("problem") or item.get("error")
                    if len(item) == 1 and isinstance(problem, dict):
                        status = problem.get("status") if isinstance(problem.get("status"),
                                                                     int) else 500
                        raise error_from_problem(status, problem, method="POST", path=path,
                                                 audit_index=self.last_receipt,
                                                 request_id=self.last_request_id,
                                                 secrets=(self._token, self._api_key))
                    rows += 1
                    yield item
            except GeneratorExit:
                self.close()  # the rest of the stream is unread: drop the connection
                raise
            except BaseException:
                self.close()
                raise
            finally:
                self._streaming = False
            if manifest is None:
                self.close()
                raise ProtocolError(f"POST {path}: the stream ended after {rows} rows without "
                                    "its manifest line (the server stopped mid-stream; the "
                                    "rows are incomplete, retry)")
            self.last_manifest = manifest
            if manifest_out is not None:
                manifest_out["manifest"] = manifest

    def get_training_set(self, features: Sequence[str], entity_rows: Sequence[Dict[str, Any]],
                         *, as_dataframe: Optional[bool] = None, purpose: Optional[str] = None):
        """A point-in-time training set. With pandas installed (or as_dataframe=True) a
        pandas DataFrame whose `attrs["custos_manifest"]` is the manifest; otherwise (or
        as_dataframe=False) a TrainingRows list of dicts whose `.manifest` is the manifest.
        Either way the manifest is also in self.last_manifest."""
        pandas = None
        if as_dataframe is not False:
            try:
                import pandas  # noqa: F811
            except ImportError:
                if as_dataframe:
                    raise ImportError("get_training_set(as_dataframe=True) needs pandas: "
                                      "pip install 'custos[pandas]'") from None
        holder: Dict[str, Any] = {}
        rows = list(self.iter_training_set(features, entity_rows, manifest_out=holder,
                                           purpose=purpose))
        if pandas is None:
            return TrainingRows(rows, holder.get("manifest"))
        frame = pandas.DataFrame.from_records(rows)
        frame.attrs["custos_manifest"] = holder.get("manifest")
        return frame

    # --- access requests and grants ----------------------------------------------------------

    def request_access(self, purpose: str, resources: Sequence[str], actions: Sequence[str],
                       duration: str, justification: str) -> Dict[str, Any]:
        """Asks for access ("7d", "12h" durations); returns the request record
        ({"id": "acr_...", "state": "pending", ...})."""
        body = {"purpose": purpose, "resources": _list(resources), "actions": _list(actions),
                "duration": duration, "justification": justification}
        return self._call("POST", "/v1/access/requests", body)

    def list_access_requests(self, state: Optional[str] = None) -> List[Dict[str, Any]]:
        return self._call("GET", "/v1/access/requests" + _query(state=state),
                          idempotent=True).get("requests", [])

    def get_access_request(self, request_id: str) -> Dict[str, Any]:
        return self._call("GET", "/v1/access/requests/" + _segment(request_id), idempotent=True)

    def approve(self, request_id: str, mfa_code: Optional[str] = None) -> Dict[str, Any]:
        """Approves a request as the caller; returns {"request": {...}, "grant": {...} or
        None while more approvals are needed}. `mfa_code`: the caller's current TOTP code
        when the request's rules require MFA."""
        body: Dict[str, Any] = {}
        if mfa_code is not None:
            body["mfa_code"] = str(mfa_code)
        return self._call("POST", f"/v1/access/requests/{_segment(request_id)}/approve", body)

    def deny(self, request_id: str, reason: str) -> Dict[str, Any]:
        return self._call("POST", f"/v1/access/requests/{_segment(request_id)}/deny",
                          {"reason": reason})

    def list_grants(self, state: Optional[str] = None) -> List[Dict[str, Any]]:
        return self._call("GET", "/v1/access/grants" + _query(state=state),
                          idempotent=True).get("grants", [])

    def get_grant(self, grant_id: str) -> Dict[str, Any]:
        return self._call("GET", "/v1/access/grants/" + _segment(grant_id), idempotent=True)

    def revoke(self, grant_id: str, reason: str) -> Dict[str, Any]:
        return self._call("POST", f"/v1/access/grants/{_segment(grant_id)}/revoke",
                          {"reason": reason})

    # --- audit -------------------------------------------------------------------------------
    # The log's checkpoint, key, receipts and proofs are public, verifiable data: they are
    # fetched without credentials (and the server does not audit those reads).

    def audit_events(self, **filters: Any) -> Dict[str, Any]:
        """GET /v1/audit/events with filters principal, action, resource, decision
        ("allow"/"deny"), since, until (RFC 3339), limit (1..1000), page_token:
        {"events": [...], "next_page_token": ...}. Needs Cedar action audit_read."""
        return self._call("GET", "/v1/audit/events" + _query(**filters), idempotent=True)

    def audit_proof(self, index: int) -> AuditProof:
        """The receipt of audit entry `index` and the entry's bytes."""
        answer = self._call("GET", f"/v1/audit/proof/{int(index)}", auth=False,
                            idempotent=True)
        try:
            entry = base64.b64decode(answer["entry"], validate=True)
            return AuditProof(int(answer["index"]), answer["receipt"], entry)
        except (KeyError, TypeError, ValueError) as e:
            raise ProtocolError(f"GET /v1/audit/proof/{index}: malformed answer ({e})") from None

    def checkpoint(self) -> str:
        """The latest signed checkpoint (C2SP signed note text); verify it with
        custos.open_checkpoint(text, vkey)."""
        return self._text("/v1/audit/checkpoint", auth=False)

    def audit_pubkey(self) -> str:
        """The log's verifier key (vkey). Pin it out of band: a key fetched from the server
        you are checking proves nothing against that server."""
        return self._text("/v1/audit/pubkey", auth=False).strip()

    def audit_consistency(self, from_size: int, to_size: int) -> List[bytes]:
        answer = self._call("GET", "/v1/audit/consistency" +
                            _query(**{"from": int(from_size), "to": int(to_size)}),
                            auth=False, idempotent=True)
        try:
            return [base64.b64decode(h, validate=True) for h in answer["proof"]]
        except (KeyError, TypeError, ValueError) as e:
            raise ProtocolError(f"GET /v1/audit/consistency: malformed answer ({e})") from None


def _lines(response: http.client.HTTPResponse, client: Client, path: str) -> Iterator[bytes]:
    while True:
        try:
            line = response.readline()
        except (OSError, http.client.HTTPException) as e:
            client.close()
            raise TransportError(f"POST {path}: the stream broke ({type(e).__name__}: "
                                 f"{e})") from None
        if not line:
            return
        yield line


def _segment(value: str) -> str:
    value = str(value)
    if not value:
        raise ValueError("an empty id or name cannot name a resource")
    return urllib.parse.quote(value, safe="")


def _list(value: Any) -> List[Any]:
    return [value] if isinstance(value, str) else list(value)


def _query(**params: Any) -> str:
    pairs = [(k, str(v)) for k, v in params.items() if v is not None]
    return "?" + urllib.parse.urlencode(pairs) if pairs else ""


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
