#!/usr/bin/env bash
# End-to-end: drives the real `custos` binary as an operator would. Shamir init, unseal
# in any order, clear refusals, encrypted records, rotation, shredding, exit codes; then
# the same in PKCS#11 mode against a SoftHSM2 token made by scripts/softhsm-setup.sh.
# Usage: cli_keys_test.sh CUSTOS_BINARY SOURCE_DIR
set -uo pipefail
custos="$1"
src="$2"
source "$src/tests/e2e/lib.sh"

# --- Shamir mode -----------------------------------------------------------------
d="$work/data"
check "init" 0 "$custos" init --dir "$d" --shares 5 --threshold 3 --json
python3 -c 'import json,sys; [print(s) for s in json.load(sys.stdin)["shares"]]' <<<"$out" > "$work/all"
[ "$(wc -l < "$work/all")" -eq 5 ] && passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL: 5 shares"; }
sed -n '5p;2p;4p' "$work/all" > "$work/three"   # shares 2, 4, 5 (any order)
sed -n '1p;3p' "$work/all" > "$work/two"
check "mode 0700" 0 test "$(stat -c %a "$d")" = 700

check "unseal with 3 shares" 0 "$custos" unseal --dir "$d" --shares-file "$work/three"
contains "unseal message" "root of trust verified (shamir), current KEK v1"
check "unseal from stdin" 0 sh -c "\"$custos\" unseal --dir \"$d\" --shares-file - < \"$work/three\""
check "unseal with 2 shares" 3 "$custos" unseal --dir "$d" --shares-file "$work/two"
contains "too few shares" "need 3 of 5 unseal shares, got 2"
check "sealed without shares" 7 "$custos" keys status --dir "$d"
contains "sealed message" "is sealed with 3-of-5 unseal shares: pass --shares-file"

# init made the data keys of its own services (audit log, identity, CA, ...): count them.
check "status before" 0 "$custos" keys status --dir "$d" --shares-file "$work/three" --json
keys_at_init=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["data_keys"])' <<<"$out")
check "put" 0 "$custos" data put --dir "$d" --shares-file "$work/three" --owner fv:a:1 k1 "alpha-plaintext"
check "put other owner" 0 "$custos" data put --dir "$d" --shares-file "$work/three" --owner fv:b:1 k1 "beta-plaintext"
check "get" 0 "$custos" data get --dir "$d" --shares-file "$work/three" --owner fv:a:1 k1
contains "get value" "alpha-plaintext"
check "no plaintext on disk" 1 grep -rqF "alpha-plaintext" "$d"
check "rotate" 0 "$custos" keys rotate --dir "$d" --shares-file "$work/three" --json
contains "rotate result" "\"data_keys_rewrapped\": $((keys_at_init + 2))"
check "get after rotate" 0 "$custos" data get --dir "$d" --shares-file "$work/three" --owner fv:a:1 k1
contains "value after rotate" "alpha-plaintext"
check "rotate if due (not due)" 0 "$custos" keys rotate --if-due --dir "$d" --shares-file "$work/three"
contains "not due" "No rotation due"
check "status" 0 "$custos" keys status --dir "$d" --shares-file "$work/three" --json
contains "status compliant" '"compliant": true'
contains "status version" '"current_kek_version": 2'
check "shred" 0 "$custos" keys shred fv:a:1 --dir "$d" --shares-file "$work/three"
check "get shredded" 4 "$custos" data get --dir "$d" --shares-file "$work/three" --owner fv:a:1 k1
contains "shredded message" "was shredded; its data can no longer be decrypted"
check "other owner intact" 0 "$custos" data get --dir "$d" --shares-file "$work/three" --owner fv:b:1 k1
check "unknown keyspace" 3 "$custos" data get --dir "$d" --shares-file "$work/three" --owner fv:b:1 --keyspace nope k1
check "init over existing" 5 "$custos" init --dir "$d"
check "usage error" 2 "$custos" keys
check "missing dir" 4 "$custos" unseal --dir "$work/nope" --shares-file "$work/three"

# --- PKCS#11 mode (SoftHSM2) -------------------------------------------------------
eval "$(bash "$src/scripts/softhsm-setup.sh" "$work/hsm" 2>/dev/null)"
export SOFTHSM2_CONF
echo "1234" > "$work/pin"
echo "9999" > "$work/badpin"
module=/usr/lib/softhsm/libsofthsm2.so
p="$work/pkcs11data"
check "pkcs11 init" 0 "$custos" init --dir "$p" --pkcs11-module "$module" --pkcs11-token custos-test --pin-file "$work/pin"
check "pkcs11 put" 0 "$custos" data put --dir "$p" --pin-file "$work/pin" --owner fv:h:1 k "hsm-plaintext"
check "pkcs11 get" 0 "$custos" data get --dir "$p" --pin-file "$work/pin" --owner fv:h:1 k
contains "pkcs11 value" "hsm-plaintext"
check "pkcs11 wrong pin" 6 "$custos" data get --dir "$p" --pin-file "$work/badpin" --owner fv:h:1 k
check "pkcs11 rotate" 0 "$custos" keys rotate --dir "$p" --pin-file "$work/pin"
check "pkcs11 get after rotate" 0 "$custos" data get --dir "$p" --pin-file "$work/pin" --owner fv:h:1 k
contains "pkcs11 value after rotate" "hsm-plaintext"

# A second data directory on the same token keeps its own KEKs.
q="$work/pkcs11data2"
check "pkcs11 second dir" 0 "$custos" init --dir "$q" --pkcs11-module "$module" --pkcs11-token custos-test --pin-file "$work/pin"
check "pkcs11 second put" 0 "$custos" data put --dir "$q" --pin-file "$work/pin" --owner fv:h:1 k "other-dir"
check "pkcs11 second rotate" 0 "$custos" keys rotate --dir "$q" --pin-file "$work/pin"
check "pkcs11 second rotate again" 0 "$custos" keys rotate --dir "$q" --pin-file "$work/pin" --json
contains "second dir at v3" '"kek_version": 3'
check "first dir still v2" 0 "$custos" keys status --dir "$p" --pin-file "$work/pin" --json
contains "first dir version" '"current_kek_version": 2'
check "first dir data intact" 0 "$custos" data get --dir "$p" --pin-file "$work/pin" --owner fv:h:1 k
contains "first dir value" "hsm-plaintext"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
