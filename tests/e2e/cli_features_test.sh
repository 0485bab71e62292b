#!/usr/bin/env bash
# End-to-end: issue 6's story through the real `custos` binary. An owner applies the example
# repository and ingests its sources (bad rows are refused with their row numbers, nothing
# half-written); a fraud model's features are read online in Feast's shape, each feature in
# the mode policy allows (raw, masked, pseudonymized per purpose, aggregate-only, denied), a
# row filter hides entities; a point-in-time training set is written with its manifest;
# every read is in the audit log; retention runs; no plaintext value is on disk.
# Usage: cli_features_test.sh CUSTOS_BINARY SOURCE_DIR
set -uo pipefail
custos="$1"
src="$2"
source "$src/tests/e2e/lib.sh"
# `check` replaces $out, so JSON answers are kept in $doc first (keep).
keep() { doc="$out"; }
json() {  # json EXPR: evaluates EXPR on the JSON in $doc (python, variable j)
  python3 -c "import json,sys; j=json.load(sys.stdin); print($1)" <<<"$doc"
}
# The value, status and mode of feature NAME for entity row ROW in a `features get --json`.
feature() {
  python3 -c "
import json,sys
j=json.load(sys.stdin); i=j['metadata']['feature_names'].index('$1'); r=j['results'][i]
print(r['values'][$2], r['statuses'][$2], r['access_mode'])" <<<"$doc"
}

d="$work/data"
repo="$src/examples/fraud"
check "init" 0 "$custos" init --dir "$d" --shares 3 --threshold 2 --json
keep
json '"\n".join(j["shares"][:2])' > "$work/shares"
u=(--dir "$d" --shares-file "$work/shares")
check "create admin" 0 "$custos" principal create User::admin "${u[@]}"
for who in olivia alice bob carol dave; do
  check "create $who" 0 "$custos" principal create "User::$who" "${u[@]}" --as User::admin
done

# --- apply ---------------------------------------------------------------------------------
check "apply dry run" 0 "$custos" apply "$repo" "${u[@]}" --as User::admin --dry-run
contains "plan" "+ feature_view customer_transactions: create version 1"
check "apply" 0 "$custos" apply "$repo" "${u[@]}" --as User::admin
contains "published" "Published catalog generation 1"
check "catalog show" 0 "$custos" catalog show customer_transactions "${u[@]}"
contains "mask shown" "last_card_number  string  restricted  mask show_last:4"

# --- ingestion -----------------------------------------------------------------------------
# Fresh rows (the example's CSV is from January; the view's ttl is 2 days).
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
hour_ago=$(date -u -d '1 hour ago' +%Y-%m-%dT%H:%M:%SZ)
cat > "$work/txns.csv" <<EOF
customer_id,event_ts,created_ts,txn_count_7d,avg_amount_30d,last_card_number,last_txn_time
1001,$hour_ago,$hour_ago,4,52.10,4111111111111111,2025-12-31T18:22:00Z
1001,$now,$now,6,55.75,4111111111111111,2026-01-01T20:05:00Z
1002,$now,$now,1,310.00,5500000000000004,2025-12-30T09:12:00Z
1003,$now,$now,9,,4000056655665556,2025-11-02T10:00:00Z
EOF
cat > "$work/bad.csv" <<EOF
customer_id,event_ts,created_ts,txn_count_7d,avg_amount_30d,last_card_number,last_txn_time
1004,$now,$now,1,1.5,4111,
abc,$now,$now,1,1.5,4111,
1005,not-a-time,$now,1,1.5,4111,
1006,$now,$now,seven,1.5,4111,
EOF
check "bad rows refused" 7 "$custos" ingest customer_transactions --from "$work/bad.csv" "${u[@]}" \
  --as User::olivia
contains "summary with row numbers" "read 4 rows: 1 accepted, 3 rejected (rows 2, 3, 4)"
contains "key type" "customer_id"
contains "nothing written" "nothing was ingested"
printf 'customer_id,event_ts\n1,%s\n' "$now" > "$work/missing.csv"
check "missing column" 3 "$custos" ingest customer_transactions --from "$work/missing.csv" "${u[@]}"
contains "names the column" "txn_count_7d"
check "ingest" 0 "$custos" ingest customer_transactions --from "$work/txns.csv" "${u[@]}" \
  --as User::olivia --json
keep
check "ingested rows" 0 test "$(json 'j["rows_ingested"]')" = 4
check "online rows" 0 test "$(json 'j["online_rows"]')" = 3
check "ingest repo source" 0 "$custos" ingest merchant_risk --repo "$repo" "${u[@]}"
contains "jsonl read" "read 4 rows: 4 accepted, 0 rejected"
check "ingest unknown view" 4 "$custos" ingest nope --repo "$repo" "${u[@]}"

# --- policies ------------------------------------------------------------------------------
mkdir -p "$d/policies"
cat > "$d/policies/features.cedar" <<'EOF'
@id("analyst-raw")
permit(principal == User::"alice", action == Action::"read",
       resource in FeatureView::"customer_transactions")
when { resource.classification != "restricted" && context.purpose == "fraud-model" };
@id("analyst-masked")
permit(principal == User::"alice", action == Action::"read_masked",
       resource in FeatureView::"customer_transactions");
@id("researcher-pseudonymized")
permit(principal == User::"bob", action == Action::"read_pseudonymized",
       resource in FeatureView::"customer_transactions");
@id("statistician-aggregates")
permit(principal == User::"carol", action == Action::"read_aggregate",
       resource in FeatureView::"customer_transactions");
@id("carol-rows")
permit(principal == User::"carol", action == Action::"read_row", resource);
@id("no-inactive")
forbid(principal == User::"carol", action == Action::"read_row", resource)
when { resource has txn_count_7d && resource.txn_count_7d < 2 };
EOF

# --- online reads --------------------------------------------------------------------------
get=(features get customer_transactions "${u[@]}" --entity customer_id=1001
     --entity customer_id=1002 --entity customer_id=9999 --json)
check "alice reads" 0 "$custos" "${get[@]}" --as User::alice --purpose fraud-model
contains "Feast shape" '"feature_names"'
keep
check "raw value" 0 test "$(feature customer_transactions__txn_count_7d 0)" = "6 PRESENT raw"
check "masked card" 0 test "$(feature customer_transactions__last_card_number 0)" = \
  "nnnnnnnnnnnn1111 PRESENT masked"
check "not found" 0 test "$(feature customer_transactions__txn_count_7d 2)" = "None NOT_FOUND raw"
check "other purpose: raw policy does not apply" 0 "$custos" "${get[@]}" --as User::alice \
  --purpose marketing
keep
check "masked instead" 0 test "$(feature customer_transactions__txn_count_7d 0)" = \
  "None DENIED denied"
check "bob pseudonymized" 0 "$custos" "${get[@]}" --as User::bob --purpose fraud-model
keep
p1=$(feature customer_transactions__last_card_number 0)
check "pseudonym form" 0 grep -qE '^ps_[0-9a-f]{32} PRESENT pseudonymized$' <<<"$p1"
check "bob other purpose" 0 "$custos" "${get[@]}" --as User::bob --purpose churn
keep
p2=$(feature customer_transactions__last_card_number 0)
check "unlinkable across purposes" 1 test "$p1" = "$p2"
check "bob again" 0 "$custos" "${get[@]}" --as User::bob --purpose fraud-model
keep
check "stable within a purpose" 0 test "$(feature customer_transactions__last_card_number 0)" = "$p1"
check "dave denied" 0 "$custos" "${get[@]}" --as User::dave --purpose fraud-model
keep
check "denied status" 0 test "$(feature customer_transactions__txn_count_7d 0)" = "None DENIED denied"
check "carol aggregate-only online" 0 "$custos" "${get[@]}" --as User::carol --purpose stats
keep
check "aggregate-only is denied online" 0 test \
  "$(feature customer_transactions__txn_count_7d 0)" = "None DENIED aggregate_only"
check "aggregate refused under k" 7 "$custos" features aggregate \
  customer_transactions:txn_count_7d --fn mean "${u[@]}" --as User::carol --purpose stats
contains "k rule" "at least 10 are required"
check "unknown feature" 4 "$custos" features get customer_transactions:nope "${u[@]}" \
  --as User::alice --entity customer_id=1001
contains "lists features" "its features are: txn_count_7d"
check "wrong key type" 3 "$custos" features get customer_transactions "${u[@]}" --as User::alice \
  --entity customer_id=abc
check "no principal" 3 "$custos" features get customer_transactions "${u[@]}" \
  --entity customer_id=1001

# --- training set --------------------------------------------------------------------------
cat > "$work/rows.csv" <<EOF
customer_id,event_timestamp,label
1001,$now,1
1002,$now,0
1003,$now,0
EOF
check "training set" 0 "$custos" training-set --features customer_transactions "${u[@]}" \
  --as User::alice --purpose fraud-model --entities "$work/rows.csv" --out "$work/train.csv"
contains "modes printed" "customer_transactions:last_card_number: masked"
check "header" 0 grep -q "^customer_id,event_timestamp,label,txn_count_7d,avg_amount_30d,last_card_number,last_txn_time" "$work/train.csv"
check "masked in the file" 0 grep -q "nnnnnnnnnnnn5556" "$work/train.csv"
check "no raw card in the file" 1 grep -q "4000056655665556" "$work/train.csv"
doc=$(cat "$work/train.csv.manifest.json")
check "manifest sha256" 0 test "$(json 'j["output_sha256"]')" = "$(sha256sum "$work/train.csv" | cut -d' ' -f1)"
check "manifest principal" 0 test "$(json 'j["principal"]')" = 'User::"alice"'
check "manifest modes" 0 test "$(json 'j["feature_modes"]["customer_transactions:last_card_number"]')" = masked
check "manifest versions" 0 test "$(json 'j["view_versions"][0]')" = "customer_transactions:v1"
check "carol training set: rows filtered" 0 "$custos" training-set --features \
  customer_transactions:txn_count_7d "${u[@]}" --as User::carol --purpose stats \
  --entities "$work/rows.csv" --out "$work/carol.jsonl"
doc=$(cat "$work/carol.jsonl.manifest.json")
check "aggregate-only withheld" 0 test "$(json 'j["feature_modes"]["customer_transactions:txn_count_7d"]')" = aggregate_only
check "carol gets no feature column" 1 grep -q "txn_count_7d" "$work/carol.jsonl"

# --- audit ---------------------------------------------------------------------------------
check "audit query reads" 0 "$custos" audit query "${u[@]}" --principal User::alice \
  --action features.online.read --json
contains "modes in the audit event" "masked"
contains "determining policy" "analyst-masked"
check "audit ingest" 0 "$custos" audit query "${u[@]}" --action features.ingest --json
contains "ingest event" "rows=4 rejected=0 online=3"
check "audit training set" 0 "$custos" audit query "${u[@]}" --action features.training_set --json
contains "training-set event" "features.training_set"
check "retention" 0 "$custos" features retention "${u[@]}" --as User::admin
contains "retention report" "crypto-shredded 0 expired versions"
check "verify" 0 "$custos" audit verify --dir "$d"

# --- PostgreSQL: a table source and entity rows from a query (a real server) ---------------
pg="$work/pg"
chmod a+x "$work"  # as root the server runs as user postgres, who must reach its folder
check "postgres starts" 0 bash "$src/scripts/pg-test-server.sh" start "$pg"
trap 'bash "$src/scripts/pg-test-server.sh" stop "$pg" >/dev/null 2>&1; rm -rf "$work"' EXIT
export CUSTOS_E2E_PG_DSN
CUSTOS_E2E_PG_DSN=$(cat "$pg/dsn")
psql_bin="$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -1)/psql"
check "postgres table" 0 "$psql_bin" "$CUSTOS_E2E_PG_DSN" -v ON_ERROR_STOP=1 -q -c "
  CREATE TABLE device_scores (device_id bigint, seen_at timestamptz, score float8,
                              tags text[], vendor text);
  INSERT INTO device_scores VALUES
    (7, now() - interval '2 hours', 0.25, '{new,mobile}', 'acme'),
    (7, now() - interval '1 hour', 0.75, '{mobile}', 'acme'),
    (8, now() - interval '1 hour', 0.5, NULL, 'zeta');
  CREATE TABLE label_rows (device_id bigint, event_timestamp timestamptz, label int);
  INSERT INTO label_rows VALUES (7, now(), 1), (8, now(), 0);"
mkdir -p "$work/pgrepo"
cat > "$work/pgrepo/devices.yaml" <<'YAML'
kind: Entity
name: device
join_keys: [{name: device_id, type: int64}]
---
kind: DataSource
name: device_scores
type: postgres
table: device_scores
dsn_env: CUSTOS_E2E_PG_DSN
timestamp_field: seen_at
---
kind: FeatureView
name: device_risk
entities: [device]
source: device_scores
owners: ['User::"olivia"']
ttl: 1d
features:
  - {name: score, type: double}
  - {name: tags, type: list<string>}
  - {name: vendor, type: string, mask: redact}
YAML
check "apply postgres repo" 0 "$custos" apply "$work/pgrepo" "${u[@]}" --as User::admin
check "ingest from postgres" 0 "$custos" ingest device_risk "${u[@]}" --as User::olivia
contains "postgres rows" "read 3 rows: 3 accepted, 0 rejected"
cat >> "$d/policies/features.cedar" <<'CEDAR'
@id("alice-devices")
permit(principal == User::"alice", action in [Action::"read", Action::"read_masked"],
       resource in FeatureView::"device_risk");
CEDAR
check "read postgres-fed view" 0 "$custos" features get device_risk:score "${u[@]}" --as User::alice \
  --entity device_id=7 --json
keep
check "latest postgres row online" 0 test "$(feature device_risk__score 0)" = "0.75 PRESENT raw"
check "training set from a postgres query" 0 "$custos" training-set --features device_risk:score \
  "${u[@]}" --as User::alice --purpose fraud-model --out "$work/devices.csv" \
  --entities-query "SELECT device_id, event_timestamp, label FROM label_rows ORDER BY device_id" \
  --entities-dsn-env CUSTOS_E2E_PG_DSN
check "postgres training rows" 0 test "$(sed -n 2p "$work/devices.csv" | cut -d, -f1,3,4 | tr -d "\r")" = "7,1,0.75"
unset CUSTOS_E2E_PG_DSN
check "missing DSN variable" 7 "$custos" ingest device_risk "${u[@]}"
contains "names the variable" "CUSTOS_E2E_PG_DSN"

# --- nothing in clear on disk --------------------------------------------------------------
check "no card number on disk" 1 grep -rqa "4111111111111111" "$d"
check "no masked value on disk" 1 grep -rqa "5500000000000004" "$d"

echo "cli_features_test: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
