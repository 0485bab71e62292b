#!/usr/bin/env bash
# Installs every Debian package custos needs to build, test and benchmark.
# Idempotent: packages already present are left alone; safe to run again.
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build pkg-config git
  clang-14 libclang-rt-14-dev libfuzzer-14-dev
  # libraries
  libssl-dev openssl libsodium-dev librocksdb-dev libgfshare-dev
  nlohmann-json3-dev libcli11-dev libyaml-cpp-dev libspdlog-dev
  libp11-kit-dev libboost-dev libpq-dev libjemalloc-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev softhsm2 python3 postgresql python3-pandas
  libhiredis-dev redis-server curl
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
