// The keyless verifier against tampering: each single-byte flip of an entry, a tile or a
// checkpoint, a truncation, a deleted entry and a swap of two entries is reported as
// DataLoss naming the first bad index (or the checkpoint's size).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <random>

#include "audit/hash_store.h"
#include "audit/log.h"
#include "audit/log_signer.h"
#include "audit/verifier.h"
#include "log_test_util.h"
#include "storage/rocksdb_kv.h"

namespace custos::audit {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr uint64_t kEntries = 600;  // two full level-0 tiles and a partial one

class VerifierTamperTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tmp_ = new testing::TempDir();
    auto data = testing::CreateDataDir(tmp_->Sub("d"));
    LogOptions options;
    options.background_checkpoints = false;
    options.public_key_path = tmp_->Sub("audit.pub");
    auto log = *AuditLog::Open(data.dir->kv(), data.dir->keyring(), options);
    for (uint64_t i = 0; i < kEntries; ++i) {
      ASSERT_TRUE(log->Append(testing::MakeEvent(i)).ok());
      if (i + 1 == 100 || i + 1 == 300 || i + 1 == kEntries) {
        ASSERT_TRUE(log->CheckpointNow().ok());
      }
    }
  }
  static void TearDownTestSuite() {
    delete tmp_;
    tmp_ = nullptr;
  }

  // Copies the pristine data directory's db, lets `tamper` change it, and verifies.
  Result<VerifyReport> TamperAndVerify(const std::function<void(storage::Kv&)>& tamper) {
    const std::string copy = tmp_->Sub("copy-" + std::to_string(++copies_));
    std::filesystem::create_directories(copy);
    std::filesystem::copy(tmp_->Sub("d") + "/db", copy + "/db",
                          std::filesystem::copy_options::recursive);
    {
      auto kv = storage::RocksDbKv::Open({.path = copy + "/db", .create_if_missing = false});
      EXPECT_TRUE(kv.ok()) << kv.status().ToString();
      tamper(**kv);
    }
    auto store = OpenReadOnlyAuditStore(copy);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    auto result = VerifyLog(**store, *ReadPublicKeyFile(tmp_->Sub("audit.pub")));
    std::filesystem::remove_all(copy);
    return result;
  }

  static void FlipByte(storage::Kv& kv, const std::string& key, size_t pos) {
    auto value = kv.Get(storage::Keyspace::kAudit, key);
    ASSERT_TRUE(value.ok() && value->has_value());
    std::string v = **value;
    ASSERT_LT(pos, v.size());
    v[pos] = static_cast<char>(v[pos] ^ 0x01);
    ASSERT_TRUE(kv.Put(storage::Keyspace::kAudit, key, v).ok());
  }

  static size_t ValueSize(storage::Kv& kv, const std::string& key) {
    auto value = kv.Get(storage::Keyspace::kAudit, key);
    return value.ok() && value->has_value() ? (*value)->size() : 0;
  }

  static void ExpectCorruptAt(const Result<VerifyReport>& result, const std::string& where) {
    ASSERT_FALSE(result.ok()) << "tampering at " << where << " went unnoticed";
    EXPECT_EQ(result.status().code(), StatusCode::kDataLoss);
    EXPECT_THAT(result.status().message(), StartsWith("audit log corrupt at " + where + ": "));
  }

  static testing::TempDir* tmp_;
  int copies_ = 0;
};
testing::TempDir* VerifierTamperTest::tmp_ = nullptr;

TEST_F(VerifierTamperTest, IntactLogVerifies) {
  auto report = TamperAndVerify([](storage::Kv&) {});
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->entries, kEntries);
  EXPECT_EQ(report->checkpoints, 3u);
  EXPECT_EQ(report->latest_checkpoint_size, kEntries);
  // Level-0 tile hashes for all 600 leaves and level-1 hashes for the two full subtrees.
  EXPECT_EQ(report->tile_hashes, kEntries + 2);
}

TEST_F(VerifierTamperTest, AnyFlippedEntryByteIsReportedAtItsIndex) {
  std::mt19937 rng(4);
  for (uint64_t index : {uint64_t{0}, uint64_t{1}, uint64_t{255}, uint64_t{256}, uint64_t{299},
                         uint64_t{300}, uint64_t{512}, kEntries - 1}) {
    size_t pos = 0;
    auto result = TamperAndVerify([&](storage::Kv& kv) {
      pos = std::uniform_int_distribution<size_t>(0, ValueSize(kv, EntryKey(index)) - 1)(rng);
      FlipByte(kv, EntryKey(index), pos);
    });
    SCOPED_TRACE("entry " + std::to_string(index) + " byte " + std::to_string(pos));
    ExpectCorruptAt(result, "index " + std::to_string(index));
    EXPECT_THAT(result.status().message(),
                HasSubstr("entry " + std::to_string(index) + " was altered"));
  }
}

TEST_F(VerifierTamperTest, AnyFlippedTileByteIsReportedAtTheFirstLeafItCovers) {
  // (tile level, tile index, byte) -> the first leaf under the altered hash.
  struct Case {
    int level;
    uint64_t tile;
    size_t byte;
    uint64_t index;
  };
  const Case cases[] = {{0, 0, 0, 0},
                        {0, 0, 31 * 32 + 5, 31},
                        {0, 1, 0, 256},
                        {0, 1, 255 * 32 + 31, 511},
                        {0, 2, 87 * 32 + 1, 512 + 87},
                        {1, 0, 3, 0},
                        {1, 0, 32 + 17, 256}};
  for (const Case& c : cases) {
    auto result =
        TamperAndVerify([&](storage::Kv& kv) { FlipByte(kv, TileKey(c.level, c.tile), c.byte); });
    SCOPED_TRACE("tile " + std::to_string(c.level) + "/" + std::to_string(c.tile));
    ExpectCorruptAt(result, "index " + std::to_string(c.index));
    if (c.level == 0) {
      EXPECT_THAT(result.status().message(),
                  HasSubstr("tile hash " + std::to_string(c.index) + " was altered"));
    }
  }
}

TEST_F(VerifierTamperTest, AnyFlippedCheckpointByteIsReportedWithItsSize) {
  std::mt19937 rng(7);
  for (uint64_t size : {uint64_t{100}, uint64_t{300}, kEntries}) {
    for (int trial = 0; trial < 4; ++trial) {
      size_t pos = 0;
      auto result = TamperAndVerify([&](storage::Kv& kv) {
        pos = std::uniform_int_distribution<size_t>(0, ValueSize(kv, CheckpointKey(size)) - 1)(rng);
        FlipByte(kv, CheckpointKey(size), pos);
      });
      SCOPED_TRACE("checkpoint " + std::to_string(size) + " byte " + std::to_string(pos));
      ExpectCorruptAt(result, "checkpoint " + std::to_string(size));
    }
  }
}

TEST_F(VerifierTamperTest, TruncationIsReportedAtTheFirstMissingIndex) {
  auto result = TamperAndVerify([](storage::Kv& kv) {
    for (uint64_t i = 550; i < kEntries; ++i)
      ASSERT_TRUE(kv.Delete(storage::Keyspace::kAudit, EntryKey(i)).ok());
  });
  ExpectCorruptAt(result, "index 550");
  EXPECT_THAT(result.status().message(), HasSubstr("truncated"));
}

TEST_F(VerifierTamperTest, TruncationWithRewrittenStateAndCheckpointsIsStillReported) {
  // An attacker who drops the tail and its checkpoint, and rewrites the state to match,
  // still leaves tiles that hold hashes of the removed entries.
  auto result = TamperAndVerify([](storage::Kv& kv) {
    for (uint64_t i = 550; i < kEntries; ++i)
      ASSERT_TRUE(kv.Delete(storage::Keyspace::kAudit, EntryKey(i)).ok());
    ASSERT_TRUE(kv.Delete(storage::Keyspace::kAudit, CheckpointKey(kEntries)).ok());
    MemoryHashStore tree;
    for (uint64_t i = 0; i < 550; ++i) {
      tree.AppendLeafHash(
          HashLeaf(common::AsBytes(**kv.Get(storage::Keyspace::kAudit, EntryKey(i)))));
    }
    auto range = *CompactRange::Load(550, tree);
    ASSERT_TRUE(
        kv.Put(storage::Keyspace::kAudit, StateKey(), EncodeLogState({550, range.frontier()}))
            .ok());
  });
  ExpectCorruptAt(result, "index 550");
}

TEST_F(VerifierTamperTest, DeletedEntryIsReportedAtItsIndex) {
  auto result = TamperAndVerify([](storage::Kv& kv) {
    ASSERT_TRUE(kv.Delete(storage::Keyspace::kAudit, EntryKey(123)).ok());
  });
  ExpectCorruptAt(result, "index 123");
  EXPECT_THAT(result.status().message(), HasSubstr("entry 123 is missing"));
}

TEST_F(VerifierTamperTest, SwappedEntriesAreReportedAtTheFirstOfThem) {
  auto result = TamperAndVerify([](storage::Kv& kv) {
    auto a = **kv.Get(storage::Keyspace::kAudit, EntryKey(10));
    auto b = **kv.Get(storage::Keyspace::kAudit, EntryKey(270));
    ASSERT_TRUE(kv.Put(storage::Keyspace::kAudit, EntryKey(10), b).ok());
    ASSERT_TRUE(kv.Put(storage::Keyspace::kAudit, EntryKey(270), a).ok());
  });
  ExpectCorruptAt(result, "index 10");
}

TEST_F(VerifierTamperTest, CheckpointMovedToAnotherSizeIsReported) {
  auto result = TamperAndVerify([](storage::Kv& kv) {
    auto note = **kv.Get(storage::Keyspace::kAudit, CheckpointKey(100));
    ASSERT_TRUE(kv.Put(storage::Keyspace::kAudit, CheckpointKey(200), note).ok());
  });
  ExpectCorruptAt(result, "checkpoint 200");
}

TEST_F(VerifierTamperTest, WrongPublicKeyIsRejected) {
  auto store = OpenReadOnlyAuditStore(tmp_->Sub("d"));
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto other = *NoteSigner::Create("custos.local/audit", crypto::Ed25519PrivateKey::Generate());
  auto result = VerifyLog(**store, other.verifier());
  ExpectCorruptAt(result, "checkpoint 100");
  EXPECT_THAT(result.status().message(), HasSubstr("UNAUTHENTICATED"));
}

}  // namespace
}  // namespace custos::audit
