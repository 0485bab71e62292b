#!/usr/bin/env bash
# End-to-end: the real `custos server` on 127.0.0.1, driven with curl as a client would.
# Covers the pipeline (token exchange, mTLS, policy modes, receipts), the access workflow
# over HTTP (request, two approvals one with TOTP, revocation that holds at once), the
# streamed training set, audit routes, metrics, bad input (malformed JSON, wrong content
# type, oversized body, slow header, unknown route, missing/garbage/expired token, rate
# limit): each gets problem+json with the right status, is on the audit log, and the server
# keeps serving. Ends with a graceful stop and `custos audit verify`.
# Usage: server_api_test.sh CUSTOS_BINARY SOURCE_DIR
set -uo pipefail
custos="$1"
src="$2"
source "$src/tests/e2e/lib.sh"
source "$src/tests/e2e/server_fixture.sh"
trap 'stop_server; rm -rf "$work"' EXIT

source "$src/tests/e2e/http_lib.sh"

check "fixture" 0 fixture_setup
start_server --header-timeout-ms 1500 || exit 1
auth() { echo "Authorization: Bearer $(token "$1" "${2:-fraud-model}")"; }

# --- operations ----------------------------------------------------------------------------
req "health" 200 GET "$url/v1/health"
contains "health body" '"status":"ok"'
req "ready" 200 GET "$url/v1/ready"
req "plain http on loopback" 200 GET "$plain_url/v1/health"
check "https only with the CA" 60 curl -sS -o /dev/null "$url/v1/health"

# --- tokens and online reads ---------------------------------------------------------------
req "token exchange" 200 POST "$url/v1/auth/token" "${J[@]}" \
  -d "{\"api_key\": \"$(cat "$work/keys/alice")\", \"purpose\": \"fraud-model\", \"zone\": \"eu\", \"resources\": [\"FeatureView::*\"], \"actions\": [\"read\"]}"
contains "token issued" '"token":"v4.public.'
has_header "token receipt" Custos-Audit-Index
req "wrong API key" 401 POST "$url/v1/auth/token" "${J[@]}" \
  -d '{"api_key": "ck_notakey", "purpose": "fraud-model"}'
problem "wrong API key" unauthenticated

alice=$(auth alice)
online='{"features": ["customer_transactions"], "entities": {"customer_id": [1001, 1002]}}'
req "alice reads online" 200 POST "$url/v1/features/online" "${J[@]}" -H "$alice" -d "$online"
has_header "online receipt" Custos-Audit-Index
contains "feast shape" '"feature_names"'
contains "raw count" '6'
contains "card masked" 'nnnnnnnnnnnn1111'
check "no clear card for alice" 1 grep -q 4111111111111111 <<<"$out"
receipt=$(grep -i '^custos-audit-index:' <<<"$headers" | tr -dc '0-9')

bob=$(auth bob)
req "bob reads pseudonyms" 200 POST "$url/v1/features/online" "${J[@]}" -H "$bob" -d "$online"
contains "pseudonym" '"ps_'
ivan=$(auth ivan)
req "ivan denied" 403 POST "$url/v1/features/online" "${J[@]}" -H "$ivan" -d "$online"
problem "ivan denied" forbidden
contains "denied says how to ask" "/v1/access/requests"

# mTLS: the model service, no token.
req "scorer over mTLS" 200 POST "$mtls_url/v1/features/online" "${J[@]}" \
  --cert "$work/scorer.crt" --key "$work/scorer.key" \
  -d '{"features": ["customer_transactions:txn_count_7d", "customer_transactions:last_card_number"], "entities": {"customer_id": [1001]}, "purpose": "fraud-model"}'
contains "scorer sees the count" '6'
contains "scorer denied the card" 'DENIED'
check "mTLS without a certificate fails" 1 bash -c \
  "curl -sS -o /dev/null --cacert '$work/ca.pem' -X POST '$mtls_url/v1/health' >/dev/null 2>&1 && exit 0 || exit 1"

# --- bad input -----------------------------------------------------------------------------
req "malformed JSON" 400 POST "$url/v1/features/online" "${J[@]}" -H "$alice" -d '{"features": [1,'
problem "malformed JSON" malformed-json
req "wrong content type" 415 POST "$url/v1/features/online" -H 'Content-Type: text/csv' \
  -H "$alice" -d 'a,b'
problem "wrong content type" unsupported-media-type
head -c 9000000 /dev/zero | tr '\0' 'a' >"$work/big"
req "oversized body" 413 POST "$url/v1/features/online" "${J[@]}" -H "$alice" \
  --data-binary @"$work/big"
problem "oversized body" body-too-large
req "unknown route" 404 GET "$url/v1/nothing-here" -H "$alice"
problem "unknown route" not-found
req "wrong method" 405 DELETE "$url/v1/features/online" -H "$alice"
problem "wrong method" method-not-allowed
req "no token" 401 POST "$url/v1/features/online" "${J[@]}" -d "$online"
problem "no token" unauthenticated
req "garbage token" 401 POST "$url/v1/features/online" "${J[@]}" \
  -H 'Authorization: Bearer v4.public.garbage' -d "$online"
problem "garbage token" unauthenticated
short=$(token alice fraud-model ', "ttl_seconds": 1')
sleep 2.2
req "expired token" 401 POST "$url/v1/features/online" "${J[@]}" -H "Authorization: Bearer $short" \
  -d "$online"
problem "expired token" token-expired
req "unknown feature" 404 POST "$url/v1/features/online" "${J[@]}" -H "$alice" \
  -d '{"features": ["customer_transactions:nope"], "entities": {"customer_id": [1001]}}'
req "bad key type" 400 POST "$url/v1/features/online" "${J[@]}" -H "$alice" \
  -d '{"features": ["customer_transactions"], "entities": {"customer_id": ["x"]}}'
problem "bad key type" invalid-argument
# A slow header: half a request line, then silence past the header timeout.
out=$(python3 - "$plain_url" <<'PY'
import socket, sys, time
host, port = sys.argv[1].split("//")[1].split(":")
s = socket.create_connection((host, int(port)))
s.sendall(b"GET /v1/health HTTP/1.1\r\nHost: x\r\n")
time.sleep(2.5)
s.settimeout(5)
print(s.recv(4096).decode(errors="replace"))
PY
)
contains "slow header gets 408" "408"
contains "slow header problem" "request-timeout"
req "still serving" 200 GET "$url/v1/health"

# --- the access workflow over HTTP ---------------------------------------------------------
req "ivan asks" 201 POST "$url/v1/access/requests" "${J[@]}" -H "$ivan" \
  -d '{"purpose": "fraud-model", "resources": ["FeatureView::customer_transactions"], "actions": ["read"], "duration": "7d", "justification": "Building the Q1 fraud model"}'
rid=$(json 'j["id"]')
contains "pending" '"state":"pending"'
req "ivan cannot approve his own" 403 POST "$url/v1/access/requests/$rid/approve" "${J[@]}" \
  -H "$ivan" -d '{}'
req "olivia approves" 200 POST "$url/v1/access/requests/$rid/approve" "${J[@]}" \
  -H "$(auth olivia)" -d '{}'
# The next step's code: the current one was used to confirm the enrolment (no reuse).
code=$(python3 "$src/tests/e2e/totp_code.py" "$work/carol.uri" 1)
req "carol approves with TOTP" 200 POST "$url/v1/access/requests/$rid/approve" "${J[@]}" \
  -H "$(auth carol)" -d "{\"mfa_code\": \"$code\"}"
gid=$(json 'j["grant"]["id"]')
contains "granted" '"state":"active"'
req "ivan reads now" 200 POST "$url/v1/features/online" "${J[@]}" -H "$ivan" -d "$online"
contains "ivan sees the count" '6'
req "list requests" 200 GET "$url/v1/access/requests?state=approved" -H "$ivan"
contains "approved listed" "$rid"
req "bad state filter" 400 GET "$url/v1/access/requests?state=sideways" -H "$ivan"
req "olivia revokes" 200 POST "$url/v1/access/grants/$gid/revoke" "${J[@]}" -H "$(auth olivia)" \
  -d '{"reason": "project cancelled"}'
contains "revoked" '"state":"revoked"'
req "revoked at once" 403 POST "$url/v1/features/online" "${J[@]}" -H "$ivan" -d "$online"

# --- training set (streamed) ---------------------------------------------------------------
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
req "training set" 200 POST "$url/v1/features/training-set" "${J[@]}" -H "$alice" \
  -d "{\"features\": [\"customer_transactions\"], \"entity_rows\": [{\"customer_id\": 1001, \"event_timestamp\": \"$now\"}, {\"customer_id\": 1003, \"event_timestamp\": \"$now\"}]}"
if grep -qi '^transfer-encoding: chunked' <<<"$headers"; then passed=$((passed + 1)); else
  failed=$((failed + 1)); echo "FAIL: training set not chunked"; fi
contains "manifest last" '{"manifest":'
contains "masked in the set" 'nnnnnnnnnnnn1111'
check "two rows and a manifest" 0 test "$(wc -l <<<"$out")" -eq 3

# --- catalog -------------------------------------------------------------------------------
req "catalog list" 200 GET "$url/v1/catalog/views" -H "$alice"
contains "views listed" '"customer_profile"'
req "catalog get" 200 GET "$url/v1/catalog/views/customer_transactions" -H "$alice"
contains "masks described" 'show_last:4'
req "catalog get unknown" 404 GET "$url/v1/catalog/views/nope" -H "$alice"
problem "unknown view" resource-not-found
files=$(python3 - "$src/examples/fraud" <<'PY'
import json, pathlib, sys
root = pathlib.Path(sys.argv[1])
print(json.dumps({"files": {p.name: p.read_text() for p in sorted(root.glob("*.yaml"))},
                  "dry_run": True}))
PY
)
req "apply dry run by admin" 200 POST "$url/v1/catalog/apply" "${J[@]}" -H "$(auth admin)" -d "$files"
contains "nothing to change" '"changes":false'
req "apply refused for alice" 403 POST "$url/v1/catalog/apply" "${J[@]}" -H "$alice" -d "$files"
req "apply of broken YAML" 400 POST "$url/v1/catalog/apply" "${J[@]}" -H "$(auth admin)" \
  -d '{"files": {"bad.yaml": "kind: FeatureView\nname: [oops"}}'
contains "says where" "bad.yaml"

# --- audit ---------------------------------------------------------------------------------
req "auditor queries refusals" 200 GET "$url/v1/audit/events?decision=deny&limit=1000" \
  -H "$(auth audrey)"
contains "401 recorded" '401 unauthenticated'
contains "415 recorded" '415 unsupported-media-type'
contains "413 recorded" '413 body-too-large'
contains "408 recorded" '408 request-timeout'
contains "404 recorded" '404 not-found'
contains "revoked read recorded" '"principal":"User::\"ivan\""'
req "alice may not read the log" 403 GET "$url/v1/audit/events" -H "$alice"
req "checkpoint" 200 GET "$url/v1/audit/checkpoint"
contains "signed note" 'custos.local/audit'
req "pubkey" 200 GET "$url/v1/audit/pubkey"
req "receipt" 200 GET "$url/v1/audit/proof/$receipt"
contains "tlog-proof" 'c2sp.org/tlog-proof@v1'
req "receipt beyond the log" 404 GET "$url/v1/audit/proof/99999999"
req "tile" 200 GET "$url/v1/audit/tile/0/000.p/1"
req "bad tile path" 400 GET "$url/v1/audit/tile/0/0001"
req "consistency" 200 GET "$url/v1/audit/consistency?from=1&to=5"
req "metrics" 200 GET "$url/v1/metrics"
contains "requests by route and decision" 'custos_http_requests_total{route="features.online",decision="allow"}'
contains "denials counted" 'route="features.online",decision="deny"'
contains "audit size" 'custos_audit_log_entries'
contains "checkpoint age" 'custos_audit_checkpoint_age_seconds'
contains "key ages" 'custos_kek_age_seconds{version="1"'

# --- rate limit, then a graceful stop ------------------------------------------------------
stop_server; check "graceful stop" 0 test $? -eq 0
start_server --rate 1 --burst 3 || exit 1
alice=$(auth alice)
for i in 1 2 3; do curl -s -o /dev/null --cacert "$work/ca.pem" -H "$alice" "$url/v1/catalog/views"; done
req "rate limited" 429 GET "$url/v1/catalog/views" -H "$alice"
problem "rate limited" rate-limited
has_header "retry after" Retry-After
stop_server; check "second graceful stop" 0 test $? -eq 0
check "the log verifies" 0 "$custos" audit verify --dir "$fixture_dir"

echo "server api: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
