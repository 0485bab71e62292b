// Audit log benchmarks (issue 4): durable appends with group commit from 8 producers
// (fsync mode), and inclusion-proof latency from stored tiles on a large log.
// CUSTOS_AUDIT_BENCH_SIZE sets the large log's size (default 10,000,000 leaves).
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <future>
#include <random>
#include <thread>

#include "audit/hash_store.h"
#include "audit/log.h"
#include "crypto/random.h"
#include "crypto/root_key.h"
#include "storage/data_dir.h"

namespace custos::audit {
namespace {

std::string MakeTempDir() {
  std::string pattern =
      (std::filesystem::temp_directory_path() / "custos-audit-bench-XXXXXX").string();
  return ::mkdtemp(pattern.data());
}

AuditEvent BenchEvent(uint64_t n) {
  AuditEvent e;
  e.time = common::FromUnixSeconds(1'800'000'000 + static_cast<int64_t>(n / 1000));
  e.request_id = "req-" + std::to_string(n);
  e.principal_id = "User::u" + std::to_string(n % 97);
  e.auth_method = AuthMethod::kToken;
  e.action = "read";
  e.resources.push_back({"FeatureView", "fv" + std::to_string(n % 13), 3});
  e.purpose = "fraud-model";
  e.environment = "prod";
  e.decision = Decision::kAllow;
  e.determining_policies = {"policy0"};
  e.policy_set_version = 12;
  e.rows_returned = 1;
  e.outcome = Outcome::kOk;
  return e;
}

// 8 producers, each appending kPerThread events. Arg 1: fsync, each producer waits for
// every append (a request thread's view); 0: the same in os-buffer mode; 2: fsync with
// each producer keeping up to 64 appends in flight (AppendAsync), which lets group
// commit fill bigger batches.
void BM_DurableAppend8Producers(benchmark::State& state) {
  const bool fsync = state.range(0) != 0;
  const bool pipelined = state.range(0) == 2;
  const std::string path = MakeTempDir() + "/d";
  crypto::ShamirInit init = *crypto::InitShamir(3, 2);
  auto dir = *storage::DataDir::Create(path, init.config, std::move(init.root_key), {});
  LogOptions options;
  options.durability = fsync ? Durability::kFsync : Durability::kOsBuffer;
  auto log = *AuditLog::Open(dir->kv(), dir->keyring(), options);
  constexpr int kProducers = 8;
  constexpr int kPerThread = 500;
  uint64_t total = 0;
  for (auto _ : state) {
    std::vector<std::thread> threads;
    for (int t = 0; t < kProducers; ++t) {
      threads.emplace_back([&, t] {
        std::vector<std::future<Result<uint64_t>>> in_flight;
        for (int i = 0; i < kPerThread; ++i) {
          AuditEvent event = BenchEvent(static_cast<uint64_t>(t) * 1'000'000 + i);
          if (!pipelined) {
            if (!log->Append(event).ok()) std::abort();
            continue;
          }
          in_flight.push_back(log->AppendAsync(event));
          if (in_flight.size() == 64) {
            for (auto& f : in_flight) {
              if (!f.get().ok()) std::abort();
            }
            in_flight.clear();
          }
        }
        for (auto& f : in_flight) {
          if (!f.get().ok()) std::abort();
        }
      });
    }
    for (auto& th : threads) th.join();
    total += kProducers * kPerThread;
  }
  state.SetItemsProcessed(static_cast<int64_t>(total));
  state.SetLabel(pipelined ? "fsync, 64 in flight per producer" : fsync ? "fsync" : "os-buffer");
  log.reset();
  dir.reset();
  std::filesystem::remove_all(std::filesystem::path(path).parent_path());
}
BENCHMARK(BM_DurableAppend8Producers)
    ->Arg(1)
    ->Arg(0)
    ->Arg(2)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond)
    ->MinTime(2.0);

// A large tree's tiles written directly from leaf hashes in big batches (the proof
// path reads only tiles, so entries are not needed to measure it).
struct LargeTree {
  std::string path;
  std::unique_ptr<storage::RocksDbKv> kv;
  uint64_t size = 0;
};

// Built on first use by the proof benchmark; main() removes it at exit.
std::unique_ptr<LargeTree> large_tree;

LargeTree& BuildLargeTree() {
  if (large_tree) return *large_tree;
  large_tree = [] {
    auto t = std::make_unique<LargeTree>();
    const char* env = std::getenv("CUSTOS_AUDIT_BENCH_SIZE");
    t->size = env ? std::strtoull(env, nullptr, 10) : 10'000'000;
    t->path = MakeTempDir();
    t->kv = std::move(*storage::RocksDbKv::Open({.path = t->path + "/db"}));
    CompactRange range;
    TileWriter tiles;
    storage::WriteBatch batch;
    Status status;
    auto start = std::chrono::steady_clock::now();
    for (uint64_t i = 0; i < t->size; ++i) {
      uint8_t leaf[8];
      for (int b = 0; b < 8; ++b) leaf[b] = static_cast<uint8_t>(i >> (8 * b));
      range.Append(HashLeaf(common::ByteView(leaf, 8)), [&](const NodeId& node, const Hash& h) {
        if (status.ok()) status = tiles.OnComplete(node, h, batch);
      });
      if ((i + 1) % 262144 == 0 || i + 1 == t->size) {
        tiles.Flush(batch);
        batch.Put(storage::Keyspace::kAudit, StateKey(),
                  EncodeLogState({range.size(), range.frontier()}));
        if (!status.ok() || !t->kv->Write(batch, {.sync = false}).ok()) std::abort();
        batch.Clear();
      }
    }
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::fprintf(stderr, "built a %llu-leaf tree's tiles in %.1f s\n",
                 static_cast<unsigned long long>(t->size), secs);
    return t;
  }();
  return *large_tree;
}

void BM_InclusionProofLargeLog(benchmark::State& state) {
  LargeTree& tree = BuildLargeTree();
  KvHashStore store(*tree.kv, tree.size);
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<uint64_t> pick(0, tree.size - 1);
  for (auto _ : state) {
    auto proof = InclusionProof(pick(rng), tree.size, store);
    if (!proof.ok()) std::abort();
    benchmark::DoNotOptimize(proof->data());
  }
  state.SetLabel(std::to_string(tree.size) + " leaves");
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_InclusionProofLargeLog)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace custos::audit

int main(int argc, char** argv) {
  custos::crypto::InitCrypto();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  if (custos::audit::large_tree) {
    std::string path = custos::audit::large_tree->path;
    custos::audit::large_tree.reset();
    std::filesystem::remove_all(path);
  }
  return 0;
}
