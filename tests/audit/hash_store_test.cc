// The stored tile records (hash_store.h): every Merkle level is persisted, every node of
// trees of many sizes read back from the records equals the in-memory tree, proofs from
// storage equal proofs from memory, the C2SP row is served unchanged, and records in the
// old (row-only) shape or otherwise malformed are DataLoss.
#include "audit/hash_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <bit>
#include <random>
#include <string>
#include <vector>

#include "../testing/temp_dir.h"
#include "storage/rocksdb_kv.h"

namespace custos::audit {
namespace {

using ::testing::HasSubstr;

Hash LeafOf(uint64_t i) { return HashLeaf(common::AsBytes("entry " + std::to_string(i))); }

// Grows a tree leaf by leaf in memory and in `kv` (through TileWriter, one write per
// leaf unless told otherwise), the way the log does.
class StoredTree {
 public:
  explicit StoredTree(storage::Kv& kv) : kv_(kv) {}

  void Append(uint64_t count, bool flush_each = true) {
    for (uint64_t n = 0; n < count; ++n) {
      const Hash leaf = LeafOf(memory_.size());
      memory_.AppendLeafHash(leaf);
      range_.Append(leaf, [&](const NodeId& node, const Hash& h) {
        Status s = writer_.OnComplete(node, h, batch_);
        ASSERT_TRUE(s.ok()) << s.ToString();
      });
      if (flush_each) Write();
    }
    Write();
  }
  void Write() {
    writer_.Flush(batch_);
    ASSERT_TRUE(kv_.Write(batch_, {.sync = false}).ok());
    batch_.Clear();
  }

  uint64_t size() const { return memory_.size(); }
  const MemoryHashStore& memory() const { return memory_; }
  TileWriter& writer() { return writer_; }

 private:
  storage::Kv& kv_;
  MemoryHashStore memory_;
  CompactRange range_;
  TileWriter writer_;
  storage::WriteBatch batch_;
};

// Every node complete at `size`, level by level.
std::vector<NodeId> AllNodes(uint64_t size) {
  std::vector<NodeId> nodes;
  for (int level = 0; (size >> level) > 0; ++level) {
    for (uint64_t i = 0; i < (size >> level); ++i) nodes.push_back({level, i});
  }
  return nodes;
}

// Every node of the tree of `size`, read from storage, equals the memory tree's.
void ExpectEveryNodeStored(storage::Kv& kv, const MemoryHashStore& memory, uint64_t size) {
  std::vector<NodeId> nodes = AllNodes(size);
  ASSERT_EQ(nodes.size(), 2 * size - std::popcount(size));
  KvHashStore stored(kv, size);
  constexpr size_t kChunk = 1024;
  for (size_t begin = 0; begin < nodes.size(); begin += kChunk) {
    std::span<const NodeId> chunk =
        std::span<const NodeId>(nodes).subspan(begin, std::min(kChunk, nodes.size() - begin));
    std::vector<Hash> got(chunk.size()), want(chunk.size());
    Status s = stored.ReadHashes(chunk, got);
    ASSERT_TRUE(s.ok()) << "size " << size << ": " << s.ToString();
    ASSERT_TRUE(memory.ReadHashes(chunk, want).ok());
    for (size_t i = 0; i < chunk.size(); ++i) {
      ASSERT_EQ(got[i], want[i]) << "size " << size << " node " << chunk[i].level << "/"
                                 << chunk[i].index;
    }
  }
}

class HashStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto kv = storage::RocksDbKv::Open({.path = tmp_.Sub("db")});
    ASSERT_TRUE(kv.ok()) << kv.status().ToString();
    kv_ = std::move(*kv);
  }
  std::unique_ptr<storage::Kv> OpenOther(const std::string& name) {
    auto kv = storage::RocksDbKv::Open({.path = tmp_.Sub(name)});
    EXPECT_TRUE(kv.ok()) << kv.status().ToString();
    return std::move(*kv);
  }
  void Put(const std::string& key, std::string_view value) {
    ASSERT_TRUE(kv_->Put(storage::Keyspace::kAudit, key, value).ok());
  }
  std::string Get(const std::string& key) {
    auto value = kv_->Get(storage::Keyspace::kAudit, key);
    EXPECT_TRUE(value.ok() && value->has_value()) << key;
    return value.ok() && value->has_value() ? **value : std::string();
  }

  custos::testing::TempDir tmp_;
  std::unique_ptr<storage::Kv> kv_;
};

TEST(TileRecordLayout, SizesAndOffsets) {
  // 256 + 128 + 64 + 32 + 16 + 8 + 4 + 2 hashes after the 2-byte header.
  EXPECT_EQ(TileRecordSize(256), 2u + 510 * 32);
  EXPECT_EQ(TileRecordSize(1), 2u + 32);
  EXPECT_EQ(TileRecordSize(88), 2u + (88 + 44 + 22 + 11 + 5 + 2 + 1) * 32);
  EXPECT_EQ(TileRecordOffset(256, 0, 0), 2u);
  EXPECT_EQ(TileRecordOffset(256, 1, 0), 2u + 256 * 32);
  EXPECT_EQ(TileRecordOffset(256, 7, 1), 2u + (256 + 128 + 64 + 32 + 16 + 8 + 4 + 1) * 32);
  EXPECT_EQ(TileRecordOffset(5, 2, 0), 2u + (5 + 2) * 32);
  EXPECT_EQ(TileRowWidth(5, 1), 2u);
  EXPECT_EQ(TileRowWidth(5, 3), 0u);
}

TEST(TileRecordLayout, EncodeAndParse) {
  TileRows tile;
  for (uint64_t i = 0; i < 6; ++i) tile.rows[0].push_back(LeafOf(i));
  ComputeInnerRows(tile);
  ASSERT_EQ(tile.rows[1].size(), 3u);
  ASSERT_EQ(tile.rows[2].size(), 1u);
  EXPECT_EQ(tile.rows[2][0],
            HashChildren(HashChildren(LeafOf(0), LeafOf(1)), HashChildren(LeafOf(2), LeafOf(3))));
  Result<std::string> data = EncodeTileRecord(tile);
  ASSERT_TRUE(data.ok()) << data.status().ToString();
  ASSERT_EQ(data->size(), TileRecordSize(6));
  EXPECT_EQ(static_cast<uint8_t>((*data)[0]), kTileRecordFormat);
  EXPECT_EQ(static_cast<uint8_t>((*data)[1]), 5);
  Result<TileRecordView> view = TileRecordView::Parse(*data, 0, 7);
  ASSERT_TRUE(view.ok()) << view.status().ToString();
  EXPECT_EQ(view->width(), 6u);
  EXPECT_EQ(view->At(0, 5), LeafOf(5));
  EXPECT_EQ(view->At(1, 2), tile.rows[1][2]);
  EXPECT_EQ(view->At(2, 0), tile.rows[2][0]);

  TileRows uneven = tile;
  uneven.rows[1].pop_back();
  EXPECT_EQ(EncodeTileRecord(uneven).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(EncodeTileRecord(TileRows{}).status().code(), StatusCode::kInvalidArgument);

  std::string truncated = data->substr(0, data->size() - 1);
  Result<TileRecordView> bad = TileRecordView::Parse(truncated, 0, 7);
  EXPECT_EQ(bad.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(bad.status().message(), HasSubstr("tile/0/007"));
  EXPECT_THAT(bad.status().message(), HasSubstr("should be " + std::to_string(data->size())));
  std::string other_format = *data;
  other_format[0] = 3;
  EXPECT_THAT(TileRecordView::Parse(other_format, 0, 7).status().message(),
              HasSubstr("unknown format byte 3"));
  EXPECT_EQ(TileRecordView::Parse("", 0, 7).status().code(), StatusCode::kDataLoss);
}

TEST_F(HashStoreTest, EveryNodeOfEverySizeUpTo600IsStored) {
  StoredTree tree(*kv_);
  for (uint64_t size = 1; size <= 600; ++size) {
    tree.Append(1);
    ExpectEveryNodeStored(*kv_, tree.memory(), size);
    if (HasFailure()) return;
  }
  // A KvHashStore for a smaller tree still reads the grown records, and refuses nodes
  // that tree does not have yet.
  KvHashStore at_300(*kv_, 300);
  std::vector<NodeId> node{{8, 0}};
  std::vector<Hash> out(1);
  ASSERT_TRUE(at_300.ReadHashes(node, out).ok());
  EXPECT_EQ(out[0], *SubtreeHash(0, 256, tree.memory()));
  node[0] = {2, 75};  // leaves 300..303
  EXPECT_EQ(at_300.ReadHashes(node, out).code(), StatusCode::kNotFound);
  node[0] = {8, 1};  // leaves 256..511
  EXPECT_EQ(at_300.ReadHashes(node, out).code(), StatusCode::kNotFound);
  node[0] = {64, 0};
  EXPECT_EQ(at_300.ReadHashes(node, out).code(), StatusCode::kInvalidArgument);
}

TEST_F(HashStoreTest, LargeTreesAndProofsEqualTheMemoryTree) {
  StoredTree tree(*kv_);
  std::mt19937_64 rng(9);
  for (uint64_t size : {uint64_t{65535}, uint64_t{65536}, uint64_t{70000}, uint64_t{131073}}) {
    tree.Append(size - tree.size(), /*flush_each=*/false);
    ExpectEveryNodeStored(*kv_, tree.memory(), size);
    if (HasFailure()) return;
    KvHashStore stored(*kv_, size);
    EXPECT_EQ(*RootHash(size, stored), tree.memory().Root()) << size;
    for (int trial = 0; trial < 50; ++trial) {
      const uint64_t tree_size = 1 + rng() % size;
      const uint64_t index = rng() % tree_size;
      KvHashStore at(*kv_, tree_size);
      Result<std::vector<Hash>> proof = InclusionProof(index, tree_size, at);
      ASSERT_TRUE(proof.ok()) << proof.status().ToString();
      EXPECT_EQ(*proof, *InclusionProof(index, tree_size, tree.memory()))
          << index << " in " << tree_size;
      const uint64_t old_size = 1 + rng() % tree_size;
      Result<std::vector<Hash>> consistency = ConsistencyProof(old_size, tree_size, at);
      ASSERT_TRUE(consistency.ok()) << consistency.status().ToString();
      EXPECT_EQ(*consistency, *ConsistencyProof(old_size, tree_size, tree.memory()))
          << old_size << " to " << tree_size;
    }
  }
}

TEST_F(HashStoreTest, TilesServeExactlyTheC2spRow) {
  StoredTree tree(*kv_);
  tree.Append(70000, /*flush_each=*/false);
  KvTileReader reader(*kv_);
  for (const TileId& tile : std::vector<TileId>{
           {0, 0, 256}, {0, 273, 112}, {0, 273, 5}, {1, 0, 256}, {1, 1, 17}, {2, 0, 1}}) {
    Result<std::vector<Hash>> got = reader.ReadTile(tile.level, tile.index, tile.width);
    ASSERT_TRUE(got.ok()) << TilePath(tile) << ": " << got.status().ToString();
    EXPECT_EQ(*got, *ReadTileHashes(tree.memory(), tile.level, tile.index, tile.width))
        << TilePath(tile);
    Result<std::string> resource = ReadTileResource(*kv_, TilePath(tile));
    ASSERT_TRUE(resource.ok()) << resource.status().ToString();
    EXPECT_EQ(*resource, std::string(common::AsChars(EncodeTile(*got)))) << TilePath(tile);
  }
  EXPECT_EQ(reader.ReadTile(0, 273, 113).status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(reader.ReadTile(0, 274, 1).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(ReadTileResource(*kv_, "tile/0/273.p/113").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(ReadTileResource(*kv_, "tile/3/000.p/1").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(ReadTileResource(*kv_, "tile/0/0").status().code(), StatusCode::kInvalidArgument);
  // The standard TileHashReader over the served rows gives the same proofs.
  TileHashReader standard(reader, 70000);
  EXPECT_EQ(*InclusionProof(12345, 70000, standard), *InclusionProof(12345, 70000, tree.memory()));
}

TEST_F(HashStoreTest, EntryBundlesAreServedFromTheEntries) {
  for (uint64_t i = 0; i < 3; ++i) Put(EntryKey(i), "entry" + std::to_string(i));
  Result<std::string> bundle = ReadTileResource(*kv_, "tile/entries/000.p/3");
  ASSERT_TRUE(bundle.ok()) << bundle.status().ToString();
  EXPECT_EQ(common::HexEncode(common::AsBytes(*bundle)),
            "0006" + common::HexEncode(common::AsBytes("entry0")) + "0006" +
                common::HexEncode(common::AsBytes("entry1")) + "0006" +
                common::HexEncode(common::AsBytes("entry2")));
  Result<std::string> beyond = ReadTileResource(*kv_, "tile/entries/000.p/4");
  EXPECT_EQ(beyond.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(beyond.status().message(), HasSubstr("entry 3"));
}

TEST_F(HashStoreTest, ReloadedWriterWritesTheSameRecords) {
  // One writer for the whole tree, against writers reloaded from storage at odd sizes.
  StoredTree whole(*kv_);
  whole.Append(1000, /*flush_each=*/false);
  auto other = OpenOther("db2");
  uint64_t size = 0;
  CompactRange range;
  TileWriter writer;
  storage::WriteBatch batch;
  for (uint64_t stop :
       {uint64_t{1}, uint64_t{255}, uint64_t{256}, uint64_t{300}, uint64_t{513}, uint64_t{1000}}) {
    KvTileReader reader(*other);
    Result<TileWriter> loaded = TileWriter::Load(size, reader);
    ASSERT_TRUE(loaded.ok()) << size << ": " << loaded.status().ToString();
    writer = std::move(*loaded);
    for (; size < stop; ++size) {
      range.Append(LeafOf(size), [&](const NodeId& node, const Hash& h) {
        ASSERT_TRUE(writer.OnComplete(node, h, batch).ok());
      });
    }
    writer.Flush(batch);
    ASSERT_TRUE(other->Write(batch, {.sync = false}).ok());
    batch.Clear();
  }
  for (uint64_t tile : {0, 1, 2, 3}) {
    auto want = *kv_->Get(storage::Keyspace::kAudit, TileKey(0, tile));
    auto got = *other->Get(storage::Keyspace::kAudit, TileKey(0, tile));
    ASSERT_TRUE(want.has_value() && got.has_value()) << tile;
    EXPECT_EQ(*got, *want) << "tile 0/" << tile;
  }
  EXPECT_EQ(**other->Get(storage::Keyspace::kAudit, TileKey(1, 0)),
            **kv_->Get(storage::Keyspace::kAudit, TileKey(1, 0)));
}

TEST_F(HashStoreTest, OutOfOrderNodesAreAnInternalError) {
  TileWriter writer;
  storage::WriteBatch batch;
  ASSERT_TRUE(writer.OnComplete({0, 0}, LeafOf(0), batch).ok());
  EXPECT_EQ(writer.OnComplete({0, 2}, LeafOf(2), batch).code(), StatusCode::kInternal);
  EXPECT_EQ(writer.OnComplete({1, 1}, LeafOf(2), batch).code(), StatusCode::kInternal);
}

TEST_F(HashStoreTest, OldShapeRecordIsDataLossNotACrash) {
  StoredTree tree(*kv_);
  tree.Append(600, /*flush_each=*/false);
  // What custos wrote before tile format 2: the C2SP row alone.
  std::vector<Hash> row = *ReadTileHashes(tree.memory(), 0, 1, 256);
  Put(TileKey(0, 1), common::AsChars(EncodeTile(row)));
  KvHashStore stored(*kv_, 600);
  Result<std::vector<Hash>> proof = InclusionProof(300, 600, stored);
  EXPECT_EQ(proof.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(proof.status().message(), HasSubstr("tile/0/001"));
  EXPECT_THAT(proof.status().message(), HasSubstr("old format"));
  EXPECT_THAT(proof.status().message(), HasSubstr("custos audit replicate"));
  KvTileReader reader(*kv_);
  EXPECT_EQ(reader.ReadTile(0, 1, 256).status().code(), StatusCode::kDataLoss);
  // An old partial right-edge tile stops the writer from loading, with the same error.
  std::vector<Hash> edge = *ReadTileHashes(tree.memory(), 0, 2, 88);
  Put(TileKey(0, 2), common::AsChars(EncodeTile(edge)));
  Result<TileWriter> loaded = TileWriter::Load(600, reader);
  EXPECT_EQ(loaded.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(loaded.status().message(), HasSubstr("old format"));
}

TEST_F(HashStoreTest, MissingOrNarrowRecordsAreDataLoss) {
  StoredTree tree(*kv_);
  tree.Append(600, /*flush_each=*/false);
  ASSERT_TRUE(kv_->Delete(storage::Keyspace::kAudit, TileKey(0, 0)).ok());
  KvHashStore stored(*kv_, 600);
  Result<std::vector<Hash>> proof = InclusionProof(7, 600, stored);
  EXPECT_EQ(proof.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(proof.status().message(), HasSubstr("tile/0/000 is missing"));
  // The right-edge record of a shorter tree, under a checkpoint of the longer one.
  TileRows narrow;
  narrow.rows[0] = *ReadTileHashes(tree.memory(), 0, 2, 40);
  ComputeInnerRows(narrow);
  Put(TileKey(0, 2), *EncodeTileRecord(narrow));
  std::vector<NodeId> node{{0, 599}};
  std::vector<Hash> out(1);
  Status s = stored.ReadHashes(node, out);
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_THAT(s.message(), HasSubstr("holds 40 hashes"));
}

TEST_F(HashStoreTest, RecordCacheStaysCorrectWhileTheTreeGrows) {
  StoredTree tree(*kv_);
  TileRecordCache cache;
  std::mt19937_64 rng(5);
  for (uint64_t grow : {300, 1, 211, 4000, 65536, 7}) {
    tree.Append(grow, /*flush_each=*/false);
    const uint64_t size = tree.size();
    // The newest size first (it caches the right edge), then older ones.
    for (uint64_t tree_size : {size, 1 + rng() % size, size, 1 + rng() % size}) {
      KvHashStore cached(*kv_, tree_size, {}, &cache);
      for (int trial = 0; trial < 20; ++trial) {
        const uint64_t index = rng() % tree_size;
        Result<std::vector<Hash>> proof = InclusionProof(index, tree_size, cached);
        ASSERT_TRUE(proof.ok()) << proof.status().ToString();
        ASSERT_EQ(*proof, *InclusionProof(index, tree_size, tree.memory()))
            << index << " in " << tree_size << " (log size " << size << ")";
      }
      EXPECT_EQ(*RootHash(tree_size, cached), *RootHash(tree_size, tree.memory()));
    }
  }
  // Level-0 full tiles are not kept; higher levels and partial right edges are.
  EXPECT_EQ(cache.Lookup(0, 0), nullptr);
  EXPECT_NE(cache.Lookup(1, 0), nullptr);
  EXPECT_NE(cache.Lookup(0, tree.size() / 256), nullptr);
  EXPECT_FALSE(TileRecordCache::Keeps(0, 256));
  EXPECT_TRUE(TileRecordCache::Keeps(0, 255));
  EXPECT_TRUE(TileRecordCache::Keeps(1, 256));
}

TEST(TileRecordCacheTest, EvictsTheLeastRecentlyUsedBeyondItsCapacity) {
  TileRecordCache cache(3000);
  auto record = [](char c) { return std::make_shared<const std::string>(1000, c); };
  cache.Insert(1, 0, record('a'));
  cache.Insert(1, 1, record('b'));
  cache.Insert(1, 2, record('c'));
  ASSERT_NE(cache.Lookup(1, 0), nullptr);  // now the most recent
  cache.Insert(1, 3, record('d'));         // 4000 bytes: evicts 1/1
  EXPECT_EQ(cache.Lookup(1, 1), nullptr);
  EXPECT_EQ((*cache.Lookup(1, 0))[0], 'a');
  EXPECT_EQ((*cache.Lookup(1, 3))[0], 'd');
  cache.Insert(1, 3, record('e'));  // replaces, no growth
  EXPECT_EQ((*cache.Lookup(1, 3))[0], 'e');
  EXPECT_NE(cache.Lookup(1, 2), nullptr);
  EXPECT_EQ(cache.Lookup(2, 3), nullptr);  // levels are part of the key
}

}  // namespace
}  // namespace custos::audit
