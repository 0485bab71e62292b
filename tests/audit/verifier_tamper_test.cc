// The keyless verifier against tampering: each single-byte flip of an entry, a tile or a
// checkpoint, a truncation, a deleted entry and a swap of two entries is reported as
// DataLoss naming the first bad index (or the checkpoint's size).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <bit>
#include <filesystem>
#include <functional>
#include <random>

#include "audit/checkpoint.h"
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
  // Every node of the tree is stored once in a tile record: 2n - popcount(n) of them.
  EXPECT_EQ(report->tile_hashes, 2 * kEntries - 4);
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
  // (tile level, tile index, its width, row, hash in the row, byte in the hash) -> the
  // first leaf under the altered node. Rows above 0 are the stored inner levels.
  struct Case {
    int level;
    uint64_t tile;
    uint32_t width;
    int row;
    uint32_t pos;
    size_t byte;
    uint64_t index;
  };
  const Case cases[] = {
      {0, 0, 256, 0, 0, 0, 0},
      {0, 0, 256, 0, 31, 5, 31},
      {0, 1, 256, 0, 0, 0, 256},
      {0, 1, 256, 0, 255, 31, 511},
      {0, 2, 88, 0, 87, 1, 512 + 87},
      {1, 0, 2, 0, 0, 3, 0},
      {1, 0, 2, 0, 1, 17, 256},
      // Inner rows: node (level 8L+row, tile * (256 >> row) + pos) covers leaves from
      // that index << level.
      {0, 0, 256, 1, 0, 0, 0},
      {0, 0, 256, 3, 2, 9, 16},
      {0, 1, 256, 7, 1, 31, 384},
      {0, 1, 256, 4, 15, 0, 256 + 240},
      {0, 2, 88, 1, 43, 2, 598},
      {0, 2, 88, 3, 10, 30, 592},
      {0, 2, 88, 6, 0, 0, 512},
      {1, 0, 2, 1, 0, 4, 0},
  };
  for (const Case& c : cases) {
    ASSERT_LT(c.pos, TileRowWidth(c.width, c.row));
    const size_t offset = TileRecordOffset(c.width, c.row, c.pos) + c.byte;
    auto result =
        TamperAndVerify([&](storage::Kv& kv) { FlipByte(kv, TileKey(c.level, c.tile), offset); });
    SCOPED_TRACE("tile " + std::to_string(c.level) + "/" + std::to_string(c.tile) + " row " +
                 std::to_string(c.row) + " hash " + std::to_string(c.pos));
    ExpectCorruptAt(result, "index " + std::to_string(c.index));
    if (c.level == 0 && c.row == 0) {
      EXPECT_THAT(result.status().message(),
                  HasSubstr("tile hash " + std::to_string(c.index) + " was altered"));
    } else {
      EXPECT_THAT(result.status().message(),
                  HasSubstr("differs from hash " + std::to_string(c.pos) + " of row " +
                            std::to_string(c.row) + " (Merkle level " +
                            std::to_string(c.level * 8 + c.row) + ")"));
    }
  }
}

TEST_F(VerifierTamperTest, FlippedTileHeaderIsReportedAtTheTilesFirstLeaf) {
  // The format byte, then the width byte (88 -> 89: the size no longer fits).
  auto format = TamperAndVerify([](storage::Kv& kv) { FlipByte(kv, TileKey(0, 1), 0); });
  ExpectCorruptAt(format, "index 256");
  EXPECT_THAT(format.status().message(), HasSubstr("unknown format byte 3"));
  auto width = TamperAndVerify([](storage::Kv& kv) { FlipByte(kv, TileKey(0, 2), 1); });
  ExpectCorruptAt(width, "index 512");
  EXPECT_THAT(width.status().message(), HasSubstr("tile/0/002"));
}

TEST_F(VerifierTamperTest, OldShapeTileRecordIsReportedClearly) {
  auto result = TamperAndVerify([](storage::Kv& kv) {
    std::string record = **kv.Get(storage::Keyspace::kAudit, TileKey(0, 1));
    // The C2SP row alone, as custos wrote tiles before tile format 2.
    std::string row = record.substr(TileRecordOffset(256, 0, 0), 256 * 32);
    ASSERT_TRUE(kv.Put(storage::Keyspace::kAudit, TileKey(0, 1), row).ok());
  });
  ExpectCorruptAt(result, "index 256");
  EXPECT_THAT(result.status().message(), HasSubstr("old format"));
}

TEST_F(VerifierTamperTest, TileRecordBeyondTheLogIsReported) {
  auto result = TamperAndVerify([](storage::Kv& kv) {
    std::string record = **kv.Get(storage::Keyspace::kAudit, TileKey(0, 0));
    ASSERT_TRUE(kv.Put(storage::Keyspace::kAudit, TileKey(0, 5), record).ok());
  });
  ExpectCorruptAt(result, "index 600");
  EXPECT_THAT(result.status().message(), HasSubstr("beyond the log"));
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

// A log of many entries written straight in the storage layout (the verifier never
// decrypts, so the entries are plain bytes): the verifier reads and hashes it on two
// threads in chunks of a few thousand entries, and must still name the first bad index
// wherever it lies.
class LargeLogTamperTest : public ::testing::Test {
 protected:
  static constexpr uint64_t kSize = 20000;

  void SetUp() override {
    auto kv = storage::RocksDbKv::Open({.path = tmp_.Sub("db")});
    ASSERT_TRUE(kv.ok()) << kv.status().ToString();
    kv_ = std::move(*kv);
    signer_ = std::make_unique<NoteSigner>(
        *NoteSigner::Create("test.example/log", crypto::Ed25519PrivateKey::Generate()));
    CompactRange range;
    TileWriter tiles;
    storage::WriteBatch batch;
    std::mt19937_64 rng(11);
    for (uint64_t i = 0; i < kSize; ++i) {
      std::string entry(100 + rng() % 300, '\0');
      for (char& c : entry) c = static_cast<char>(rng());
      batch.Put(storage::Keyspace::kAudit, EntryKey(i), entry);
      range.Append(HashLeaf(common::AsBytes(entry)), [&](const NodeId& node, const Hash& h) {
        ASSERT_TRUE(tiles.OnComplete(node, h, batch).ok());
      });
      if (range.size() % 5000 == 0) {
        auto note = SignCheckpoint({"test.example/log", range.size(), range.Root(), {}},
                                   {signer_.get(), 1});
        ASSERT_TRUE(note.ok()) << note.status().ToString();
        batch.Put(storage::Keyspace::kAudit, CheckpointKey(range.size()), *note);
      }
    }
    tiles.Flush(batch);
    batch.Put(storage::Keyspace::kAudit, StateKey(),
              EncodeLogState({range.size(), range.frontier()}));
    ASSERT_TRUE(kv_->Write(batch, {.sync = false}).ok());
    root_ = range.Root();
  }

  Result<VerifyReport> Verify() { return VerifyLog(*kv_, signer_->verifier()); }
  void Flip(const std::string& key, size_t pos) {
    std::string v = **kv_->Get(storage::Keyspace::kAudit, key);
    v[pos] = static_cast<char>(v[pos] ^ 0x80);
    ASSERT_TRUE(kv_->Put(storage::Keyspace::kAudit, key, v).ok());
  }

  custos::testing::TempDir tmp_;
  std::unique_ptr<storage::Kv> kv_;
  std::unique_ptr<NoteSigner> signer_;
  Hash root_{};
};

TEST_F(LargeLogTamperTest, IntactLogVerifies) {
  auto report = Verify();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->entries, kSize);
  EXPECT_EQ(report->checkpoints, 4u);
  EXPECT_EQ(report->root, root_);
  EXPECT_EQ(report->tile_hashes, 2 * kSize - std::popcount(kSize));
}

TEST_F(LargeLogTamperTest, FlippedEntriesAreReportedAtTheirIndex) {
  for (uint64_t index : {uint64_t{2047}, uint64_t{2048}, uint64_t{13001}, kSize - 1}) {
    Flip(EntryKey(index), 7);
    auto result = Verify();
    ASSERT_FALSE(result.ok()) << index;
    EXPECT_THAT(result.status().message(),
                StartsWith("audit log corrupt at index " + std::to_string(index) + ": entry " +
                           std::to_string(index) + " was altered"));
    Flip(EntryKey(index), 7);  // restored
  }
  ASSERT_TRUE(Verify().ok());
}

TEST_F(LargeLogTamperTest, MissingEntryIsReportedAtItsIndex) {
  ASSERT_TRUE(kv_->Delete(storage::Keyspace::kAudit, EntryKey(15555)).ok());
  auto result = Verify();
  EXPECT_THAT(result.status().message(),
              StartsWith("audit log corrupt at index 15555: entry 15555 is missing"));
}

TEST_F(LargeLogTamperTest, AlteredInnerNodeBeforeAMissingEntryIsReportedFirst) {
  // Tile 0/40 (leaves 10240..10495), row 5 hash 3: leaves 10240 + 96 .. + 127.
  Flip(TileKey(0, 40), TileRecordOffset(256, 5, 3) + 1);
  ASSERT_TRUE(kv_->Delete(storage::Keyspace::kAudit, EntryKey(18000)).ok());
  auto result = Verify();
  EXPECT_THAT(result.status().message(),
              StartsWith("audit log corrupt at index 10336: the hash of leaves 10336..10367"));
}

}  // namespace
}  // namespace custos::audit
