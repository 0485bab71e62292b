#!/usr/bin/env bash
# End-to-end: the artifact vault through the real `custos server` on 127.0.0.1 (issue 9). The
# trainer (ServiceAccount::fraud-scorer, over mTLS) uploads a model in 64 KiB chunks, breaks
# off after two, resumes and commits it signed with its own Ed25519 key (made with openssl,
# registered by the admin); the download equals the file; an identical re-upload answers the
# same version; the bundle and trusted keys verify offline with `custos artifact verify`.
# Promotion dev -> staging -> prod, prod only after an approved "promote" grant; a staging token
# cannot read a dev-only version until a policy permits read_other_environment; exporting a
# restricted dataset needs an approved grant (both decisions audited); a shredded version's
# bytes are gone; a tampered blob file is caught on download naming the chunk; an aborted
# upload leaves nothing; bad input is refused with the right problem. Ends with a graceful stop
# and `custos audit verify`.
# Usage: artifacts_api_test.sh CUSTOS_BINARY SOURCE_DIR
set -uo pipefail
custos="$1"
src="$2"
source "$src/tests/e2e/lib.sh"
source "$src/tests/e2e/server_fixture.sh"
trap 'stop_server; rm -rf "$work"' EXIT
source "$src/tests/e2e/http_lib.sh"
expect() {  # expect NAME PYTHON_EXPR EXPECTED: the expression on $out
  local got
  got=$(json "$2")
  if [ "$got" = "$3" ]; then passed=$((passed + 1)); else
    failed=$((failed + 1)); echo "FAIL: $1: got '$got', expected '$3'"; echo "$out" | sed 's/^/    /'; fi
}
same() {  # same NAME GOT EXPECTED
  if [ "$2" = "$3" ]; then passed=$((passed + 1)); else
    failed=$((failed + 1)); echo "FAIL: $1: got '$2', expected '$3'"; fi
}

check "fixture" 0 fixture_setup
cat >"$fixture_dir/policies/artifacts.cedar" <<'CEDAR'
@id("trainer-writes-artifacts")
permit(principal == ServiceAccount::"fraud-scorer",
       action in [Action::"write", Action::"read"], resource is Artifact);
@id("people-read-artifacts")
permit(principal is User, action == Action::"read", resource is Artifact);
@id("olivia-promotes")
permit(principal == User::"olivia", action == Action::"promote", resource is Artifact);
@id("alice-exports")
permit(principal == User::"alice", action == Action::"export", resource is Artifact);
@id("admin-administers-artifacts")
permit(principal == User::"admin", action == Action::"administer", resource);
CEDAR
start_server || exit 1

# A bearer token for WHO in environment ENV, scoped to the artifact actions and the audit log.
atok() {
  curl -sS --cacert "$work/ca.pem" -H 'Content-Type: application/json' \
    -d "{\"api_key\": \"$(cat "$work/keys/$1")\", \"purpose\": \"fraud-model\", \"zone\": \"eu\",
         \"environment\": \"$2\",
         \"resources\": [\"Artifact::*\", \"ArtifactVault::*\", \"AuditLog::*\"],
         \"actions\": [\"read\", \"write\", \"promote\", \"export\", \"administer\",
                       \"read_other_environment\", \"audit_read\"]}" \
    "$url/v1/auth/token" | python3 -c "import json,sys; print(json.load(sys.stdin)['token'])"
}
admin=(-H "Authorization: Bearer $(atok admin dev)")
olivia=(-H "Authorization: Bearer $(atok olivia dev)")
carol=(-H "Authorization: Bearer $(atok carol dev)")
alice=(-H "Authorization: Bearer $(atok alice dev)")
bob_staging=(-H "Authorization: Bearer $(atok bob staging)")
audrey=(-H "Authorization: Bearer $(atok audrey dev)")
trainer=(--cert "$work/scorer.crt" --key "$work/scorer.key")
OCT=(-H 'Content-Type: application/octet-stream')
A="$mtls_url/v1/artifacts"
sha() { sha256sum "$1" | cut -d' ' -f1; }
audit_has() {  # audit_has NAME ACTION PYTHON_CONDITION_ON_EVENT_e
  req "$1: audit query" 200 GET "$url/v1/audit/events?action=$2&limit=1000" "${audrey[@]}"
  expect "$1" "any($3 for e in j['events'])" True
}

# --- the trainer's signing key (openssl, so nothing of custos signs for it) --------------------
openssl genpkey -algorithm ed25519 -out "$work/trainer.pem" 2>/dev/null
pub=$(openssl pkey -in "$work/trainer.pem" -pubout -outform DER | tail -c 32 |
  python3 -c "import base64,sys; print(base64.urlsafe_b64encode(sys.stdin.buffer.read()).decode().rstrip('='))")
req "admin registers the trainer's key" 201 POST "$url/v1/artifacts/signers" "${J[@]}" \
  "${admin[@]}" -d "{\"signer\": \"ServiceAccount::\\\"fraud-scorer\\\"\", \"public_key\": \"$pub\"}"
key_id=$(json 'j["key_id"]')
req "alice may not register keys" 403 POST "$url/v1/artifacts/signers" "${J[@]}" \
  "${alice[@]}" -d "{\"signer\": \"User::\\\"alice\\\"\", \"public_key\": \"$pub\"}"
problem "register refused" forbidden
req "the trusted keys" 200 GET "$url/v1/artifacts/signers" "${alice[@]}"
expect "server key and the trainer's" "sorted(k['signer'] for k in j['keys'])" \
  "['ServiceAccount::\"fraud-scorer\"', 'custos-server']"

# --- a multi-chunk upload that breaks off and resumes ------------------------------------------
chunk=65536
head -c $((3 * chunk + 1000)) /dev/urandom >"$work/model.bin"
for i in 0 1 2 3; do
  dd if="$work/model.bin" of="$work/c$i" bs=$chunk skip=$i count=1 status=none
done
req "begin an upload" 201 POST "$A/uploads" "${J[@]}" "${trainer[@]}" \
  -d "{\"name\": \"fraud/scorer\", \"kind\": \"model\", \"media_type\": \"application/octet-stream\", \"chunk_size\": $chunk}"
up=$(json 'j["upload_id"]')
expect "starts at chunk 0" "j['next_index']" 0
req "chunk 0" 200 PUT "$A/uploads/$up/chunks/0" "${OCT[@]}" "${trainer[@]}" \
  --data-binary "@$work/c0"
req "chunk 1" 200 PUT "$A/uploads/$up/chunks/1" "${OCT[@]}" "${trainer[@]}" \
  --data-binary "@$work/c1"
# ... the connection breaks here; the trainer asks where to resume.
req "status after the break" 200 GET "$A/uploads/$up" "${trainer[@]}"
expect "resume at chunk 2" "j['next_index']" 2
expect "bytes so far" "j['bytes_received']" $((2 * chunk))
req "chunk 1 again, same bytes (a lost acknowledgement)" 200 PUT "$A/uploads/$up/chunks/1" \
  "${OCT[@]}" "${trainer[@]}" --data-binary "@$work/c1"
req "chunk 1 again, other bytes" 409 PUT "$A/uploads/$up/chunks/1" "${OCT[@]}" "${trainer[@]}" \
  --data-binary "@$work/c0"
problem "changed chunk" failed-precondition
req "chunk 3 out of order" 409 PUT "$A/uploads/$up/chunks/3" "${OCT[@]}" "${trainer[@]}" \
  --data-binary "@$work/c3"
problem "out of order" failed-precondition
contains "names the expected index" "next expected chunk index is 2"
head -c $((chunk + 1)) /dev/urandom >"$work/big"
req "an oversized chunk" 400 PUT "$A/uploads/$up/chunks/2" "${OCT[@]}" "${trainer[@]}" \
  --data-binary "@$work/big"
problem "oversized" invalid-argument
head -c $((9 * 1024 * 1024)) /dev/zero >"$work/huge"
req "a body over the server's limit elsewhere" 413 POST "$A/uploads" "${J[@]}" \
  "${trainer[@]}" --data-binary "@$work/huge"
# Chunks have their own body limit (the largest chunk size), above the server's 8 MiB.
req "begin a 16 MiB-chunk upload" 201 POST "$A/uploads" "${J[@]}" "${trainer[@]}" \
  -d '{"name": "fraud/big", "kind": "model", "chunk_size": 16777216}'
big=$(json 'j["upload_id"]')
req "a 9 MiB chunk passes the chunk route's limit" 200 PUT "$A/uploads/$big/chunks/0" \
  "${OCT[@]}" "${trainer[@]}" --data-binary "@$work/huge"
req "a 17 MiB chunk exceeds that upload's chunk size" 400 PUT "$A/uploads/$big/chunks/1" \
  "${OCT[@]}" "${trainer[@]}" -H 'Expect:' --data-binary @<(head -c $((17 << 20)) /dev/zero)
req "abort the big upload" 204 DELETE "$A/uploads/$big" "${trainer[@]}"
req "a chunk as JSON" 400 PUT "$A/uploads/$up/chunks/2" "${J[@]}" "${trainer[@]}" \
  --data-binary "@$work/c2"
req "alice cannot continue the trainer's upload" 403 PUT \
  "$url/v1/artifacts/uploads/$up/chunks/2" "${OCT[@]}" "${alice[@]}" --data-binary "@$work/c2"
req "status unchanged by the refusals" 200 GET "$A/uploads/$up" "${trainer[@]}"
expect "still chunk 2" "j['next_index']" 2
req "chunk 2" 200 PUT "$A/uploads/$up/chunks/2" "${OCT[@]}" "${trainer[@]}" \
  --data-binary "@$work/c2"
req "chunk 3 (the short tail)" 200 PUT "$A/uploads/$up/chunks/3" "${OCT[@]}" "${trainer[@]}" \
  --data-binary "@$work/c3"
expect "all received" "j['bytes_received']" $((3 * chunk + 1000))
req "not listed before the commit" 200 GET "$url/v1/artifacts" "${alice[@]}"
expect "no names yet" "j['names']" "[]"

# --- the statement, signed by the trainer, and the commit --------------------------------------
req "the statement to sign" 200 GET "$A/uploads/$up/statement" "${trainer[@]}"
expect "version 1" "j['statement']['version']" 1
expect "its digest" "j['statement']['sha256']" "$(sha "$work/model.bin")"
# The canonical text ends with a newline, which $(...) strips: put it back.
printf '%s\n' "$(json 'j["canonical"]')" >"$work/statement.txt"
sig=$(openssl pkeyutl -sign -inkey "$work/trainer.pem" -rawin -in "$work/statement.txt" |
  python3 -c "import base64,sys; print(base64.urlsafe_b64encode(sys.stdin.buffer.read()).decode().rstrip('='))")
req "commit with a bad signature" 403 POST "$A/uploads/$up/commit" "${J[@]}" "${trainer[@]}" \
  -d "{\"signature\": {\"signer\": \"ServiceAccount::\\\"fraud-scorer\\\"\", \"key_id\": \"$key_id\", \"signature\": \"${sig:0:10}AAAA${sig:14}\"}}"
problem "bad signature" forbidden
req "commit with the wrong digest" 409 POST "$A/uploads/$up/commit" "${J[@]}" "${trainer[@]}" \
  -d "{\"sha256\": \"$(printf '0%.0s' $(seq 64))\"}"
req "commit" 201 POST "$A/uploads/$up/commit" "${J[@]}" "${trainer[@]}" \
  -d "{\"sha256\": \"$(sha "$work/model.bin")\", \"signature\": {\"signer\": \"ServiceAccount::\\\"fraud-scorer\\\"\", \"key_id\": \"$key_id\", \"signature\": \"$sig\"}, \"labels\": {\"team\": \"fraud\"}, \"description\": \"Q1 fraud scorer\"}"
has_header "commit receipt" Custos-Audit-Index
expect "committed as fraud/scorer@1" "j['ref']" "fraud/scorer@1"
expect "signed by server and trainer" "[s['signer'] for s in j['signatures']]" \
  "['custos-server', 'ServiceAccount::\"fraud-scorer\"']"
expect "starts in dev" "j['environments']" "['dev']"
expect "its lineage node" "j.get('lineage_node', '')" "model:fraud/scorer@1"
req "the upload is gone once committed" 404 GET "$A/uploads/$up" "${trainer[@]}"
audit_has "commit audited" artifact.version.commit "e['decision'] == 'allow'"

# --- download, content addressing, idempotent re-upload ---------------------------------------
req "download" 200 GET "$url/v1/artifacts/content?ref=fraud/scorer@1" "${alice[@]}"
cp "$work/body" "$work/download.bin"
same "download equals the file" "$(sha "$work/download.bin")" "$(sha "$work/model.bin")"
b64=$(python3 -c "import base64,hashlib; print(base64.b64encode(hashlib.sha256(open('$work/model.bin','rb').read()).digest()).decode())")
contains_header() { if grep -qiF -- "$2" <<<"$headers"; then passed=$((passed + 1)); else
  failed=$((failed + 1)); echo "FAIL: $1: headers lack '$2'"; echo "$headers" | sed 's/^/    /'; fi; }
contains_header "Repr-Digest" "repr-digest: sha-256=:$b64:"
contains_header "size header" "custos-artifact-size: $((3 * chunk + 1000))"
req "by digest" 200 GET "$url/v1/artifacts/by-digest?sha256=$(sha "$work/model.bin")" "${alice[@]}"
expect "found by content" "[v['ref'] for v in j['versions']]" "['fraud/scorer@1']"
upload_whole() {  # upload_whole NAME KIND FILE [COMMIT_JSON]: begin, send every chunk, commit
  req "$1: begin" 201 POST "$A/uploads" "${J[@]}" "${trainer[@]}" \
    -d "{\"name\": \"$1\", \"kind\": \"$2\", \"chunk_size\": $chunk}"
  local id i=0 n
  id=$(json 'j["upload_id"]')
  n=$(( ($(stat -c %s "$3") + chunk - 1) / chunk ))
  while [ $i -lt $n ]; do
    dd if="$3" of="$work/piece" bs=$chunk skip=$i count=1 status=none
    req "$1: chunk $i" 200 PUT "$A/uploads/$id/chunks/$i" "${OCT[@]}" "${trainer[@]}" \
      --data-binary "@$work/piece"
    i=$((i + 1))
  done
  local body="${4:-}"
  [ -n "$body" ] || body='{}'
  req "$1: commit" 201 POST "$A/uploads/$id/commit" "${J[@]}" "${trainer[@]}" -d "$body"
}
upload_whole fraud/scorer model "$work/model.bin"
expect "identical bytes: the same version" "j['ref']" "fraud/scorer@1"
head -c 100000 /dev/urandom >"$work/model2.bin"
upload_whole fraud/scorer model "$work/model2.bin"
expect "new bytes: version 2" "j['ref']" "fraud/scorer@2"
req "versions" 200 GET "$url/v1/artifacts/versions?name=fraud/scorer" "${alice[@]}"
expect "two versions" "[v['version'] for v in j['versions']]" "[1, 2]"

# --- offline verification ------------------------------------------------------------------------
req "bundle" 200 GET "$url/v1/artifacts/bundle?ref=fraud/scorer@1" "${alice[@]}"
printf '%s' "$out" >"$work/bundle.json"
req "keys" 200 GET "$url/v1/artifacts/signers" "${alice[@]}"
printf '%s' "$out" >"$work/keys.json"
check "custos artifact verify" 0 "$custos" artifact verify fraud/scorer@1 \
  --file "$work/download.bin" --bundle "$work/bundle.json" --keys "$work/keys.json"
cp "$work/download.bin" "$work/changed.bin"
printf 'X' | dd of="$work/changed.bin" bs=1 seek=1000 conv=notrunc status=none
check "a changed file fails verify" 1 "$custos" artifact verify fraud/scorer@1 \
  --file "$work/changed.bin" --bundle "$work/bundle.json" --keys "$work/keys.json"
python3 - "$work/bundle.json" "$work/badsig.json" <<'PY'
import json, sys
b = json.load(open(sys.argv[1]))
for sig in b["signatures"]:  # every one: a single trusted signature suffices
    s = sig["signature"]
    sig["signature"] = ("B" if s[0] != "B" else "C") + s[1:]
json.dump(b, open(sys.argv[2], "w"))
PY
check "a wrong signature fails verify" 1 "$custos" artifact verify fraud/scorer@1 \
  --file "$work/download.bin" --bundle "$work/badsig.json" --keys "$work/keys.json"

# --- an aborted upload leaves nothing -------------------------------------------------------------
req "begin (to abort)" 201 POST "$A/uploads" "${J[@]}" "${trainer[@]}" \
  -d "{\"name\": \"fraud/aborted\", \"kind\": \"model\", \"chunk_size\": $chunk}"
aborted=$(json 'j["upload_id"]')
req "one chunk" 200 PUT "$A/uploads/$aborted/chunks/0" "${OCT[@]}" "${trainer[@]}" \
  --data-binary "@$work/c0"
req "abort" 204 DELETE "$A/uploads/$aborted" "${trainer[@]}"
req "aborted: no status" 404 GET "$A/uploads/$aborted" "${trainer[@]}"
problem "aborted upload" resource-not-found
req "aborted: no chunk accepted" 404 PUT "$A/uploads/$aborted/chunks/1" "${OCT[@]}" \
  "${trainer[@]}" --data-binary "@$work/c1"
req "aborted: never a version" 404 GET "$url/v1/artifacts/version?ref=fraud/aborted@1" \
  "${alice[@]}"
req "names" 200 GET "$url/v1/artifacts" "${alice[@]}"
expect "only the committed name" "j['names']" "['fraud/scorer']"

# --- bad input: the right problem, nothing changed -------------------------------------------------
req "unknown ref" 404 GET "$url/v1/artifacts/version?ref=fraud/scorer@99" "${alice[@]}"
problem "unknown ref" resource-not-found
req "malformed ref" 400 GET "$url/v1/artifacts/version?ref=fraud/scorer" "${alice[@]}"
problem "malformed ref" invalid-argument
req "bad name" 400 POST "$A/uploads" "${J[@]}" "${trainer[@]}" \
  -d '{"name": "Fraud Scorer", "kind": "model"}'
problem "bad name" invalid-argument
req "bad kind" 400 POST "$A/uploads" "${J[@]}" "${trainer[@]}" \
  -d '{"name": "fraud/scorer", "kind": "notebook"}'
problem "bad kind" invalid-argument
contains "names the choices" "model"
req "bad chunk size" 400 POST "$A/uploads" "${J[@]}" "${trainer[@]}" \
  -d '{"name": "fraud/scorer", "kind": "model", "chunk_size": 10}'
req "malformed JSON" 400 POST "$A/uploads" "${J[@]}" "${trainer[@]}" -d '{"name": '
problem "malformed JSON" malformed-json
req "bad digest query" 400 GET "$url/v1/artifacts/by-digest?sha256=xyz" "${alice[@]}"
req "unknown upload" 404 PUT "$A/uploads/blb_nope/chunks/0" "${OCT[@]}" "${trainer[@]}" \
  --data-binary "@$work/c0"
req "still two versions" 200 GET "$url/v1/artifacts/versions?name=fraud/scorer" "${alice[@]}"
expect "nothing changed" "[v['version'] for v in j['versions']]" "[1, 2]"
req "no write without a policy" 403 POST "$url/v1/artifacts/uploads" "${J[@]}" "${alice[@]}" \
  -d '{"name": "fraud/scorer", "kind": "model"}'
problem "write refused" forbidden

# --- promotion: dev -> staging, prod after an approved grant --------------------------------------
req "dev -> prod skips staging" 409 POST "$url/v1/artifacts/promote" "${J[@]}" "${olivia[@]}" \
  -d '{"ref": "fraud/scorer@1", "environment": "prod"}'
req "alice may not promote" 403 POST "$url/v1/artifacts/promote" "${J[@]}" "${alice[@]}" \
  -d '{"ref": "fraud/scorer@1", "environment": "staging"}'
req "dev -> staging" 200 POST "$url/v1/artifacts/promote" "${J[@]}" "${olivia[@]}" \
  -d '{"ref": "fraud/scorer@1", "environment": "staging"}'
expect "in staging" "j['environments']" "['dev', 'staging']"
req "register the artifact's owner" 200 POST "$url/v1/artifacts/governance" "${J[@]}" \
  "${admin[@]}" -d '{"name": "fraud/scorer", "classification": "confidential", "owners": ["User::\"carol\""]}'
req "staging -> prod without a grant" 403 POST "$url/v1/artifacts/promote" "${J[@]}" \
  "${olivia[@]}" -d '{"ref": "fraud/scorer@1", "environment": "prod"}'
problem "prod refused" forbidden
req "olivia asks to promote" 201 POST "$url/v1/access/requests" "${J[@]}" "${olivia[@]}" \
  -d '{"purpose": "fraud-model", "resources": ["Artifact::fraud/scorer"], "actions": ["promote"], "duration": "1d", "justification": "Ship the Q1 scorer"}'
rid=$(json 'j["id"]')
req "carol (owner) approves" 200 POST "$url/v1/access/requests/$rid/approve" "${J[@]}" \
  "${carol[@]}" -d '{}'
expect "granted" "j['grant']['state']" active
req "staging -> prod with the grant" 200 POST "$url/v1/artifacts/promote" "${J[@]}" \
  "${olivia[@]}" -d '{"ref": "fraud/scorer@1", "environment": "prod"}'
expect "in prod" "j['environments']" "['dev', 'staging', 'prod']"
audit_has "promotion refusal audited" artifact.version.promote "e['decision'] == 'deny'"

# --- environments: a staging token and a dev-only version --------------------------------------
req "staging reads a staging version" 200 GET "$url/v1/artifacts/version?ref=fraud/scorer@1" \
  "${bob_staging[@]}"
req "staging cannot read a dev-only version" 403 GET \
  "$url/v1/artifacts/version?ref=fraud/scorer@2" "${bob_staging[@]}"
problem "other environment" forbidden
contains "says which environment" "read_other_environment"
req "nor download it" 403 GET "$url/v1/artifacts/content?ref=fraud/scorer@2" "${bob_staging[@]}"
req "staging lists only what it sees" 200 GET "$url/v1/artifacts/versions?name=fraud/scorer" \
  "${bob_staging[@]}"
expect "only version 1" "[v['version'] for v in j['versions']]" "[1]"

# --- export of a restricted dataset ---------------------------------------------------------------
head -c 5000 /dev/urandom >"$work/claims.bin"
upload_whole research/claims dataset "$work/claims.bin" \
  '{"inputs": ["feature_view:customer_transactions@1"], "retention_until": "2099-01-01T00:00:00Z"}'
expect "derived from the feature view" "j.get('lineage_node', '').startswith('dataset:research/claims@1')" True
expect "kept until" "j['retention_until']" "2099-01-01T00:00:00Z"
req "restricted" 200 POST "$url/v1/artifacts/governance" "${J[@]}" "${admin[@]}" \
  -d '{"name": "research/claims", "classification": "restricted", "owners": ["User::\"olivia\"", "User::\"carol\""]}'
req "export without a grant" 403 POST "$url/v1/artifacts/export" "${J[@]}" "${alice[@]}" \
  -d '{"ref": "research/claims@1"}'
problem "export refused" forbidden
req "alice asks to export" 201 POST "$url/v1/access/requests" "${J[@]}" "${alice[@]}" \
  -d '{"purpose": "fraud-model", "resources": ["Artifact::research/claims"], "actions": ["export"], "duration": "1d", "justification": "Share with the auditors"}'
rid=$(json 'j["id"]')
req "olivia approves the export" 200 POST "$url/v1/access/requests/$rid/approve" "${J[@]}" \
  "${olivia[@]}" -d '{}'
code=$(python3 "$src/tests/e2e/totp_code.py" "$work/carol.uri" 1)
req "carol approves with TOTP" 200 POST "$url/v1/access/requests/$rid/approve" "${J[@]}" \
  "${carol[@]}" -d "{\"mfa_code\": \"$code\"}"
expect "export granted" "j['grant']['state']" active
req "export with the grant" 200 POST "$url/v1/artifacts/export" "${J[@]}" "${alice[@]}" \
  -d '{"ref": "research/claims@1"}'
cp "$work/body" "$work/exported.bin"
same "exported bytes" "$(sha "$work/exported.bin")" "$(sha "$work/claims.bin")"
has_header "the grant used" Custos-Export-Grant
audit_has "export refusal audited" artifact.export "e['decision'] == 'deny'"
audit_has "export audited" artifact.export "e['decision'] == 'allow'"

# --- crypto-shredding -------------------------------------------------------------------------------
req "alice may not shred" 403 POST "$url/v1/artifacts/shred" "${J[@]}" "${alice[@]}" \
  -d '{"ref": "fraud/scorer@2", "reason": "superseded"}'
req "shred" 200 POST "$url/v1/artifacts/shred" "${J[@]}" "${admin[@]}" \
  -d '{"ref": "fraud/scorer@2", "reason": "superseded"}'
expect "a tombstone" "j['state']" shredded
req "shredded: no bytes" 409 GET "$A/content?ref=fraud/scorer@2" "${trainer[@]}"
problem "shredded download" failed-precondition
contains "says crypto-shredded" "shredded"
req "shredded: metadata stays" 200 GET "$A/version?ref=fraud/scorer@2" "${trainer[@]}"
req "retention" 200 POST "$A/retention" "${J[@]}" "${trainer[@]}" \
  -d '{"ref": "fraud/scorer@1", "days": 30}'
contains "retention set" '"retention_until"'

# --- a policy lets staging read other environments; a tampered blob is caught ------------------
stop_server; check "graceful stop" 0 test $? -eq 0
cat >"$fixture_dir/policies/other-env.cedar" <<'CEDAR'
@id("bob-reads-other-environments")
permit(principal == User::"bob", action == Action::"read_other_environment",
       resource == Artifact::"fraud/scorer");
CEDAR
size1=$(stat -c %s "$work/model.bin")
blob1=""
for f in "$fixture_dir"/artifacts/blobs/*.blob; do
  # header 64 bytes + per chunk a 12-byte nonce and a 16-byte tag
  if [ "$(stat -c %s "$f")" -eq $((64 + 4 * 28 + size1)) ]; then blob1="$f"; fi
  if [ "$(stat -c %s "$f")" -eq $((64 + 28 + 5000)) ]; then blob2="$f"; fi
done
check "found the model's blob file" 0 test -n "$blob1"
check "found the dataset's blob file" 0 test -n "${blob2:-}"
# Flip one byte inside the model's chunk 1 and inside the dataset's chunk 0.
python3 - "$blob1" $((64 + (chunk + 28) + 500)) "$blob2" $((64 + 100)) <<'PY'
import sys
for path, at in ((sys.argv[1], int(sys.argv[2])), (sys.argv[3], int(sys.argv[4]))):
    with open(path, "r+b") as f:
        f.seek(at); b = f.read(1); f.seek(at); f.write(bytes([b[0] ^ 0x01]))
PY
start_server || exit 1
bob_staging=(-H "Authorization: Bearer $(atok bob staging)")
alice=(-H "Authorization: Bearer $(atok alice dev)")
audrey=(-H "Authorization: Bearer $(atok audrey dev)")
req "now staging may read the dev-only version" 200 GET \
  "$url/v1/artifacts/version?ref=fraud/scorer@2" "${bob_staging[@]}"
code=$(curl -sS -o "$work/tampered.bin" -w '%{http_code}' --cacert "$work/ca.pem" \
  "${alice[@]}" "$url/v1/artifacts/content?ref=fraud/scorer@1" 2>"$work/curl.err")
curl_exit=$?
same "tampered chunk 1: the answer had started" "$code" 200
check "tampered chunk 1: curl sees a truncated body" 0 test "$curl_exit" -ne 0
check "tampered chunk 1: only chunk 0 arrived" 0 test "$(stat -c %s "$work/tampered.bin")" -eq $chunk
out=$(cat "$work/server.log")
contains "server log names the chunk" "chunk 1"
audit_has "the corrupt chunk audited" artifact.read.corrupt "'chunk 1' in e.get('outcome_detail', '')"
req "tampered chunk 0: a problem answer" 500 GET "$url/v1/artifacts/content?ref=research/claims@1" \
  "${alice[@]}"
problem "tampered first chunk" data-loss
contains "names chunk 0" "chunk 0"

stop_server; check "graceful stop at the end" 0 test $? -eq 0
check "audit verify" 0 "$custos" audit verify --dir "$fixture_dir"

echo "artifacts api: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
