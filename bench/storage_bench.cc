// Storage benchmarks of issue 2: put+get of 200-byte values on the raw RocksDB engine
// and through an EncryptedKeyspace (same engine options, same write options), and the
// rewrap of 100,000 DEKs by Keyring::Rotate() over the RocksDB-backed key store.
//
// Both put+get benchmarks write with WriteOptions{.sync = false} (the value reaches the
// OS before Put returns, not the disk), so neither side pays an fsync per operation and
// the ratio shows the cost of sealing and opening. Rotation writes are synced, as the
// KvKeyRecordStore always does. Every database lives in a fresh directory under
// /tmp that is removed afterwards.
#include <benchmark/benchmark.h>
#include <stdlib.h>
#include <time.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/bytes.h"
#include "common/clock.h"
#include "crypto/keyring.h"
#include "crypto/random.h"
#include "crypto/secret.h"
#include "crypto/software_kek_backend.h"
#include "storage/encrypted_keyspace.h"
#include "storage/key_record_store_kv.h"
#include "storage/rocksdb_kv.h"

namespace custos::bench {
namespace {

constexpr size_t kValueSize = 200;
// Fixed so that both put+get benchmarks reach the same database size.
constexpr benchmark::IterationCount kPutGetIterations = 100'000;
constexpr size_t kRotationDeks = 100'000;
const storage::WriteOptions kUnsyncedWrite{.sync = false};

// A fresh directory under the system temp dir, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "custos-bench-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) {
      std::perror("custos bench: mkdtemp");
      std::abort();
    }
    path_ = pattern;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Aborts with the status message: a benchmark whose set-up failed measures nothing.
template <typename T>
T Must(Result<T> result, const char* what) {
  if (!result.ok()) {
    std::fprintf(stderr, "custos bench: %s: %s\n", what, result.status().ToString().c_str());
    std::abort();
  }
  return std::move(*result);
}

std::unique_ptr<storage::RocksDbKv> OpenDb(const TempDir& dir) {
  storage::RocksDbOptions options;  // the defaults, identical for every benchmark here
  options.path = dir.path() + "/db";
  return Must(storage::RocksDbKv::Open(options), "opening RocksDB");
}

// Random-ish keys: a 64-bit mix of the counter (SplitMix64's finalizer), in hex, so
// inserts land all over the key space instead of appending in order.
void KeyFor(uint64_t i, std::string& key) {
  uint64_t z = i + 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  static constexpr char kHex[] = "0123456789abcdef";
  key.assign("user:");
  for (int shift = 60; shift >= 0; shift -= 4) key.push_back(kHex[(z >> shift) & 0xf]);
}

std::string RandomValue() {
  common::Bytes bytes = crypto::RandomBytes(kValueSize);
  return std::string(common::AsChars(bytes));
}

// One iteration: put a 200-byte value at a new key, then get it back.
void BM_RawPutGet(benchmark::State& state) {
  TempDir dir;
  std::unique_ptr<storage::RocksDbKv> kv = OpenDb(dir);
  const std::string value = RandomValue();
  std::string key;
  uint64_t i = 0;
  for (auto _ : state) {
    KeyFor(i++, key);
    Status put = kv->Put(storage::Keyspace::kOnline, key, value, kUnsyncedWrite);
    Result<std::optional<std::string>> got = kv->Get(storage::Keyspace::kOnline, key);
    if (!put.ok() || !got.ok() || !got->has_value() || (*got)->size() != kValueSize) {
      state.SkipWithError("raw put+get failed");
      break;
    }
    benchmark::DoNotOptimize((*got)->data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_RawPutGet)->Iterations(kPutGetIterations)->Unit(benchmark::kMicrosecond);

// The same operations through an EncryptedKeyspace: seal on put, open on get.
void BM_EncryptedPutGet(benchmark::State& state) {
  TempDir dir;
  std::unique_ptr<storage::RocksDbKv> kv = OpenDb(dir);
  storage::KvKeyRecordStore store(*kv);
  common::SystemClock clock;
  std::unique_ptr<crypto::Keyring> keyring =
      Must(crypto::Keyring::Open(
               Must(crypto::SoftwareKekBackend::Create(
                        crypto::SecretBytes::Random(crypto::Aead::kKeySize), store, "bench"),
                    "creating the KEK backend"),
               store, clock),
           "opening the keyring");
  storage::EncryptedKeyspace keyspace =
      Must(storage::EncryptedKeyspace::Open(*kv, storage::Keyspace::kOnline, *keyring,
                                            "fv:bench_online:1"),
           "opening the encrypted keyspace");
  const std::string value = RandomValue();
  std::string key;
  uint64_t i = 0;
  for (auto _ : state) {
    KeyFor(i++, key);
    Status put = keyspace.Put(key, value, kUnsyncedWrite);
    Result<std::optional<std::string>> got = keyspace.Get(key);
    if (!put.ok() || !got.ok() || !got->has_value() || (*got)->size() != kValueSize) {
      state.SkipWithError("encrypted put+get failed");
      break;
    }
    benchmark::DoNotOptimize((*got)->data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_EncryptedPutGet)->Iterations(kPutGetIterations)->Unit(benchmark::kMicrosecond);

// Creating 100,000 DEKs through a store that syncs every write would take minutes of
// fsyncs; set-up goes through this store instead, which writes the same records to the
// same keyspace without syncing. Only set-up uses it: Rotate() runs over the real
// KvKeyRecordStore.
class UnsyncedKeyRecordStore final : public crypto::KeyRecordStore {
 public:
  explicit UnsyncedKeyRecordStore(storage::Kv& kv) : kv_(kv), synced_(kv) {}
  Result<std::optional<common::Bytes>> Get(std::string_view key) override {
    return synced_.Get(key);
  }
  Status Apply(const std::vector<crypto::KeyRecordWrite>& writes) override {
    storage::WriteBatch batch;
    for (const auto& w : writes) {
      if (w.value) {
        batch.Put(storage::Keyspace::kKeys, w.key, common::AsChars(*w.value));
      } else {
        batch.Delete(storage::Keyspace::kKeys, w.key);
      }
    }
    return kv_.Write(batch, kUnsyncedWrite);
  }
  Status Scan(std::string_view prefix,
              const std::function<Status(std::string_view, common::ByteView)>& visit) override {
    return synced_.Scan(prefix, visit);
  }
  Status PurgeDeleted() override { return synced_.PurgeDeleted(); }

 private:
  storage::Kv& kv_;
  storage::KvKeyRecordStore synced_;
};

double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// A database holding kRotationDeks wrapped DEKs, built once and shared by every
// repetition (each repetition rotates again: all DEKs move to the next KEK version).
class RotationFixture {
 public:
  RotationFixture() : root_key_(crypto::SecretBytes::Random(crypto::Aead::kKeySize)) {
    kv_ = OpenDb(dir_);
    store_ = std::make_unique<storage::KvKeyRecordStore>(*kv_);
    UnsyncedKeyRecordStore setup_store(*kv_);
    std::unique_ptr<crypto::Keyring> keyring = OpenKeyring(setup_store, {});
    std::string owner;
    for (size_t i = 0; i < kRotationDeks; ++i) {
      owner = "fv:bench_view_" + std::to_string(i) + ":1";
      Must(keyring->GetOrCreateDataKey(owner), "creating a data key");
    }
  }

  std::unique_ptr<crypto::Keyring> OpenKeyring(crypto::KeyRecordStore& store,
                                               crypto::KeyringOptions options) {
    return Must(crypto::Keyring::Open(
                    Must(crypto::SoftwareKekBackend::Create(root_key_.Clone(), store, "bench"),
                         "creating the KEK backend"),
                    store, clock_, options),
                "opening the keyring");
  }
  crypto::KeyRecordStore& store() { return *store_; }

 private:
  common::SystemClock clock_;
  crypto::SecretBytes root_key_;
  TempDir dir_;  // declared before the database so that it is removed after it closes
  std::unique_ptr<storage::RocksDbKv> kv_;
  std::unique_ptr<storage::KvKeyRecordStore> store_;
};

// One iteration: Keyring::Rotate() rewrapping every DEK (argument: rewrap batch size;
// 1024 is KeyringOptions' default). Times only Rotate(); reports DEKs per second.
void BM_RotateRewrap(benchmark::State& state, std::unique_ptr<RotationFixture>& fixture) {
  if (!fixture) fixture = std::make_unique<RotationFixture>();
  crypto::KeyringOptions options;
  options.rewrap_batch_size = static_cast<size_t>(state.range(0));
  std::unique_ptr<crypto::Keyring> keyring = fixture->OpenKeyring(fixture->store(), options);
  size_t rewrapped = 0;
  double seconds = 0;
  double cpu_seconds = 0;
  for (auto _ : state) {
    const double cpu_start = ThreadCpuSeconds();
    const auto start = std::chrono::steady_clock::now();
    Result<crypto::RotationResult> rotated = keyring->Rotate();
    const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
    cpu_seconds += ThreadCpuSeconds() - cpu_start;
    if (!rotated.ok() || rotated->deks_rewrapped != kRotationDeks) {
      state.SkipWithError(rotated.ok() ? "Rotate() rewrapped the wrong number of DEKs"
                                       : "Rotate() failed");
      break;
    }
    state.SetIterationTime(elapsed.count());
    rewrapped += rotated->deks_rewrapped;
    seconds += elapsed.count();
  }
  // A plain counter (not kIsRate) so that it is DEKs per wall-clock second of Rotate(),
  // fsyncs included, whatever the CPU time.
  state.counters["deks_per_second"] = seconds > 0 ? static_cast<double>(rewrapped) / seconds : 0;
  // The same over the calling thread's CPU time: what Rotate() would reach if fsyncs
  // were free and the CPU were not shared (an upper bound, reported for context).
  state.counters["deks_per_cpu_second"] =
      cpu_seconds > 0 ? static_cast<double>(rewrapped) / cpu_seconds : 0;
  state.counters["deks"] = static_cast<double>(kRotationDeks);
}

}  // namespace
}  // namespace custos::bench

int main(int argc, char** argv) {
  // Owned here, so that the 100k-DEK database is built at most once and removed
  // before the program exits.
  std::unique_ptr<custos::bench::RotationFixture> rotation;
  benchmark::RegisterBenchmark(
      "BM_RotateRewrap",
      [&rotation](benchmark::State& state) { custos::bench::BM_RotateRewrap(state, rotation); })
      ->Arg(1024)
      ->Arg(8192)
      ->Iterations(1)
      ->UseManualTime()
      ->Unit(benchmark::kMillisecond);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
