#!/usr/bin/env bash
# End-to-end: issue 5's story through the real `custos` binary. A data scientist asks for a
# restricted feature view for a named purpose; two owners approve, one with a fresh TOTP
# code; the grant shows in the access review; a steward revokes it. Refusals (self-approval,
# a non-owner, a second approval by the same owner, an unknown purpose, a duration over the
# purpose's maximum, a reused TOTP code, a tampered or revoked token) each exit with their
# code and are in the audit log. Also API keys -> tokens, and the CA's client certificates.
# Usage: cli_access_test.sh CUSTOS_BINARY SOURCE_DIR
set -uo pipefail
custos="$1"
src="$2"
source "$src/tests/e2e/lib.sh"
json() {  # json EXPR: evaluates EXPR on the JSON in $out (python, variable j)
  python3 -c "import json,sys; j=json.load(sys.stdin); print($1)" <<<"$out"
}

d="$work/data"
check "init" 0 "$custos" init --dir "$d" --shares 3 --threshold 2 --json
json '"\n".join(j["shares"][:2])' > "$work/shares"
contains "init made a CA" "BEGIN CERTIFICATE"
u=(--dir "$d" --shares-file "$work/shares")

# --- principals and governance -------------------------------------------------------------
# The operator (who holds the unseal shares) creates the first administrator.
check "create admin as operator" 0 "$custos" principal create User::admin "${u[@]}"
check "admin twice" 5 "$custos" principal create User::admin "${u[@]}"
for who in alice bob carol dave erin; do
  check "create $who" 0 "$custos" principal create "User::$who" "${u[@]}" --as User::admin
done
check "create alice attrs" 0 "$custos" principal update User::alice "${u[@]}" --as User::admin \
  --attr department=risk --attr-long clearance=3 --attr-set regions=eu,us
check "show alice" 0 "$custos" principal show 'User::"alice"' "${u[@]}" --json
contains "alice attribute" '"clearance": "3"'
contains "alice set attribute" '"regions": "[\"eu\", \"us\"]"'
check "group" 0 "$custos" principal create Group::risk "${u[@]}" --as User::admin
check "member" 0 "$custos" principal add-member Group::risk User::alice "${u[@]}" --as User::admin
check "bad principal type" 3 "$custos" principal create Robot::x "${u[@]}"
check "governance" 0 "$custos" governance register FeatureView::fraud "${u[@]}" --as User::admin \
  --classification restricted --owner User::bob --owner User::carol --steward User::erin
check "purpose" 0 "$custos" access purpose define fraud-training "${u[@]}" --as User::admin \
  --description "Training the fraud model" --max-duration 30d

# --- MFA for carol -------------------------------------------------------------------------
check "mfa enroll" 0 "$custos" mfa enroll User::carol "${u[@]}" --as User::carol --out "$work/carol.uri"
check "uri file mode" 0 test "$(stat -c %a "$work/carol.uri")" = 600
check "mfa confirm" 0 "$custos" mfa confirm User::carol "${u[@]}" --as User::carol \
  --code "$(python3 "$src/tests/e2e/totp_code.py" "$work/carol.uri")"

# --- the request ---------------------------------------------------------------------------
req=(access request "${u[@]}" --purpose fraud-training --resource FeatureView::fraud --action read)
check "unknown purpose" 3 "$custos" access request "${u[@]}" --as User::alice --purpose nope \
  --resource FeatureView::fraud --action read --duration 7d --justification x
contains "unknown purpose says so" "nope"
check "over max duration" 3 "$custos" "${req[@]}" --as User::alice --duration 60d --justification x
check "request" 0 "$custos" "${req[@]}" --as User::alice --duration 7d \
  --justification "Q4 fraud model retraining" --json
rid=$(json 'j["id"]')
contains "restricted rule" '"classification": "restricted"'
check "self-approval refused" 6 "$custos" access approve "$rid" "${u[@]}" --as User::alice
check "non-owner refused" 6 "$custos" access approve "$rid" "${u[@]}" --as User::dave
check "bob approves" 0 "$custos" access approve "$rid" "${u[@]}" --as User::bob
contains "one is not enough" "more approvals are needed"
check "bob twice refused" 5 "$custos" access approve "$rid" "${u[@]}" --as User::bob
code=$(python3 "$src/tests/e2e/totp_code.py" "$work/carol.uri" 1)
check "carol approves with MFA" 0 "$custos" access approve "$rid" "${u[@]}" --as User::carol \
  --mfa-code "$code" --json
gid=$(json 'j["grant"]["id"]')
contains "grant until" '"expires"'
check "reused TOTP refused" 6 "$custos" mfa verify User::carol "${u[@]}" --as User::carol --code "$code"

check "review" 0 "$custos" access review "${u[@]}" --json
contains "review grant" "$gid"
contains "review owner" 'User::\"bob\"'
contains "review purpose" '"purpose": "fraud-training"'
contains "review last use" '"last_use": null'
check "show grant" 0 "$custos" access show "$gid" "${u[@]}"
contains "grant active" '"state": "active"'
check "dave cannot revoke" 6 "$custos" access revoke "$gid" "${u[@]}" --as User::dave --reason x
check "steward revokes" 0 "$custos" access revoke "$gid" "${u[@]}" --as User::erin \
  --reason "project paused"
check "review after revoke" 0 "$custos" access review "${u[@]}"
contains "nothing active" "No active grants."

# --- audit: every step is an event --------------------------------------------------------
for action in access.request.create access.request.approve access.grant.create \
  access.grant.revoke identity.mfa.verify; do
  check "audit $action" 0 "$custos" audit query "${u[@]}" --action "$action" --json
  contains "audit has $action" "\"action\":\"$action\""
done
check "audit by principal" 0 "$custos" audit query "${u[@]}" --principal User::alice --json
contains "alice's request" '"action":"access.request.create"'
check "audit refusal recorded" 0 "$custos" audit query "${u[@]}" --principal User::dave --json
contains "dave's refused approval" '"outcome":"denied"'

# --- API keys and tokens -------------------------------------------------------------------
check "service account" 0 "$custos" principal create ServiceAccount::scorer "${u[@]}" --as User::admin
check "api key" 0 "$custos" apikey create ServiceAccount::scorer "${u[@]}" --as User::admin \
  --description "fraud scorer" --ttl 30d --out "$work/key"
check "key file mode" 0 test "$(stat -c %a "$work/key")" = 600
check "api key list" 0 "$custos" apikey list "${u[@]}" --json
contains "listed without secret" '"description": "fraud scorer"'
check "no secret in list" 1 grep -qF "$(cat "$work/key")" <<<"$out"
check "token" 0 "$custos" token issue "${u[@]}" --api-key-file "$work/key" --purpose fraud-training \
  --environment prod --zone eu --resource 'FeatureView::"fraud"' --action read --out "$work/tok"
check "token verify" 0 "$custos" token verify "${u[@]}" --token-file "$work/tok" --json
contains "token subject" 'ServiceAccount::\"scorer\"'
tid=$(json 'j["token_id"]')
sed 's/.$/A/' "$work/tok" > "$work/tampered"
if cmp -s "$work/tok" "$work/tampered"; then sed -i 's/.$/B/' "$work/tampered"; fi
check "tampered token refused" 6 "$custos" token verify "${u[@]}" --token-file "$work/tampered"
check "token too long" 3 "$custos" token issue "${u[@]}" --api-key-file "$work/key" \
  --purpose p --zone eu --resource x --action read --lifetime 2h
check "token revoke" 0 "$custos" token revoke "$tid" "${u[@]}" --as User::admin
check "revoked token refused" 6 "$custos" token verify "${u[@]}" --token-file "$work/tok"
contains "says revoked" "revoked"
echo "custos_ak_0000000000000000000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" > "$work/badkey"
check "forged api key refused" 6 "$custos" token issue "${u[@]}" --api-key-file "$work/badkey" \
  --purpose p --zone eu --resource x --action read

# --- the CA --------------------------------------------------------------------------------
check "client cert" 0 "$custos" ca issue ServiceAccount::scorer "${u[@]}" --as User::admin \
  --out-cert "$work/scorer.pem" --out-key "$work/scorer.key"
check "client key mode" 0 test "$(stat -c %a "$work/scorer.key")" = 600
check "ca cert" 0 "$custos" ca certificate "${u[@]}" --out "$work/ca.pem"
check "openssl verifies the chain" 0 openssl verify -CAfile "$work/ca.pem" "$work/scorer.pem"
check "san" 0 openssl x509 -in "$work/scorer.pem" -noout -ext subjectAltName
contains "service account uri" "scorer"
check "user cert refused" 3 "$custos" ca issue User::alice "${u[@]}" --out-cert "$work/x.pem" \
  --out-key "$work/x.key"
check "no overwrite" 7 "$custos" ca issue ServiceAccount::scorer "${u[@]}" \
  --out-cert "$work/scorer.pem" --out-key "$work/other.key"

# --- the log still verifies -----------------------------------------------------------------
check "audit verify" 0 "$custos" audit verify --dir "$d"

echo "cli_access_test: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
