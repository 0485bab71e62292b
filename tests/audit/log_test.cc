// The audit log: append and reopen, group commit under concurrency, proofs from storage,
// receipts, checkpoints, queries, failed writes and shredded segments.
#include "audit/log.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "audit/checkpoint.h"
#include "audit/log_signer.h"
#include "audit/receipt.h"
#include "audit/verifier.h"
#include "log_test_util.h"

namespace custos::audit {
namespace {

using testing::CreateDataDir;
using ::testing::HasSubstr;
using testing::MakeEvent;
using testing::TempDir;

LogOptions QuietOptions() {
  LogOptions options;
  options.background_checkpoints = false;
  return options;
}

MemoryHashStore LeafHashes(AuditLog& log) {
  MemoryHashStore store;
  for (uint64_t i = 0; i < log.size(); ++i) store.AppendLeafHash(HashLeaf(*log.ReadEntry(i)));
  return store;
}

TEST(AuditLogTest, AppendsReadBackAndSurviveReopen) {
  TempDir tmp;
  auto data = CreateDataDir(tmp.Sub("d"));
  Hash root_before{};
  {
    auto log = *AuditLog::Open(data.dir->kv(), data.dir->keyring(), QuietOptions());
    EXPECT_EQ(log->size(), 0u);
    EXPECT_EQ(log->root(), EmptyRoot());
    for (uint64_t i = 0; i < 300; ++i) {
      auto index = log->Append(MakeEvent(i));
      ASSERT_TRUE(index.ok()) << index.status().ToString();
      EXPECT_EQ(*index, i);
    }
    EXPECT_EQ(log->size(), 300u);
    EXPECT_EQ(*log->ReadEvent(0), MakeEvent(0));
    EXPECT_EQ(*log->ReadEvent(299), MakeEvent(299));
    EXPECT_EQ(log->ReadEvent(300).status().code(), StatusCode::kNotFound);
    root_before = log->root();
    EXPECT_EQ(LeafHashes(*log).Root(), root_before);
  }
  data.dir.reset();
  auto dir = testing::ReopenDataDir(tmp.Sub("d"), data.shares);
  auto log = *AuditLog::Open(dir->kv(), dir->keyring(), QuietOptions());
  EXPECT_EQ(log->size(), 300u);
  EXPECT_EQ(log->root(), root_before);
  EXPECT_EQ(*log->Append(MakeEvent(300)), 300u);
  EXPECT_EQ(*log->ReadEvent(300), MakeEvent(300));
  EXPECT_EQ(LeafHashes(*log).Root(), log->root());
  // The stored entry is sealed: no event text appears in it.
  auto entry = *log->ReadEntry(7);
  std::string raw(entry.begin(), entry.end());
  EXPECT_EQ(raw.find("User::"), std::string::npos);
  EXPECT_EQ(raw.find("req-7"), std::string::npos);
}

TEST(AuditLogTest, ConcurrentAppendersGetDistinctConsecutiveIndexes) {
  TempDir tmp;
  auto data = CreateDataDir(tmp.Sub("d"));
  auto log = *AuditLog::Open(data.dir->kv(), data.dir->keyring(), QuietOptions());
  constexpr int kThreads = 8;
  constexpr int kPerThread = 150;
  std::vector<std::vector<std::pair<uint64_t, uint64_t>>> acked(kThreads);  // (index, event)
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int j = 0; j < kPerThread; ++j) {
        uint64_t id = static_cast<uint64_t>(t) * 1000 + j;
        auto index = log->Append(MakeEvent(id));
        ASSERT_TRUE(index.ok()) << index.status().ToString();
        acked[t].push_back({*index, id});
      }
    });
  }
  for (auto& th : threads) th.join();
  std::set<uint64_t> indexes;
  for (const auto& per_thread : acked) {
    for (size_t j = 1; j < per_thread.size(); ++j) {
      EXPECT_LT(per_thread[j - 1].first, per_thread[j].first);  // a thread's own order holds
    }
    for (const auto& [index, id] : per_thread) {
      indexes.insert(index);
      EXPECT_EQ(*log->ReadEvent(index), MakeEvent(id)) << "index " << index;
    }
  }
  EXPECT_EQ(indexes.size(), size_t{kThreads * kPerThread});
  EXPECT_EQ(*indexes.begin(), 0u);
  EXPECT_EQ(*indexes.rbegin(), uint64_t{kThreads * kPerThread - 1});
  EXPECT_EQ(log->size(), uint64_t{kThreads * kPerThread});
  EXPECT_EQ(LeafHashes(*log).Root(), log->root());
}

TEST(AuditLogTest, ProofsFromStorageMatchMemoryStoreAndVerify) {
  TempDir tmp;
  auto data = CreateDataDir(tmp.Sub("d"));
  LogOptions options = QuietOptions();
  options.durability = Durability::kOsBuffer;
  auto log = *AuditLog::Open(data.dir->kv(), data.dir->keyring(), options);
  std::vector<std::future<Result<uint64_t>>> pending;
  for (uint64_t i = 0; i < 1100; ++i) pending.push_back(log->AppendAsync(MakeEvent(i)));
  for (auto& f : pending) ASSERT_TRUE(f.get().ok());
  MemoryHashStore memory = LeafHashes(*log);
  ASSERT_EQ(memory.Root(), log->root());
  const std::pair<uint64_t, uint64_t> cases[] = {{0, 1},     {0, 1100},    {255, 256},  {256, 257},
                                                 {511, 700}, {1099, 1100}, {600, 1024}, {3, 5}};
  for (auto [index, size] : cases) {
    auto from_log = log->InclusionProof(index, size);
    ASSERT_TRUE(from_log.ok()) << index << "/" << size << ": " << from_log.status().ToString();
    EXPECT_EQ(*from_log, *InclusionProof(index, size, memory)) << index << "/" << size;
    Hash root = *RootHash(size, memory);
    EXPECT_TRUE(
        VerifyInclusion(index, size, HashLeaf(*log->ReadEntry(index)), *from_log, root).ok());
  }
  const std::pair<uint64_t, uint64_t> consistency[] = {
      {1, 1100}, {256, 1100}, {300, 777}, {1024, 1100}};
  for (auto [a, b] : consistency) {
    auto proof = log->ConsistencyProof(a, b);
    ASSERT_TRUE(proof.ok()) << proof.status().ToString();
    EXPECT_EQ(*proof, *ConsistencyProof(a, b, memory));
    EXPECT_TRUE(VerifyConsistency(a, b, *proof, *RootHash(a, memory), *RootHash(b, memory)).ok());
  }
  EXPECT_EQ(log->InclusionProof(5, 1101).status().code(), StatusCode::kInvalidArgument);
}

TEST(AuditLogTest, ReceiptVerifiesOfflineAgainstTheSignedCheckpoint) {
  TempDir tmp;
  auto data = CreateDataDir(tmp.Sub("d"));
  LogOptions options = QuietOptions();
  options.origin = "example.test/audit";
  options.public_key_path = tmp.Sub("audit.pub");
  auto log = *AuditLog::Open(data.dir->kv(), data.dir->keyring(), options);
  for (uint64_t i = 0; i < 20; ++i) ASSERT_TRUE(log->Append(MakeEvent(i)).ok());
  auto receipt = log->ProveIndex(13);
  ASSERT_TRUE(receipt.ok()) << receipt.status().ToString();
  EXPECT_EQ(receipt->index, 13u);
  NoteVerifierSet known(std::vector<NoteVerifier>{*ReadPublicKeyFile(tmp.Sub("audit.pub"))});
  std::string text = FormatReceipt(*receipt);
  auto checkpoint = VerifyReceiptText(text, *log->ReadEntry(13), "example.test/audit", known);
  ASSERT_TRUE(checkpoint.ok()) << checkpoint.status().ToString();
  EXPECT_EQ(checkpoint->size, 20u);
  EXPECT_EQ(checkpoint->root, log->root());
  // Another entry's bytes do not verify with this receipt.
  EXPECT_EQ(
      VerifyReceiptText(text, *log->ReadEntry(12), "example.test/audit", known).status().code(),
      StatusCode::kDataLoss);
  EXPECT_EQ(log->ProveIndex(20).status().code(), StatusCode::kNotFound);
}

TEST(AuditLogTest, BackgroundCheckpointsFollowGrowthAndAreStoredBySize) {
  TempDir tmp;
  auto data = CreateDataDir(tmp.Sub("d"));
  LogOptions options;
  options.checkpoint_interval = std::chrono::milliseconds(20);
  auto log = *AuditLog::Open(data.dir->kv(), data.dir->keyring(), options);
  NoteVerifierSet known(std::vector<NoteVerifier>{log->verifier()});
  for (int round = 1; round <= 3; ++round) {
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(log->Append(MakeEvent(i)).ok());
    Checkpoint latest;
    for (int wait = 0; wait < 200; ++wait) {
      auto note = log->LatestCheckpoint();
      if (note.ok()) latest = *OpenCheckpoint(*note, log->origin(), known);
      if (latest.size == uint64_t(10 * round)) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_EQ(latest.size, uint64_t(10 * round));
    EXPECT_EQ(latest.root, log->root());
    auto stored = data.dir->kv().Get(storage::Keyspace::kAudit, CheckpointKey(10 * round));
    ASSERT_TRUE(stored.ok() && stored->has_value()) << "no checkpoint stored at " << 10 * round;
  }
}

TEST(AuditLogTest, QueriesUseIndexesAndPaginate) {
  TempDir tmp;
  auto data = CreateDataDir(tmp.Sub("d"));
  auto log = *AuditLog::Open(data.dir->kv(), data.dir->keyring(), QuietOptions());
  for (uint64_t i = 0; i < 60; ++i) ASSERT_TRUE(log->Append(MakeEvent(i)).ok());

  EventQuery by_bob;
  by_bob.principal = "User::bob";
  by_bob.limit = 7;
  std::vector<uint64_t> seen;
  for (int page = 0; page < 10; ++page) {
    auto result = log->Query(by_bob);
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    for (const auto& hit : result->hits) {
      EXPECT_EQ(hit.event.principal_id, "User::bob");
      seen.push_back(hit.index);
    }
    if (result->next_page_token.empty()) break;
    EXPECT_EQ(result->hits.size(), 7u);
    by_bob.page_token = result->next_page_token;
  }
  std::vector<uint64_t> expected;
  for (uint64_t i = 1; i < 60; i += 3) expected.push_back(i);
  EXPECT_EQ(seen, expected);

  EventQuery exports;  // action index, time range [10, 40) seconds, decision filter
  exports.action = "export";
  exports.decision = Decision::kAllow;
  exports.from = common::FromUnixSeconds(1'800'000'010);
  exports.to = common::FromUnixSeconds(1'800'000'040);
  auto result = log->Query(exports);
  ASSERT_TRUE(result.ok());
  std::vector<uint64_t> got;
  for (const auto& hit : result->hits) got.push_back(hit.index);
  EXPECT_EQ(got, (std::vector<uint64_t>{10, 20, 30}));
  EXPECT_TRUE(result->next_page_token.empty());

  EventQuery by_resource;
  by_resource.resource = "FeatureView::fv3";
  by_resource.to = common::FromUnixSeconds(1'800'000'020);
  got.clear();
  auto by_resource_page = log->Query(by_resource);
  ASSERT_TRUE(by_resource_page.ok());
  for (const auto& hit : by_resource_page->hits) got.push_back(hit.index);
  EXPECT_EQ(got, (std::vector<uint64_t>{3, 7, 11, 15, 19}));

  EventQuery bad = by_resource;
  bad.page_token = by_bob.page_token;  // from another query
  EXPECT_EQ(log->Query(bad).status().code(), StatusCode::kInvalidArgument);
  bad.page_token.clear();
  bad.limit = 0;
  EXPECT_EQ(log->Query(bad).status().code(), StatusCode::kInvalidArgument);
}

// Fails every write while `fail` is set, to check that a failed batch leaves no trace.
class FlakyKv final : public storage::Kv {
 public:
  explicit FlakyKv(storage::Kv& inner) : inner_(inner) {}
  bool fail = false;
  bool fail_sync = false;
  Result<std::optional<std::string>> Get(storage::Keyspace ks, std::string_view key,
                                         const storage::ReadOptions& o) override {
    return inner_.Get(ks, key, o);
  }
  Status Put(storage::Keyspace ks, std::string_view key, std::string_view value,
             const storage::WriteOptions& o) override {
    return inner_.Put(ks, key, value, o);
  }
  Status Delete(storage::Keyspace ks, std::string_view key,
                const storage::WriteOptions& o) override {
    return inner_.Delete(ks, key, o);
  }
  Status Write(const storage::WriteBatch& batch, const storage::WriteOptions& o) override {
    if (fail) return UnavailableError("injected: disk full");
    return inner_.Write(batch, o);
  }
  Status SyncWal() override {
    if (fail_sync) return DataLossError("injected: fsync failed");
    return inner_.SyncWal();
  }
  std::unique_ptr<storage::Iterator> NewIterator(storage::Keyspace ks,
                                                 const storage::ReadOptions& o) override {
    return inner_.NewIterator(ks, o);
  }
  std::shared_ptr<const storage::Snapshot> GetSnapshot() override { return inner_.GetSnapshot(); }
  Status PurgeDeleted(storage::Keyspace ks) override { return inner_.PurgeDeleted(ks); }

 private:
  storage::Kv& inner_;
};

TEST(AuditLogTest, FailedWriteFailsTheBatchAndTheNextAppendReusesTheIndex) {
  TempDir tmp;
  auto data = CreateDataDir(tmp.Sub("d"));
  FlakyKv kv(data.dir->kv());
  auto log = *AuditLog::Open(kv, data.dir->keyring(), QuietOptions());
  for (uint64_t i = 0; i < 300; ++i) ASSERT_TRUE(log->Append(MakeEvent(i)).ok());
  Hash root = log->root();
  kv.fail = true;
  auto failed = log->Append(MakeEvent(300));
  EXPECT_EQ(failed.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(failed.status().message(), HasSubstr("disk full"));
  EXPECT_EQ(log->size(), 300u);
  EXPECT_EQ(log->root(), root);
  kv.fail = false;
  EXPECT_EQ(*log->Append(MakeEvent(301)), 300u);
  EXPECT_EQ(*log->ReadEvent(300), MakeEvent(301));
  EXPECT_EQ(LeafHashes(*log).Root(), log->root());
}

TEST(AuditLogTest, FailedFsyncFailsTheBatchAndEveryLaterAppendUntilRestart) {
  TempDir tmp;
  auto data = CreateDataDir(tmp.Sub("d"));
  FlakyKv kv(data.dir->kv());
  auto log = *AuditLog::Open(kv, data.dir->keyring(), QuietOptions());
  for (uint64_t i = 0; i < 10; ++i) ASSERT_TRUE(log->Append(MakeEvent(i)).ok());
  const Hash root = log->root();
  kv.fail_sync = true;
  auto failed = log->Append(MakeEvent(10));
  EXPECT_EQ(failed.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(failed.status().message(), HasSubstr("making entries durable failed"));
  EXPECT_THAT(failed.status().message(), HasSubstr("injected: fsync failed"));
  // Not durable, so not in the tree that checkpoints and proofs see.
  EXPECT_EQ(log->size(), 10u);
  EXPECT_EQ(log->root(), root);
  // Sticky: the storage's state is unknown until a restart recovers it.
  kv.fail_sync = false;
  EXPECT_EQ(log->Append(MakeEvent(11)).status().code(), StatusCode::kDataLoss);
  log.reset();
  // The write itself reached storage, so after the restart the entry whose caller was
  // told "failed" is there (an unknown outcome resolved): the log is whole and verifies.
  log = *AuditLog::Open(kv, data.dir->keyring(), QuietOptions());
  EXPECT_EQ(log->size(), 11u);
  EXPECT_EQ(*log->ReadEvent(10), MakeEvent(10));
  EXPECT_EQ(*log->Append(MakeEvent(12)), 11u);
  EXPECT_EQ(LeafHashes(*log).Root(), log->root());
}

TEST(AuditLogTest, FullQueueIsResourceExhaustedAndBadEventsAreRejected) {
  TempDir tmp;
  auto data = CreateDataDir(tmp.Sub("d"));
  LogOptions options = QuietOptions();
  options.max_queue = 0;
  auto log = *AuditLog::Open(data.dir->kv(), data.dir->keyring(), options);
  EXPECT_EQ(log->Append(MakeEvent(0)).status().code(), StatusCode::kResourceExhausted);
  AuditEvent bad = MakeEvent(1);
  bad.risk_score = kMaxRiskScore + 1;
  EXPECT_EQ(log->Append(bad).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(log->size(), 0u);
}

TEST(AuditLogTest, ShreddingASegmentKeyErasesEventsButKeepsTheLogVerifiable) {
  TempDir tmp;
  auto data = CreateDataDir(tmp.Sub("d"));
  LogOptions options = QuietOptions();
  options.public_key_path = tmp.Sub("d") + "/audit.pub";
  {
    auto log = *AuditLog::Open(data.dir->kv(), data.dir->keyring(), options);
    for (uint64_t i = 0; i < 40; ++i) ASSERT_TRUE(log->Append(MakeEvent(i)).ok());
    ASSERT_TRUE(log->CheckpointNow().ok());
    ASSERT_TRUE(data.dir->keyring().ShredDataKey(SegmentKeyOwner(0)).ok());
    EXPECT_EQ(log->ReadEvent(3).status().code(), StatusCode::kNotFound);
    EXPECT_TRUE(log->ReadEntry(3).ok());
  }
  data.dir.reset();
  auto store = OpenReadOnlyAuditStore(tmp.Sub("d"));
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto report = VerifyLog(**store, *ReadPublicKeyFile(tmp.Sub("d") + "/audit.pub"));
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->entries, 40u);
  EXPECT_EQ(report->checkpoints, 1u);
}

}  // namespace
}  // namespace custos::audit
