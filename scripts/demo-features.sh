#!/usr/bin/env bash
# The feature-store tour (`make demo` runs it after `custos demo`): in a temporary data
# directory, a data owner publishes the example repository and ingests its data; a fraud
# analyst, a researcher and an intern read the same features online and each sees what
# policy allows (raw, masked, pseudonymized, denied); the analyst builds a point-in-time
# training set with its manifest; an approved access request then lets the intern read; the
# trained model is pushed to the artifact vault, co-signed and verified offline; every step
# is on the audit log, which verifies. Every command is the real `custos` binary.
# Usage: scripts/demo-features.sh [CUSTOS_BINARY]
set -euo pipefail
cd "$(dirname "$0")/.."
custos="${1:-build/src/cli/custos}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
d="$work/data"

say() { printf '\n== %s\n' "$*"; }
run() { printf '$ custos %s\n' "$*" | sed "s|$work|\$TMP|g"; "$custos" "$@"; }

say "A data directory (3-of-5 unseal shares) with principals"
"$custos" init --dir "$d" --shares 5 --threshold 3 --json >"$work/init.json"
python3 -c "import json;print('\n'.join(json.load(open('$work/init.json'))['shares'][:3]))" \
  >"$work/shares"
u=(--dir "$d" --shares-file "$work/shares")
"$custos" principal create User::admin "${u[@]}" >/dev/null
for who in olivia alice bob ivan carol; do
  "$custos" principal create "User::$who" "${u[@]}" --as User::admin >/dev/null
done
echo "principals: admin, olivia (data owner), alice (fraud analyst), bob (researcher), ivan (intern), carol (approver)"

say "Publish the example feature repository (examples/fraud)"
run apply examples/fraud "${u[@]}" --as User::admin | tail -4

say "Ingest fresh transaction statistics; a file with bad rows is refused whole"
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
cat >"$work/txns.csv" <<EOF
customer_id,event_ts,created_ts,txn_count_7d,avg_amount_30d,last_card_number,last_txn_time
1001,$now,$now,6,55.75,4111111111111111,2026-11-20T20:05:00Z
1002,$now,$now,1,310.00,5500000000000004,2026-11-19T09:12:00Z
EOF
printf 'customer_id,event_ts,created_ts,txn_count_7d,avg_amount_30d,last_card_number,last_txn_time\nabc,%s,,1,2.0,1,\n' \
  "$now" >"$work/bad.csv"
run ingest customer_transactions --from "$work/bad.csv" "${u[@]}" --as User::olivia || true
run ingest customer_transactions --from "$work/txns.csv" "${u[@]}" --as User::olivia

say "Policies (Cedar): the analyst reads non-restricted features raw and the rest masked; the researcher reads pseudonyms"
mkdir -p "$d/policies"
cat >"$d/policies/features.cedar" <<'EOF'
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
EOF
sed 's/^/  /' "$d/policies/features.cedar"

say "The same online read, three readers"
for who in alice bob ivan; do
  run features get customer_transactions --entity customer_id=1001 "${u[@]}" --as "User::$who" \
    --purpose fraud-model
done

say "A point-in-time training set for the analyst, with its manifest"
printf 'customer_id,event_timestamp,label\n1001,%s,1\n1002,%s,0\n' "$now" "$now" >"$work/rows.csv"
run training-set --features customer_transactions --entities "$work/rows.csv" \
  --out "$work/train.csv" "${u[@]}" --as User::alice --purpose fraud-model
sed 's/^/  /' "$work/train.csv"
python3 -m json.tool "$work/train.csv.manifest.json" | sed 's/^/  /' | head -30

say "The intern asks for access; the owner approves; the intern reads for that purpose"
"$custos" governance register FeatureView::customer_transactions "${u[@]}" --as User::admin \
  --classification internal --owner User::olivia --owner User::carol >/dev/null 2>&1 ||
  "$custos" governance update FeatureView::customer_transactions "${u[@]}" --as User::admin \
    --classification internal --owner User::olivia --owner User::carol >/dev/null
run access purpose define fraud-model "${u[@]}" --as User::admin --description "Fraud model" \
  --max-duration 30d
rid=$("$custos" access request "${u[@]}" --as User::ivan --purpose fraud-model \
  --resource FeatureView::customer_transactions --action read --duration 7d \
  --justification "Shadowing the fraud team" --json | python3 -c "import json,sys;print(json.load(sys.stdin)['id'])")
echo "request $rid"
run access approve "$rid" "${u[@]}" --as User::olivia
run features get customer_transactions:txn_count_7d --entity customer_id=1001 "${u[@]}" \
  --as User::ivan --purpose fraud-model

say "Lineage, captured as it happened: the training set's inputs, what the source feeds, who read them"
ts_sha=$(python3 -c "import json,sys;print(json.load(open(sys.argv[1]))['output_sha256'])" \
  "$work/train.csv.manifest.json")
src_sha=$(sha256sum "$work/txns.csv" | cut -d' ' -f1)
run lineage upstream "training_set:fraud-model@sha256:$ts_sha" "${u[@]}"
run lineage impact "source:file://$work/txns.csv@sha256:$src_sha" "${u[@]}"
run lineage accesses "training_set:fraud-model@sha256:$ts_sha" "${u[@]}"
run lineage verify "${u[@]}"

say "Artifacts: the model is pushed in chunks, co-signed by its trainer, and verified offline"
head -c 300000 /dev/urandom >"$work/model.bin"
"$custos" principal create ServiceAccount::trainer "${u[@]}" --as User::admin >/dev/null
run artifact keygen -o "$work/trainer.key" | sed "s|$work|\$TMP|g"
"$custos" artifact signer add ServiceAccount::trainer --public-key "$work/trainer.key.pub" \
  "${u[@]}" --as User::admin >/dev/null
run artifact push fraud/scorer "$work/model.bin" --kind model --chunk-size 65536 \
  --input "training_set:fraud-model@sha256:$ts_sha" --sign-key "$work/trainer.key" "${u[@]}" \
  --as ServiceAccount::trainer
run artifact pull fraud/scorer@1 -o "$work/pulled.bin" "${u[@]}" --as User::alice | sed "s|$work|\$TMP|g"
"$custos" artifact bundle fraud/scorer@1 -o "$work/bundle.json" "${u[@]}" 2>/dev/null
"$custos" artifact keys -o "$work/keys.json" "${u[@]}" 2>/dev/null
run artifact verify fraud/scorer@1 --file "$work/pulled.bin" --bundle "$work/bundle.json" \
  --keys "$work/keys.json" | sed "s|$work|\$TMP|g"
python3 -c "f=open('$work/pulled.bin','r+b');f.seek(1000);b=f.read(1);f.seek(1000);f.write(bytes([b[0]^1]))"
run artifact verify fraud/scorer@1 --file "$work/pulled.bin" --bundle "$work/bundle.json" \
  --keys "$work/keys.json" | sed "s|$work|\$TMP|g" || echo "(exit 1: a pipeline gated on verify stops here)"

say "Who read what, and the log verifies"
run audit query "${u[@]}" --action features.online.read | tail -6
run audit verify --dir "$d" | tail -3
if grep -rqa 4111111111111111 "$d"; then
  echo "demo: a card number is on disk in clear" >&2
  exit 1
fi
echo "no ingested card number is on disk in clear (grep of the whole data directory)"
