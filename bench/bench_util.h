// Shared by the benchmark programs: the deterministic random sequence the data generator and
// every program that replays it use (so custos and its peers see the same entities), and
// exit-on-error helpers for setup steps that must not fail.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <utility>

namespace custos::bench {

// SplitMix64: small, fast and the same on every platform.
struct SplitMix64 {
  uint64_t state;
  uint64_t Next() {
    uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
};

// The value of a Result-like `r` (ok(), status(), operator*), or exit naming `what`.
template <typename R>
auto Must(R r, const char* what) {
  if (!r.ok()) {
    std::fprintf(stderr, "bench: %s: %s\n", what, r.status().ToString().c_str());
    std::exit(1);
  }
  return std::move(*r);
}

// Exits naming `what` unless the Status-like `s` is ok.
template <typename S>
void MustOk(const S& s, const char* what) {
  if (!s.ok()) {
    std::fprintf(stderr, "bench: %s: %s\n", what, s.ToString().c_str());
    std::exit(1);
  }
}

}  // namespace custos::bench
