"""End-to-end tests of custos.Client against a real `custos server`, started on the shared
fixture (tests/e2e/server_fixture.sh) by tests/e2e/python_client_test.sh, which passes
everything through environment variables:

  CUSTOS_E2E_URL        https://127.0.0.1:PORT           CUSTOS_E2E_CA     the CA certificate
  CUSTOS_E2E_KEYS       folder of API key files named <who> (admin olivia carol alice bob
                        ivan audrey)
  CUSTOS_E2E_VKEY_FILE  the data directory's audit.pub, the log's verifier key (pinned)
  CUSTOS_E2E_CAROL_URI  carol's otpauth:// URI file      CUSTOS_E2E_TOTP   totp_code.py
  CUSTOS_E2E_NOW        the RFC 3339 time of the ingested rows
  CUSTOS_E2E_MTLS_URL, CUSTOS_E2E_CLIENT_CERT, CUSTOS_E2E_CLIENT_KEY: the mTLS listener and
                        ServiceAccount::fraud-scorer's certificate from `custos ca issue`
  CUSTOS_E2E_PLAIN_URL  the plain-HTTP loopback listener

People (the fixture's): olivia and carol own the restricted customer_transactions (carol has
TOTP); alice reads raw non-restricted features and the rest masked; bob reads pseudonyms; ivan
has no access; audrey may read the audit log. The purpose is fraud-model.

The whole class is skipped when CUSTOS_E2E_URL is not set (a plain `unittest discover`); the
script sets it and fails if anything but the DataFrame test (without pandas) skips."""
import os
import subprocess
import sys
import time
import unittest

import _paths  # noqa: F401  (sets sys.path)
import custos
from custos import receipt

ENV = os.environ
URL = ENV.get("CUSTOS_E2E_URL")
VIEW = "customer_transactions"
RESOURCE = f'FeatureView::"{VIEW}"'  # restricted; owners olivia and carol
SCOPE = dict(environment="dev", zone="eu", resources=["*"],
             actions=ENV.get("CUSTOS_E2E_ACTIONS",
                             "read,describe,audit_read,approve,deny,revoke").split(","))


def key(user):
    with open(os.path.join(ENV["CUSTOS_E2E_KEYS"], user)) as f:
        return f.read().strip()


@unittest.skipUnless(URL, "CUSTOS_E2E_URL not set (run tests/e2e/python_client_test.sh)")
class E2ETest(unittest.TestCase):
    def client(self, user=None, purpose="fraud-model", **kwargs):
        if user is not None:
            kwargs.setdefault("api_key", key(user))
            for k, v in SCOPE.items():
                kwargs.setdefault(k, v)
            kwargs["purpose"] = purpose
        c = custos.Client(URL, ca_file=ENV["CUSTOS_E2E_CA"], **kwargs)
        self.addCleanup(c.close)
        return c

    def test_health_and_ready(self):
        c = self.client()
        self.assertEqual(c.health()["status"], "ok")
        self.assertEqual(c.ready()["status"], "ready")

    def test_plain_http_on_loopback(self):
        with custos.Client(ENV["CUSTOS_E2E_PLAIN_URL"]) as c:
            self.assertEqual(c.health()["status"], "ok")

    def test_researcher_reads_pseudonyms(self):
        c = self.client("bob")
        answer = custos.online_features_to_dict(
            c.get_online_features([VIEW], {"customer_id": [1001, 1002]}))
        cards = answer[f"{VIEW}__last_card_number"]
        self.assertEqual(len(cards), 2)
        for card in cards:
            self.assertTrue(str(card).startswith("ps_"), answer)
        self.assertNotEqual(cards[0], cards[1])
        self.assertNotIn("4111111111111111", str(answer))
        self.assertIsInstance(c.last_receipt, int)

    def test_tls_needs_the_custos_ca(self):
        with custos.Client(URL) as c:  # the system CAs do not know the custos CA
            with self.assertRaisesRegex(custos.TransportError, "does not verify"):
                c.health()

    def test_catalog(self):
        c = self.client("alice")
        names = [v["name"] for v in c.list_views()]
        self.assertIn(VIEW, names)
        self.assertEqual(c.get_view(VIEW)["name"], VIEW)
        with self.assertRaises(custos.NotFound) as ctx:
            c.get_view("no_such_view")
        self.assertEqual(ctx.exception.status, 404)

    def test_online_features_with_a_token(self):
        c = self.client("alice")
        answer = c.get_online_features([VIEW], {"customer_id": [1001, 1002, 9999]})
        self.assertIsInstance(c.last_receipt, int)
        names = answer["metadata"]["feature_names"]
        col = {n: r for n, r in zip(names, answer["results"])}
        count = col[f"{VIEW}__txn_count_7d"]
        self.assertEqual(count["values"], [6, 1, None])
        self.assertEqual(count["statuses"], ["PRESENT", "PRESENT", "NOT_FOUND"])
        card = col[f"{VIEW}__last_card_number"]
        self.assertEqual(card["values"][:2], ["nnnnnnnnnnnn1111", "nnnnnnnnnnnn0004"])
        as_dict = custos.online_features_to_dict(answer)
        self.assertEqual(as_dict[f"{VIEW}__txn_count_7d"], [6, 1, None])
        # A second call gets a later audit index.
        first = c.last_receipt
        c.get_online_features([f"{VIEW}:txn_count_7d"], {"customer_id": [1001]})
        self.assertGreater(c.last_receipt, first)
        self.assertEqual(c.token_info["subject"], 'User::"alice"')

    def test_service_account_over_mtls(self):
        with custos.Client(ENV["CUSTOS_E2E_MTLS_URL"], ca_file=ENV["CUSTOS_E2E_CA"],
                           cert_file=ENV["CUSTOS_E2E_CLIENT_CERT"],
                           key_file=ENV["CUSTOS_E2E_CLIENT_KEY"],
                           purpose="fraud-model", environment="dev", zone="eu") as c:
            answer = custos.online_features_to_dict(
                c.get_online_features([VIEW], {"customer_id": [1001]}))
            self.assertEqual(answer[f"{VIEW}__txn_count_7d"], [6])
            self.assertEqual(answer[f"{VIEW}__last_card_number"], [None])  # restricted
            self.assertIsInstance(c.last_receipt, int)
            receipt_index = c.last_receipt
        # The audit log names the service account the certificate belongs to.
        page = self.client("audrey").audit_events(principal="ServiceAccount::fraud-scorer",
                                                  limit=1000)
        hits = [e for e in page["events"] if e["index"] == receipt_index]
        self.assertEqual(len(hits), 1, page)
        self.assertEqual(hits[0]["principal"], 'ServiceAccount::"fraud-scorer"')
        # Without a client certificate the mTLS listener refuses the handshake.
        with custos.Client(ENV["CUSTOS_E2E_MTLS_URL"], ca_file=ENV["CUSTOS_E2E_CA"]) as c:
            with self.assertRaises(custos.TransportError):
                c.get_online_features([VIEW], {"customer_id": [1001]})

    def test_no_policy_is_403_with_a_receipt(self):
        c = self.client("ivan")  # no policy or grant lets ivan read
        with self.assertRaises(custos.Forbidden) as ctx:
            c.get_online_features([VIEW], {"customer_id": [1001]})
        e = ctx.exception
        self.assertEqual((e.status, e.slug), (403, "forbidden"))
        self.assertIn('User::"ivan"', e.detail)
        self.assertIsInstance(e.audit_index, int)
        self.assertEqual(c.last_receipt, e.audit_index)
        # The refusal itself is on the log, with a receipt like any request.
        proof = self.proof_for(self.client(), e.audit_index)
        with open(ENV["CUSTOS_E2E_VKEY_FILE"]) as f:
            custos.verify_receipt(proof.receipt, proof.entry, f.read().strip())

    def test_audit_events_show_the_refusal(self):
        with self.assertRaises(custos.Forbidden) as ctx:
            self.client("ivan").get_online_features([VIEW], {"customer_id": [1001]})
        index = ctx.exception.audit_index
        audrey = self.client("audrey")
        page = audrey.audit_events(principal="User::ivan", decision="deny", limit=1000)
        hits = [e for e in page["events"] if e["index"] == index]
        self.assertEqual(len(hits), 1, page)
        self.assertEqual((hits[0]["principal"], hits[0]["decision"]), ('User::"ivan"', "deny"))
        with self.assertRaises(custos.Forbidden):  # no policy lets alice read the log
            self.client("alice").audit_events(limit=1)

    def test_token_scope_outside_the_resource_is_403(self):
        c = self.client("alice", resources=['FeatureView::"merchant_risk"'])
        with self.assertRaises(custos.Forbidden) as ctx:
            c.get_online_features([f"{VIEW}:txn_count_7d"], {"customer_id": [1001]})
        e = ctx.exception
        self.assertEqual((e.status, e.slug), (403, "forbidden"))
        self.assertTrue(e.detail)
        self.assertIsInstance(e.audit_index, int)
        self.assertEqual(c.last_receipt, e.audit_index)
        self.assertNotIn(key("alice"), str(e))

    def totp(self, offset):
        out = subprocess.run([sys.executable, ENV["CUSTOS_E2E_TOTP"], ENV["CUSTOS_E2E_CAROL_URI"],
                              str(offset)], check=True, capture_output=True, text=True)
        return out.stdout.strip()

    def test_access_request_two_approvals_one_with_mfa(self):
        ivan = self.client("ivan")
        with self.assertRaises(custos.Forbidden):  # nothing lets ivan read yet
            ivan.get_online_features([VIEW], {"customer_id": [1001]})
        record = ivan.request_access("fraud-model", [RESOURCE], ["read"], "7d",
                                     "Building the Q1 fraud model")
        rid = record["id"]
        self.assertTrue(rid.startswith("acr_"), rid)
        self.assertEqual(record["state"], "pending")
        self.assertIn(rid, [r["id"] for r in ivan.list_access_requests(state="pending")])
        with self.assertRaises(custos.BadRequest) as ctx:
            ivan.request_access("fraud-model", [RESOURCE], ["read"], "7 days", "bad duration")
        self.assertEqual(ctx.exception.slug, "invalid-argument")
        with self.assertRaises(custos.Forbidden):
            ivan.approve(rid)  # never one's own request
        with self.assertRaises(custos.Forbidden):
            self.client("alice").approve(rid)  # not an owner
        olivia = self.client("olivia")
        first = olivia.approve(rid)
        self.assertIsNone(first["grant"])
        self.assertEqual(first["request"]["state"], "pending")
        with self.assertRaises((custos.Conflict, custos.BadRequest)):
            olivia.approve(rid)  # the same owner twice
        carol = self.client("carol")
        # The next step's code: the current one confirmed the enrolment (no reuse).
        second = carol.approve(rid, mfa_code=self.totp(1))
        grant = second["grant"]
        self.assertIsNotNone(grant)
        self.assertEqual(second["request"]["state"], "approved")
        gid = grant["id"]
        # Later tests count on ivan having no access: revoke even if an assertion fails.
        self.addCleanup(self.revoke_quietly, gid)
        self.assertIn(gid, [g["id"] for g in carol.list_grants(state="active")])
        self.assertEqual(carol.get_grant(gid)["state"], "active")
        self.assertEqual(carol.get_access_request(rid)["state"], "approved")
        # The grant holds at once, and its revocation too.
        answer = custos.online_features_to_dict(
            ivan.get_online_features([f"{VIEW}:txn_count_7d"], {"customer_id": [1001]}))
        self.assertEqual(answer[f"{VIEW}__txn_count_7d"], [6])
        revoked = olivia.revoke(gid, "project paused")
        self.assertEqual(revoked["state"], "revoked")
        self.assertNotIn(gid, [g["id"] for g in carol.list_grants(state="active")])
        with self.assertRaises(custos.Forbidden):
            ivan.get_online_features([f"{VIEW}:txn_count_7d"], {"customer_id": [1001]})

    def revoke_quietly(self, gid):
        try:
            self.client("olivia").revoke(gid, "test cleanup")
        except custos.CustosError:
            pass  # already revoked

    def test_deny(self):
        ivan = self.client("ivan")
        rid = ivan.request_access("fraud-model", [RESOURCE], ["read"], "1d", "try")["id"]
        denied = self.client("olivia").deny(rid, "not needed")
        self.assertEqual(denied["state"], "denied")
        with self.assertRaises(custos.CustosError) as ctx:
            self.client("carol").approve(rid)
        self.assertEqual(ctx.exception.status, 409, str(ctx.exception))
        self.assertIn(ctx.exception.slug, ("conflict", "failed-precondition"))

    def entity_rows(self):
        now = ENV["CUSTOS_E2E_NOW"]
        return [{"customer_id": 1001, "event_timestamp": now},
                {"customer_id": 1002, "event_timestamp": now},
                {"customer_id": 1003, "event_timestamp": now}]

    def test_training_set_rows(self):
        c = self.client("alice")
        rows = c.get_training_set([VIEW], self.entity_rows(), as_dataframe=False)
        self.assertEqual([r["customer_id"] for r in rows], [1001, 1002, 1003])
        self.assertEqual([r["txn_count_7d"] for r in rows], [6, 1, 3])
        self.assertEqual([r["last_card_number"] for r in rows],
                         ["nnnnnnnnnnnn1111", "nnnnnnnnnnnn0004", "nnnnnnnnnnn0009"])
        m = rows.manifest
        self.assertEqual(m["principal"], 'User::"alice"')
        self.assertEqual(m["feature_modes"][f"{VIEW}:last_card_number"], "masked")
        self.assertIsInstance(c.last_receipt, int)

    def test_training_set_dataframe(self):
        try:
            import pandas  # noqa: F401
        except ImportError:
            self.skipTest("pandas is not installed")
        frame = self.client("alice").get_training_set([VIEW], self.entity_rows())
        self.assertEqual(list(frame["customer_id"]), [1001, 1002, 1003])
        self.assertEqual([int(v) for v in frame["txn_count_7d"]], [6, 1, 3])
        self.assertEqual(list(frame["last_card_number"]),
                         ["nnnnnnnnnnnn1111", "nnnnnnnnnnnn0004", "nnnnnnnnnnn0009"])
        self.assertEqual(frame.attrs["custos_manifest"]["feature_modes"][
            f"{VIEW}:last_card_number"], "masked")
        self.assertEqual(frame.attrs["custos_manifest"]["principal"], 'User::"alice"')

    def proof_for(self, c, index):
        # The newest entries are in a checkpoint within about a second.
        deadline = time.time() + 10
        while True:
            try:
                return c.audit_proof(index)
            except (custos.Unavailable, custos.FailedPrecondition, custos.NotFound):
                if time.time() > deadline:
                    raise
                time.sleep(0.3)

    def test_receipt_of_a_real_request(self):
        c = self.client("alice")
        c.get_online_features([f"{VIEW}:txn_count_7d"], {"customer_id": [1001]})
        index = c.last_receipt
        with open(ENV["CUSTOS_E2E_VKEY_FILE"]) as f:
            pinned = f.read().strip()
        self.assertEqual(c.audit_pubkey(), pinned)
        proof = self.proof_for(self.client(), index)  # public: no credentials
        self.assertEqual(proof.index, index)
        for backend in ("cryptography", "openssl"):
            if not receipt.ed25519_backend_available(backend):
                continue
            with self.subTest(backend=backend):
                cp = custos.verify_receipt(proof.receipt, proof.entry, pinned,
                                           origin="custos.local/audit", backend=backend)
                self.assertGreater(cp.size, index)
        with self.assertRaisesRegex(custos.ReceiptError, "lead to root"):
            custos.verify_receipt(proof.receipt, proof.entry + b"x", pinned)
        with self.assertRaisesRegex(custos.ReceiptError, "no signature by a trusted key"):
            custos.verify_receipt(proof.receipt, proof.entry,
                                  "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")
        latest = custos.open_checkpoint(c.checkpoint(), pinned, origin="custos.local/audit")
        self.assertGreaterEqual(latest.size, cp.size)
        # The log only grows: the receipt's checkpoint is consistent with a later one.
        c.get_online_features([f"{VIEW}:txn_count_7d"], {"customer_id": [1002]})
        newer = custos.open_checkpoint(c.checkpoint(), pinned, origin="custos.local/audit")
        self.assertGreater(newer.size, cp.size)
        proof_hashes = c.audit_consistency(cp.size, newer.size)
        custos.verify_checkpoint_consistency(cp, newer, proof_hashes)
        with self.assertRaisesRegex(custos.ReceiptError, "consistency proof"):
            custos.verify_checkpoint_consistency(
                custos.Checkpoint(cp.origin, cp.size, bytes(32)), newer, proof_hashes)

    def test_garbage_and_tampered_tokens_are_401(self):
        with self.assertRaises(custos.Unauthenticated) as ctx:
            self.client(token="garbage").list_views()
        self.assertEqual(ctx.exception.status, 401)
        self.assertNotIn("garbage", str(ctx.exception))
        good = self.client("alice")
        good.login()
        token = good._token
        tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
        with self.assertRaises(custos.Unauthenticated) as ctx:
            self.client(token=tampered).list_views()
        self.assertNotIn(tampered, str(ctx.exception))
        with self.assertRaises(custos.Unauthenticated):
            self.client(api_key="custos_ak_0000000000000000000000000000_" + "A" * 43,
                        **SCOPE, purpose="p").list_views()

    def test_expired_token_is_401(self):
        c = self.client("alice")
        c.login(ttl_seconds=1)
        token = c._token
        time.sleep(2.2)
        with self.assertRaises(custos.Unauthenticated) as ctx:
            self.client(token=token).list_views()
        self.assertEqual(ctx.exception.slug, "token-expired")
        # With the API key the client logs in again by itself.
        self.assertIn(VIEW, [v["name"] for v in c.list_views()])

    def test_problem_for_bad_input(self):
        c = self.client("alice")
        with self.assertRaises(custos.BadRequest) as ctx:
            c.get_online_features([VIEW], {"customer_id": ["not-a-number"]})
        self.assertEqual(ctx.exception.status, 400)
        self.assertTrue(ctx.exception.detail)


if __name__ == "__main__":
    unittest.main()
