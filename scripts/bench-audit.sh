#!/usr/bin/env bash
# Runs the audit log benchmarks of issue 4 and prints each figure against its target:
#   durable appends, group commit, 8 producers, fsync  >= 100,000 events/s
#                                                       and >= 3 x PostgreSQL's best
#   inclusion proof on a 10,000,000-entry log           p99 <= 50 us
#   verifying the whole log                             >= 0.70 x `openssl speed sha256`
# PostgreSQL is the peer: a temporary server (initdb into a mktemp folder, 127.0.0.1 on a
# free port, fsync=on, synchronous_commit=on) gets the same events from
# custos_audit_pg_peer in 4 configurations: 1 and 8 clients, 1 row per transaction
# (autocommit) and 100 (BEGIN, 100 INSERTs, COMMIT in one libpq pipeline).
# Usage: scripts/bench-audit.sh [build-dir]   (default: build-bench-release, a Release
# build configured here if missing). Exits 0 even when a target fails: the machine may be
# shared and noisy, so a FAIL is a figure to look at; exits non-zero when something could
# not run. Raw outputs and the printed table (summary.txt) go to
# <build-dir>/bench-results/audit-<UTC time>/.
# Environment: CUSTOS_BENCH_QUICK=1 runs everything small (a smoke test; figures
# meaningless); CUSTOS_BENCH_REPETITIONS (default 3) and CUSTOS_BENCH_AUDIT_EVENTS
# (default 20000, events per PostgreSQL configuration) override the sizes.
# Runs as root too: PostgreSQL refuses root, so the server then runs as user postgres
# (or nobody) through runuser.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-${root}/build-bench-release}"
case "${build}" in /*) ;; *) build="$(pwd)/${build}" ;; esac

quick="${CUSTOS_BENCH_QUICK:-0}"
if [[ "${quick}" == "1" ]]; then
  reps="${CUSTOS_BENCH_REPETITIONS:-1}"
  events="${CUSTOS_BENCH_AUDIT_EVENTS:-2000}"
  openssl_seconds=1
else
  reps="${CUSTOS_BENCH_REPETITIONS:-3}"
  events="${CUSTOS_BENCH_AUDIT_EVENTS:-20000}"
  openssl_seconds=3
fi
export CUSTOS_BENCH_QUICK="${quick}"  # the proof benchmark may shrink its log for a smoke run

die() {
  echo "bench-audit: $*" >&2
  exit 1
}

# shellcheck source=scripts/lib-pg.sh
source "${root}/scripts/lib-pg.sh"
pg_find_binaries || exit 1

# --- build ----------------------------------------------------------------------------
if [[ ! -f "${build}/CMakeCache.txt" ]]; then
  echo "== configuring a Release build in ${build}"
  cmake -S "${root}" -B "${build}" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCUSTOS_BUILD_TESTS=OFF -DCUSTOS_BUILD_BENCH=ON >/dev/null
else
  # Re-run the configure step: bench/CMakeLists.txt adds targets when their sources
  # appear, e.g. audit_proof_bench.cc.
  cmake "${build}" >/dev/null
fi
build_type="$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "${build}/CMakeCache.txt")"
if [[ "${build_type}" != "Release" ]]; then
  echo "WARNING: ${build} is a '${build_type}' build; figures are meant for Release" \
       "(run without an argument to get build-bench-release)."
fi
if ! grep -q '^CUSTOS_BUILD_BENCH:BOOL=ON' "${build}/CMakeCache.txt"; then
  die "${build} was configured with CUSTOS_BUILD_BENCH off; reconfigure it with" \
      "-DCUSTOS_BUILD_BENCH=ON or pass another build directory"
fi

all_targets="$(ninja -C "${build}" -t targets all 2>/dev/null | sed -n 's/^\([^:]*\):.*/\1/p')"
has_target() { grep -qx "$1" <<<"${all_targets}"; }
has_target custos_bench_audit ||
  die "no target custos_bench_audit in ${build} (is src/audit built? see bench/CMakeLists.txt)"
has_target custos_audit_pg_peer ||
  die "no target custos_audit_pg_peer in ${build}: CMake did not find libpq; install" \
      "libpq-dev (scripts/install-deps.sh) and re-run"
targets=(custos_bench_audit custos_audit_pg_peer)
have_proof=0
if has_target custos_bench_audit_proof; then
  have_proof=1
  targets+=(custos_bench_audit_proof)
fi

out="${build}/bench-results/audit-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "${out}"
echo "== building ${targets[*]} in ${build}"
if ! ninja -C "${build}" -j2 "${targets[@]}" >"${out}/build.log" 2>&1; then
  tail -30 "${out}/build.log" >&2
  die "the build failed; full log in ${out}/build.log"
fi
if [[ "${have_proof}" == "0" ]]; then
  echo "== custos_bench_audit_proof: no such target (bench/audit_proof_bench.cc missing);" \
       "proof and verification figures are skipped"
fi

echo "== machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)," \
     "kernel $(uname -r), $(openssl version | cut -d' ' -f1-2)"
tmp_root="${TMPDIR:-/tmp}"
echo "== temporary folders (PostgreSQL's data, custos's log) on $(df -T "${tmp_root}" |
     awk 'NR == 2 { print $2 " " $1 }') at ${tmp_root}"
echo "== load before: $(uptime | sed 's/.*load average: //')"
if [[ "${quick}" == "1" ]]; then
  echo "== CUSTOS_BENCH_QUICK=1: small runs, figures are not meaningful"
fi

# --- PostgreSQL -----------------------------------------------------------------------
pg_start "${tmp_root}" "${out}" || exit 1
trap pg_cleanup EXIT
trap 'exit 130' INT TERM HUP
conninfo="${pg_conninfo}"

peer="${build}/bench/custos_audit_pg_peer"
for clients in 1 8; do
  for rows in 1 100; do
    echo "== PostgreSQL peer: ${clients} client(s), ${rows} row(s) per transaction," \
         "${events} events, ${reps} repetition(s)"
    if ! "${peer}" --conninfo "${conninfo}" --clients "${clients}" --rows-per-txn "${rows}" \
        --events "${events}" --repetitions "${reps}" --json \
        >"${out}/pg-c${clients}-k${rows}.json" 2>"${out}/pg-c${clients}-k${rows}.err"; then
      cat "${out}/pg-c${clients}-k${rows}.err" >&2
      die "custos_audit_pg_peer failed (message above)"
    fi
    cat "${out}/pg-c${clients}-k${rows}.err" >&2
    if [[ "${clients}${rows}" == "11" ]]; then
      python3 - "${out}/pg-c1-k1.json" <<'PYTHON'
import json, sys
d = json.load(open(sys.argv[1]))
print(f"== server settings: fsync={d['fsync']} synchronous_commit={d['synchronous_commit']}"
      f" wal_sync_method={d['wal_sync_method']}")
PYTHON
    fi
  done
done
# The server is idle from here on; stopping it keeps custos's run free of its background work.
pg_stop

# --- custos ---------------------------------------------------------------------------
echo "== custos_bench_audit BM_DurableAppend8Producers/fsync:1/window:256 (${reps} repetition(s))"
if ! "${build}/bench/custos_bench_audit" --benchmark_filter='BM_DurableAppend8Producers/fsync:1/window:256' \
    --benchmark_repetitions="${reps}" --benchmark_format=json \
    >"${out}/append.json" 2>"${out}/append.err"; then
  cat "${out}/append.err" >&2
  die "custos_bench_audit failed (message above)"
fi

proof_status=skipped
if [[ "${have_proof}" == "1" ]]; then
  echo "== custos_bench_audit_proof (inclusion proofs on a large log, whole-log verification)"
  if "${build}/bench/custos_bench_audit_proof" --benchmark_format=json \
      >"${out}/proof.json" 2>"${out}/proof.err"; then
    proof_status=ok
  else
    cat "${out}/proof.err" >&2
    echo "bench-audit: custos_bench_audit_proof failed (message above); its figures are missing" >&2
    proof_status=failed
  fi
fi
if [[ "${proof_status}" == "ok" ]]; then
  if ! block="$(python3 - "${out}/proof.json" <<'PYTHON'
import json, sys
for b in json.load(open(sys.argv[1]))["benchmarks"]:
    if b["name"].startswith("BM_VerifyWholeLog") and "mean_message_bytes" in b:
        print(max(1, round(b["mean_message_bytes"])))
        sys.exit(0)
sys.exit("no BM_VerifyWholeLog result with a mean_message_bytes counter in proof.json")
PYTHON
  )"; then
    proof_status=failed
  else
    for b in "${block}" 16384; do
      echo "== openssl speed -seconds ${openssl_seconds} -bytes ${b} sha256"
      openssl speed -seconds "${openssl_seconds}" -bytes "${b}" sha256 \
        >"${out}/openssl-sha256-${b}.txt" 2>&1
    done
  fi
fi
echo "== load after: $(uptime | sed 's/.*load average: //')"
echo "== raw results in ${out}"
echo

python3 - "${out}" "${reps}" "${events}" "${proof_status}" "${block:-0}" <<'PYTHON' | tee "${out}/summary.txt"
import json
import re
import sys

out, reps, events, proof_status, block = sys.argv[1:6]
block = int(block)


def verdict(ok):
    return "PASS" if ok else "FAIL"


def openssl_rate(path):
    # "sha256   765566.20k": thousands of bytes per second over user CPU time.
    with open(path) as f:
        for line in f:
            m = re.match(r"^\s*sha256\s+([0-9.]+)k\s*$", line)
            if m:
                return float(m.group(1)) * 1000.0
    sys.exit(f"could not find the sha256 figure in {path}")


def gbench_result(path, prefix):
    # The median when there are repetitions, else the single run.
    with open(path) as f:
        benchmarks = json.load(f)["benchmarks"]
    runs = [b for b in benchmarks if b["name"].startswith(prefix)]
    if not runs:
        sys.exit(f"no benchmark named {prefix}* in {path}")
    for b in runs:
        if b.get("error_occurred"):
            sys.exit(f"{b['name']} failed: {b.get('error_message')}")
    medians = [b for b in runs if b.get("aggregate_name") == "median"]
    if medians:
        return medians[0]
    plain = [b for b in runs if b.get("run_type", "iteration") == "iteration"]
    return plain[len(plain) // 2]


pg = {}
for clients in (1, 8):
    for rows in (1, 100):
        with open(f"{out}/pg-c{clients}-k{rows}.json") as f:
            pg[(clients, rows)] = json.load(f)
first = pg[(1, 1)]
best_key = max(pg, key=lambda k: pg[k]["rows_per_second"])
best = pg[best_key]["rows_per_second"]

append = gbench_result(f"{out}/append.json", "BM_DurableAppend8Producers/fsync:1/window:256")
custos = append["items_per_second"]

print(f"PostgreSQL {first['server_version']} peer: fsync={first['fsync']}, "
      f"synchronous_commit={first['synchronous_commit']}, "
      f"wal_sync_method={first['wal_sync_method']}; one row per event, the same events as custos;")
print(f"  table indexes: {first['indexes']}")
print(f"  {events} events per configuration, rows/s the median of {reps} run(s)")
print(f"  {'clients':>7}  {'rows/txn':>8}  {'rows/s':>10}  {'custos / this':>13}")
for (clients, rows), d in sorted(pg.items()):
    r = d["rows_per_second"]
    mark = "   <- best" if (clients, rows) == best_key else ""
    print(f"  {clients:>7}  {rows:>8}  {r:>10,.0f}  {custos / r:>12,.1f}x{mark}")
print()
label = append.get("label", "")
print(f"custos durable append, group commit, 8 producers ({label}; "
      f"{append['name']})")
print(f"  {custos:,.0f} events/s")
ratio = custos / best
print(f"  ratio custos / PostgreSQL best {ratio:.2f}x   target >= 3x        {verdict(ratio >= 3)}")
print(f"  events/s                  {custos:>10,.0f}   target >= 100,000   "
      f"{verdict(custos >= 100000)}")
print()
if proof_status == "ok":
    proof = gbench_result(f"{out}/proof.json", "BM_InclusionProofLargeLog/")
    verify = gbench_result(f"{out}/proof.json", "BM_VerifyWholeLog")
    p99 = proof["p99_us"]
    print(f"Inclusion proof ({proof['name']}, {proof.get('label', '')})")
    print(f"  p50 {proof['p50_us']:.2f} us, p99 {p99:.2f} us   target p99 <= 50 us   "
          f"{verdict(p99 <= 50)}")
    try:
        cold = gbench_result(f"{out}/proof.json", "BM_InclusionProofLargeLogColdMappings/")
        print(f"  for context, table files freshly mapped (first reads fault in each page):"
              f" p50 {cold['p50_us']:.2f} us, p99 {cold['p99_us']:.2f} us")
    except SystemExit:
        pass
    rate = verify["sha256_bytes_per_second"]
    ossl = openssl_rate(f"{out}/openssl-sha256-{block}.txt")
    ossl_16k = openssl_rate(f"{out}/openssl-sha256-16384.txt")
    print(f"Verifying the whole log ({verify['name']}, {verify.get('label', '')}), "
          f"mean message {verify['mean_message_bytes']:.1f} bytes")
    print(f"  custos SHA-256 rate            {rate / 1e6:9.1f} MB/s")
    print(f"  openssl speed sha256 -bytes {block:<5d}{ossl / 1e6:9.1f} MB/s   (single process, user CPU)")
    print(f"  openssl speed sha256 -bytes 16384{ossl_16k / 1e6:8.1f} MB/s   (for context)")
    vr = rate / ossl
    print(f"  ratio {vr:.2f}   target >= 0.70   {verdict(vr >= 0.70)}")
elif proof_status == "skipped":
    print("Inclusion proof and whole-log verification: SKIPPED (no custos_bench_audit_proof target)")
else:
    print("Inclusion proof and whole-log verification: NOT MEASURED (custos_bench_audit_proof failed)")
print()
print("On a shared machine the figures move with the load; compare ratios measured in the")
print("same run, not absolute numbers across runs.")
PYTHON
if [[ "${proof_status}" == "failed" ]]; then
  exit 2
fi
exit 0
