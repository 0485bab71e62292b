#!/usr/bin/env bash
# Policy benchmark (issue 3): custos' Cedar engine against @cedar-policy/cedar-wasm on
# node, same workload (about 50 policies, 10,000 entities, 100,000 requests), same run.
# Prints both throughputs, the ratio (target >= 100x the stateful API), custos' p99
# (target <= 20 us), the 1 MB parse time, and whether every decision matches.
# Usage: scripts/bench-policy.sh [MAX_PEER_REQUESTS]   (default: all 100,000)
set -euo pipefail
cd "$(dirname "$0")/.."
max="${1:-0}"
build=build-bench-release
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

bash scripts/install-deps.sh >/dev/null
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCUSTOS_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" --target custos_bench_policy >/dev/null
(cd bench/cedar_wasm_peer && npm ci --no-audit --no-fund --silent)

"$build/bench/custos_bench_policy" --dump_workload="$work" >/dev/null
echo "== custos"
"$build/bench/custos_bench_policy" --report | tee "$work/custos.txt"
echo "== cedar-wasm (preparsePolicySet + statefulIsAuthorized, per-request entity slices)"
node bench/cedar_wasm_peer/peer.mjs "$work" "$max" | tee "$work/peer.json"

python3 - "$work" <<'PY'
import json, re, sys
work = sys.argv[1]
text = open(f"{work}/custos.txt").read()
wall, cpu = map(float, re.search(r"throughput: (\d+) decisions/s wall, (\d+) decisions/s per CPU", text).groups())
p99 = float(re.search(r"p99 ([\d.]+) us", text).group(1))
parse_ms = float(re.search(r"in ([\d.]+) ms", text).group(1))
peer = json.load(open(f"{work}/peer.json"))
ratio_wall = wall / peer["stateful_decisions_per_s"]
ratio_cpu = cpu / peer["stateful_decisions_per_cpu_s"]
print("== summary")
print(f"custos       {wall:12,.0f} decisions/s wall, {cpu:12,.0f} per CPU second")
print(f"cedar-wasm   {peer['stateful_decisions_per_s']:12,.0f} decisions/s wall, "
      f"{peer['stateful_decisions_per_cpu_s']:12,.0f} per CPU second (stateful); "
      f"{peer['plain_decisions_per_s']:,.0f}/s plain isAuthorized")
print(f"ratio        {ratio_wall:,.0f}x wall, {ratio_cpu:,.0f}x CPU   (target >= 100x): "
      f"{'PASS' if min(ratio_wall, ratio_cpu) >= 100 else 'FAIL'}")
print(f"p99          {p99} us (target <= 20 us): {'PASS' if p99 <= 20 else 'FAIL'}")
print(f"parse 1 MB   {parse_ms} ms")
print(f"decisions    {peer['requests'] - peer['mismatches']}/{peer['requests']} identical "
      f"(decision and reasons): {'PASS' if peer['mismatches'] == 0 else 'FAIL'}")
PY
