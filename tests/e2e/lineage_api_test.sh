#!/usr/bin/env bash
# End-to-end: lineage through the real `custos server` on 127.0.0.1 (issue 8). The fixture's
# apply and ingestion (CLI) captured their lineage; a pipeline (the scorer, over mTLS) reports
# a training run as OpenLineage, at /v1/lineage/openlineage and at Marquez's /api/v1/lineage;
# analysts walk, query and export the graph with tokens; the auditor asks who read the
# model's inputs and verifies; bad input (a cycle, a dangling edge, a changed node, an event
# that breaks the schema, malformed JSON) is refused with problem+json, audited, and stores
# nothing. Ends with a graceful stop and `custos lineage verify` / `audit verify` offline.
# Usage: lineage_api_test.sh CUSTOS_BINARY SOURCE_DIR
set -uo pipefail
custos="$1"
src="$2"
source "$src/tests/e2e/lib.sh"
source "$src/tests/e2e/server_fixture.sh"
trap 'stop_server; rm -rf "$work"' EXIT
source "$src/tests/e2e/http_lib.sh"
expect() {  # expect NAME PYTHON_EXPR EXPECTED: the expression on $out (kept for the next check)
  local got
  got=$(json "$2")
  if [ "$got" = "$3" ]; then passed=$((passed + 1)); else
    failed=$((failed + 1)); echo "FAIL: $1: got '$got', expected '$3'"; fi
}

check "fixture" 0 fixture_setup
cat >"$fixture_dir/policies/lineage.cedar" <<'CEDAR'
@id("pipelines-record-lineage")
permit(principal == ServiceAccount::"fraud-scorer", action == Action::"lineage_write",
       resource == Lineage::"main");
@id("people-read-lineage")
permit(principal is User, action == Action::"lineage_read", resource == Lineage::"main");
CEDAR
start_server --lineage-emit "file:$work/emitted.jsonl" || exit 1

# A token for WHO allowed the lineage actions (scope) on Lineage and the audit log.
lineage_token() {
  curl -sS --cacert "$work/ca.pem" -H 'Content-Type: application/json' \
    -d "{\"api_key\": \"$(cat "$work/keys/$1")\", \"purpose\": \"lineage\", \"zone\": \"eu\",
         \"resources\": [\"Lineage::*\", \"AuditLog::*\"],
         \"actions\": [\"lineage_read\", \"lineage_write\", \"audit_read\"]}" \
    "$url/v1/auth/token" | python3 -c "import json,sys; print(json.load(sys.stdin)['token'])"
}
alice=(-H "Authorization: Bearer $(lineage_token alice)")
audrey=(-H "Authorization: Bearer $(lineage_token audrey)")
ivan=(-H "Authorization: Bearer $(lineage_token ivan)")
scorer=(--cert "$work/scorer.crt" --key "$work/scorer.key")
src_sha=$(sha256sum "$work/txns.csv" | cut -d' ' -f1)
source_id="source:file://$(realpath "$work/txns.csv")@sha256:$src_sha"
view_id="feature_view:customer_transactions@1"

# --- captured by the CLI: apply and ingestion ------------------------------------------------
req "the ingested view's upstream" 200 GET "$url/v1/lineage/upstream" -G \
  --data-urlencode "node=$view_id" "${alice[@]}"
has_header "upstream receipt" Custos-Audit-Index
contains "ingest transformation" '"transformation:custos/ingest@0.1.0"'
contains "the source file by its hash" "\"$source_id\""
req "the view node" 200 GET "$url/v1/lineage/node" -G --data-urlencode "node=$view_id" \
  "${alice[@]}"
expect "recorded by the apply" "j['recorded']['origin']" "custos:apply"
contains "classification kept" '"classification":"confidential"'

# --- OpenLineage in, over mTLS, at both paths -------------------------------------------------
run1=3f5e0c1a-8c1b-4b9e-9d7e-1f2a3b4c5d6e
run2=4a6f1d2b-9d2c-4cae-8e8f-2a3b4c5d6e7f
event() {  # event RUN_ID JOB INPUT_NAME OUTPUT_NAME OUTPUT_VERSION
  cat <<JSON
{"eventType": "COMPLETE", "eventTime": "2026-11-20T10:00:00Z",
 "producer": "https://github.com/apache/airflow", "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/\$defs/RunEvent",
 "run": {"runId": "$1"}, "job": {"namespace": "airflow", "name": "$2",
   "facets": {"sourceCodeLocation": {"_producer": "https://github.com/apache/airflow",
     "_schemaURL": "https://openlineage.io/spec/facets/1-0-1/SourceCodeLocationJobFacet.json#/\$defs/SourceCodeLocationJobFacet",
     "type": "git", "url": "https://git.example.com/ml/fraud.git", "version": "9f1c2ab"}}},
 "inputs": [{"namespace": "custos", "name": "$3"}],
 "outputs": [{"namespace": "custos", "name": "$4", "facets": {"version": {
   "_producer": "https://github.com/apache/airflow",
   "_schemaURL": "https://openlineage.io/spec/facets/1-0-1/DatasetVersionDatasetFacet.json#/\$defs/DatasetVersionDatasetFacet",
   "datasetVersion": "$5"}}}]}
JSON
}
req "a training run as OpenLineage" 201 POST "$mtls_url/v1/lineage/openlineage" "${J[@]}" \
  "${scorer[@]}" -d "$(event $run1 train_fraud feature_view:customer_transactions model:fraud 7)"
has_header "openlineage receipt" Custos-Audit-Index
expect "two edges" "j['edges']" 2
req "a deployment at Marquez's path" 201 POST "$mtls_url/api/v1/lineage" "${J[@]}" \
  "${scorer[@]}" -d "$(event $run2 deploy_fraud model:fraud deployment:fraud-prod 1)"
req "a batch of two: one recorded, one refused" 200 POST "$mtls_url/v1/lineage/openlineage" \
  "${J[@]}" "${scorer[@]}" \
  -d "[$(event 5b7a2e3c-ae3d-4dbf-9f90-3b4c5d6e7f80 score deployment:fraud-prod prediction:batch-1 1), {\"eventType\": \"COMPLETE\"}]"
expect "batch: first recorded" "'lineage_audit_index' in j['results'][0]" True
expect "batch: second refused" "j['results'][1]['code']" INVALID_ARGUMENT

# --- a training set built through the API is captured (and emitted as OpenLineage) ----------
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
req "a training set over HTTPS" 200 POST "$url/v1/features/training-set" "${J[@]}" \
  -H "Authorization: Bearer $(token alice)" \
  -d "{\"features\": [\"customer_transactions\"], \"name\": \"fraud-train\", \"entity_rows\": [{\"customer_id\": 1001, \"event_timestamp\": \"$now\"}]}"
contains "its lineage node in the last line" '"lineage":{"node":"training_set:fraud-train@sha256:'
capture_after_build=$(tail -1 <<<"$out" | python3 -c "import json,sys; j=json.load(sys.stdin); print(j['lineage']['audit_index'] > j['manifest']['audit_index'])")
ts_id=$(tail -1 <<<"$out" | python3 -c "import json,sys; print(json.load(sys.stdin)['lineage']['node'])")
check "the capture's audit record follows the build's" 0 test "$capture_after_build" = True
req "the training set's upstream" 200 GET "$url/v1/lineage/upstream" -G \
  --data-urlencode "node=$ts_id" "${alice[@]}"
contains "built from the view" "\"$view_id\""
contains "by the training-set build" '"transformation:custos/training-set@0.1.0"'

# --- queries -----------------------------------------------------------------------------------
req "model upstream" 200 GET "$url/v1/lineage/upstream" -G --data-urlencode "node=model:fraud@7" \
  "${alice[@]}"
contains "the job, by code version" '"transformation:airflow/train_fraud@9f1c2ab"'
contains "the view version" "\"$view_id\""
contains "down to the source" "\"$source_id\""
expect "code reference kept" "[n['attributes'].get('code_ref') for n in j['nodes'] if n['kind'] == 'transformation'][0]" "https://git.example.com/ml/fraud.git"
req "depth 1 stops at the job" 200 GET "$url/v1/lineage/upstream" -G \
  --data-urlencode "node=model:fraud@7" -d depth=1 "${alice[@]}"
expect "depth 1: two nodes" "len(j['nodes'])" 2
req "contributors" 200 GET "$url/v1/lineage/contributors" -G \
  --data-urlencode "node=model:fraud@7" "${alice[@]}"
expect "contributing view" "j['by_kind']['feature_view']" "['$view_id']"
expect "contributing source" "j['by_kind']['source']" "['$source_id']"
contains "who recorded" 'User::\"olivia\"'
req "impact of the source" 200 GET "$url/v1/lineage/impact" -G \
  --data-urlencode "node=$source_id" "${alice[@]}"
expect "the source reaches the predictions" "j['by_kind']['prediction']" "['prediction:batch-1@1']"
expect "and the deployment" "j['by_kind']['deployment']" "['deployment:fraud-prod@1']"
req "downstream of the view" 200 GET "$url/v1/lineage/downstream" -G \
  --data-urlencode "node=$view_id" "${alice[@]}"
contains "the model is downstream" '"model:fraud@7"'
req "export as DOT" 200 GET "$url/v1/lineage/export" -G --data-urlencode "node=model:fraud@7" \
  -d format=dot "${alice[@]}"
contains "a digraph" 'digraph lineage {'
contains "an arrow with its run" "\"$view_id\" -> \"transformation:airflow/train_fraud@9f1c2ab\" [label=\"run $run1\"]"
req "export everything as JSON" 200 GET "$url/v1/lineage/export" "${alice[@]}"
expect "whole graph" "len(j['nodes']) >= 8" True
req "who read the model's inputs (auditor)" 200 GET "$url/v1/lineage/accesses" -G \
  --data-urlencode "node=model:fraud@7" "${audrey[@]}"
expect "the ingestion is there" "any(a['action'] == 'features.ingest' and a['principal'] == 'User::\"olivia\"' for a in j['accesses'])" True

# --- bad input: refused, audited, nothing stored ---------------------------------------------
req "nodes before" 200 GET "$url/v1/lineage/export" "${alice[@]}"
nodes_before=$(json "len(j['nodes'])")
req "a cycle" 400 POST "$mtls_url/v1/lineage/records" "${J[@]}" "${scorer[@]}" \
  -d "{\"edges\": [{\"from\": \"model:fraud@7\", \"to\": \"$view_id\"}]}"
problem "a cycle" invalid-argument
contains "says cycle" 'would close a cycle'
req "a dangling edge" 400 POST "$mtls_url/v1/lineage/records" "${J[@]}" "${scorer[@]}" \
  -d '{"nodes": [{"kind": "model", "name": "m", "version": "1"}], "edges": [{"from": "feature_view:ghost@1", "to": "model:m@1"}]}'
problem "a dangling edge" invalid-argument
contains "names the missing node" "'feature_view:ghost@1' is neither recorded nor in this record"
req "a changed node" 409 POST "$mtls_url/v1/lineage/records" "${J[@]}" "${scorer[@]}" \
  -d "{\"nodes\": [{\"kind\": \"feature_view\", \"name\": \"customer_transactions\", \"version\": \"1\", \"attributes\": {\"owner\": \"x\"}}]}"
problem "a changed node" conflict
req "a bad field" 400 POST "$mtls_url/v1/lineage/records" "${J[@]}" "${scorer[@]}" \
  -d '{"nodes": [{"kind": "table", "name": "x"}]}'
contains "the field's pointer" '/nodes/0/kind'
req "an event that breaks the schema" 400 POST "$mtls_url/api/v1/lineage" "${J[@]}" "${scorer[@]}" \
  -d "$(event not-a-uuid job feature_view:customer_transactions model:x 1)"
problem "schema" invalid-argument
contains "the failing path" '/run/runId'
req "malformed JSON" 400 POST "$mtls_url/v1/lineage/openlineage" "${J[@]}" "${scorer[@]}" -d '{"run":'
req "no policy: no writing" 403 POST "$url/v1/lineage/records" "${J[@]}" "${ivan[@]}" \
  -d '{"nodes": [{"kind": "model", "name": "m", "version": "1"}]}'
problem "denied" forbidden
req "no token: no reading" 401 GET "$url/v1/lineage/export"
req "unknown node" 404 GET "$url/v1/lineage/upstream" -G --data-urlencode "node=model:nope@1" \
  "${alice[@]}"
req "nodes after" 200 GET "$url/v1/lineage/export" "${alice[@]}"
expect "nothing stored" "len(j['nodes'])" "$nodes_before"
req "refusals are audited" 200 GET "$url/v1/audit/events" -G -d action=lineage.openlineage \
  -d decision=deny "${audrey[@]}"
expect "the schema refusal is on the log" "len(j['events']) >= 2" True

# --- verification ------------------------------------------------------------------------------
req "verify over HTTP" 200 POST "$url/v1/lineage/verify" "${audrey[@]}"
expect "lineage verifies" "j['ok']" True
expect "the source file re-hashed" "j['content_hashes_checked']" 1
stop_server; check "graceful stop" 0 test $? -eq 0
check "emitted as OpenLineage on the way out" 0 grep -q '"name":"training_set:fraud-train"' \
  "$work/emitted.jsonl"
out=$(head -1 "$work/emitted.jsonl")
expect "an OpenLineage COMPLETE event" "j['eventType'] + ' ' + j['job']['name']" \
  "COMPLETE custos/training-set"
check "custos lineage verify" 0 "$custos" lineage verify "${fixture_unseal[@]}"
contains "verify says OK" "Lineage OK."
echo "x" >>"$work/txns.csv"
check "a changed source is found" 9 "$custos" lineage verify "${fixture_unseal[@]}"
contains "names the file" "txns.csv now hashes to"
check "custos lineage upstream offline" 0 "$custos" lineage upstream model:fraud@7 \
  "${fixture_unseal[@]}" --depth 2
contains "offline walk" "  transformation:airflow/train_fraud@9f1c2ab"
check "the log verifies" 0 "$custos" audit verify --dir "$fixture_dir"

echo "lineage api: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
