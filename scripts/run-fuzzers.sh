#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) and runs each for a bounded
# time. Any crash, hang, leak or sanitizer report fails the run.
# Usage: scripts/run-fuzzers.sh [SECONDS_PER_TARGET]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-30}"
build=build-fuzzers

# -O1 with line tables only: libFuzzer's usual setting; it compiles much faster than -O2 -g
# under ASan, and stack traces still name functions and lines. Assertions stay on.
CC=clang-14 CXX=clang++-14 cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" \
  -DCUSTOS_FUZZ=ON -DCUSTOS_BUILD_TESTS=OFF -DCUSTOS_BUILD_BENCH=OFF >/dev/null
targets=$(cmake --build "$build" --target help | sed -n 's/^\([a-z0-9_]*_fuzz\): .*/\1/p' | sort -u)
if [ -z "$targets" ]; then
  echo "run-fuzzers: no fuzz targets defined"
  exit 0
fi
# shellcheck disable=SC2086
cmake --build "$build" -j"$(nproc)" --target $targets

# One target for the bounded time; its verdict goes to $build/$t.verdict so that targets
# can run side by side (one per core: each gets the same CPU time it would get alone).
run_one() {
  local t="$1" corpus="$build/corpus/$1" seeds="fuzz/seeds/$1"
  mkdir -p "$corpus"
  if "$build/fuzz/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 "$corpus" $( [ -d "$seeds" ] && echo "$seeds" ) \
      > "$build/$t.log" 2>&1; then
    echo ok > "$build/$t.verdict"
  else
    echo failed > "$build/$t.verdict"
  fi
}

parallel="$(nproc)"
echo "fuzz: $(echo $targets | wc -w) targets, ${seconds}s each, $parallel at a time"
for t in $targets; do
  rm -f "$build/$t.verdict"
  while [ "$(jobs -rp | wc -l)" -ge "$parallel" ]; do wait -n || true; done
  run_one "$t" &
done
wait

failed=0
for t in $targets; do
  if [ "$(cat "$build/$t.verdict" 2>/dev/null)" = ok ]; then
    echo "fuzz: $t $(grep -E 'stat::number_of_executed_units' "$build/$t.log" | tr -s ' ')"
  else
    echo "fuzz: $t FAILED"; tail -40 "$build/$t.log"; failed=1
  fi
done
exit $failed
