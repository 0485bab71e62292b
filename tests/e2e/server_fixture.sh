# A data directory with the example feature repository, people, policies and credentials,
# and a running `custos server` on it: shared by the server's end-to-end tests, the Python
# client's tests, the HTTPS benchmark and the demo. Source it after setting `custos`, `src`
# and `work` (a scratch folder the caller removes).
#
# People: admin; olivia and carol own customer_transactions (restricted; carol has TOTP);
# alice (fraud analyst: raw non-restricted features, the rest masked); bob (researcher:
# pseudonyms); ivan (data scientist with no access yet); audrey (auditor);
# ServiceAccount::fraud-scorer (a model service, client certificate for mTLS).
# Files: $work/keys/<who> (API keys), $work/scorer.crt|key, $work/carol.uri (TOTP secret),
# $work/shares, $work/ca.pem (once the server runs).

fixture_dir="$work/data"
fixture_unseal=(--dir "$fixture_dir" --shares-file "$work/shares")

fixture_setup() {
  local c="$custos" d="$fixture_dir" u=("${fixture_unseal[@]}")
  "$c" init --dir "$d" --shares 3 --threshold 2 --json >"$work/init.json" || return 1
  python3 -c "import json;print('\n'.join(json.load(open('$work/init.json'))['shares'][:2]))" \
    >"$work/shares"
  "$c" principal create User::admin "${u[@]}" >/dev/null || return 1
  local who
  for who in olivia carol alice bob ivan audrey; do
    "$c" principal create "User::$who" "${u[@]}" --as User::admin >/dev/null || return 1
  done
  "$c" principal create ServiceAccount::fraud-scorer "${u[@]}" --as User::admin >/dev/null ||
    return 1
  "$c" apply "$src/examples/fraud" "${u[@]}" --as User::admin >/dev/null || return 1
  local now
  now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  cat >"$work/txns.csv" <<CSV
customer_id,event_ts,created_ts,txn_count_7d,avg_amount_30d,last_card_number,last_txn_time
1001,$now,$now,6,55.75,4111111111111111,2026-11-20T20:05:00Z
1002,$now,$now,1,310.00,5500000000000004,2026-11-19T09:12:00Z
1003,$now,$now,3,12.40,340000000000009,2026-11-21T07:45:00Z
CSV
  "$c" ingest customer_transactions --from "$work/txns.csv" "${u[@]}" --as User::olivia \
    >/dev/null || return 1
  "$c" governance update FeatureView::customer_transactions "${u[@]}" --as User::admin \
    --classification restricted --owner User::olivia --owner User::carol >/dev/null || return 1
  "$c" access purpose define fraud-model "${u[@]}" --as User::admin \
    --description "Training and serving the fraud model" --max-duration 30d >/dev/null || return 1
  "$c" mfa enroll User::carol "${u[@]}" --as User::carol --out "$work/carol.uri" >/dev/null ||
    return 1
  "$c" mfa confirm User::carol "${u[@]}" --as User::carol \
    --code "$(python3 "$src/tests/e2e/totp_code.py" "$work/carol.uri")" >/dev/null || return 1
  mkdir -p "$work/keys"
  for who in admin olivia carol alice bob ivan audrey; do
    "$c" apikey create "User::$who" "${u[@]}" --as User::admin --out "$work/keys/$who" \
      >/dev/null || return 1
  done
  "$c" ca issue ServiceAccount::fraud-scorer "${u[@]}" --as User::admin \
    --out-cert "$work/scorer.crt" --out-key "$work/scorer.key" >/dev/null || return 1
  mkdir -p "$d/policies"
  cat >"$d/policies/server.cedar" <<'CEDAR'
@id("analyst-raw")
permit(principal == User::"alice", action == Action::"read",
       resource in FeatureView::"customer_transactions")
when { resource.classification != "restricted" && context.purpose == "fraud-model" };
@id("analyst-masked")
permit(principal == User::"alice", action == Action::"read_masked",
       resource in FeatureView::"customer_transactions");
@id("researcher-pseudonyms")
permit(principal == User::"bob", action == Action::"read_pseudonymized",
       resource in FeatureView::"customer_transactions");
@id("scorer-reads-online")
permit(principal == ServiceAccount::"fraud-scorer", action == Action::"read",
       resource in FeatureView::"customer_transactions")
when { resource.classification != "restricted" };
@id("everyone-describes-the-catalog")
permit(principal, action == Action::"describe", resource == Catalog::"main");
@id("admin-applies")
permit(principal == User::"admin", action == Action::"apply", resource == Catalog::"main");
@id("auditor-reads-the-log")
permit(principal == User::"audrey", action == Action::"audit_read", resource == AuditLog::"main");
CEDAR
}

# start_server [FLAGS...]: starts the server in the background on free loopback ports
# (HTTPS, mTLS and plain HTTP) and waits until it is ready. Sets server_pid, url,
# mtls_url, plain_url.
start_server() {
  rm -f "$work/ready.json"
  "$custos" server "${fixture_unseal[@]}" --listen 127.0.0.1:0 --mtls-listen 127.0.0.1:0 \
    --plain-listen 127.0.0.1:0 --ready-file "$work/ready.json" --ca-out "$work/ca.pem" "$@" \
    >>"$work/server.log" 2>&1 &
  server_pid=$!
  local i
  for i in $(seq 1 300); do
    [ -s "$work/ready.json" ] && break
    if ! kill -0 "$server_pid" 2>/dev/null; then
      echo "custos server exited early:" >&2
      cat "$work/server.log" >&2
      return 1
    fi
    sleep 0.1
  done
  [ -s "$work/ready.json" ] || { echo "custos server not ready after 30 s" >&2; return 1; }
  url=$(python3 -c "import json;print(json.load(open('$work/ready.json'))['listen']['url'])")
  mtls_url=$(python3 -c "import json;print(json.load(open('$work/ready.json'))['mtls-listen']['url'])")
  plain_url=$(python3 -c "import json;print(json.load(open('$work/ready.json'))['plain-listen']['url'])")
}

# stop_server: SIGTERM (graceful); returns the server's exit code.
stop_server() {
  [ -n "${server_pid:-}" ] || return 0
  kill -TERM "$server_pid" 2>/dev/null
  local code=0
  wait "$server_pid" || code=$?
  server_pid=""
  return "$code"
}

# token WHO [PURPOSE] [EXTRA_JSON]: an access token for WHO through POST /v1/auth/token.
token() {
  local who="$1" purpose="${2:-fraud-model}" extra="${3:-}"
  curl -sS --cacert "$work/ca.pem" -H 'Content-Type: application/json' \
    -d "{\"api_key\": \"$(cat "$work/keys/$who")\", \"purpose\": \"$purpose\", \"zone\": \"eu\",
         \"resources\": [\"FeatureView::*\", \"Feature::*\", \"Catalog::*\", \"AuditLog::*\"],
         \"actions\": [\"read\", \"describe\", \"apply\", \"audit_read\"] $extra}" \
    "$url/v1/auth/token" | python3 -c "import json,sys; print(json.load(sys.stdin)['token'])"
}
