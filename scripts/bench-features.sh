#!/usr/bin/env bash
# Offline point-in-time join benchmark (issue 6): custos' PointInTimeJoin (decryption of the
# encrypted column blocks included) against pandas merge_asof (Debian's python3-pandas, its
# sorts included) and DuckDB's ASOF JOIN (@duckdb/node-api, 2 threads), on the same generated
# data in the same run: 1,000,000 entities, 10 features, 10,000,000 feature rows, 1,000,000
# entity rows. Each system loads the data before timing and times the join plus the
# materialized result; medians of 3 runs. Checks that custos returns the same rows as both
# peers, and prints both ratios with verdicts (targets: >= 3x pandas, >= 1x DuckDB).
# CUSTOS_BENCH_QUICK=1: a small smoke run (20,000 entities, 200,000 rows, 1 run each).
# CUSTOS_BENCH_BUILD: the Release build directory (default build-bench-release).
# Python is /usr/bin/python3 (Debian's, with python3-pandas), not whatever is first on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
build="${CUSTOS_BENCH_BUILD:-build-bench-release}"
if [ "${CUSTOS_BENCH_QUICK:-0}" = "1" ]; then
  entities=20000 rows=200000 entity_rows=20000 repeat=1
else
  entities=1000000 rows=10000000 entity_rows=1000000 repeat=3
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

bash scripts/install-deps.sh >/dev/null
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCUSTOS_BUILD_TESTS=OFF \
  -DCUSTOS_BUILD_BENCH=ON >/dev/null
cmake --build "$build" --target custos_features_datagen custos_bench_features_offline >/dev/null
# npm ci refuses this lock file when the optional per-platform DuckDB bindings of other
# platforms are absent from it (npm's lock files and optional dependencies); fall back to
# npm install, which honours the pinned versions.
(cd bench/duckdb_peer && { npm ci --no-audit --no-fund --silent 2>/dev/null ||
  npm install --no-audit --no-fund --silent; })

echo "== machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)," \
  "$(free -g | awk '/Mem:/ {print $2}') GiB; $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "== load before: $(uptime)"
mkdir -p "$work/data"
"$build/bench/custos_features_datagen" "$work/data" "$entities" "$rows" "$entity_rows" 6

echo "== custos (ingest untimed; PointInTimeJoin timed, 2 threads)"
"$build/bench/custos_bench_features_offline" --data "$work/data" --db "$work/db" \
  --out "$work/custos.csv" --threads 2 --repeat "$repeat" --chunk "$entities" | tee "$work/custos.json"
rm -rf "$work/db"
echo "== pandas merge_asof (sorts included)"
/usr/bin/python3 bench/features_pandas_peer.py "$work/data" "$work/pandas.csv" "$repeat" | tee "$work/pandas.json"
echo "== DuckDB ASOF JOIN (2 threads)"
node bench/duckdb_peer/peer.mjs "$work/data" "$work/duckdb.csv" "$repeat" 2 | tee "$work/duckdb.json"
echo "== load after: $(uptime)"

/usr/bin/python3 - "$work" <<'PY'
import json, sys
import numpy as np
import pandas as pd
work = sys.argv[1]
res = {s: json.loads(open(f"{work}/{s}.json").read().strip().splitlines()[-1])
       for s in ("custos", "pandas", "duckdb")}

def load(system):
    df = pd.read_csv(f"{work}/{system}.csv", float_precision="round_trip", dtype={"f9": "string"})
    return df.sort_values(["driver_id", "ts"], kind="stable").reset_index(drop=True)

def mismatches(a, b):
    if len(a) != len(b) or list(a.columns) != list(b.columns):
        return max(len(a), len(b))
    bad = np.zeros(len(a), dtype=bool)
    for col in a.columns:
        if col == "f9":
            eq = (a[col].fillna("<null>").astype(str).to_numpy(dtype=object) ==
                  b[col].fillna("<null>").astype(str).to_numpy(dtype=object)).astype(bool)
        else:
            x = a[col].astype("float64").to_numpy()
            y = b[col].astype("float64").to_numpy()
            eq = (x == y) | (np.isnan(x) & np.isnan(y))
        bad |= ~eq
    return int(bad.sum())

c, p, d = load("custos"), load("pandas"), load("duckdb")
vs_pandas, vs_duckdb = mismatches(c, p), mismatches(c, d)
cm, pm, dm = res["custos"]["median_s"], res["pandas"]["median_s"], res["duckdb"]["median_s"]
print("== summary")
print(f"custos   {cm:8.3f} s  (runs {', '.join(f'{r:.3f}' for r in res['custos']['runs_s'])};"
      f" {res['custos']['matched']:,} of {res['custos']['entity_rows']:,} rows matched;"
      f" ingest {res['custos']['ingest_s']:.1f} s untimed)")
print(f"pandas   {pm:8.3f} s  (runs {', '.join(f'{r:.3f}' for r in res['pandas']['runs_s'])};"
      f" pandas {res['pandas']['version']})")
print(f"duckdb   {dm:8.3f} s  (runs {', '.join(f'{r:.3f}' for r in res['duckdb']['runs_s'])};"
      f" {res['duckdb']['version']})")
print(f"ratio vs pandas  {pm / cm:6.2f}x (target >= 3x): {'PASS' if pm / cm >= 3 else 'FAIL'}")
print(f"ratio vs DuckDB  {dm / cm:6.2f}x (target >= 1x): {'PASS' if dm / cm >= 1 else 'FAIL'}")
print(f"same rows as pandas: {len(c) - vs_pandas:,}/{len(c):,} "
      f"{'PASS' if vs_pandas == 0 and len(c) == len(p) else 'FAIL'}")
print(f"same rows as DuckDB: {len(c) - vs_duckdb:,}/{len(c):,} "
      f"{'PASS' if vs_duckdb == 0 and len(c) == len(d) else 'FAIL'}")
PY
