// Audit log read-side benchmarks (issue 4): inclusion-proof latency on a large stored
// tree (p50/p99 per proof), and whole-log verification throughput (`custos audit verify`)
// as SHA-256 input bytes per second, for comparison with `openssl speed sha256`.
// CUSTOS_AUDIT_BENCH_SIZE: leaves of the proof tree (default 10,000,000).
// CUSTOS_AUDIT_VERIFY_SIZE: entries of the verified log (default 1,000,000).
// Counters (read from --benchmark_format=json by scripts/bench-audit.sh):
//   BM_InclusionProofLargeLog (steady state: table files mapped), ...ColdMappings (a log
//     just opened), ...Uncached (no record cache): p50_us, p90_us, p99_us, p999_us,
//     mean_us (wall time of each proof);
//   BM_Level0TileRecordRead: the same quantiles for the one storage read of a proof;
//   BM_VerifyWholeLog: sha256_bytes_per_second (wall clock, median of 5 runs),
//     sha256_bytes_per_cpu_second, entries_per_second, mean_message_bytes.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <bit>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <random>
#include <vector>

#include "audit/checkpoint.h"
#include "audit/hash_store.h"
#include "audit/log.h"
#include "audit/verifier.h"
#include "audit_workload.h"
#include "common/key_encoding.h"
#include "crypto/aead.h"
#include "crypto/ed25519.h"
#include "crypto/random.h"
#include "storage/rocksdb_kv.h"

namespace custos::audit {
namespace {

using Clock = std::chrono::steady_clock;

std::string MakeTempDir() {
  std::string pattern =
      (std::filesystem::temp_directory_path() / "custos-audit-proof-bench-XXXXXX").string();
  return ::mkdtemp(pattern.data());
}

uint64_t EnvSize(const char* name, uint64_t fallback) {
  const char* env = std::getenv(name);
  return env ? std::strtoull(env, nullptr, 10) : fallback;
}

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

double ProcessCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Temporary stores built on first use; main() removes them at exit.
std::vector<std::string> temp_dirs;

// A large tree's hash tiles written directly from leaf hashes through TileWriter in big
// batches, as the log writes them (the proof path reads only tiles, so no entries).
struct LargeTree {
  std::string path;
  std::unique_ptr<storage::RocksDbKv> kv;
  uint64_t size = 0;
  bool mapped = false;  // every tile record read once (TouchTileRecords)
};
std::unique_ptr<LargeTree> large_tree;

LargeTree& BuildLargeTree() {
  if (large_tree) return *large_tree;
  auto t = std::make_unique<LargeTree>();
  t->size = std::max<uint64_t>(1, EnvSize("CUSTOS_AUDIT_BENCH_SIZE", 10'000'000));
  std::string path = MakeTempDir();
  temp_dirs.push_back(path);
  t->path = path;
  t->kv = std::move(*storage::RocksDbKv::Open({.path = path + "/db"}));
  CompactRange range;
  TileWriter tiles;
  storage::WriteBatch batch;
  Status status;
  auto on_complete = [&](const NodeId& node, const Hash& h) {
    if (status.ok()) status = tiles.OnComplete(node, h, batch);
  };
  const auto start = Clock::now();
  for (uint64_t i = 0; i < t->size; ++i) {
    uint8_t leaf[8];
    for (int b = 0; b < 8; ++b) leaf[b] = static_cast<uint8_t>(i >> (8 * b));
    range.Append(HashLeaf(common::ByteView(leaf, 8)), on_complete);
    if ((i + 1) % 262144 == 0 || i + 1 == t->size) {
      tiles.Flush(batch);
      batch.Put(storage::Keyspace::kAudit, StateKey(),
                EncodeLogState({range.size(), range.frontier()}));
      if (!status.ok() || !t->kv->Write(batch, {.sync = false}).ok()) std::abort();
      batch.Clear();
    }
  }
  const auto built = Clock::now();
  // Settle the LSM tree (flush and compact, as a long-lived log's tiles are) so that
  // background compactions do not compete with the measured proofs for the 2 cores.
  if (!t->kv->PurgeDeleted(storage::Keyspace::kAudit).ok()) std::abort();
  std::fprintf(stderr, "built the hash tiles of a %llu-leaf tree in %.1f s, compacted in %.1f s\n",
               static_cast<unsigned long long>(t->size), Seconds(built - start),
               Seconds(Clock::now() - built));
  large_tree = std::move(t);
  return *large_tree;
}

// Table files are read through memory maps (RocksDbOptions::mmap_reads), and the first
// read of a page of a mapping takes a page fault that costs more than the whole proof
// otherwise does (several microseconds in this VM; the kernel then maps the pages around
// it too). A log that has served proofs for a while has its files mapped; one that was
// just opened has not. This reads every tile record once, as a serving log's readers
// eventually have, so that the steady state is measured; the cold-mapping variant below
// shows the other end.
void TouchTileRecords(LargeTree& tree) {
  if (tree.mapped) return;
  storage::ReadOptions options = ProofReadOptions();
  options.lower_bound = TilePrefix();
  options.upper_bound = common::PrefixSuccessor(options.lower_bound);
  options.fill_cache = false;
  auto it = tree.kv->NewIterator(storage::Keyspace::kAudit, options);
  uint64_t sum = 0;
  const auto start = Clock::now();
  for (it->Seek(options.lower_bound); it->Valid(); it->Next()) {
    for (size_t i = 0; i < it->value().size(); i += 1024)
      sum += static_cast<uint8_t>(it->value()[i]);
  }
  if (!it->status().ok()) std::abort();
  benchmark::DoNotOptimize(sum);
  std::fprintf(stderr, "read every tile record once in %.1f s\n", Seconds(Clock::now() - start));
  tree.mapped = true;
}

// Each proof is timed on its own (wall clock), so the tail is reported, not only the
// mean. A first pass of proofs warms the caches the way a serving log's are warm.
// `warm_mappings`: TouchTileRecords first (the steady state of a serving log).
void RunProofs(benchmark::State& state, TileRecordCache* cache, bool warm_mappings = true) {
  LargeTree& tree = BuildLargeTree();
  if (warm_mappings) TouchTileRecords(tree);
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<uint64_t> pick(0, tree.size - 1);
  // A KvHashStore per proof, as AuditLog::InclusionProof makes one per call.
  auto prove = [&](uint64_t index) {
    KvHashStore store(*tree.kv, tree.size, ProofReadOptions(), cache);
    return InclusionProof(index, tree.size, store);
  };
  for (int i = 0; i < 2000; ++i) {
    if (!prove(pick(rng)).ok()) std::abort();
  }
  std::vector<double> micros;
  micros.reserve(static_cast<size_t>(state.max_iterations));
  for (auto _ : state) {
    const uint64_t index = pick(rng);
    const auto start = Clock::now();
    auto proof = prove(index);
    const auto end = Clock::now();
    if (!proof.ok()) std::abort();
    benchmark::DoNotOptimize(proof->data());
    micros.push_back(Seconds(end - start) * 1e6);
  }
  std::sort(micros.begin(), micros.end());
  auto quantile = [&](double q) {
    return micros[std::min(micros.size() - 1, static_cast<size_t>(q * micros.size()))];
  };
  double sum = 0;
  for (double m : micros) sum += m;
  state.counters["p50_us"] = quantile(0.50);
  state.counters["p90_us"] = quantile(0.90);
  state.counters["p99_us"] = quantile(0.99);
  state.counters["p999_us"] = quantile(0.999);
  state.counters["mean_us"] = sum / micros.size();
  state.SetLabel(std::to_string(tree.size) + " leaves" + (cache ? "" : ", no record cache") +
                 (warm_mappings ? "" : ", table files freshly mapped"));
  state.SetItemsProcessed(state.iterations());
}

// Registered first, so that it runs before anything has read the tile records: the
// proofs of a log whose table files were just opened (each proof's level-0 record is
// then likely on pages that were never touched through the mapping).
void BM_InclusionProofLargeLogColdMappings(benchmark::State& state) {
  TileRecordCache cache;
  RunProofs(state, &cache, /*warm_mappings=*/false);
}
BENCHMARK(BM_InclusionProofLargeLogColdMappings)
    ->Iterations(20000)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

// The server's path: AuditLog keeps one TileRecordCache for its proofs, so the records
// of tile levels >= 1 and of the right edge stay in memory; each proof still reads its
// leaf's level-0 tile record from storage (a different one each time).
void BM_InclusionProofLargeLog(benchmark::State& state) {
  TileRecordCache cache;
  RunProofs(state, &cache);
}
BENCHMARK(BM_InclusionProofLargeLog)
    ->Iterations(20000)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

// Where a proof's time goes: only the read of a random level-0 tile record (the one read
// a cached proof makes from storage), timed the same way.
void BM_Level0TileRecordRead(benchmark::State& state) {
  LargeTree& tree = BuildLargeTree();
  TouchTileRecords(tree);
  const uint64_t tiles = std::max<uint64_t>(1, tree.size / kTileWidth);
  std::mt19937_64 rng(43);
  std::uniform_int_distribution<uint64_t> pick(0, tiles - 1);
  storage::ReadOptions options = ProofReadOptions();
  options.fill_cache = state.range(0) != 0;
  std::vector<double> micros(static_cast<size_t>(state.max_iterations));  // touched before timing
  size_t n = 0;
  for (auto _ : state) {
    const std::string key = TileKey(0, pick(rng));
    const auto start = Clock::now();
    auto value = tree.kv->Get(storage::Keyspace::kAudit, key, options);
    const auto end = Clock::now();
    if (!value.ok() || !value->has_value()) std::abort();
    benchmark::DoNotOptimize((*value)->data());
    micros[n++] = Seconds(end - start) * 1e6;
  }
  micros.resize(n);
  std::sort(micros.begin(), micros.end());
  auto quantile = [&](double q) {
    return micros[std::min(micros.size() - 1, static_cast<size_t>(q * micros.size()))];
  };
  state.counters["p50_us"] = quantile(0.50);
  state.counters["p99_us"] = quantile(0.99);
  state.counters["p999_us"] = quantile(0.999);
}
BENCHMARK(BM_Level0TileRecordRead)
    ->ArgName("fill_cache")
    ->Arg(0)
    ->Arg(1)
    ->Iterations(20000)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

// Every record read from storage (a one-shot reader such as `custos audit proof`).
void BM_InclusionProofLargeLogUncached(benchmark::State& state) { RunProofs(state, nullptr); }
BENCHMARK(BM_InclusionProofLargeLogUncached)
    ->Iterations(20000)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

// A log of sealed workload events in the log's exact stored shape (event encoding sealed
// with AES-256-GCM, associated data "audit" | index), its tiles, state and a signed
// checkpoint every 100,000 entries, written directly in big batches (much faster than
// going through the sequencer, same bytes). Verified through the read-only store, as
// `custos audit verify --dir` does.
struct VerifiedLog {
  std::string dir;
  uint64_t size = 0;
  uint64_t sha256_bytes = 0;  // SHA-256 input bytes of recomputing the tree
  uint64_t sha256_calls = 0;  // leaves + interior nodes
  std::unique_ptr<NoteVerifier> verifier;
};
std::unique_ptr<VerifiedLog> verified_log;

VerifiedLog& BuildVerifiedLog() {
  if (verified_log) return *verified_log;
  // The proof benchmarks' store is done with: close it so that its RocksDB threads and
  // files take nothing from this one.
  if (large_tree) {
    const std::string path = large_tree->path;
    large_tree.reset();
    std::filesystem::remove_all(path);
  }
  auto v = std::make_unique<VerifiedLog>();
  v->size = std::max<uint64_t>(1, EnvSize("CUSTOS_AUDIT_VERIFY_SIZE", 1'000'000));
  v->dir = MakeTempDir();
  temp_dirs.push_back(v->dir);
  const std::string origin = "custos.local/audit";
  NoteSigner signer = *NoteSigner::Create(origin, crypto::Ed25519PrivateKey::Generate());
  v->verifier = std::make_unique<NoteVerifier>(signer.verifier());
  crypto::Aead aead = *crypto::Aead::Create(crypto::SecretBytes::Random(crypto::Aead::kKeySize));
  {
    auto kv = std::move(*storage::RocksDbKv::Open({.path = v->dir + "/db"}));
    CompactRange range;
    TileWriter tiles;
    storage::WriteBatch batch;
    Status status;
    auto on_complete = [&](const NodeId& node, const Hash& h) {
      if (status.ok()) status = tiles.OnComplete(node, h, batch);
    };
    const auto start = Clock::now();
    common::Bytes sealed;
    for (uint64_t i = 0; i < v->size; ++i) {
      auto encoded = EncodeEvent(bench::WorkloadEvent(i));
      if (!encoded.ok()) std::abort();
      sealed.clear();
      aead.SealTo(*encoded, EntryAssociatedData(i), sealed);
      v->sha256_bytes += 1 + sealed.size();
      range.Append(HashLeaf(sealed), on_complete);
      batch.Put(storage::Keyspace::kAudit, EntryKey(i), common::AsChars(sealed));
      const bool checkpoint = (i + 1) % 100'000 == 0 || i + 1 == v->size;
      if (checkpoint) {
        auto note = SignCheckpoint({origin, range.size(), range.Root(), {}}, {&signer, 1});
        if (!note.ok()) std::abort();
        batch.Put(storage::Keyspace::kAudit, CheckpointKey(range.size()), *note);
      }
      if (checkpoint || (i + 1) % 65536 == 0) {
        tiles.Flush(batch);
        batch.Put(storage::Keyspace::kAudit, StateKey(),
                  EncodeLogState({range.size(), range.frontier()}));
        if (!status.ok() || !kv->Write(batch, {.sync = false}).ok()) std::abort();
        batch.Clear();
      }
    }
    // Flushed and compacted, as a long-lived log's files are, before it is reopened
    // read-only the way `custos audit verify --dir` opens it.
    if (!kv->PurgeDeleted(storage::Keyspace::kAudit).ok()) std::abort();
    // Each append hashes one interior node per trailing 1 bit of the old size.
    const uint64_t nodes = v->size - static_cast<uint64_t>(std::popcount(v->size));
    v->sha256_bytes += 65 * nodes;
    v->sha256_calls = v->size + nodes;
    std::fprintf(stderr, "wrote a %llu-entry log in %.1f s\n",
                 static_cast<unsigned long long>(v->size), Seconds(Clock::now() - start));
  }
  verified_log = std::move(v);
  return *verified_log;
}

void BM_VerifyWholeLog(benchmark::State& state) {
  VerifiedLog& log = BuildVerifiedLog();
  auto store = OpenReadOnlyAuditStore(log.dir);
  if (!store.ok()) std::abort();
  std::vector<double> seconds;
  double cpu_seconds = 0;
  for (auto _ : state) {
    const double cpu_start = ProcessCpuSeconds();
    const auto start = Clock::now();
    auto report = VerifyLog(**store, *log.verifier);
    const auto end = Clock::now();
    cpu_seconds += ProcessCpuSeconds() - cpu_start;
    if (!report.ok() || report->entries != log.size) {
      std::fprintf(stderr, "verify failed: %s\n", report.status().ToString().c_str());
      std::abort();
    }
    seconds.push_back(Seconds(end - start));
  }
  // The median run: the machine is shared, a slow outlier says little about the code.
  std::sort(seconds.begin(), seconds.end());
  const double median = seconds[seconds.size() / 2];
  state.counters["sha256_bytes_per_second"] = static_cast<double>(log.sha256_bytes) / median;
  state.counters["entries_per_second"] = static_cast<double>(log.size) / median;
  // Per CPU-second of both verifier threads: what the rate would be on an idle machine
  // with one core (openssl speed divides by CPU time too, unless given -elapsed).
  state.counters["sha256_bytes_per_cpu_second"] =
      static_cast<double>(log.sha256_bytes) * static_cast<double>(seconds.size()) / cpu_seconds;
  state.counters["mean_message_bytes"] =
      static_cast<double>(log.sha256_bytes) / static_cast<double>(log.sha256_calls);
  state.SetLabel(std::to_string(log.size) + " entries");
}
BENCHMARK(BM_VerifyWholeLog)->Iterations(5)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace custos::audit

int main(int argc, char** argv) {
  custos::crypto::InitCrypto();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  custos::audit::large_tree.reset();
  custos::audit::verified_log.reset();
  for (const std::string& dir : custos::audit::temp_dirs) std::filesystem::remove_all(dir);
  return 0;
}
