// AES-256-GCM throughput of crypto::Aead (issue 2): seal+open at 16 KiB, compared by
// scripts/bench-foundation.sh with `openssl speed -evp aes-256-gcm` in the same run.
//
// Convention: one iteration seals a buffer and opens the result, so AES-GCM runs over
// the plaintext twice; bytes_per_second counts both passes (2 x size per iteration),
// which is the unit `openssl speed` reports for its encrypt-only loop.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>

#include "common/bytes.h"
#include "crypto/aead.h"
#include "crypto/random.h"
#include "crypto/secret.h"

namespace custos::bench {
namespace {

// The associated data a stored value carries: keyspace | DEK id | key (about this size).
constexpr char kAssociatedDataText[] = "online\0dek_01JB7Q9Z6X4M8N2P5R3T7V9W1Y\0fv:42:user:1234";
constexpr std::string_view kAssociatedData(kAssociatedDataText, sizeof kAssociatedDataText - 1);

crypto::Aead MakeAead() {
  auto aead = crypto::Aead::Create(crypto::SecretBytes::Random(crypto::Aead::kKeySize));
  if (!aead.ok()) std::abort();  // a 32-byte key cannot be refused
  return std::move(*aead);
}

// The hot-path API: SealTo/OpenTo into buffers reused across iterations.
void BM_AeadSealOpen(benchmark::State& state) {
  const size_t size = static_cast<size_t>(state.range(0));
  const crypto::Aead aead = MakeAead();
  const common::Bytes plaintext = crypto::RandomBytes(size);
  const common::ByteView ad = common::AsBytes(kAssociatedData);
  common::Bytes sealed;
  common::Bytes opened;
  sealed.reserve(size + crypto::Aead::kOverhead);
  opened.reserve(size);
  for (auto _ : state) {
    sealed.clear();
    opened.clear();
    aead.SealTo(plaintext, ad, sealed);
    Status s = aead.OpenTo(sealed, ad, opened);
    if (!s.ok()) {
      state.SkipWithError("open failed");
      break;
    }
    benchmark::DoNotOptimize(opened.data());
    benchmark::ClobberMemory();
  }
  if (opened != plaintext) state.SkipWithError("round trip changed the plaintext");
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * 2 *
                          static_cast<int64_t>(size));
  state.counters["plaintext_bytes"] = static_cast<double>(size);
}
BENCHMARK(BM_AeadSealOpen)->Arg(16384)->Arg(200);

// The convenience API: Seal/Open allocate their result on every call.
void BM_AeadSealOpenAllocating(benchmark::State& state) {
  const size_t size = static_cast<size_t>(state.range(0));
  const crypto::Aead aead = MakeAead();
  const common::Bytes plaintext = crypto::RandomBytes(size);
  const common::ByteView ad = common::AsBytes(kAssociatedData);
  for (auto _ : state) {
    common::Bytes sealed = aead.Seal(plaintext, ad);
    Result<common::Bytes> opened = aead.Open(sealed, ad);
    if (!opened.ok()) {
      state.SkipWithError("open failed");
      break;
    }
    benchmark::DoNotOptimize(opened->data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * 2 *
                          static_cast<int64_t>(size));
}
BENCHMARK(BM_AeadSealOpenAllocating)->Arg(16384)->Arg(200);

// Seal alone: the same work as `openssl speed`'s encrypt loop, for a direct check.
void BM_AeadSeal(benchmark::State& state) {
  const size_t size = static_cast<size_t>(state.range(0));
  const crypto::Aead aead = MakeAead();
  const common::Bytes plaintext = crypto::RandomBytes(size);
  const common::ByteView ad = common::AsBytes(kAssociatedData);
  common::Bytes sealed;
  sealed.reserve(size + crypto::Aead::kOverhead);
  for (auto _ : state) {
    sealed.clear();
    aead.SealTo(plaintext, ad, sealed);
    benchmark::DoNotOptimize(sealed.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(size));
}
BENCHMARK(BM_AeadSeal)->Arg(16384);

}  // namespace
}  // namespace custos::bench

BENCHMARK_MAIN();
