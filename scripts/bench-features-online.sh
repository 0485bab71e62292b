#!/usr/bin/env bash
# Online feature-read benchmark (issue 6): custos in process, 1 entity x 10 features with
# Cedar policy (25 policies, 36 principals) and masking (7 raw + 3 masked), against Redis
# HMGET of the same 10 fields (Feast's usual online store; no policy, no encryption) over
# 127.0.0.1 TCP, on the same generated data in the same run: 1,000,000 entities, one row
# each, 200,000 timed requests after 10,000 warm-up, single thread, the same random entity
# sequence. Prints p50/p90/p99/p99.9 of custos (AuthorizeRead + GetOnlineFeatures, and each
# alone) and of Redis, the ratios, and the verdict against the target (custos p99 <= 50 us).
# custos runs on a data directory opened as the server opens it.
# CUSTOS_BENCH_QUICK=1: a small smoke run (20,000 entities, 20,000 requests).
# CUSTOS_BENCH_BUILD: the Release build directory (default build-bench-release).
set -euo pipefail
cd "$(dirname "$0")/.."
build="${CUSTOS_BENCH_BUILD:-build-bench-release}"
if [ "${CUSTOS_BENCH_QUICK:-0}" = "1" ]; then
  entities=20000 requests=20000
else
  entities=1000000 requests=200000
fi
warmup=10000
seed=42
work=$(mktemp -d)
redis_pid=""
cleanup() {
  if [ -n "$redis_pid" ]; then
    kill "$redis_pid" 2>/dev/null || true
    wait "$redis_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

bash scripts/install-deps.sh >/dev/null
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCUSTOS_BUILD_TESTS=OFF \
  -DCUSTOS_BUILD_BENCH=ON >/dev/null
cmake --build "$build" --target custos_features_datagen custos_bench_features_online \
  custos_features_online_redis_peer >/dev/null

# Redis on a free loopback port, no persistence, its files in the temp dir.
port=$(/usr/bin/python3 -c \
  'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$work/redis"
redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no --dir "$work/redis" \
  --daemonize no --logfile "$work/redis/redis.log" &
redis_pid=$!
for _ in $(seq 100); do
  if redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null | grep -q PONG; then break; fi
  sleep 0.1
done
redis-cli -h 127.0.0.1 -p "$port" ping | grep -q PONG || {
  echo "redis-server did not start; its log:" >&2
  cat "$work/redis/redis.log" >&2
  exit 1
}

echo "== machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)," \
  "$(free -g | awk '/Mem:/ {print $2}') GiB; $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "== load before: $(uptime)"
mkdir -p "$work/data"
# As many rows as entities: each entity has exactly one (its latest) row.
"$build/bench/custos_features_datagen" "$work/data" "$entities" "$entities" 1 6

echo "== custos, data directory as the server opens it (ingest untimed; AuthorizeRead +" \
  "GetOnlineFeatures timed, 1 thread)"
"$build/bench/custos_bench_features_online" --data "$work/data" --db "$work/db" \
  --requests "$requests" --warmup "$warmup" --seed "$seed" | tee "$work/custos.json"
rm -rf "$work/db"
echo "== Redis HMGET of 10 fields over 127.0.0.1 TCP (load untimed, 1 thread)"
"$build/bench/custos_features_online_redis_peer" --data "$work/data" --port "$port" \
  --requests "$requests" --warmup "$warmup" --seed "$seed" | tee "$work/redis.json"
echo "== load after: $(uptime)"

/usr/bin/python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
def phases(name):
    out = {}
    for line in open(f"{work}/{name}.json"):
        line = line.strip()
        if line.startswith("{"):
            d = json.loads(line)
            out[d["phase"]] = d
    return out
c, r = phases("custos"), phases("redis")
def row(label, d):
    print(f"{label:<40} p50 {d['p50_us']:8.2f}  p90 {d['p90_us']:8.2f}  p99 {d['p99_us']:8.2f}"
          f"  p99.9 {d['p999_us']:8.2f}  us")
print("== summary")
print(f"entities {c['setup']['entities']:,}; {c['summary']['requests']:,} timed requests after "
      f"{c['summary']['warmup']:,} warm-up; ingest {c['setup']['ingest_s']:.1f} s, "
      f"Redis load {r['setup']['load_s']:.1f} s "
      f"(untimed); Redis {r['setup']['version']}")
row("custos: authorize+get", c["authorize+get"])
row("custos: AuthorizeRead alone", c["authorize"])
row("custos: GetOnlineFeatures alone", c["get"])
row("redis HMGET (TCP)", r["hmget"])
rp99, rp50 = r["hmget"]["p99_us"], r["hmget"]["p50_us"]
for d in (c,):
    cp99, cp50 = d["authorize+get"]["p99_us"], d["authorize+get"]["p50_us"]
    print(f"custos: ratio custos/Redis p99 {cp99 / rp99:6.2f}, p50 {cp50 / rp50:6.2f}"
          f" (below 1: custos faster); target p99 <= 50 us: {cp99:.2f} us "
          f"{'PASS' if cp99 <= 50 else 'MISS'}")
for d in (c,):
    s = d.get("stall_probe")
    if s:
        print(f"machine stalls (clock gaps > 10 us, no work of ours): "
              f"{s['gaps_over_10us_per_ms']:.2f} per ms, median {s['median_gap_us']:.1f} us")
        break
print(f"verified responses: custos {c['summary']['verified']:,}, Redis {r['summary']['verified']:,}")
PY
