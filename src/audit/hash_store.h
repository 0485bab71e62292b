// The audit log's storage layout in the `audit` keyspace, and the tile-backed HashReader
// that proofs read from. Everything here is public data (hashes, sealed entries, signed
// checkpoints): the verifier and replicas use it without any key.
//
//   e <index u64>            the stored entry (the sealed event; the Merkle leaf)
//   t <level u32> <n u64>    C2SP hash tile: hashes of Merkle level 8*level, indices
//                            n*256.. (a partial right-edge tile is replaced as it grows)
//   c <size u64>             a signed checkpoint note for the tree of that size
//   s                        the log state: size and right edge (CompactRange frontier)
// Each part is common::KeyBuilder-encoded (the tag as a string, numbers big-endian), so
// entries, tiles and checkpoints sort by index.
// Thread-safety: free functions are pure; KvTileReader/KvHashStore are safe for concurrent
// use (they only read the Kv); TileWriter is a plain value for one thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
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

// Reads tiles from the `t` records. A stored tile may be wider than asked for (the tree
// grew since); its first `width` hashes are the answer, since a tile only ever grows at
// its right end.
class KvTileReader : public TileReader {
 public:
  explicit KvTileReader(storage::Kv& kv, storage::ReadOptions options = {})
      : kv_(kv), options_(std::move(options)) {}
  // NotFound when absent, DataLoss when the record is not whole hashes or too short.
  Result<std::vector<Hash>> ReadTile(int level, uint64_t index, uint32_t width) const override;

 private:
  storage::Kv& kv_;
  storage::ReadOptions options_;
};

// A HashReader for the tree of `tree_size` leaves stored in `kv`: each Merkle node costs
// one tile read (cached per call), so a proof costs O(log n) reads.
class KvHashStore : public HashReader {
 public:
  KvHashStore(storage::Kv& kv, uint64_t tree_size, storage::ReadOptions options = {})
      : tiles_(kv, std::move(options)), reader_(tiles_, tree_size) {}
  Status ReadHashes(std::span<const NodeId> nodes, std::span<Hash> out) const override {
    return reader_.ReadHashes(nodes, out);
  }

 private:
  KvTileReader tiles_;
  TileHashReader reader_;
};

// Keeps the rightmost tile of each level while the tree grows, fed by
// CompactRange::Append's completion callback, and writes each changed tile: a tile that
// fills up is written once, full; the partial right-edge tiles are written by Flush.
class TileWriter {
 public:
  TileWriter() = default;
  // The right-edge tiles of a stored tree of `size` leaves.
  static Result<TileWriter> Load(uint64_t size, const TileReader& reader);

  // Records a completed subtree; nodes must arrive in CompactRange::Append order.
  // Internal if a tile entry arrives out of order.
  Status OnComplete(const NodeId& node, const Hash& hash, storage::WriteBatch& batch);
  // Adds every partial tile changed since the last Flush to `batch`.
  void Flush(storage::WriteBatch& batch);

 private:
  struct Edge {
    uint64_t index = 0;
    std::vector<Hash> hashes;
    bool dirty = false;
  };
  std::vector<Edge> edges_;  // one per tile level
};

}  // namespace custos::audit
