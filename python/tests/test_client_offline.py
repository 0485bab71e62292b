"""Offline tests of custos.Client against a scripted local HTTP(S) server (tests/fake_server.py):
requests sent, problem+json mapped to exception classes, credentials kept out of messages,
API key login and refresh, NDJSON training-set streams, receipts headers, TLS and mTLS."""
import base64
import json
import os
import shutil
import ssl
import subprocess
import tempfile
import unittest

import _paths  # noqa: F401  (sets sys.path)
import custos
from custos import errors
from fake_server import FakeServer, free_port

PROBLEM = {"Content-Type": "application/problem+json"}
TOKEN = "v4.public.eyJzdWIiOiJhbGljZSJ9c2VjcmV0LXNpZ25hdHVyZQ"
API_KEY = "custos_ak_0123456789abcdef_SECRETSECRETSECRET"


def problem(slug, status, detail, audit_index=None, title=None):
    body = {"type": f"https://custos.dev/problems/{slug}", "title": title or slug.title(),
            "status": status, "detail": detail, "instance": "req_1"}
    if audit_index is not None:
        body["audit_index"] = audit_index
    return body


class FakeClock:
    def __init__(self, now=1_800_000_000.0):
        self.now = now

    def __call__(self):
        return self.now


class ClientTest(unittest.TestCase):
    def setUp(self):
        self.server = FakeServer()
        self.addCleanup(self.server.close)

    def client(self, **kwargs):
        c = custos.Client(self.server.url(), **kwargs)
        self.addCleanup(c.close)
        return c

    def route(self, method, path, fn):
        self.server.routes[(method, path)] = fn

    def test_health_sends_no_credentials(self):
        self.route("GET", "/v1/health", lambda r: (200, {}, {"status": "ok"}))
        c = self.client(token=TOKEN)
        self.assertEqual(c.health(), {"status": "ok"})
        self.assertNotIn("Authorization", self.server.requests[0].headers)
        self.assertIsNone(c.last_receipt)

    def test_online_features(self):
        answer = {"metadata": {"feature_names": ["customer_id", "v__a", "v__b"]},
                  "results": [{"values": [1001, 1002], "statuses": ["PRESENT"] * 2},
                              {"values": [6, None], "statuses": ["PRESENT", "NOT_FOUND"]},
                              {"values": [None, None], "statuses": ["DENIED"] * 2}]}
        self.route("POST", "/v1/features/online",
                   lambda r: (200, {"Custos-Audit-Index": "42", "Custos-Request-Id": "req_9"},
                              answer))
        c = self.client(token=TOKEN)
        got = c.get_online_features(["v:a", "v:b"], {"customer_id": (1001, 1002)})
        self.assertEqual(got, answer)
        sent = self.server.requests[0]
        self.assertEqual(sent.headers["Authorization"], "Bearer " + TOKEN)
        self.assertEqual(sent.headers["Content-Type"], "application/json")
        self.assertEqual(sent.json(), {"features": ["v:a", "v:b"],
                                       "entities": {"customer_id": [1001, 1002]}})
        self.assertEqual((c.last_receipt, c.last_request_id), (42, "req_9"))
        self.assertEqual(custos.online_features_to_dict(got),
                         {"customer_id": [1001, 1002], "v__a": [6, None], "v__b": [None, None]})
        with self.assertRaisesRegex(custos.ProtocolError, "2 feature names but 3 result"):
            custos.online_features_to_dict({"metadata": {"feature_names": ["a", "b"]},
                                            "results": answer["results"]})

    def test_problems_become_classes(self):
        cases = [
            (403, "forbidden", custos.Forbidden), (401, "unauthenticated", custos.Unauthenticated),
            (401, "token-expired", custos.TokenExpired), (404, "resource-not-found", custos.NotFound),
            (409, "conflict", custos.Conflict), (400, "invalid-argument", custos.BadRequest),
            (409, "failed-precondition", custos.FailedPrecondition),
            (415, "unsupported-media-type", custos.UnsupportedMediaType),
            (503, "audit-unavailable", custos.AuditUnavailable),
            (500, "data-loss", custos.DataLoss), (500, "internal", custos.ServerError),
        ]
        c = self.client(token=TOKEN)
        for status, slug, cls in cases:
            with self.subTest(slug=slug):
                self.route("GET", "/v1/catalog/views",
                           lambda r, s=status, g=slug: (s, dict(PROBLEM, **{
                               "Custos-Audit-Index": "77"}), problem(g, s, f"{g} because x")))
                with self.assertRaises(cls) as ctx:
                    c.list_views()
                e = ctx.exception
                self.assertIs(type(e), cls)
                self.assertEqual((e.status, e.slug, e.detail, e.audit_index, e.instance),
                                 (status, slug, f"{slug} because x", 77, "req_1"))
                self.assertEqual(str(e), f"GET /v1/catalog/views: {status} {slug}: {slug} "
                                 "because x (audit index 77)")
                self.assertEqual(c.last_receipt, 77)

    def test_audit_index_from_body_and_unknown_slug_by_status(self):
        self.route("GET", "/v1/access/grants",
                   lambda r: (403, PROBLEM, problem("policy-says-no", 403, "no", audit_index=5)))
        c = self.client(token=TOKEN)
        with self.assertRaises(custos.Forbidden) as ctx:
            c.list_grants(state="active")
        self.assertEqual(ctx.exception.audit_index, 5)
        self.assertEqual(self.server.requests[0].path, "/v1/access/grants?state=active")

    def test_rate_limited_has_retry_after(self):
        self.route("POST", "/v1/features/online",
                   lambda r: (429, dict(PROBLEM, **{"Retry-After": "7"}),
                              problem("rate-limited", 429, "slow down")))
        c = self.client(token=TOKEN)
        with self.assertRaises(custos.RateLimited) as ctx:
            c.get_online_features(["v:a"], {"id": [1]})
        self.assertEqual(ctx.exception.retry_after, 7.0)

    def test_non_json_error(self):
        self.route("GET", "/v1/ready", lambda r: (502, {"Content-Type": "text/html"},
                                                  "<html>bad gateway</html>"))
        c = self.client()
        with self.assertRaisesRegex(custos.ServerError,
                                    "GET /v1/ready: 502: <html>bad gateway</html>"):
            c.ready()

    def test_credentials_never_in_messages(self):
        echo = f"token {TOKEN} and key {API_KEY} are not valid"
        self.route("POST", "/v1/auth/token",
                   lambda r: (401, PROBLEM, problem("unauthenticated", 401, echo, title=API_KEY)))
        c = self.client(api_key=API_KEY, purpose="p")
        with self.assertRaises(custos.Unauthenticated) as ctx:
            c.list_views()
        e = ctx.exception
        for text in (str(e), repr(e), e.detail, e.title, repr(c)):
            self.assertNotIn(API_KEY, text)
        self.assertIn("key [redacted] are not valid", str(e))
        self.route("GET", "/v1/catalog/views",
                   lambda r: (401, PROBLEM, problem("unauthenticated", 401, echo)))
        c2 = self.client(token=TOKEN)
        with self.assertRaises(custos.Unauthenticated) as ctx:
            c2.list_views()
        self.assertNotIn(TOKEN, str(ctx.exception))
        self.assertIn("token [redacted] and", str(ctx.exception))
        self.assertNotIn(TOKEN, repr(c2))

    def test_api_key_login_refresh_and_expired_retry(self):
        clock = FakeClock()
        issued = []

        def token(r):
            issued.append(r.json())
            n = len(issued)
            stamp = clock.now + 900
            import datetime
            expires = datetime.datetime.fromtimestamp(stamp, datetime.timezone.utc)
            return 200, {}, {"token": f"v4.public.token{n}", "token_id": f"tok_{n}",
                             "expires_at": expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
                             "subject": "ServiceAccount::\"scorer\""}

        expired = {"v4.public.token3"}

        def views(r):
            auth = r.headers.get("Authorization", "")
            if auth.removeprefix("Bearer ") in expired:
                return 401, PROBLEM, problem("token-expired", 401, "the token expired")
            return 200, {}, {"views": [{"name": "v", "auth": auth}]}

        self.route("POST", "/v1/auth/token", token)
        self.route("GET", "/v1/catalog/views", views)
        c = self.client(api_key=API_KEY, purpose="fraud", environment="prod", zone="eu",
                        resources="FeatureView::\"v\"", actions=["read"], clock=clock)
        self.assertEqual(c.list_views()[0]["auth"], "Bearer v4.public.token1")
        self.assertEqual(issued[0], {"api_key": API_KEY, "purpose": "fraud",
                                     "environment": "prod", "zone": "eu",
                                     "resources": ["FeatureView::\"v\""], "actions": ["read"]})
        self.assertEqual(c.token_info["token_id"], "tok_1")
        self.assertNotIn("token", c.token_info)
        clock.now += 600  # 300 s left of 900: still fine
        self.assertEqual(c.list_views()[0]["auth"], "Bearer v4.public.token1")
        clock.now += 200  # 100 s left, under 20% of the lifetime: refreshed first
        self.assertEqual(c.list_views()[0]["auth"], "Bearer v4.public.token2")
        self.assertEqual(len(issued), 2)
        # The server says token-expired (e.g. revoked early): one new login and one retry.
        c.login(purpose="churn")
        self.assertEqual(issued[2]["purpose"], "churn")
        self.assertEqual(c.list_views()[0]["auth"], "Bearer v4.public.token4")
        self.assertEqual(len(issued), 4)
        expired.add("v4.public.token5")
        expired.add("v4.public.token6")
        c.login()
        with self.assertRaises(custos.TokenExpired):
            c.list_views()
        self.assertEqual(len(issued), 6)  # retried once only

    def test_short_or_skewed_token_relies_on_token_expired(self):
        clock = FakeClock()
        issued = []

        def token(r):
            issued.append(1)
            return 200, {}, {"token": f"v4.public.t{len(issued)}", "token_id": "t",
                             "expires_at": "2027-01-15T08:00:10Z"}  # 10 s after clock.now

        self.route("POST", "/v1/auth/token", token)
        self.route("GET", "/v1/catalog/views", lambda r: (200, {}, {"views": []}))
        c = self.client(api_key=API_KEY, purpose="p", clock=clock)
        for _ in range(3):
            c.list_views()
        self.assertEqual(len(issued), 1)  # not one login per request

    def test_login_needs_api_key(self):
        with self.assertRaisesRegex(custos.Unauthenticated, "login needs an api_key"):
            self.client(token=TOKEN).login(purpose="p")

    def stream(self, lines, status=200):
        self.route("POST", "/v1/features/training-set",
                   lambda r: (status, {"Content-Type": "application/x-ndjson",
                                       "Transfer-Encoding": "chunked",
                                       "Custos-Audit-Index": "9"},
                              [json.dumps(x) + "\n" for x in lines]))

    def test_training_set_stream(self):
        manifest = {"principal": "User::\"alice\"", "rows": 2}
        rows = [{"customer_id": 1001, "label": 1, "v__a": 6},
                {"customer_id": 1002, "label": 0, "v__a": None}]
        self.stream(rows + [{"manifest": manifest}])
        c = self.client(token=TOKEN)
        entity_rows = [{"customer_id": 1001, "event_timestamp": "2026-11-23T10:00:00Z"}]
        got = c.get_training_set(["v:a"], entity_rows, as_dataframe=False)
        self.assertIsInstance(got, custos.TrainingRows)
        self.assertEqual(list(got), rows)
        self.assertEqual(got.manifest, manifest)
        self.assertEqual(c.last_manifest, manifest)
        self.assertEqual(c.last_receipt, 9)
        self.assertEqual(self.server.requests[0].json(),
                         {"features": ["v:a"], "entity_rows": entity_rows})
        self.assertEqual(self.server.requests[0].headers["Accept"], "application/x-ndjson")
        streamed = list(c.iter_training_set("v", entity_rows))
        self.assertEqual(streamed, rows)
        try:
            import pandas  # noqa: F401
        except ImportError:
            with self.assertRaisesRegex(ImportError, "needs pandas"):
                c.get_training_set(["v:a"], entity_rows, as_dataframe=True)
            self.assertIsInstance(c.get_training_set(["v:a"], entity_rows), custos.TrainingRows)
        else:
            frame = c.get_training_set(["v:a"], entity_rows)
            self.assertEqual(list(frame["customer_id"]), [1001, 1002])
            self.assertEqual(frame.attrs["custos_manifest"], manifest)
        # The connection is still usable after streams.
        self.route("GET", "/v1/health", lambda r: (200, {}, {"status": "ok"}))
        self.assertEqual(c.health(), {"status": "ok"})

    def test_entity_rows_with_datetimes(self):
        import datetime
        self.stream([{"manifest": {}}])
        c = self.client(token=TOKEN)
        utc = datetime.timezone.utc
        plus_one = datetime.timezone(datetime.timedelta(hours=1))
        rows = [{"id": 1, "event_timestamp": datetime.datetime(2026, 11, 23, 10, 0)},
                {"id": 2, "event_timestamp": datetime.datetime(2026, 11, 23, 11, 0, 0, 500000,
                                                               plus_one)},
                {"id": 3, "event_timestamp": datetime.datetime(2026, 11, 23, 10, 0, tzinfo=utc)},
                {"id": 4, "event_timestamp": datetime.date(2026, 11, 23)}]
        c.get_training_set("v", rows, as_dataframe=False)
        sent = self.server.requests[-1].json()["entity_rows"]
        self.assertEqual([r["event_timestamp"] for r in sent],
                         ["2026-11-23T10:00:00Z", "2026-11-23T10:00:00.500000Z",
                          "2026-11-23T10:00:00Z", "2026-11-23"])
        with self.assertRaisesRegex(ValueError, "cannot be sent as JSON: Out of range float"):
            c.get_online_features(["v:a"], {"id": [float("nan")]})
        with self.assertRaisesRegex(ValueError, "object is not JSON serializable"):
            c.get_online_features(["v:a"], {"id": [object()]})

    def test_dataframe_with_a_stand_in_pandas(self):
        # pandas is optional and may be absent here: a minimal stand-in shows what the client
        # calls (DataFrame.from_records, attrs) and that a DataFrame works as entity rows.
        import types
        from unittest import mock

        class Frame:
            def __init__(self, records=()):
                self.records = list(records)
                self.attrs = {}
                self.columns = sorted({k for r in self.records for k in r})

            @classmethod
            def from_records(cls, records):
                return cls(records)

            def to_dict(self, orient):
                assert orient == "records"
                return [dict(r) for r in self.records]

        fake = types.ModuleType("pandas")
        fake.DataFrame = Frame
        manifest = {"rows": 1}
        self.stream([{"id": 1, "v": 2}, {"manifest": manifest}])
        c = self.client(token=TOKEN)
        with mock.patch.dict("sys.modules", {"pandas": fake}):
            frame = c.get_training_set(["v:a"], Frame([{"id": 1, "event_timestamp": "t"}]))
        self.assertIsInstance(frame, Frame)
        self.assertEqual(frame.records, [{"id": 1, "v": 2}])
        self.assertEqual(frame.attrs["custos_manifest"], manifest)
        self.assertEqual(self.server.requests[-1].json()["entity_rows"],
                         [{"id": 1, "event_timestamp": "t"}])

    def test_read_context_from_the_scope(self):
        self.route("POST", "/v1/features/online", lambda r: (200, {}, {}))
        c = self.client(token=TOKEN, purpose="fraud-model", environment="prod", zone="eu")
        c.get_online_features(["v:a"], {"id": [1]})
        body = self.server.requests[-1].json()
        self.assertEqual((body["purpose"], body["environment"], body["zone"]),
                         ("fraud-model", "prod", "eu"))
        c.get_online_features(["v:a"], {"id": [1]}, purpose="churn")
        self.assertEqual(self.server.requests[-1].json()["purpose"], "churn")

    def test_stream_owns_the_connection_until_closed(self):
        self.stream([{"a": 1}, {"a": 2}, {"manifest": {"m": 1}}])
        self.route("GET", "/v1/health", lambda r: (200, {}, {"status": "ok"}))
        c = self.client(token=TOKEN)
        rows = c.iter_training_set(["v:a"], [])
        self.assertEqual(next(rows), {"a": 1})
        with self.assertRaisesRegex(custos.CustosError, "a training-set stream is still open"):
            c.health()
        rows.close()  # abandon the rest: the connection is dropped, the client usable again
        self.assertIsNone(c.last_manifest)
        self.assertEqual(c.health(), {"status": "ok"})
        self.assertEqual(self.server.requests[-1].connection, 2)

    def test_training_set_cut_short_or_failing(self):
        c = self.client(token=TOKEN)
        self.stream([{"a": 1}, {"a": 2}])
        with self.assertRaisesRegex(custos.ProtocolError,
                                    "ended after 2 rows without its manifest line"):
            c.get_training_set(["v:a"], [], as_dataframe=False)
        self.assertIsNone(c.last_manifest)
        self.stream([{"a": 1}, {"error": problem("internal", 500, "disk on fire")}])
        with self.assertRaisesRegex(custos.ServerError, "disk on fire"):
            c.get_training_set(["v:a"], [], as_dataframe=False)
        self.stream([{"manifest": {}}, {"a": 1}])
        with self.assertRaisesRegex(custos.ProtocolError, "line 2 follows the manifest"):
            c.get_training_set(["v:a"], [], as_dataframe=False)
        self.route("POST", "/v1/features/training-set",
                   lambda r: (200, {"Content-Type": "application/x-ndjson",
                                    "Transfer-Encoding": "chunked"}, ["{\"a\": 1}\n", "oops\n"]))
        with self.assertRaisesRegex(custos.ProtocolError, "line 2 of the stream is not JSON"):
            c.get_training_set(["v:a"], [], as_dataframe=False)
        self.route("POST", "/v1/features/training-set",
                   lambda r: (403, PROBLEM, problem("forbidden", 403, "denied", audit_index=3)))
        with self.assertRaises(custos.Forbidden):
            c.get_training_set(["v:a"], [], as_dataframe=False)

    def test_access_routes(self):
        record = {"id": "acr_1/x", "state": "pending"}
        self.route("POST", "/v1/access/requests", lambda r: (201, {}, record))
        self.route("POST", "/v1/access/requests/acr_1%2Fx/approve",
                   lambda r: (200, {}, {"request": record, "grant": None}))
        self.route("POST", "/v1/access/requests/acr_1%2Fx/deny", lambda r: (200, {}, record))
        self.route("POST", "/v1/access/grants/g_1/revoke", lambda r: (200, {}, {"id": "g_1"}))
        c = self.client(token=TOKEN)
        self.assertEqual(c.request_access("fraud", "FeatureView::\"v\"", ["read"], "7d", "why"),
                         record)
        self.assertEqual(self.server.requests[-1].json(),
                         {"purpose": "fraud", "resources": ["FeatureView::\"v\""],
                          "actions": ["read"], "duration": "7d", "justification": "why"})
        self.assertIsNone(c.approve("acr_1/x")["grant"])
        self.assertEqual(self.server.requests[-1].json(), {})
        c.approve("acr_1/x", mfa_code=123456)
        self.assertEqual(self.server.requests[-1].json(), {"mfa_code": "123456"})
        c.deny("acr_1/x", "no")
        self.assertEqual(self.server.requests[-1].json(), {"reason": "no"})
        c.revoke("g_1", "done")
        self.assertEqual(self.server.requests[-1].json(), {"reason": "done"})

    def test_audit_routes(self):
        entry = b"\x00\x01sealed event"
        self.route("GET", "/v1/audit/proof/12",
                   lambda r: (200, {}, {"index": 12, "receipt": "c2sp.org/tlog-proof@v1\n",
                                        "entry": base64.b64encode(entry).decode()}))
        self.route("GET", "/v1/audit/pubkey",
                   lambda r: (200, {"Content-Type": "text/plain"}, "log+01020304+AAAA\n"))
        self.route("GET", "/v1/audit/events", lambda r: (200, {}, {"events": [], "next": None}))
        c = self.client(token=TOKEN)
        proof = c.audit_proof(12)
        self.assertEqual((proof.index, proof.entry), (12, entry))
        self.assertEqual(c.audit_pubkey(), "log+01020304+AAAA")
        c.audit_events(principal='User::"alice"', limit=5, decision=None)
        self.assertEqual(self.server.requests[-1].path,
                         "/v1/audit/events?principal=User%3A%3A%22alice%22&limit=5")
        with self.assertRaisesRegex(custos.ReceiptError, "tlog-proof:2: expected 'index"):
            proof.verify("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")

    def test_keep_alive(self):
        self.route("GET", "/v1/health", lambda r: (200, {}, {"status": "ok"}))
        c = self.client()
        for _ in range(3):
            c.health()
        self.assertEqual({r.connection for r in self.server.requests}, {1})

    def test_construction_errors(self):
        with self.assertRaisesRegex(ValueError, "plain http is only allowed to a loopback"):
            custos.Client("http://example.com")
        with self.assertRaisesRegex(ValueError, "must be https://host"):
            custos.Client("ftp://127.0.0.1")
        with self.assertRaisesRegex(ValueError, "cert_file and key_file go together"):
            custos.Client("https://127.0.0.1", cert_file="c.pem")
        with self.assertRaisesRegex(custos.TransportError, "TLS setup failed"):
            custos.Client("https://127.0.0.1", ca_file="/nonexistent/ca.pem")
        c = custos.Client(f"http://127.0.0.1:{free_port()}")
        with self.assertRaisesRegex(custos.TransportError, "cannot reach http://127.0.0.1"):
            c.health()


@unittest.skipUnless(shutil.which("openssl"), "needs the openssl command to make certificates")
class TlsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="custos-tls-test-")
        d = cls.dir

        def run(*args):
            subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=d)

        run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", "ca.key", "-out", "ca.pem", "-days", "1", "-subj", "/CN=test ca")
        for name, ext in (("server", "subjectAltName=IP:127.0.0.1"),
                          ("client", "subjectAltName=URI:custos:ServiceAccount:scorer")):
            run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={name}")
            with open(os.path.join(d, f"{name}.ext"), "w") as f:
                f.write(ext + "\n")
            run("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                "-CAcreateserial", "-out", f"{name}.pem", "-days", "1", "-extfile", f"{name}.ext")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir)

    def path(self, name):
        return os.path.join(self.dir, name)

    def serve(self, require_client_cert):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.path("server.pem"), self.path("server.key"))
        if require_client_cert:
            ctx.verify_mode = ssl.CERT_REQUIRED
            ctx.load_verify_locations(self.path("ca.pem"))
        server = FakeServer(tls=ctx)
        self.addCleanup(server.close)
        server.routes[("GET", "/v1/health")] = lambda r: (200, {}, {"status": "ok"})
        return server

    def test_ca_file(self):
        server = self.serve(False)
        with custos.Client(server.url("https"), ca_file=self.path("ca.pem")) as c:
            self.assertEqual(c.health(), {"status": "ok"})
        with custos.Client(server.url("https")) as c:
            with self.assertRaisesRegex(custos.TransportError,
                                        "certificate .* does not verify.*pass ca_file="):
                c.health()

    def test_mtls(self):
        server = self.serve(True)
        with custos.Client(server.url("https"), ca_file=self.path("ca.pem"),
                           cert_file=self.path("client.pem"),
                           key_file=self.path("client.key")) as c:
            self.assertEqual(c.health(), {"status": "ok"})
        cert = server.requests[0].peer_cert
        self.assertIn(("URI", "custos:ServiceAccount:scorer"), cert["subjectAltName"])
        with custos.Client(server.url("https"), ca_file=self.path("ca.pem")) as c:
            with self.assertRaises(custos.TransportError):
                c.health()


class ErrorsTest(unittest.TestCase):
    def test_redact(self):
        self.assertEqual(errors.redact("a secret-value b", ["secret-value", None, ""]),
                         "a [redacted] b")
        self.assertEqual(errors.redact("short abc", ["abc"]), "short abc")  # too short to matter

    def test_rfc3339(self):
        self.assertEqual(custos.parse_rfc3339("2026-11-23T12:00:00Z"), 1795435200.0)
        self.assertEqual(custos.parse_rfc3339("2026-11-23T13:00:00.5+01:00"), 1795435200.5)
        with self.assertRaisesRegex(ValueError, "not an RFC 3339"):
            custos.parse_rfc3339("2026-11-23")


if __name__ == "__main__":
    unittest.main()
