#!/usr/bin/env bash
# Runs the lineage benchmark of issue 8 and prints each figure against its target:
#   graph of 1,000,000 nodes / 5,000,000 edges, upstream walk to depth 10   p99 <= 10 ms
#   OpenLineage ingestion                                                  >= 20,000 events/s
# with PostgreSQL (the engine under Marquez) as the peer in the same run: a temporary server
# (initdb into a mktemp folder, 127.0.0.1 on a free port, fsync=on, synchronous_commit=on,
# shared_buffers large enough for the graph) gets the same graph (COPY), the same walks (a
# recursive CTE through libpq) and the same events (prepared statements, 1,000 events per
# transaction). custos_bench_lineage does both sides and prints the summary.
# Usage: scripts/bench-lineage.sh [build-dir]   (default: build-bench-release, a Release
# build configured here if missing). Exits 0 even when a target is missed (a MISS is a
# figure to look at); non-zero when something could not run. The output goes to
# <build-dir>/bench-results/lineage-<UTC time>/ (summary.txt, figures.json, server log).
# Environment: CUSTOS_BENCH_QUICK=1 runs a 100,000-node / 500,000-edge graph and fewer
# queries and events (about two minutes; the full run takes about 20); CUSTOS_BENCH_SKIP_BUILD=1 uses the binary
# already built; CUSTOS_BENCH_LINEAGE_ARGS adds flags (e.g. "--queries 500 --events 50000").
# Runs as root too: PostgreSQL refuses root, so the server then runs as user postgres (or
# nobody) through runuser.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-${root}/build-bench-release}"
case "${build}" in /*) ;; *) build="$(pwd)/${build}" ;; esac

if [[ "${CUSTOS_BENCH_QUICK:-0}" == "1" ]]; then
  sizes=(--nodes 100000 --edges 500000 --queries 500 --downstream-queries 200 --events 20000
    --repetitions 1)
else
  # 100,000 events per ingestion run rather than the program's 200,000: custos's rate falls
  # as its store fills (docs/benchmarks.md), and 3 runs x 2 thread counts of 200,000 would
  # take most of an hour; the first and last tenth of each run show the trend.
  sizes=(--nodes 1000000 --edges 5000000 --queries 2000 --downstream-queries 500 --events 100000
    --repetitions 3)
fi
# shellcheck disable=SC2206  # word splitting of the extra flags is wanted
extra=(${CUSTOS_BENCH_LINEAGE_ARGS:-})

die() {
  echo "bench-lineage: $*" >&2
  exit 1
}

# shellcheck source=scripts/lib-pg.sh
source "${root}/scripts/lib-pg.sh"
pg_find_binaries || exit 1

# --- build ----------------------------------------------------------------------------
out="${build}/bench-results/lineage-$(date -u +%Y%m%dT%H%M%SZ)"
if [[ "${CUSTOS_BENCH_SKIP_BUILD:-0}" == "1" ]]; then
  [[ -x "${build}/bench/custos_bench_lineage" ]] ||
    die "CUSTOS_BENCH_SKIP_BUILD=1 but ${build}/bench/custos_bench_lineage is not built"
  mkdir -p "${out}"
else
  if [[ ! -f "${build}/CMakeCache.txt" ]]; then
    echo "== configuring a Release build in ${build}"
    cmake -S "${root}" -B "${build}" -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DCUSTOS_BUILD_TESTS=OFF -DCUSTOS_BUILD_BENCH=ON >/dev/null
  else
    cmake "${build}" >/dev/null  # bench/CMakeLists.txt adds targets as their sources appear
  fi
  mkdir -p "${out}"
  echo "== building custos_bench_lineage in ${build}"
  if ! flock /tmp/custos-build.lock ninja -C "${build}" -j2 custos_bench_lineage \
      >"${out}/build.log" 2>&1; then
    tail -30 "${out}/build.log" >&2
    die "the build failed; full log in ${out}/build.log (is src/lineage built? see" \
        "bench/CMakeLists.txt)"
  fi
fi
build_type="$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "${build}/CMakeCache.txt")"
if [[ "${build_type}" != "Release" ]]; then
  echo "WARNING: ${build} is a '${build_type}' build; figures are meant for Release."
fi

echo "== machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)," \
     "$(free -g | awk '/Mem:/ {print $2}') GiB, kernel $(uname -r); $(date -u +%Y-%m-%dT%H:%M:%SZ)"
tmp_root="${TMPDIR:-/tmp}"
echo "== temporary folders (PostgreSQL's data, custos's data directories) on" \
     "$(df -T "${tmp_root}" | awk 'NR == 2 { print $2 " " $1 }') at ${tmp_root}"
echo "== load before: $(uptime | sed 's/.*load average: //')"

# --- PostgreSQL -----------------------------------------------------------------------
# The graph (about 1 GB with indexes at full size) fits in shared_buffers, as custos holds
# its adjacency in memory.
work="$(mktemp -d "${tmp_root}/custos-bench-lineage-XXXXXX")"
# shellcheck disable=SC2317  # called from the EXIT trap
cleanup() {
  pg_cleanup
  rm -rf "${work}"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
pg_start "${tmp_root}" "${out}" "-c shared_buffers=2GB -c work_mem=64MB" || exit 1

# --- the benchmark --------------------------------------------------------------------
status=0
"${build}/bench/custos_bench_lineage" "${sizes[@]}" "${extra[@]}" --conninfo "${pg_conninfo}" \
  --work-dir "${work}" --json-out "${out}/figures.json" 2>"${out}/bench.err" |
  tee "${out}/output.txt" || status=$?
cat "${out}/bench.err" >&2
pg_stop
rm -rf "${work}"
echo "== load after: $(uptime | sed 's/.*load average: //')"
if [[ "${status}" != "0" ]]; then
  die "custos_bench_lineage failed (exit ${status}; message above); output in ${out}"
fi
sed -n '/^== Summary/,$p' "${out}/output.txt" >"${out}/summary.txt"
echo "== results in ${out}"
