// Audit log benchmark (issue 4): durable appends with group commit from 8 producers
// (fsync mode). Proofs and verification are in audit_proof_bench.cc; the PostgreSQL
// peer is audit_pg_peer.cc; scripts/bench-audit.sh runs them all and prints the ratios.
#include <benchmark/benchmark.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <sstream>
#include <string_view>
#include <thread>

#include "audit/log.h"
#include "audit_workload.h"
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

// CPU seconds used so far by this process's threads named `name` (see
// common::SetCurrentThreadName), from /proc: where the work of an append goes.
double ThreadCpuSeconds(std::string_view name) {
  double ticks = 0;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream comm_file(task.path() / "comm");
    std::string comm;
    std::getline(comm_file, comm);
    if (comm != name) continue;
    std::ifstream stat_file(task.path() / "stat");
    std::string stat((std::istreambuf_iterator<char>(stat_file)), {});
    // Fields after the parenthesised name: state is field 3, utime 14, stime 15.
    std::istringstream rest(stat.substr(stat.rfind(')') + 2));
    std::string field;
    for (int i = 3; i <= 13; ++i) rest >> field;
    double utime = 0, stime = 0;
    rest >> utime >> stime;
    ticks += utime + stime;
  }
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double ProcessCpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// 8 producers, each appending kPerProducer events per iteration and keeping up to
// `window` of them in flight (AppendAsync with a completion callback, as a server
// thread serving many connections would). Arg 0: durability (1 fsync, 0 os-buffer); arg 1: the
// window (1: each producer waits for every append). Counters give CPU microseconds per event: in
// all, in the group-commit writer thread and in the indexer thread.
void BM_DurableAppend8Producers(benchmark::State& state) {
  const bool fsync = state.range(0) != 0;
  const size_t window = static_cast<size_t>(state.range(1));
  const std::string path = MakeTempDir() + "/d";
  crypto::ShamirInit init = *crypto::InitShamir(3, 2);
  auto dir = *storage::DataDir::Create(path, init.config, std::move(init.root_key), {});
  LogOptions options;
  options.durability = fsync ? Durability::kFsync : Durability::kOsBuffer;
  auto log = *AuditLog::Open(dir->kv(), dir->keyring(), options);
  constexpr int kProducers = 8;
  constexpr uint64_t kPerProducer = 5000;
  uint64_t total = 0;
  const double cpu0 = ProcessCpuSeconds();
  const double writer0 = ThreadCpuSeconds("audit-writer");
  const double indexer0 = ThreadCpuSeconds("audit-indexer");
  for (auto _ : state) {
    std::vector<std::thread> threads;
    for (int t = 0; t < kProducers; ++t) {
      threads.emplace_back([&, t] {
        // Completions count up. A producer whose window is full sleeps until half of it
        // is answered: exactly one wake-up per window/2 appends, as an event loop posted
        // a burst of completions is woken once. (The completion that reaches the target
        // clears it, so the rest of the burst does not signal again: waking on every
        // later completion until the producer ran cost a futex system call per append on
        // the thread that answers them.)
        std::mutex mu;
        std::condition_variable cv;
        std::atomic<uint64_t> completed{0};
        uint64_t wake_at = UINT64_MAX;  // guarded by mu
        std::atomic<bool> failed{false};
        auto wait_until = [&](uint64_t target) {
          std::unique_lock<std::mutex> lock(mu);
          wake_at = target;
          cv.wait(lock, [&] { return completed.load() >= target; });
          wake_at = UINT64_MAX;
        };
        for (uint64_t i = 0; i < kPerProducer; ++i) {
          if (i - completed.load() >= window) wait_until(i - window / 2);
          const uint64_t n = (total + i) * kProducers + static_cast<uint64_t>(t);
          log->AppendAsync(bench::WorkloadEvent(n), [&](Result<uint64_t> index) {
            if (!index.ok()) failed = true;
            std::lock_guard<std::mutex> lock(mu);
            if (completed.fetch_add(1) + 1 >= wake_at) {
              wake_at = UINT64_MAX;
              cv.notify_one();
            }
          });
        }
        wait_until(kPerProducer);
        if (failed) std::abort();
      });
    }
    for (auto& th : threads) th.join();
    // Timed until the indexer has caught up: a backlog left behind would flatter the
    // figure.
    if (!log->Query(EventQuery{.limit = 1}).ok()) std::abort();
    total += kProducers * kPerProducer;
  }
  const double events = static_cast<double>(total);
  state.counters["cpu_us_per_event"] = (ProcessCpuSeconds() - cpu0) * 1e6 / events;
  state.counters["writer_cpu_us_per_event"] =
      (ThreadCpuSeconds("audit-writer") - writer0) * 1e6 / events;
  state.counters["indexer_cpu_us_per_event"] =
      (ThreadCpuSeconds("audit-indexer") - indexer0) * 1e6 / events;
  state.SetItemsProcessed(static_cast<int64_t>(total));
  state.SetLabel(std::string(fsync ? "fsync" : "os-buffer") + ", window " + std::to_string(window) +
                 " per producer");
  log.reset();
  dir.reset();
  std::filesystem::remove_all(std::filesystem::path(path).parent_path());
}
BENCHMARK(BM_DurableAppend8Producers)
    ->ArgNames({"fsync", "window"})
    ->Args({1, 1})
    ->Args({0, 1})
    ->Args({1, 64})
    ->Args({1, 256})
    ->Args({1, 1024})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond)
    ->MinTime(2.0);

}  // namespace
}  // namespace custos::audit

int main(int argc, char** argv) {
  custos::crypto::InitCrypto();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
