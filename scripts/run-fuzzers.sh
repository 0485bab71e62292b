#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) and runs each for a bounded
# time. Any crash, hang, leak or sanitizer report fails the run.
# Usage: scripts/run-fuzzers.sh [SECONDS_PER_TARGET]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-30}"
build=build-fuzzers

CC=clang-14 CXX=clang++-14 cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCUSTOS_FUZZ=ON -DCUSTOS_BUILD_TESTS=OFF -DCUSTOS_BUILD_BENCH=OFF >/dev/null
targets=$(cmake --build "$build" --target help | sed -n 's/^\([a-z0-9_]*_fuzz\): .*/\1/p' | sort -u)
if [ -z "$targets" ]; then
  echo "run-fuzzers: no fuzz targets defined"
  exit 0
fi
# shellcheck disable=SC2086
cmake --build "$build" -j"$(nproc)" --target $targets

failed=0
for t in $targets; do
  corpus="$build/corpus/$t"
  mkdir -p "$corpus"
  seeds="fuzz/seeds/$t"
  echo "fuzz: $t for ${seconds}s"
  if ! "$build/fuzz/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 "$corpus" $( [ -d "$seeds" ] && echo "$seeds" ) \
      > "$build/$t.log" 2>&1; then
    echo "fuzz: $t FAILED"; tail -40 "$build/$t.log"; failed=1
  else
    grep -E "stat::number_of_executed_units" "$build/$t.log" || true
  fi
done
exit $failed
