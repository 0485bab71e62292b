# A temporary PostgreSQL server for the benchmark scripts (bench-audit.sh, bench-lineage.sh),
# sourced, not run: initdb into a mktemp folder, 127.0.0.1 on a free port, trust auth,
# fsync=on and synchronous_commit=on (the peer of custos's fsynced audit log).
#   pg_find_binaries                 sets pg_bin: /usr/lib/postgresql/<newest>/bin
#   pg_start TMP_ROOT OUT [OPTIONS]  starts the server with its data under TMP_ROOT and its
#                                    logs in OUT, OPTIONS added to the server's (e.g.
#                                    "-c shared_buffers=2GB"); sets pg_conninfo
#   pg_stop                          stops it (idempotent), copies its log to OUT
#   pg_cleanup                       pg_stop, then removes its data
# Each returns non-zero with a message on stderr when it fails. As root the server runs as
# user postgres (or nobody) through runuser: PostgreSQL refuses to run as root.
# Messages are prefixed with pg_caller (default: the sourcing script's name).

pg_caller="${pg_caller:-$(basename "${BASH_SOURCE[1]:-$0}" .sh)}"
pg_bin=""
pg_tmp=""
pg_out=""
pg_running=0
pg_conninfo=""
run_as=()

pg_fail() {
  echo "${pg_caller}: $*" >&2
  return 1
}

pg_find_binaries() {
  # From the Debian packages, newest version (not whatever initdb is first on PATH: on some
  # machines /usr/local/bin holds wrappers).
  pg_bin="$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -1)"
  if [[ -z "${pg_bin}" || ! -x "${pg_bin}/initdb" || ! -x "${pg_bin}/pg_ctl" ]]; then
    pg_fail "no initdb/pg_ctl under /usr/lib/postgresql/*/bin; install the Debian package" \
            "'postgresql' (scripts/install-deps.sh does)"
  fi
}

pg_start() {
  local tmp_root="$1"
  pg_out="$2"
  local extra_options="${3:-}"
  [[ -n "${pg_bin}" ]] || pg_find_binaries || return 1
  pg_tmp="$(mktemp -d "${tmp_root}/custos-bench-pg-XXXXXX")" ||
    { pg_fail "cannot create a folder under ${tmp_root}; set TMPDIR"; return 1; }
  run_as=()
  if [[ "$(id -u)" == "0" ]]; then
    local pg_user=postgres
    getent passwd postgres >/dev/null || pg_user=nobody
    chown "${pg_user}" "${pg_tmp}"
    run_as=(runuser -u "${pg_user}" --)
    if ! "${run_as[@]}" test -w "${pg_tmp}"; then
      rm -rf "${pg_tmp}"
      pg_fail "user ${pg_user} cannot write to ${pg_tmp}; set TMPDIR to a folder it can reach" \
              "(e.g. TMPDIR=/tmp)"
      return 1
    fi
  fi
  local port
  port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')" ||
    { pg_fail "python3 could not find a free port"; return 1; }
  echo "== $("${pg_bin}/postgres" --version): initdb into ${pg_tmp}/data, listening on" \
       "127.0.0.1:${port} ${run_as[*]:+(as ${run_as[2]})}"
  if ! "${run_as[@]}" "${pg_bin}/initdb" -D "${pg_tmp}/data" -U postgres --auth=trust \
      --encoding=UTF8 --locale=C >"${pg_out}/initdb.log" 2>&1; then
    cat "${pg_out}/initdb.log" >&2
    pg_fail "initdb failed (log above, also in ${pg_out}/initdb.log)"
    return 1
  fi
  local options="-c listen_addresses=127.0.0.1 -c port=${port} -c unix_socket_directories=${pg_tmp}"
  options+=" -c fsync=on -c synchronous_commit=on ${extra_options}"
  if ! "${run_as[@]}" "${pg_bin}/pg_ctl" -D "${pg_tmp}/data" -l "${pg_tmp}/server.log" -w -t 60 \
      -o "${options}" start >"${pg_out}/pg_ctl-start.log" 2>&1; then
    cat "${pg_out}/pg_ctl-start.log" "${pg_tmp}/server.log" >&2 || true
    pg_fail "PostgreSQL did not start (logs above)"
    return 1
  fi
  pg_running=1
  pg_conninfo="host=127.0.0.1 port=${port} user=postgres dbname=postgres"
}

pg_stop() {
  if [[ "${pg_running}" == "1" ]]; then
    "${run_as[@]}" "${pg_bin}/pg_ctl" -D "${pg_tmp}/data" -m fast -w stop >/dev/null 2>&1 || true
    pg_running=0
  fi
  if [[ -n "${pg_tmp}" && -f "${pg_tmp}/server.log" ]]; then
    cp "${pg_tmp}/server.log" "${pg_out}/postgres-server.log"
  fi
}

pg_cleanup() {
  pg_stop
  if [[ -n "${pg_tmp}" ]]; then rm -rf "${pg_tmp}"; fi
  pg_tmp=""
}
