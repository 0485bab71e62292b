// C2SP tlog-tiles: paths (from the spec's examples), widths, contents, entry bundles,
// and proofs computed from tiles equal proofs computed from the full hash store.
#include "audit/tiles.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/bytes.h"

namespace custos::audit {
namespace {

TEST(TilePaths, IndexEncoding) {
  EXPECT_EQ(EncodeTileIndex(0), "000");
  EXPECT_EQ(EncodeTileIndex(5), "005");
  EXPECT_EQ(EncodeTileIndex(999), "999");
  EXPECT_EQ(EncodeTileIndex(1000), "x001/000");
  EXPECT_EQ(EncodeTileIndex(1234067), "x001/x234/067");  // the spec's example
  EXPECT_EQ(EncodeTileIndex(UINT64_MAX), "x018/x446/x744/x073/x709/x551/615");
}

TEST(TilePaths, FullPartialAndEntryPaths) {
  EXPECT_EQ(TilePath({0, 1234067, 256}), "tile/0/x001/x234/067");
  EXPECT_EQ(TilePath({0, 273, 112}), "tile/0/273.p/112");
  EXPECT_EQ(TilePath({1, 1, 17}), "tile/1/001.p/17");
  EXPECT_EQ(TilePath({2, 0, 1}), "tile/2/000.p/1");
  EXPECT_EQ(TilePath({63, 0, 256}), "tile/63/000");
  EXPECT_EQ(TilePath({kEntriesLevel, 1234067, 256}), "tile/entries/x001/x234/067");
  EXPECT_EQ(TilePath({kEntriesLevel, 273, 112}), "tile/entries/273.p/112");
}

TEST(TilePaths, ParseIsTheStrictInverse) {
  for (const TileId& tile : std::vector<TileId>{{0, 1234067, 256},
                                                {0, 273, 112},
                                                {5, 0, 1},
                                                {63, UINT64_MAX, 255},
                                                {kEntriesLevel, 1000, 256},
                                                {kEntriesLevel, 7, 3}}) {
    Result<TileId> parsed = ParseTilePath(TilePath(tile));
    ASSERT_TRUE(parsed.ok()) << TilePath(tile) << ": " << parsed.status().ToString();
    EXPECT_EQ(*parsed, tile) << TilePath(tile);
  }
  for (const char* bad :
       {"tile/00/000", "tile/64/000", "tile/-1/000", "tile/0/x000/001", "tile/0/1", "tile/0/0001",
        "tile/0/001.p/256", "tile/0/001.p/0", "tile/0/001.p/01", "tile/0/001.p/", "tile/0/001/x002",
        "tile/0/x1/002", "tiles/0/000", "tile/0", "tile/0/", "tile/entry/000",
        "tile/0/x018/x446/x744/x073/x709/x551/616", "tile/0/001.p/5/"}) {
    Result<TileId> parsed = ParseTilePath(bad);
    EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(parsed.status().message().find(bad), std::string::npos) << bad;
  }
}

TEST(TileWidths, SpecExampleOfSeventyThousand) {
  // "a tree of size 70,000 will be represented by 273 full level 0 tiles, one partial
  // level 0 tile of width 112, one full level 1 tile, one partial level 1 tile of width
  // 17, and one partial level 2 tile of width 1."
  EXPECT_EQ(TileWidth(0, 0, 70000), 256u);
  EXPECT_EQ(TileWidth(0, 272, 70000), 256u);
  EXPECT_EQ(TileWidth(0, 273, 70000), 112u);
  EXPECT_EQ(TileWidth(0, 274, 70000), 0u);
  EXPECT_EQ(TileWidth(1, 0, 70000), 256u);
  EXPECT_EQ(TileWidth(1, 1, 70000), 17u);
  EXPECT_EQ(TileWidth(2, 0, 70000), 1u);
  EXPECT_EQ(TileWidth(3, 0, 70000), 0u);
  EXPECT_EQ(TileWidth(kEntriesLevel, 273, 70000), 112u);
  EXPECT_EQ(PartialTiles(70000), (std::vector<TileId>{{0, 273, 112}, {1, 1, 17}, {2, 0, 1}}));
  // "a tree of size 256 will be represented by a full level 0 tile and a partial level 1
  // tile of width 1."
  EXPECT_EQ(TileWidth(0, 0, 256), 256u);
  EXPECT_EQ(PartialTiles(256), (std::vector<TileId>{{1, 0, 1}}));
  EXPECT_TRUE(PartialTiles(0).empty());
  EXPECT_EQ(TileWidth(63, 0, UINT64_MAX), 0u);
  EXPECT_EQ(TileWidth(7, 0, UINT64_MAX), 255u);  // 2^64-1 >> 56
}

TEST(TileWidths, TilesToWriteWhenTheTreeGrows) {
  EXPECT_EQ(TilesToWrite(0, 70000).size(), 273u + 1 + 1 + 1 + 1);
  EXPECT_EQ(TilesToWrite(70000, 70001), (std::vector<TileId>{{0, 273, 113}}));
  EXPECT_EQ(TilesToWrite(65535, 65536),
            (std::vector<TileId>{{0, 255, 256}, {1, 0, 256}, {2, 0, 1}}));
  EXPECT_EQ(TilesToWrite(10, 10), std::vector<TileId>{});
  EXPECT_EQ(TilesToWrite(0, 1), (std::vector<TileId>{{0, 0, 1}}));
}

TEST(TileContents, HashesConcatenated) {
  std::vector<Hash> hashes = {HashLeaf(common::AsBytes("a")), HashLeaf(common::AsBytes("b"))};
  common::Bytes data = EncodeTile(hashes);
  ASSERT_EQ(data.size(), 64u);
  EXPECT_TRUE(std::equal(hashes[1].begin(), hashes[1].end(), data.begin() + 32));
  EXPECT_EQ(*DecodeTile(data, 2), hashes);
  EXPECT_EQ(DecodeTile(data, 3).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(DecodeTile(common::ByteView(data).first(63), 2).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(DecodeTile({}, 0).status().code(), StatusCode::kInvalidArgument);
}

TEST(EntryBundles, Uint16LengthPrefixedEntries) {
  std::vector<common::Bytes> entries = {common::ToBytes("a"), {}, common::ToBytes("bc")};
  Result<common::Bytes> bundle = EncodeEntryBundle(entries);
  ASSERT_TRUE(bundle.ok());
  EXPECT_EQ(common::HexEncode(*bundle),
            "000161"
            "0000"
            "00026263");
  EXPECT_EQ(*DecodeEntryBundle(*bundle, 3), entries);
  EXPECT_EQ(DecodeEntryBundle(*bundle, 2).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(DecodeEntryBundle(*bundle, 4).status().code(), StatusCode::kInvalidArgument);
  common::Bytes truncated(bundle->begin(), bundle->end() - 1);
  EXPECT_NE(DecodeEntryBundle(truncated, 3).status().message().find("truncated"),
            std::string::npos);
  common::Bytes half_prefix = *bundle;
  half_prefix.push_back(0);
  EXPECT_EQ(DecodeEntryBundle(half_prefix, 4).status().code(), StatusCode::kInvalidArgument);

  std::vector<common::Bytes> big = {common::Bytes(65535, 1)};
  Result<common::Bytes> max_bundle = EncodeEntryBundle(big);
  ASSERT_TRUE(max_bundle.ok());
  EXPECT_EQ((*max_bundle)[0], 0xFF);
  EXPECT_EQ((*max_bundle)[1], 0xFF);
  big[0].push_back(1);
  EXPECT_EQ(EncodeEntryBundle(big).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(EncodeEntryBundle(std::vector<common::Bytes>(257)).status().code(),
            StatusCode::kInvalidArgument);
}

// Serves tiles cut from a MemoryHashStore, as a tiled log would store them.
class StoreTiles : public TileReader {
 public:
  explicit StoreTiles(const MemoryHashStore& store) : store_(store) {}
  Result<std::vector<Hash>> ReadTile(int level, uint64_t index, uint32_t width) const override {
    ++reads;
    return ReadTileHashes(store_, level, index, width);
  }
  mutable int reads = 0;

 private:
  const MemoryHashStore& store_;
};

TEST(TileHashReader, ProofsFromTilesEqualProofsFromTheStore) {
  MemoryHashStore store;
  const uint64_t n = 70000;
  for (uint64_t i = 0; i < n; ++i) {
    store.AppendLeafHash(HashLeaf(common::AsBytes(std::to_string(i))));
  }
  StoreTiles tiles(store);
  for (uint64_t size : {uint64_t{1}, uint64_t{255}, uint64_t{256}, uint64_t{65536}, n}) {
    TileHashReader reader(tiles, size);
    Result<Hash> root = RootHash(size, reader);
    ASSERT_TRUE(root.ok()) << size << ": " << root.status().ToString();
    EXPECT_EQ(*root, *RootHash(size, store)) << size;
    for (uint64_t index : {uint64_t{0}, size / 3, size - 1}) {
      tiles.reads = 0;
      Result<std::vector<Hash>> proof = InclusionProof(index, size, reader);
      ASSERT_TRUE(proof.ok()) << proof.status().ToString();
      EXPECT_EQ(*proof, *InclusionProof(index, size, store));
      EXPECT_LE(tiles.reads, 6);  // about two tiles per tile level
    }
    if (size > 1) {
      auto proof = ConsistencyProof(size / 2, size, reader);
      ASSERT_TRUE(proof.ok()) << proof.status().ToString();
      EXPECT_EQ(*proof, *ConsistencyProof(size / 2, size, store));
    }
  }
  // Nodes beyond the checkpoint's size are not read from tiles.
  TileHashReader small(tiles, 300);
  EXPECT_EQ(RootHash(301, small).status().code(), StatusCode::kNotFound);
}

TEST(TileHashReader, TilesCutFromAStoreHoldTheRightHashes) {
  MemoryHashStore store;
  for (int i = 0; i < 600; ++i) store.AppendLeafHash(HashLeaf(common::AsBytes(std::to_string(i))));
  Result<std::vector<Hash>> level0 = ReadTileHashes(store, 0, 2, 88);  // leaves 512..599
  ASSERT_TRUE(level0.ok()) << level0.status().ToString();
  EXPECT_EQ(level0->front(), HashLeaf(common::AsBytes("512")));
  EXPECT_EQ(level0->back(), HashLeaf(common::AsBytes("599")));
  EXPECT_EQ(ReadTileHashes(store, 0, 2, 89).status().code(), StatusCode::kNotFound);
  Result<std::vector<Hash>> level1 = ReadTileHashes(store, 1, 0, 2);  // two full subtrees
  ASSERT_TRUE(level1.ok());
  EXPECT_EQ((*level1)[1], *SubtreeHash(256, 512, store));
  EXPECT_EQ(ReadTileHashes(store, 8, 0, 1).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(ReadTileHashes(store, 0, 0, 0).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace custos::audit
