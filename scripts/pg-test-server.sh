#!/usr/bin/env bash
# A throwaway PostgreSQL server for tests (the CTest fixture of tests/features_pg).
#   scripts/pg-test-server.sh start <dir>   initdb into <dir>/data, start on 127.0.0.1 at a
#                                           free port (trust auth, unix socket in <dir>),
#                                           write a libpq DSN to <dir>/dsn
#   scripts/pg-test-server.sh stop <dir>    stop it (idempotent) and remove <dir>/data
# PostgreSQL comes from the Debian packages (/usr/lib/postgresql/<version>/bin, newest).
# As root, the server runs as user postgres (or nobody): PostgreSQL refuses to run as root.
# On failure the server log is printed and the exit status is non-zero.
set -euo pipefail

die() {
  echo "pg-test-server: $*" >&2
  exit 1
}

[[ $# -eq 2 ]] || die "usage: $0 start|stop <dir>"
action="$1"
dir="$2"
mkdir -p "${dir}"
dir="$(cd "${dir}" && pwd)"

pg_bin="$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -1)"
if [[ -z "${pg_bin}" || ! -x "${pg_bin}/initdb" || ! -x "${pg_bin}/pg_ctl" ]]; then
  die "no initdb/pg_ctl under /usr/lib/postgresql/*/bin; install the Debian package" \
      "'postgresql' (scripts/install-deps.sh does)"
fi

run_as=()
if [[ "$(id -u)" == "0" ]]; then
  pg_user=postgres
  getent passwd postgres >/dev/null || pg_user=nobody
  run_as=(runuser -u "${pg_user}" --)
fi

stop_server() {
  if [[ -f "${dir}/data/postmaster.pid" ]]; then
    "${run_as[@]}" "${pg_bin}/pg_ctl" -D "${dir}/data" -m fast -w -t 30 stop >/dev/null 2>&1 || true
  fi
  rm -rf "${dir}/data" "${dir}/dsn"
}

case "${action}" in
  start)
    stop_server  # a server left by an interrupted run
    if [[ "$(id -u)" == "0" ]]; then
      chown "${pg_user}" "${dir}"
      "${run_as[@]}" test -w "${dir}" ||
        die "user ${pg_user} cannot write to ${dir}; use a folder it can reach"
    fi
    port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    if ! "${run_as[@]}" "${pg_bin}/initdb" -D "${dir}/data" -U postgres --auth=trust \
        --encoding=UTF8 --locale=C >"${dir}/initdb.log" 2>&1; then
      cat "${dir}/initdb.log" >&2
      die "initdb failed (log above, also in ${dir}/initdb.log)"
    fi
    options="-c listen_addresses=127.0.0.1 -c port=${port} -c unix_socket_directories=${dir}"
    options+=" -c fsync=off"  # a test server: speed over durability
    if ! "${run_as[@]}" "${pg_bin}/pg_ctl" -D "${dir}/data" -l "${dir}/server.log" -w -t 60 \
        -o "${options}" start >"${dir}/pg_ctl.log" 2>&1; then
      cat "${dir}/pg_ctl.log" "${dir}/server.log" >&2 || true
      die "PostgreSQL did not start (logs above, also in ${dir})"
    fi
    echo "host=127.0.0.1 port=${port} user=postgres dbname=postgres" >"${dir}/dsn"
    echo "pg-test-server: $("${pg_bin}/postgres" --version) on 127.0.0.1:${port}, data in ${dir}/data"
    ;;
  stop)
    stop_server
    echo "pg-test-server: stopped (${dir})"
    ;;
  *)
    die "unknown action '${action}'; use start or stop"
    ;;
esac
