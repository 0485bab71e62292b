// Crash safety of the audit log: a writer process appends from four threads and is
// SIGKILLed at 20 random moments. After each kill every acknowledged index holds the
// acknowledged event, the log verifies with only its public key, and every checkpoint
// signed before the crash is still stored and consistent with the ones after it.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <random>
#include <thread>

#include "../testing/child_process.h"
#include "audit/hash_store.h"
#include "audit/log.h"
#include "audit/log_signer.h"
#include "audit/verifier.h"
#include "common/key_encoding.h"
#include "log_test_util.h"
#include "tools/crash_writer.h"

namespace custos::audit {
namespace {

// Starts the writer: the standalone tool when built, else this test binary in writer
// mode (CUSTOS_AUDIT_CRASH_CHILD set, filtered to the child "test" below).
custos::testing::ChildProcess SpawnWriter(const std::string& dir, const std::string& shares,
                                          int run) {
#ifdef CUSTOS_AUDIT_CRASH_WRITER
  return custos::testing::SpawnWithStdoutPipe(
      {CUSTOS_AUDIT_CRASH_WRITER, dir, shares, std::to_string(run)});
#else
  return custos::testing::SpawnWithStdoutPipe(
      {"/proc/self/exe", "--gtest_filter=AuditCrashChild.Writer"},
      {{"CUSTOS_AUDIT_CRASH_CHILD", dir + "\n" + shares + "\n" + std::to_string(run)}});
#endif
}

TEST(AuditCrashChild, Writer) {
  const char* env = std::getenv("CUSTOS_AUDIT_CRASH_CHILD");
  if (env == nullptr) GTEST_SKIP() << "only runs as the crash test's writer process";
  std::string spec(env);
  size_t a = spec.find('\n');
  size_t b = spec.find('\n', a + 1);
  std::_Exit(
      crash::RunCrashWriter(spec.substr(0, a), spec.substr(a + 1, b - a - 1), spec.substr(b + 1)));
}

TEST(AuditCrashTest, AcknowledgedEntriesAndCheckpointsSurviveSigkill) {
  testing::TempDir tmp;
  const std::string path = tmp.Sub("data");
  const std::string shares_file = tmp.Sub("shares");
  {
    auto data = testing::CreateDataDir(path);
    std::ofstream f(shares_file);
    f << data.shares[0] << "\n" << data.shares[2] << "\n";
  }
  std::mt19937 rng(20261122);
  std::uniform_int_distribution<int> delay_ms(30, 400);
  std::map<uint64_t, std::string> acked;             // index -> request id, across all rounds
  std::map<uint64_t, std::string> checkpoints_seen;  // size -> note, across all rounds
  for (int round = 0; round < 20; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    custos::testing::ChildProcess child = SpawnWriter(path, shares_file, round);
    ASSERT_NE(child.out, nullptr);
    char line[256];
    bool ready = false;
    while (!ready && std::fgets(line, sizeof line, child.out) != nullptr) {
      ready = std::string(line) == "ready\n";
    }
    ASSERT_TRUE(ready) << "writer did not start";
    size_t acked_this_round = 0;
    auto record_ack = [&](const char* text) {
      unsigned long long index = 0;
      char id[128];
      if (std::sscanf(text, "A %llu %127s", &index, id) != 2) return false;
      EXPECT_EQ(acked.count(index), 0u) << "index " << index << " acknowledged twice";
      acked[index] = id;
      ++acked_this_round;
      return true;
    };
    // The random moment counts from the first acknowledged append, so that a slow start
    // on a loaded machine cannot make a round with nothing to check.
    bool first_ack = false;
    while (!first_ack && std::fgets(line, sizeof line, child.out) != nullptr) {
      first_ack = record_ack(line);
    }
    ASSERT_TRUE(first_ack) << "writer acknowledged nothing";
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(rng)));
    ::kill(child.pid, SIGKILL);
    int status = 0;
    ::waitpid(child.pid, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status)) << "writer exited on its own";
    while (std::fgets(line, sizeof line, child.out) != nullptr) record_ack(line);
    std::fclose(child.out);
    EXPECT_GT(acked_this_round, 0u);

    // Every acknowledged event is there, at its index.
    {
      std::ifstream in(shares_file);
      storage::UnsealMaterial material;
      for (std::string s; std::getline(in, s);) material.shares.push_back(s);
      auto opened = storage::DataDir::Open(path, material);
      ASSERT_TRUE(opened.ok()) << opened.status().ToString();
      LogOptions options;
      options.background_checkpoints = false;
      auto log = AuditLog::Open((*opened)->kv(), (*opened)->keyring(), options);
      ASSERT_TRUE(log.ok()) << log.status().ToString();
      ASSERT_GE((*log)->size(), acked.rbegin()->first + 1);
      for (const auto& [index, id] : acked) {
        auto event = (*log)->ReadEvent(index);
        ASSERT_TRUE(event.ok()) << "index " << index << ": " << event.status().ToString();
        ASSERT_EQ(event->request_id, id) << "index " << index;
      }
      ASSERT_TRUE(WritePublicKeyFile((*log)->verifier(), tmp.Sub("audit.pub")).ok());
    }
    // The log verifies with only its public key; checkpoints from earlier rounds are
    // still stored byte for byte (VerifyLog checks consistency between all of them).
    auto store = OpenReadOnlyAuditStore(path);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    auto report = VerifyLog(**store, *ReadPublicKeyFile(tmp.Sub("audit.pub")));
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    EXPECT_GE(report->checkpoints, checkpoints_seen.size());
    for (const auto& [size, note] : checkpoints_seen) {
      auto stored = (*store)->Get(storage::Keyspace::kAudit, CheckpointKey(size), {});
      ASSERT_TRUE(stored.ok() && stored->has_value()) << "checkpoint " << size << " vanished";
      EXPECT_EQ(**stored, note) << "checkpoint " << size << " changed";
    }
    storage::ReadOptions ro;
    ro.lower_bound = CheckpointPrefix();
    ro.upper_bound = common::PrefixSuccessor(ro.lower_bound);
    auto it = (*store)->NewIterator(storage::Keyspace::kAudit, ro);
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      checkpoints_seen[*ParseCheckpointKey(it->key())] = std::string(it->value());
    }
  }
  EXPECT_GT(acked.size(), 20u);
  EXPECT_GT(checkpoints_seen.size(), 1u);
}

}  // namespace
}  // namespace custos::audit
