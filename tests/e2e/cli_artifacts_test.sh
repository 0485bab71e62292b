#!/usr/bin/env bash
# End-to-end: issue 9's artifact vault through the real `custos` binary. A multi-chunk model
# is pushed and pulled back byte for byte; a service account's own key co-signs a version;
# `artifact verify` checks a file offline (no data directory, no secret) and its exit code
# says verified (0), failed (1: flipped byte, forged signature, another version's bundle) or
# bad input (2); promotion to prod needs an approved grant; export is audited; a shredded
# version cannot be pulled; a tampered chunk on disk is named and leaves no output file; the
# audit log verifies at the end.
# Usage: cli_artifacts_test.sh CUSTOS_BINARY SOURCE_DIR
set -uo pipefail
custos="$1"
src="$2"
source "$src/tests/e2e/lib.sh"
keep() { doc="$out"; }
json() {  # json EXPR: evaluates EXPR on the JSON in $doc (python, variable j)
  python3 -c "import json,sys; j=json.load(sys.stdin); print($1)" <<<"$doc"
}

d="$work/data"
check "init" 0 "$custos" init --dir "$d" --shares 3 --threshold 2 --json
keep
json '"\n".join(j["shares"][:2])' >"$work/shares"
u=(--dir "$d" --shares-file "$work/shares")
check "create admin" 0 "$custos" principal create User::admin "${u[@]}"
for who in dana olivia; do
  check "create $who" 0 "$custos" principal create "User::$who" "${u[@]}" --as User::admin
done
check "create trainer" 0 "$custos" principal create ServiceAccount::trainer "${u[@]}" \
  --as User::admin

# --- push and pull: several chunks, constant memory, identical bytes -----------------------
head -c 300000 /dev/urandom >"$work/model.bin"
check "push" 0 "$custos" artifact push fraud/scorer "$work/model.bin" --kind model \
  --chunk-size 65536 --label team=risk --description "fraud scorer" "${u[@]}" --as User::dana
contains "push prints ref" "fraud/scorer@1"
contains "push prints sha256" "$(sha256sum "$work/model.bin" | cut -d' ' -f1)"
check "push without kind" 3 "$custos" artifact push fraud/scorer "$work/model.bin" "${u[@]}"
check "bad name" 3 "$custos" artifact push Fraud/Scorer "$work/model.bin" --kind model "${u[@]}"
check "pull" 0 "$custos" artifact pull fraud/scorer@1 -o "$work/pulled.bin" "${u[@]}" --as User::dana
check "pulled identical" 0 cmp "$work/model.bin" "$work/pulled.bin"
check "no partial left" 1 test -e "$work/pulled.bin.partial"
check "pull unknown version" 4 "$custos" artifact pull fraud/scorer@9 -o "$work/x.bin" "${u[@]}"
check "bad ref" 3 "$custos" artifact pull fraud/scorer -o "$work/x.bin" "${u[@]}"
check "list" 0 "$custos" artifact list "${u[@]}"
contains "list names the artifact" "fraud/scorer@1"
check "show" 0 "$custos" artifact show fraud/scorer@1 "${u[@]}"
contains "show label" '"team": "risk"'
contains "show environment" '"dev"'
check "find by digest" 0 "$custos" artifact find --sha256 "$(sha256sum "$work/model.bin" | cut -d' ' -f1)" "${u[@]}"
contains "find names the version" "fraud/scorer@1"

# --- an upload that breaks off is never visible, and resumes ------------------------------
# The push reads from a pipe that delivers two chunks and then stalls; the process is killed.
head -c 200000 /dev/urandom >"$work/big.bin"
mkfifo "$work/pipe"
"$custos" artifact push fraud/resumed "$work/pipe" --kind model --chunk-size 65536 "${u[@]}" \
  2>"$work/push.err" &
pusher=$!
exec 3>"$work/pipe"
head -c 131072 "$work/big.bin" >&3
# Wait until both chunks are in the part file (header + 2 sealed records), at most 60 s.
for _ in $(seq 600); do
  part=$(ls "$d"/artifacts/uploads/*.part 2>/dev/null | head -1)
  [ -n "$part" ] && [ "$(stat -c %s "$part")" -ge $((64 + 2 * 65564)) ] && break
  sleep 0.1
done
kill -9 "$pusher"
wait "$pusher" 2>/dev/null
exec 3>&-
upload=$(grep -o 'blb_[a-z0-9]*' "$work/push.err" | head -1)
check "interrupted upload has an id" 0 test -n "$upload"
check "interrupted upload is no version" 4 "$custos" artifact show fraud/resumed@1 "${u[@]}"
check "uploads list shows it" 0 "$custos" artifact uploads list "${u[@]}"
contains "listed with its next chunk" "$upload  next chunk 2"
check "resume" 0 "$custos" artifact push fraud/resumed "$work/big.bin" --resume "$upload" "${u[@]}"
contains "resumed version" "fraud/resumed@1"
check "pull resumed" 0 "$custos" artifact pull fraud/resumed@1 -o "$work/resumed.bin" "${u[@]}"
check "resumed identical" 0 cmp "$work/big.bin" "$work/resumed.bin"

# --- a service account's key co-signs version 2 --------------------------------------------
check "keygen" 0 "$custos" artifact keygen -o "$work/trainer.key"
contains "keygen prints key id" "ed25519:"
check "key file mode" 0 test "$(stat -c %a "$work/trainer.key")" = 600
check "keygen never overwrites" 5 "$custos" artifact keygen -o "$work/trainer.key"
check "signer add" 0 "$custos" artifact signer add ServiceAccount::trainer \
  --public-key "$work/trainer.key.pub" "${u[@]}" --as User::admin
check "signer twice" 5 "$custos" artifact signer add ServiceAccount::trainer \
  --public-key "$work/trainer.key.pub" "${u[@]}" --as User::admin
check "signer list" 0 "$custos" artifact signer list "${u[@]}"
contains "trainer listed" 'ServiceAccount::"trainer"'
head -c 200000 /dev/urandom >"$work/model2.bin"
head -c 1000 /dev/urandom >"$work/data0.bin"
check "sign as someone else refused" 6 "$custos" artifact push fraud/scorer "$work/model2.bin" \
  --kind model --chunk-size 65536 --sign-key "$work/trainer.key" "${u[@]}" --as User::dana
contains "rolled back" "rolled back"
check "no upload left open" 0 "$custos" artifact uploads list "${u[@]}"
contains "uploads empty" "(no open uploads)"
check "signed push" 0 "$custos" artifact push fraud/scorer "$work/model2.bin" --kind model \
  --chunk-size 65536 --sign-key "$work/trainer.key" "${u[@]}" --as ServiceAccount::trainer
contains "version 2" "fraud/scorer@2"
contains "two signatures" "2 signature(s)"
check "bundle" 0 "$custos" artifact bundle fraud/scorer@2 -o "$work/b2.json" "${u[@]}"
check "bundle has two signatures" 0 python3 -c "
import json,sys; b=json.load(open('$work/b2.json'))
assert [s['signer'] for s in b['signatures']] == ['custos-server', 'ServiceAccount::\"trainer\"'], b"
check "bundle v1" 0 "$custos" artifact bundle fraud/scorer@1 -o "$work/b1.json" "${u[@]}"
check "keys" 0 "$custos" artifact keys -o "$work/keys.json" "${u[@]}"
check "pull v2" 0 "$custos" artifact pull fraud/scorer@2 -o "$work/v2.bin" "${u[@]}"

check "lineage node recorded" 0 "$custos" lineage show model:fraud/scorer@2 "${u[@]}"
contains "lineage has the digest" "$(sha256sum "$work/model2.bin" | cut -d' ' -f1)"
check "unknown lineage input refused" 4 "$custos" artifact push fraud/scorer "$work/data0.bin" \
  --kind model --chunk-size 65536 --input training_set:nope@sha256:00 "${u[@]}"
check "resume unknown upload" 4 "$custos" artifact push fraud/scorer "$work/model.bin" \
  --resume blb_nope "${u[@]}"
check "abort unknown upload" 4 "$custos" artifact uploads abort blb_nope "${u[@]}"

# --- offline verification: no data directory at all ---------------------------------------
mv "$d" "$d.away"
check "verify ok" 0 "$custos" artifact verify fraud/scorer@2 --file "$work/v2.bin" \
  --bundle "$work/b2.json" --keys "$work/keys.json"
contains "verified by both" 'VERIFIED'
contains "trainer signature trusted" 'ServiceAccount::"trainer"'
check "no data dir was created" 1 test -e "$d"
cp "$work/v2.bin" "$work/flipped.bin"
python3 -c "
f=open('$work/flipped.bin','r+b'); f.seek(150000); b=f.read(1); f.seek(150000); f.write(bytes([b[0]^1]))"
check "flipped byte fails" 1 "$custos" artifact verify fraud/scorer@2 --file "$work/flipped.bin" \
  --bundle "$work/b2.json" --keys "$work/keys.json"
contains "names the digest mismatch" "has SHA-256"
python3 -c "
import json; b=json.load(open('$work/b2.json'))
for s in b['signatures']:
    c = s['signature']; s['signature'] = ('B' if c[0] != 'B' else 'C') + c[1:]
json.dump(b, open('$work/forged.json','w'))"
check "changed signature fails" 1 "$custos" artifact verify fraud/scorer@2 --file "$work/v2.bin" \
  --bundle "$work/forged.json" --keys "$work/keys.json"
contains "no trusted signature" "no signature verified with a trusted key"
check "another version's bundle fails" 1 "$custos" artifact verify fraud/scorer@2 \
  --file "$work/v2.bin" --bundle "$work/b1.json" --keys "$work/keys.json"
contains "names the wrong ref" "the bundle is for fraud/scorer@1, not fraud/scorer@2"
check "json report" 1 "$custos" artifact verify fraud/scorer@2 --file "$work/flipped.bin" \
  --bundle "$work/b2.json" --keys "$work/keys.json" --json
contains "json says digest" '"digest_matches": false'
printf '{"format":"custos-artifact-bundle/v1","statement":' >"$work/bad.json"
check "malformed bundle" 2 "$custos" artifact verify fraud/scorer@2 --file "$work/v2.bin" \
  --bundle "$work/bad.json" --keys "$work/keys.json"
contains "names the bundle file" "bad.json"
check "missing file" 2 "$custos" artifact verify fraud/scorer@2 --file "$work/nope.bin" \
  --bundle "$work/b2.json" --keys "$work/keys.json"
check "keys malformed" 2 "$custos" artifact verify fraud/scorer@2 --file "$work/v2.bin" \
  --bundle "$work/b2.json" --keys "$work/b2.json"
mv "$d.away" "$d"

# --- revocation: the revoked key drops out of the trusted keys -----------------------------
kid=$(python3 -c "import json;print(json.load(open('$work/b2.json'))['signatures'][1]['key_id'])")
check "signer revoke" 0 "$custos" artifact signer revoke "$kid" "${u[@]}" --as User::admin
check "keys after revoke" 0 "$custos" artifact keys -o "$work/keys2.json" "${u[@]}"
check "revoked key gone" 1 grep -q "$kid" "$work/keys2.json"

# --- promotion: staging directly, prod through an approved grant ---------------------------
check "prod skips staging" 7 "$custos" artifact promote fraud/scorer@1 --to prod "${u[@]}" \
  --as User::dana
check "promote staging" 0 "$custos" artifact promote fraud/scorer@1 --to staging "${u[@]}" \
  --as User::dana
check "prod without grant" 6 "$custos" artifact promote fraud/scorer@1 --to prod "${u[@]}" \
  --as User::dana
check "govern" 0 "$custos" artifact govern fraud/scorer --classification internal \
  --owner User::olivia "${u[@]}" --as User::admin
check "purpose" 0 "$custos" access purpose define release "${u[@]}" --as User::admin \
  --description "Model releases" --max-duration 7d
check "request promote" 0 "$custos" access request "${u[@]}" --as User::dana --purpose release \
  --resource Artifact::fraud/scorer --action promote --duration 1d \
  --justification "release scorer v1" --json
keep
rid=$(json 'j["id"]')
check "owner approves" 0 "$custos" access approve "$rid" "${u[@]}" --as User::olivia
check "promote prod" 0 "$custos" artifact promote fraud/scorer@1 --to prod "${u[@]}" \
  --as User::dana
contains "now in prod" "prod"

# --- a token for prod reads prod versions; others need read_other_environment -------------
check "deployer" 0 "$custos" principal create ServiceAccount::deployer "${u[@]}" --as User::admin
check "deployer key" 0 "$custos" apikey create ServiceAccount::deployer "${u[@]}" --as User::admin \
  --description deploys --ttl 30d --out "$work/deployer.key"
check "prod token" 0 "$custos" token issue "${u[@]}" --api-key-file "$work/deployer.key" \
  --purpose release --environment prod --zone eu --resource 'Artifact::"fraud/scorer"' \
  --action read --action read_other_environment --out "$work/prod.tok"
mkdir -p "$d/policies"
cat >"$d/policies/artifacts.cedar" <<'EOF'
@id("deployer-reads-scorer")
permit(principal == ServiceAccount::"deployer", action == Action::"read",
       resource == Artifact::"fraud/scorer");
EOF
check "prod token reads prod version" 0 "$custos" artifact pull fraud/scorer@1 -o "$work/p1.bin" \
  "${u[@]}" --token-file "$work/prod.tok"
check "prod token refused dev version" 6 "$custos" artifact pull fraud/scorer@2 -o "$work/p2.bin" \
  "${u[@]}" --token-file "$work/prod.tok"
contains "names the environment" "not in the token's environment 'prod'"
check "no output when refused" 1 test -e "$work/p2.bin"
cat >>"$d/policies/artifacts.cedar" <<'EOF'
@id("deployer-reads-other-environments")
permit(principal == ServiceAccount::"deployer", action == Action::"read_other_environment",
       resource == Artifact::"fraud/scorer");
EOF
check "policy lets it read other environments" 0 "$custos" artifact pull fraud/scorer@2 \
  -o "$work/p2.bin" "${u[@]}" --token-file "$work/prod.tok"
check "p2 identical" 0 cmp "$work/model2.bin" "$work/p2.bin"

# --- export: an action of its own, audited ------------------------------------------------
check "export" 0 "$custos" artifact export fraud/scorer@1 -o "$work/exported.bin" "${u[@]}" \
  --as User::dana
check "exported identical" 0 cmp "$work/model.bin" "$work/exported.bin"

# --- retention and crypto-shredding -------------------------------------------------------
check "retention" 0 "$custos" artifact retention fraud/scorer@2 --days 30 "${u[@]}" --as User::dana
contains "kept until" "kept until"
check "retention needs one choice" 3 "$custos" artifact retention fraud/scorer@2 "${u[@]}"
check "shred" 0 "$custos" artifact shred fraud/scorer@2 --reason "superseded" "${u[@]}" \
  --as User::admin
check "pull shredded" 7 "$custos" artifact pull fraud/scorer@2 -o "$work/s.bin" "${u[@]}"
contains "crypto-shredded message" "was crypto-shredded"
check "no output for shredded" 1 test -e "$work/s.bin"
check "shred twice" 7 "$custos" artifact shred fraud/scorer@2 --reason again "${u[@]}"

# --- a tampered chunk on disk is named, and no output file is left ------------------------
head -c 250000 /dev/urandom >"$work/data.bin"
check "push dataset" 0 "$custos" artifact push research/set "$work/data.bin" --kind dataset \
  --chunk-size 65536 "${u[@]}"
blob=$(ls -t "$d"/artifacts/blobs/*.blob | head -1)
# Chunk 1's record starts at 64 (header) + 65536 + 28 (nonce and tag) bytes.
python3 -c "
f=open('$blob','r+b'); o=64+65564+100; f.seek(o); b=f.read(1); f.seek(o); f.write(bytes([b[0]^0x40]))"
check "tampered pull" 9 "$custos" artifact pull research/set@1 -o "$work/t.bin" "${u[@]}"
contains "names the chunk" "chunk 1"
check "no output file" 1 test -e "$work/t.bin"
check "no partial file" 1 test -e "$work/t.bin.partial"

# --- the audit log records it all and verifies --------------------------------------------
check "audit query" 0 "$custos" audit query "${u[@]}" --action artifact.version.commit
contains "commit audited" "artifact.version.commit"
check "audit verify" 0 "$custos" audit verify --dir "$d"

echo "cli_artifacts: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
