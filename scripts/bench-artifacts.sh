#!/usr/bin/env bash
# Runs the artifact vault benchmark of issue 9 and prints each figure beside what bounds it,
# all measured in the same run on the same disk:
#   custos upload   (local file -> BlobStore::WriteBlob -> FinishUpload, fdatasync)  >= 500 MB/s
#   custos download (BlobReader::CopyTo -> local file, fdatasync at the end)         >= 500 MB/s
#   openssl speed -evp aes-256-gcm -bytes 4194304 -seconds 3   (the cipher alone, one core)
#   openssl speed -evp sha256      -bytes 4194304 -seconds 3   (the content hash alone)
#   dd write: dd if=/dev/zero of=F bs=4M count=N conv=fdatasync (the disk, synced)
#   dd read:  dd if=F of=/dev/null bs=4M (page-cache-warm, as custos's download reads are)
# and the ratios custos/openssl-AES and custos/disk. MB/s are 10^6 bytes per second
# everywhere (dd's and openssl's unit). The custos figures are medians of 5 runs over a
# 1 GiB file (256 MiB with CUSTOS_BENCH_QUICK=1); the dd figures are medians of 3.
# Usage: scripts/bench-artifacts.sh [build-dir]   (default: build, the shared
# RelWithDebInfo tree; any optimized build with CUSTOS_BUILD_BENCH=ON works). The build
# step takes /tmp/custos-build.lock and builds only custos_bench_artifacts.
# Environment: CUSTOS_BENCH_QUICK=1 (256 MiB, for a quick look); CUSTOS_BENCH_DIR (where
# the temporary files go; default /tmp, i.e. the disk /tmp is on); CUSTOS_BENCH_SKIP_BUILD=1
# uses the binary already built. Exits 0 even when a target is missed (a MISS is a figure
# to look at); non-zero when something could not run.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-${root}/build}"
case "${build}" in /*) ;; *) build="$(pwd)/${build}" ;; esac
dir="${CUSTOS_BENCH_DIR:-/tmp}"
if [[ "${CUSTOS_BENCH_QUICK:-0}" == "1" ]]; then size_mib=256; else size_mib=1024; fi
reps=5
target_mb_s=500

die() {
  echo "bench-artifacts: $*" >&2
  exit 1
}
command -v openssl >/dev/null || die "openssl is not installed (apt-get install openssl)"
[[ -d "${dir}" && -w "${dir}" ]] || die "CUSTOS_BENCH_DIR '${dir}' is not a writable directory"
free_mib="$(df -Pm "${dir}" | awk 'NR == 2 { print $4 }')"
((free_mib > 4 * size_mib)) ||
  die "need $((4 * size_mib)) MiB free in ${dir}, have ${free_mib}; set CUSTOS_BENCH_DIR"

# --- build ----------------------------------------------------------------------------
bin="${build}/bench/custos_bench_artifacts"
if [[ "${CUSTOS_BENCH_SKIP_BUILD:-0}" != "1" ]]; then
  [[ -f "${build}/CMakeCache.txt" ]] ||
    die "${build} is not a configured build tree; run cmake -S . -B ${build} -DCUSTOS_BUILD_BENCH=ON"
  log="$(mktemp)"
  echo "== building custos_bench_artifacts in ${build}"
  if ! flock /tmp/custos-build.lock ninja -C "${build}" -j2 custos_bench_artifacts >"${log}" 2>&1; then
    if grep -q "unknown target" "${log}"; then
      flock /tmp/custos-build.lock cmake "${build}" >/dev/null # the glob picks up new sources
      flock /tmp/custos-build.lock ninja -C "${build}" -j2 custos_bench_artifacts >"${log}" 2>&1 ||
        { tail -30 "${log}" >&2; die "the build failed (log above)"; }
    else
      tail -30 "${log}" >&2
      die "the build failed (log above)"
    fi
  fi
  rm -f "${log}"
fi
[[ -x "${bin}" ]] || die "${bin} is not built"
build_type="$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "${build}/CMakeCache.txt")"
case "${build_type}" in
  Release | RelWithDebInfo) ;;
  *) echo "WARNING: ${build} is a '${build_type}' build; figures are meant for an optimized build." ;;
esac

echo "== machine: $(nproc) vCPU, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)," \
  "$(free -g | awk '/Mem:/ {print $2}') GiB, kernel $(uname -r); $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "== files in ${dir} on $(df -PT "${dir}" | awk 'NR == 2 { print $2 " " $1 }')"
echo "== load before: $(uptime | sed 's/.*load average: //')"

work="$(mktemp -d "${dir}/custos-bench-artifacts-dd-XXXXXX")"
# shellcheck disable=SC2317  # called from the EXIT trap
cleanup() { rm -rf "${work}"; }
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# MB/s (10^6 bytes/s) from dd's "N bytes (...) copied, S s, ..." line.
dd_rate() { awk '/bytes .* copied/ { printf "%.1f\n", $1 / $(NF - 3) / 1e6 }'; }

# --- openssl ----------------------------------------------------------------------------
# Its last line is "<cipher> <rate>k", the rate in 1000s of bytes per second.
openssl_rate() {
  openssl speed -evp "$1" -bytes 4194304 -seconds 3 2>/dev/null |
    awk 'END { sub(/k$/, "", $NF); printf "%.1f\n", $NF / 1000 }'
}
echo "== openssl speed (one core, 4 MiB buffers, 3 s each)"
aes="$(openssl_rate aes-256-gcm)"
sha="$(openssl_rate sha256)"
echo "   aes-256-gcm ${aes} MB/s, sha256 ${sha} MB/s"

# --- dd ---------------------------------------------------------------------------------
count=$((size_mib / 4))
echo "== dd, ${size_mib} MiB, 3 runs each"
writes=()
reads=()
for _ in 1 2 3; do
  writes+=("$(dd if=/dev/zero of="${work}/dd.bin" bs=4M count="${count}" conv=fdatasync 2>&1 | dd_rate)")
  reads+=("$(dd if="${work}/dd.bin" of=/dev/null bs=4M 2>&1 | dd_rate)")
  rm -f "${work}/dd.bin"
done
dd_write="$(printf '%s\n' "${writes[@]}" | median)"
dd_read="$(printf '%s\n' "${reads[@]}" | median)"
echo "   write (conv=fdatasync) runs: ${writes[*]} MB/s; read (page-cache-warm) runs: ${reads[*]} MB/s"

# --- custos -----------------------------------------------------------------------------
echo "== custos_bench_artifacts --size-mib ${size_mib} --reps ${reps}"
out="$("${bin}" --size-mib "${size_mib}" --reps "${reps}" --dir "${dir}")" ||
  die "custos_bench_artifacts failed (message above)"
echo "${out}" | grep -v '^upload_mb_s\|^download_mb_s'
up="$(echo "${out}" | awk '/^upload_mb_s/ { print $2 }')"
down="$(echo "${out}" | awk '/^download_mb_s/ { print $2 }')"
echo "== load after: $(uptime | sed 's/.*load average: //')"

verdict() { awk -v v="$1" -v t="${target_mb_s}" 'BEGIN { print (v >= t) ? "ok" : "MISS" }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

echo
echo "== Summary (${size_mib} MiB, MB/s = 10^6 bytes/s; custos: median of ${reps}, dd: median of 3)"
printf '%-44s %10s  %-8s %-12s %-10s\n' "figure" "MB/s" "target" "vs openssl" "vs disk"
printf '%-44s %10s  %-8s %-12s %-10s\n' "custos upload (encrypt+hash+write+fdatasync)" "${up}" \
  ">=${target_mb_s} $(verdict "${up}")" "$(ratio "${up}" "${aes}")x AES" "$(ratio "${up}" "${dd_write}")x dd write"
printf '%-44s %10s  %-8s %-12s %-10s\n' "custos download (read+decrypt+write+fsync)" "${down}" \
  ">=${target_mb_s} $(verdict "${down}")" "$(ratio "${down}" "${aes}")x AES" "$(ratio "${down}" "${dd_read}")x dd read"
printf '%-44s %10s\n' "openssl speed aes-256-gcm (1 core)" "${aes}"
printf '%-44s %10s\n' "openssl speed sha256 (1 core)" "${sha}"
printf '%-44s %10s\n' "dd write bs=4M conv=fdatasync" "${dd_write}"
printf '%-44s %10s\n' "dd read bs=4M (page-cache-warm)" "${dd_read}"
echo "(the download also writes and fdatasyncs its output file, so it is bounded by dd write"
echo " as well: custos download / dd write = $(ratio "${down}" "${dd_write}"))"
