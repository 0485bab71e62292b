#!/usr/bin/env bash
# Creates a throwaway SoftHSM2 configuration and token for custos tests and demos, all inside
# the folder given as $1; the system-wide /etc/softhsm configuration is never read or changed.
#
# Usage:   eval "$(scripts/softhsm-setup.sh /tmp/custos-hsm)"
# Env:     CUSTOS_SOFTHSM_LABEL  token label (default custos-test)
#          CUSTOS_SOFTHSM_SO_PIN security officer PIN (default 12345678)
#          CUSTOS_SOFTHSM_PIN    user PIN (default 1234)
# Stdout:  one line, `export SOFTHSM2_CONF=...`, for the caller to eval; progress goes to stderr.
# Idempotent: run it again on the same folder and the existing token is kept as it is.
set -euo pipefail

if [ $# -ne 1 ] || [ -z "$1" ]; then
  echo "usage: $0 DIR   (DIR receives softhsm2.conf and tokens/)" >&2
  exit 2
fi

label="${CUSTOS_SOFTHSM_LABEL:-custos-test}"
so_pin="${CUSTOS_SOFTHSM_SO_PIN:-12345678}"
user_pin="${CUSTOS_SOFTHSM_PIN:-1234}"

if ! command -v softhsm2-util >/dev/null 2>&1; then
  echo "softhsm-setup: softhsm2-util not found: run scripts/install-deps.sh (Debian package softhsm2)" >&2
  exit 1
fi

# A folder that already exists keeps its permissions (it may be shared, like /tmp); what this
# script creates inside it is private to the user.
[ -d "$1" ] || mkdir -p -m 700 "$1"
dir="$(cd "$1" && pwd -P)"
mkdir -p -m 700 "$dir/tokens"
chmod 700 "$dir/tokens"
conf="$dir/softhsm2.conf"

# Rewritten every time with the same content, so a run on an existing folder changes nothing.
cat >"$conf" <<CONF
# SoftHSM2 configuration written by custos scripts/softhsm-setup.sh (throwaway, test only)
directories.tokendir = $dir/tokens
objectstore.backend = file
log.level = ERROR
slots.removable = false
slots.mechanisms = ALL
library.reset_on_fork = false
CONF
chmod 600 "$conf"
export SOFTHSM2_CONF="$conf"

# softhsm2-util pads labels with spaces ("Label:            custos-test   ").
token_exists() {
  softhsm2-util --show-slots 2>/dev/null |
    awk -v want="$label" '$1 == "Label:" { sub(/^[ \t]*Label:[ \t]*/, ""); sub(/[ \t]+$/, "");
                                           if ($0 == want) found = 1 }
                          END { exit found ? 0 : 1 }'
}

if token_exists; then
  echo "softhsm-setup: token '$label' already initialized in $dir/tokens" >&2
else
  softhsm2-util --init-token --free --label "$label" --so-pin "$so_pin" --pin "$user_pin" >&2
  if ! token_exists; then
    echo "softhsm-setup: token '$label' not visible after initialization (config $conf)" >&2
    exit 1
  fi
  echo "softhsm-setup: initialized token '$label' in $dir/tokens" >&2
fi

printf 'export SOFTHSM2_CONF=%q\n' "$conf"
