// Crash safety: a child process writes encrypted batches and reports each one once
// it is acknowledged; it is SIGKILLed at 20 random moments. After each kill the
// data directory reopens, every acknowledged batch is present and decrypts, and the
// batch in flight is all-or-nothing.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <random>
#include <thread>

#include "../testing/child_process.h"
#include "crypto/root_key.h"
#include "storage/data_dir.h"
#include "storage/encrypted_keyspace.h"
#include "test_dirs.h"

namespace custos::storage {
namespace {

using custos::testing::SpawnWithStdoutPipe;

TEST(CrashTest, AcknowledgedBatchesSurviveSigkill) {
  testing::TempDir tmp;
  const std::string path = tmp.Sub("data");
  const std::string shares_file = tmp.Sub("shares");
  crypto::ShamirInit init = *crypto::InitShamir(3, 2);
  {
    auto dir = *DataDir::Create(path, init.config, std::move(init.root_key), {});
    std::ofstream f(shares_file);
    f << init.shares[0] << "\n" << init.shares[2] << "\n";
  }
  std::mt19937 rng(20261122);
  std::uniform_int_distribution<int> delay_ms(5, 250);
  long next_batch = 0;
  long total_acked = 0;
  for (int round = 0; round < 20; ++round) {
    const std::string owner = "crash:" + std::to_string(round % 4);
    auto child = SpawnWithStdoutPipe(
        {CUSTOS_CRASH_WRITER, path, shares_file, owner, std::to_string(next_batch)});
    ASSERT_NE(child.out, nullptr);
    char line[64];
    ASSERT_NE(std::fgets(line, sizeof line, child.out), nullptr) << "writer did not start";
    ASSERT_STREQ(line, "ready\n");
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(rng)));
    ::kill(child.pid, SIGKILL);
    int status = 0;
    ::waitpid(child.pid, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status)) << "writer exited on its own in round " << round;
    long last_acked = next_batch - 1;
    while (std::fgets(line, sizeof line, child.out) != nullptr) last_acked = std::stol(line);
    std::fclose(child.out);

    auto dir = DataDir::Open(path, {.shares = {init.shares[1], init.shares[0]}});
    ASSERT_TRUE(dir.ok()) << "round " << round << ": " << dir.status().ToString();
    auto space =
        *EncryptedKeyspace::Open((*dir)->kv(), Keyspace::kOffline, (*dir)->keyring(), owner);
    for (long b = next_batch; b <= last_acked + 1; ++b) {
      int present = 0;
      for (int r = 0; r < 16; ++r) {
        auto value = space.Get("b" + std::to_string(b) + "/r" + std::to_string(r));
        ASSERT_TRUE(value.ok()) << "round " << round << " batch " << b << ": "
                                << value.status().ToString();
        if (value->has_value()) {
          EXPECT_EQ(**value, "batch " + std::to_string(b) + " record " + std::to_string(r));
          ++present;
        }
      }
      if (b <= last_acked) {
        EXPECT_EQ(present, 16) << "acknowledged batch " << b << " lost in round " << round;
      } else {
        EXPECT_TRUE(present == 0 || present == 16) << "torn batch " << b;
        if (present == 16) last_acked = b;  // durable but killed before it was reported
      }
    }
    total_acked += last_acked - next_batch + 1;
    next_batch = last_acked + 2;  // leave a gap so the in-flight batch never collides
  }
  EXPECT_GT(total_acked, 20) << "the writer made too little progress to test anything";
}

}  // namespace
}  // namespace custos::storage
