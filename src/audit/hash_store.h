// The audit log's storage layout in the `audit` keyspace, and the tile-backed HashReader
// that proofs read from. Everything here is public data (hashes, sealed entries, signed
// checkpoints): the verifier and replicas use it without any key.
//
//   e <index u64>            the stored entry (the sealed event; the Merkle leaf)
//   t <level u32> <n u64>    tile record: C2SP hash tile (level, n) and the 7 Merkle levels
//                            inside it (see "Tile records" below); a partial right-edge
//                            tile is replaced as it grows
//   c <size u64>             a signed checkpoint note for the tree of that size
//   s                        the log state: size and right edge (CompactRange frontier)
// Each part is common::KeyBuilder-encoded (the tag as a string, numbers big-endian), so
// entries, tiles and checkpoints sort by index.
//
// Tile records. A C2SP tile at level L holds only Merkle level 8L; a proof also needs the
// levels in between, which a plain tile reader recomputes from up to 128 entries per
// node. So the stored record keeps every level of the tile's subtree:
//   byte 0       kTileRecordFormat
//   byte 1       width - 1 (width: 1..256 hashes in the C2SP row)
//   row 0        the C2SP row: `width` hashes of Merkle level 8L (exactly the tile's bytes)
//   row k=1..7   floor(width / 2^k) hashes of Merkle level 8L+k, the complete nodes above
//                row 0 inside the tile (entry i of row k covers row-0 entries
//                i*2^k .. (i+1)*2^k - 1)
// A full record is 2 + 510*32 bytes. Any node of the tree is then one hash at a known
// offset of one record: a proof or a root costs one read per tile it touches, O(log n)
// reads and no hashing. Serving tlog-tiles (KvTileReader) returns row 0 only, so
// standard tooling reads the log unchanged.
// Thread-safety: free functions are pure; KvTileReader/KvHashStore are safe for concurrent
// use (they only read the Kv); TileRecordCache is thread-safe; TileWriter is a plain value
// for one thread.
#pragma once

#include <array>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "audit/merkle.h"
#include "audit/tiles.h"
#include "common/status.h"
#include "storage/kv.h"

namespace custos::audit {

std::string EntryKey(uint64_t index);
std::string TileKey(int level, uint64_t index);
std::string CheckpointKey(uint64_t size);
std::string StateKey();
std::string EntryPrefix();
std::string TilePrefix();
std::string CheckpointPrefix();
// The number in an entry or checkpoint key; InvalidArgument if the key is not one.
Result<uint64_t> ParseEntryKey(std::string_view key);
Result<uint64_t> ParseCheckpointKey(std::string_view key);

// What the log has durably appended: the tree size and its right edge.
struct LogState {
  uint64_t size = 0;
  std::vector<Hash> frontier;  // CompactRange::frontier(), largest subtree first
};
std::string EncodeLogState(const LogState& state);
// DataLoss if the record is malformed (the right edge does not fit the size).
Result<LogState> DecodeLogState(std::string_view data);
// The stored state, or the empty log when none is stored.
Result<LogState> ReadLogState(storage::Kv& kv, const storage::ReadOptions& options = {});

// The newest stored checkpoint note (by size), or nullopt when none.
Result<std::optional<std::string>> ReadLatestCheckpoint(storage::Kv& kv,
                                                        const storage::ReadOptions& options = {});

// The tile record format byte. Version 1 (custos before stored tile levels) had no
// header and held only the C2SP row; such records are rejected as DataLoss.
inline constexpr uint8_t kTileRecordFormat = 2;
inline constexpr int kTileRows = kTileHeight;  // row 0 (C2SP) and the 7 levels above it
inline constexpr size_t kTileRecordHeader = 2;

// Hashes in row `row` (0..7) of a tile record of `width`, and the byte offset of its hash
// `pos` in the record.
inline uint32_t TileRowWidth(uint32_t width, int row) { return width >> row; }
size_t TileRecordOffset(uint32_t width, int row, uint32_t pos);
// The record's size: the header and every row.
size_t TileRecordSize(uint32_t width);

// A tile record's rows; rows[0] is the C2SP row.
struct TileRows {
  std::array<std::vector<Hash>, kTileRows> rows;
  uint32_t width() const { return static_cast<uint32_t>(rows[0].size()); }
};
// Fills rows 1..7 from row 0 (pairwise HashChildren).
void ComputeInnerRows(TileRows& tile);
// InvalidArgument unless 1 <= width <= 256 and every row has width >> row hashes.
Result<std::string> EncodeTileRecord(const TileRows& tile);

// A parsed stored record, viewing the bytes it was parsed from.
class TileRecordView {
 public:
  // DataLoss naming the tile if `data` is not a format-2 record (old format, unknown
  // format byte, or a size that does not match its width).
  static Result<TileRecordView> Parse(std::string_view data, int level, uint64_t index);
  uint32_t width() const { return width_; }
  // Hash `pos` of row `row`; pos < TileRowWidth(width(), row).
  Hash At(int row, uint32_t pos) const;
  std::string_view HashBytes(int row, uint32_t pos) const;

 private:
  std::string_view data_;
  uint32_t width_ = 0;
};

// Reads C2SP tiles (row 0 of the `t` records). A stored tile may be wider than asked for
// (the tree grew since); its first `width` hashes are the answer, since a tile only ever
// grows at its right end.
class KvTileReader : public TileReader {
 public:
  explicit KvTileReader(storage::Kv& kv, storage::ReadOptions options = {})
      : kv_(kv), options_(std::move(options)) {}
  // NotFound when absent, DataLoss when the record is malformed or too narrow.
  Result<std::vector<Hash>> ReadTile(int level, uint64_t index, uint32_t width) const override;

 private:
  storage::Kv& kv_;
  storage::ReadOptions options_;
};

// The C2SP tlog-tiles resource at `path` ("tile/L/N[.p/W]" or "tile/entries/N[.p/W]") of
// the stored log, byte for byte as the spec defines it: a hash tile is its row 0 cut to
// W hashes, an entry bundle the length-prefixed entries. NotFound if the log does not
// (yet) hold W hashes or entries there; InvalidArgument for a malformed path.
Result<std::string> ReadTileResource(storage::Kv& kv, std::string_view path,
                                     const storage::ReadOptions& options = {});

// Tile records that a log reads for every proof, kept in memory between proofs: those of
// tile levels >= 1 (n / 2^16 of them) and the partial right-edge ones. Level-0 full
// records (one per 256 entries, each proof needs a different one) are not kept. A cached
// record stays valid as the log grows: a tile only ever grows at its right end, so a
// narrower cached copy still holds every hash it has (a read beyond it refetches).
// Thread-safe.
class TileRecordCache {
 public:
  // Default capacity: 32 MiB of records (about 2,000 full tiles).
  explicit TileRecordCache(size_t capacity_bytes = size_t{32} << 20)
      : capacity_bytes_(capacity_bytes) {}
  std::shared_ptr<const std::string> Lookup(int level, uint64_t index) const;
  void Insert(int level, uint64_t index, std::shared_ptr<const std::string> record);
  // Whether KvHashStore offers a record of this tile to the cache.
  static bool Keeps(int level, uint32_t width) { return level > 0 || width < kTileWidth; }

 private:
  struct Entry {
    uint64_t key;
    std::shared_ptr<const std::string> record;
  };
  static uint64_t Key(int level, uint64_t index) {
    return static_cast<uint64_t>(level) << 56 | index;  // tile indexes are below 2^56
  }
  const size_t capacity_bytes_;
  mutable std::mutex mu_;
  mutable std::list<Entry> lru_;  // most recent first
  std::unordered_map<uint64_t, std::list<Entry>::iterator> map_;
  size_t bytes_ = 0;
};

// A HashReader for the tree of `tree_size` leaves stored in `kv`: every Merkle node is
// read directly from the record of the tile that holds it (each record fetched once per
// call, or taken from `cache` when given), so a proof costs one read per tile level it
// touches and no hashing. NotFound for a node that is not complete at tree_size;
// DataLoss if a record is malformed or lacks a node the tree has.
class KvHashStore : public HashReader {
 public:
  KvHashStore(storage::Kv& kv, uint64_t tree_size, storage::ReadOptions options = {},
              TileRecordCache* cache = nullptr)
      : kv_(kv), tree_size_(tree_size), options_(std::move(options)), cache_(cache) {}
  Status ReadHashes(std::span<const NodeId> nodes, std::span<Hash> out) const override;

 private:
  storage::Kv& kv_;
  uint64_t tree_size_;
  storage::ReadOptions options_;
  TileRecordCache* cache_;
};

// Keeps the rightmost tile of each tile level while the tree grows, fed by
// CompactRange::Append's completion callback (every completed node, at every level),
// and writes each changed tile record: a tile that fills up is written once, full; the
// partial right-edge tiles are written by Flush.
class TileWriter {
 public:
  TileWriter() = default;
  // The right-edge tiles of a stored tree of `size` leaves (their inner rows are
  // recomputed from the C2SP rows, at most 255 hashes per tile level).
  static Result<TileWriter> Load(uint64_t size, const TileReader& reader);

  // Records a completed subtree; nodes must arrive in CompactRange::Append order.
  // Internal if a node arrives out of order.
  Status OnComplete(const NodeId& node, const Hash& hash, storage::WriteBatch& batch);
  // Adds every partial tile changed since the last Flush to `batch`.
  void Flush(storage::WriteBatch& batch);

 private:
  struct Edge {
    uint64_t index = 0;
    TileRows tile;
    bool dirty = false;
  };
  std::vector<Edge> edges_;  // one per tile level
};

}  // namespace custos::audit
