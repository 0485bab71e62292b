// Replication: incremental, verified copies that are themselves verifiable logs.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "audit/hash_store.h"
#include "audit/log.h"
#include "audit/replica.h"
#include "audit/verifier.h"
#include "log_test_util.h"
#include "storage/rocksdb_kv.h"

namespace custos::audit {
namespace {

using ::testing::HasSubstr;

TEST(AuditReplicaTest, CopiesIncrementallyAndTheReplicaVerifies) {
  testing::TempDir tmp;
  auto data = testing::CreateDataDir(tmp.Sub("d"));
  std::filesystem::create_directories(tmp.Sub("r"));
  auto replica = *storage::RocksDbKv::Open({.path = tmp.Sub("r") + "/db"});
  LogOptions options;
  options.background_checkpoints = false;
  auto log = *AuditLog::Open(data.dir->kv(), data.dir->keyring(), options);

  // Nothing signed yet: nothing to copy.
  auto empty = Replicate(data.dir->kv(), *replica, log->verifier());
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  EXPECT_EQ(empty->to_size, 0u);

  for (uint64_t i = 0; i < 300; ++i) ASSERT_TRUE(log->Append(testing::MakeEvent(i)).ok());
  ASSERT_TRUE(log->CheckpointNow().ok());
  for (uint64_t i = 300; i < 310; ++i) ASSERT_TRUE(log->Append(testing::MakeEvent(i)).ok());
  auto first = Replicate(data.dir->kv(), *replica, log->verifier());
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->from_size, 0u);
  EXPECT_EQ(first->to_size, 300u);  // up to the newest checkpoint, not beyond
  EXPECT_EQ(first->checkpoints_copied, 1u);

  for (uint64_t i = 310; i < 700; ++i) {
    ASSERT_TRUE(log->Append(testing::MakeEvent(i)).ok());
    if (i == 500) {
      ASSERT_TRUE(log->CheckpointNow().ok());
    }
  }
  ASSERT_TRUE(log->CheckpointNow().ok());
  auto second = Replicate(data.dir->kv(), *replica, log->verifier());
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->from_size, 300u);
  EXPECT_EQ(second->to_size, 700u);
  EXPECT_EQ(second->checkpoints_copied, 2u);

  auto report = VerifyLog(*replica, log->verifier());
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->entries, 700u);
  EXPECT_EQ(report->checkpoints, 3u);
  EXPECT_EQ(report->root, log->root());
  // Byte-identical entries: proofs from the replica's tiles equal the source's.
  KvHashStore store(*replica, 700);
  EXPECT_EQ(*InclusionProof(421, 700, store), *log->InclusionProof(421, 700));
}

TEST(AuditReplicaTest, TamperedSourceIsRefusedAndNothingIsWritten) {
  testing::TempDir tmp;
  auto data = testing::CreateDataDir(tmp.Sub("d"));
  std::filesystem::create_directories(tmp.Sub("r"));
  auto replica = *storage::RocksDbKv::Open({.path = tmp.Sub("r") + "/db"});
  LogOptions options;
  options.background_checkpoints = false;
  auto log = *AuditLog::Open(data.dir->kv(), data.dir->keyring(), options);
  for (uint64_t i = 0; i < 50; ++i) ASSERT_TRUE(log->Append(testing::MakeEvent(i)).ok());
  ASSERT_TRUE(log->CheckpointNow().ok());
  ASSERT_TRUE(Replicate(data.dir->kv(), *replica, log->verifier()).ok());
  for (uint64_t i = 50; i < 80; ++i) ASSERT_TRUE(log->Append(testing::MakeEvent(i)).ok());
  ASSERT_TRUE(log->CheckpointNow().ok());

  storage::Kv& kv = data.dir->kv();
  std::string entry = **kv.Get(storage::Keyspace::kAudit, EntryKey(60));
  entry[5] = static_cast<char>(entry[5] ^ 0x40);
  ASSERT_TRUE(kv.Put(storage::Keyspace::kAudit, EntryKey(60), entry).ok());
  auto result = Replicate(kv, *replica, log->verifier());
  EXPECT_EQ(result.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(result.status().message(), HasSubstr("do not match"));
  EXPECT_EQ(ReadLogState(*replica)->size, 50u);
  EXPECT_FALSE(replica->Get(storage::Keyspace::kAudit, EntryKey(50))->has_value());
}

}  // namespace
}  // namespace custos::audit
