#!/usr/bin/env bash
# The server tour (`make demo` runs it last): `custos server` with embedded storage on
# 127.0.0.1, the example repository applied and sample data ingested, then a story over
# HTTPS: a data scientist is denied restricted features, asks for access for a purpose, two
# owners approve (one with a TOTP code), the scientist builds a training set in which some
# features come pseudonymized or masked, a model service reads online features over mTLS, a
# revoked grant stops working at once, and an auditor verifies a receipt (with the Python
# client, trusting only the log's public key) and the whole log.
# Usage: scripts/demo-server.sh [CUSTOS_BINARY]
set -euo pipefail
src="$(cd "$(dirname "$0")/.." && pwd)"
custos="$(realpath "${1:-$src/build/src/cli/custos}")"
work=$(mktemp -d)
source "$src/tests/e2e/server_fixture.sh"
trap 'stop_server || true; rm -rf "$work"' EXIT

say() { printf '\n== %s\n' "$*"; }
# call WHO METHOD PATH [JSON]: prints the request, then the answer (pretty) and its receipt.
call() {
  local who="$1" method="$2" path="$3" body="${4:-}"
  local auth=()
  [ "$who" = "-" ] || auth=(-H "Authorization: Bearer ${tokens[$who]}")
  printf '$ %s %s  (as %s)\n' "$method" "$path" "$who"
  local args=(-sS --cacert "$work/ca.pem" -D "$work/h" -o "$work/b" -w '%{http_code}' -X "$method"
              "${auth[@]}")
  [ -z "$body" ] || args+=(-H 'Content-Type: application/json' -d "$body")
  status=$(curl "${args[@]}" "$url$path")
  answer=$(cat "$work/b")
  receipt=$(grep -i '^custos-audit-index:' "$work/h" | tr -dc '0-9' || true)
  echo "  HTTP $status${receipt:+  (audit receipt: entry $receipt)}"
  if python3 -m json.tool <<<"$answer" >"$work/pretty" 2>/dev/null; then
    head -n "${lines:-14}" "$work/pretty" | sed 's/^/  /'
  else
    head -n "${lines:-14}" <<<"$answer" | cut -c1-160 | sed 's/^/  /'
  fi
}
# want CODE: the tour stops if the last answer was not CODE (CTest runs this script).
want() { [ "$status" = "$1" ] || { echo "demo: expected HTTP $1, got $status" >&2; exit 1; }; }
field() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)" <<<"$answer"; }

say "Setting up: a data directory (Shamir 2-of-3), people, the example feature repository,"
say "fresh transaction data, Cedar policies, API keys, and a client certificate for a model service"
fixture_setup
sed 's/^/  /' "$fixture_dir/policies/server.cedar" | head -14
start_server
echo "custos server: $url (TLS), $mtls_url (mTLS, client certificates required)"

declare -A tokens
for who in alice ivan olivia carol audrey; do tokens[$who]=$(token "$who"); done
echo "Each person exchanged an API key for a 15-minute access token (POST /v1/auth/token)."

online='{"features": ["customer_transactions"], "entities": {"customer_id": [1001]}}'
say "1. Ivan, a data scientist, asks for customer features: nothing allows it yet"
call ivan POST /v1/features/online "$online"
want 403
denied_receipt=$receipt

say "2. He asks for access for a purpose"
call ivan POST /v1/access/requests '{"purpose": "fraud-model", "resources": ["FeatureView::customer_transactions"], "actions": ["read"], "duration": "7d", "justification": "Training the Q1 fraud model"}'
want 201
rid=$(field "['id']")

say "3. The view is restricted: both owners must approve; Carol confirms with her TOTP code"
lines=6 call olivia POST "/v1/access/requests/$rid/approve" '{}'
code=$(python3 "$src/tests/e2e/totp_code.py" "$work/carol.uri" 1)
lines=40 call carol POST "/v1/access/requests/$rid/approve" "{\"mfa_code\": \"$code\"}"
want 200
gid=$(field "['grant']['id']")

say "4. Ivan reads now; Alice (fraud analyst) builds a training set: the card number comes masked"
call ivan POST /v1/features/online '{"features": ["customer_transactions:txn_count_7d"], "entities": {"customer_id": [1001, 1002]}}'
want 200
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
lines=2 call alice POST /v1/features/training-set "{\"features\": [\"customer_transactions\"], \"entity_rows\": [{\"customer_id\": 1001, \"event_timestamp\": \"$now\"}, {\"customer_id\": 1002, \"event_timestamp\": \"$now\"}]}"
echo "  last line: the manifest, with each feature's mode:"
tail -1 <<<"$answer" | python3 -c "import json,sys; print('  ', json.load(sys.stdin)['manifest']['feature_modes'])"
tokens[bob]=$(token bob)
echo "  Bob (researcher) sees only pseudonyms of the same rows:"
lines=1 call bob POST /v1/features/training-set "{\"features\": [\"customer_transactions:last_card_number\"], \"entity_rows\": [{\"customer_id\": 1001, \"event_timestamp\": \"$now\"}]}"

say "5. The fraud-scoring service reads online features over mTLS (its certificate is its identity)"
echo "\$ POST /v1/features/online  (client certificate ServiceAccount::fraud-scorer)"
curl -sS --cacert "$work/ca.pem" --cert "$work/scorer.crt" --key "$work/scorer.key" \
  -H 'Content-Type: application/json' \
  -d '{"features": ["customer_transactions:txn_count_7d", "customer_transactions:last_card_number"], "entities": {"customer_id": [1001]}, "purpose": "fraud-model"}' \
  "$mtls_url/v1/features/online" | python3 -c "
import json, sys
j = json.load(sys.stdin)
for name, r in zip(j['metadata']['feature_names'], j['results']):
    print('  %-45s %-22s %s' % (name, r['values'], r['statuses']))"

say "6. Olivia revokes Ivan's grant: his next read is refused"
lines=4 call olivia POST "/v1/access/grants/$gid/revoke" '{"reason": "project paused"}'
lines=6 call ivan POST /v1/features/online "$online"
want 403

say "7. Audrey, the auditor, asks who read customer data, and verifies a receipt offline"
lines=0 call audrey GET "/v1/audit/events?action=features.online.read&limit=100"
python3 -c "
import json, sys
for e in json.load(sys.stdin)['events']:
    print('  %5d  %-32s %-6s %s' % (e['index'], e['principal'], e['decision'],
          ', '.join(e.get('determining_policies', [])) or e.get('outcome_detail', '')[:60]))" <<<"$answer"
receipt=$denied_receipt
echo "\$ python3 -m custos verify (the receipt of Ivan's denied read, entry $receipt;"
echo "  trusts only the log's public key from GET /v1/audit/pubkey)"
curl -sS --cacert "$work/ca.pem" "$url/v1/audit/pubkey" >"$work/vkey"
curl -sS --cacert "$work/ca.pem" "$url/v1/audit/proof/$receipt" >"$work/proof.json"
python3 -c "import json; j=json.load(open('$work/proof.json')); open('$work/receipt','w').write(j['receipt']); open('$work/entry','w').write(j['entry'])"
PYTHONPATH="$src/python" python3 -m custos verify --entry-base64 "$work/receipt" "$work/entry" \
  "@$work/vkey" | sed 's/^/  /'

say "8. The server stops gracefully; the auditor verifies the whole log from its public data"
stop_server
"$custos" audit verify --dir "$fixture_dir" | tail -3 | sed 's/^/  /'
