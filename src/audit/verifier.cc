// The keyless audit log verifier and the read-only store it opens (see verifier.h).
#include "audit/verifier.h"

#include <rocksdb/db.h>

#include <cstring>
#include <filesystem>
#include <optional>
#include <vector>

#include "audit/checkpoint.h"
#include "audit/hash_store.h"
#include "audit/tiles.h"
#include "common/key_encoding.h"

namespace custos::audit {
namespace {

Status Corrupt(uint64_t index, const std::string& what) {
  return DataLossError("audit log corrupt at index " + std::to_string(index) + ": " + what);
}
Status CorruptCheckpoint(uint64_t size, const std::string& what) {
  return DataLossError("audit log corrupt at checkpoint " + std::to_string(size) + ": " + what);
}

std::string ShortHash(const Hash& h) { return common::HexEncode(h).substr(0, 16); }

// Compares each recomputed tile-level hash with the stored tile, one tile per level
// cached at a time (tiles are visited left to right).
class TileChecker {
 public:
  explicit TileChecker(storage::Kv& kv) : kv_(kv) {}

  Status Check(const NodeId& node, const Hash& hash) {
    if (node.level % kTileHeight != 0) return Status::Ok();
    const int level = node.level / kTileHeight;
    const uint64_t tile = node.index / kTileWidth;
    const size_t pos = node.index % kTileWidth;
    const uint64_t first_leaf = node.index << node.level;
    if (cache_.size() <= static_cast<size_t>(level)) cache_.resize(level + 1);
    Cached& c = cache_[level];
    if (!c.loaded || c.index != tile) {
      auto value = kv_.Get(storage::Keyspace::kAudit, TileKey(level, tile));
      if (!value.ok()) return value.status();
      c = Cached{true, tile, {}};
      if (*value) c.data = std::move(**value);
    }
    TileId id{level, tile, kTileWidth};
    if (c.data.size() % 32 != 0) {
      return Corrupt(tile << (node.level + kTileHeight), "tile " + TilePath(id) + " is " +
                                                             std::to_string(c.data.size()) +
                                                             " bytes, not whole hashes");
    }
    if (c.data.size() < (pos + 1) * 32) {
      return Corrupt(first_leaf, "tile " + TilePath(id) + " lacks hash " + std::to_string(pos) +
                                     " (the tile is missing or truncated)");
    }
    if (std::memcmp(c.data.data() + pos * 32, hash.data(), 32) != 0) {
      Hash stored;
      std::memcpy(stored.data(), c.data.data() + pos * 32, 32);
      if (node.level == 0) leaf_mismatch_ = LeafMismatch{node.index, hash, stored};
      return Corrupt(
          first_leaf,
          (node.level == 0 ? "the leaf hash of entry " + std::to_string(node.index)
                           : "the hash of leaves " + std::to_string(first_leaf) + ".." +
                                 std::to_string(first_leaf + (uint64_t{1} << node.level) - 1)) +
              " (" + ShortHash(hash) + "...) differs from hash " + std::to_string(pos) +
              " of tile " + TilePath(id) + " (" + ShortHash(stored) +
              "...): the entry or the tile was altered");
    }
    ++compared_;
    return Status::Ok();
  }

  // After the last leaf: the right-edge tiles must not hold hashes the tree lacks.
  Status CheckEdges(uint64_t size) {
    for (size_t level = 0; level < cache_.size(); ++level) {
      uint64_t count = size >> (level * kTileHeight);
      uint64_t tile = count / kTileWidth;
      size_t width = count % kTileWidth;
      if (width == 0) continue;
      const Cached& c = cache_[level];
      if (c.loaded && c.index == tile && c.data.size() > width * 32) {
        return Corrupt(size,
                       "tile " +
                           TilePath({static_cast<int>(level), tile, static_cast<uint32_t>(width)}) +
                           " holds " + std::to_string(c.data.size() / 32) +
                           " hashes, more than the log's entries (entries were removed)");
      }
    }
    return Status::Ok();
  }

  uint64_t compared() const { return compared_; }

  // The last level-0 disagreement: which side was altered is decided against a
  // checkpoint (see VerifyLog).
  struct LeafMismatch {
    uint64_t index = 0;
    Hash from_entry{};
    Hash from_tile{};
  };
  const std::optional<LeafMismatch>& leaf_mismatch() const { return leaf_mismatch_; }

 private:
  struct Cached {
    bool loaded = false;
    uint64_t index = 0;
    std::string data;
  };
  storage::Kv& kv_;
  std::vector<Cached> cache_;
  uint64_t compared_ = 0;
  std::optional<LeafMismatch> leaf_mismatch_;
};

struct StoredCheckpoint {
  uint64_t size;
  Hash root;
};

// Read-only RocksDB over the audit column family.
class ReadOnlyIterator final : public storage::Iterator {
 public:
  ReadOnlyIterator(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf,
                   const storage::ReadOptions& options)
      : lower_(options.lower_bound), upper_(options.upper_bound) {
    rocksdb::ReadOptions ro;
    if (!lower_.empty()) {
      lower_slice_ = rocksdb::Slice(lower_);
      ro.iterate_lower_bound = &lower_slice_;
    }
    if (!upper_.empty()) {
      upper_slice_ = rocksdb::Slice(upper_);
      ro.iterate_upper_bound = &upper_slice_;
    }
    it_.reset(db->NewIterator(ro, cf));
  }
  void Seek(std::string_view t) override { it_->Seek(rocksdb::Slice(t.data(), t.size())); }
  void SeekToFirst() override { it_->SeekToFirst(); }
  void SeekForPrev(std::string_view t) override {
    it_->SeekForPrev(rocksdb::Slice(t.data(), t.size()));
  }
  bool Valid() const override { return it_->Valid(); }
  void Next() override { it_->Next(); }
  void Prev() override { it_->Prev(); }
  std::string_view key() const override { return it_->key().ToStringView(); }
  std::string_view value() const override { return it_->value().ToStringView(); }
  Status status() const override {
    return it_->status().ok()
               ? Status::Ok()
               : DataLossError("reading the audit store: " + it_->status().ToString());
  }

 private:
  std::string lower_, upper_;
  rocksdb::Slice lower_slice_, upper_slice_;
  std::unique_ptr<rocksdb::Iterator> it_;
};

class ReadOnlyAuditStore final : public storage::Kv {
 public:
  ReadOnlyAuditStore(std::unique_ptr<rocksdb::DB> db, std::vector<rocksdb::ColumnFamilyHandle*> cfs)
      : db_(std::move(db)), cfs_(std::move(cfs)) {}
  ~ReadOnlyAuditStore() override {
    for (auto* cf : cfs_) db_->DestroyColumnFamilyHandle(cf);
  }

  Result<std::optional<std::string>> Get(storage::Keyspace keyspace, std::string_view key,
                                         const storage::ReadOptions&) override {
    CUSTOS_RETURN_IF_ERROR(CheckKeyspace(keyspace));
    std::string value;
    rocksdb::Status s =
        db_->Get(rocksdb::ReadOptions(), cfs_[1], rocksdb::Slice(key.data(), key.size()), &value);
    if (s.IsNotFound()) return std::optional<std::string>();
    if (!s.ok()) return DataLossError("reading the audit store: " + s.ToString());
    return std::optional<std::string>(std::move(value));
  }
  Status Put(storage::Keyspace, std::string_view, std::string_view,
             const storage::WriteOptions&) override {
    return ReadOnly();
  }
  Status Delete(storage::Keyspace, std::string_view, const storage::WriteOptions&) override {
    return ReadOnly();
  }
  Status Write(const storage::WriteBatch&, const storage::WriteOptions&) override {
    return ReadOnly();
  }
  std::unique_ptr<storage::Iterator> NewIterator(storage::Keyspace keyspace,
                                                 const storage::ReadOptions& options) override {
    // Only the audit keyspace is open; other keyspaces read as empty.
    storage::ReadOptions bounded = options;
    if (keyspace != storage::Keyspace::kAudit) bounded.lower_bound = bounded.upper_bound = "\x01";
    return std::make_unique<ReadOnlyIterator>(db_.get(), cfs_[1], bounded);
  }
  std::shared_ptr<const storage::Snapshot> GetSnapshot() override { return nullptr; }
  Status PurgeDeleted(storage::Keyspace) override { return ReadOnly(); }

 private:
  static Status ReadOnly() {
    return FailedPreconditionError("the audit store is open read-only (verifier)");
  }
  static Status CheckKeyspace(storage::Keyspace keyspace) {
    if (keyspace == storage::Keyspace::kAudit) return Status::Ok();
    return FailedPreconditionError("the read-only audit store has only the audit keyspace");
  }
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> cfs_;  // default, audit
};

// An entry's leaf hash and its tile disagree. A signed checkpoint covering the index
// decides which one was altered: the inclusion proof of leaf `index` (its siblings,
// read from the tiles) leads to the signed root only from the original leaf hash.
Status ExplainLeafMismatch(storage::Kv& kv, const Status& found,
                           const std::optional<TileChecker::LeafMismatch>& mismatch,
                           const std::vector<StoredCheckpoint>& checkpoints) {
  if (!mismatch) return found;
  for (const StoredCheckpoint& c : checkpoints) {
    if (c.size <= mismatch->index) continue;
    KvHashStore store(kv, c.size);
    auto proof = InclusionProof(mismatch->index, c.size, store);
    if (!proof.ok()) break;
    if (VerifyInclusion(mismatch->index, c.size, mismatch->from_tile, *proof, c.root).ok()) {
      return Corrupt(mismatch->index, "entry " + std::to_string(mismatch->index) +
                                          " was altered: its leaf hash differs from the tile "
                                          "hash signed in checkpoint " +
                                          std::to_string(c.size));
    }
    if (VerifyInclusion(mismatch->index, c.size, mismatch->from_entry, *proof, c.root).ok()) {
      return Corrupt(mismatch->index, "tile hash " + std::to_string(mismatch->index) +
                                          " was altered: entry " + std::to_string(mismatch->index) +
                                          " matches signed checkpoint " + std::to_string(c.size));
    }
    break;
  }
  return found;
}

}  // namespace

Result<std::unique_ptr<storage::Kv>> OpenReadOnlyAuditStore(const std::string& dir) {
  const std::string path = dir + "/db";
  if (!std::filesystem::exists(path + "/CURRENT")) {
    return NotFoundError(dir +
                         ": not a custos data or replica directory (no db/ inside); pass "
                         "the directory given to `custos init` or `custos audit replicate --to`");
  }
  rocksdb::Options options;
  options.paranoid_checks = true;
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  descriptors.emplace_back(rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions());
  descriptors.emplace_back(std::string(storage::KeyspaceName(storage::Keyspace::kAudit)),
                           rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::OpenForReadOnly(options, path, descriptors, &handles, &raw);
  if (!s.ok()) {
    if (s.IsCorruption()) return DataLossError(path + ": " + s.ToString());
    return UnavailableError("opening " + path + " read-only: " + s.ToString());
  }
  return std::unique_ptr<storage::Kv>(
      new ReadOnlyAuditStore(std::unique_ptr<rocksdb::DB>(raw), std::move(handles)));
}

Result<VerifyReport> VerifyLog(storage::Kv& kv, const NoteVerifier& key,
                               const VerifyOptions& options) {
  const std::string origin = options.origin.empty() ? key.name() : options.origin;
  NoteVerifierSet known;
  CUSTOS_RETURN_IF_ERROR(known.Add(key));
  VerifyReport report;

  // 1. Every checkpoint: signed by the key, for this log, stored under its own size.
  std::vector<StoredCheckpoint> checkpoints;
  {
    storage::ReadOptions ro;
    ro.lower_bound = CheckpointPrefix();
    ro.upper_bound = common::PrefixSuccessor(ro.lower_bound);
    auto it = kv.NewIterator(storage::Keyspace::kAudit, ro);
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      auto size = ParseCheckpointKey(it->key());
      if (!size.ok()) return DataLossError("audit log corrupt: " + size.status().message());
      auto checkpoint = OpenCheckpoint(it->value(), origin, known);
      if (!checkpoint.ok()) {
        return CorruptCheckpoint(*size, "does not verify with key " + key.name() + ": " +
                                            checkpoint.status().ToString());
      }
      if (checkpoint->size != *size) {
        return CorruptCheckpoint(*size, "the signed checkpoint is for size " +
                                            std::to_string(checkpoint->size) +
                                            " (a checkpoint was moved)");
      }
      checkpoints.push_back({*size, checkpoint->root});
    }
    CUSTOS_RETURN_IF_ERROR(it->status());
  }

  // 2. The state record (where the log believes it ends).
  auto state = ReadLogState(kv);
  if (!state.ok()) return Corrupt(0, state.status().message());

  // 3. Every entry in order: leaf hashes, tiles, and checkpoint roots along the way.
  CompactRange range;
  TileChecker tiles(kv);
  Status tile_status;
  auto on_complete = [&](const NodeId& node, const Hash& hash) {
    if (tile_status.ok()) tile_status = tiles.Check(node, hash);
  };
  size_t next_checkpoint = 0;
  auto check_roots = [&]() -> Status {
    while (next_checkpoint < checkpoints.size() &&
           checkpoints[next_checkpoint].size == range.size()) {
      const StoredCheckpoint& c = checkpoints[next_checkpoint];
      Hash root = range.Root();
      if (root != c.root) {
        return CorruptCheckpoint(
            c.size, "its signed root " + ShortHash(c.root) + "... differs from the root " +
                        ShortHash(root) + "... of the stored entries 0.." + std::to_string(c.size) +
                        "-1 (entries were rewritten)");
      }
      ++next_checkpoint;
      ++report.checkpoints;
    }
    return Status::Ok();
  };
  CUSTOS_RETURN_IF_ERROR(check_roots());  // a checkpoint of the empty tree
  {
    storage::ReadOptions ro;
    ro.lower_bound = EntryPrefix();
    ro.upper_bound = common::PrefixSuccessor(ro.lower_bound);
    auto it = kv.NewIterator(storage::Keyspace::kAudit, ro);
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      const uint64_t expected = range.size();
      auto index = ParseEntryKey(it->key());
      if (!index.ok()) return Corrupt(expected, index.status().message());
      if (*index != expected) {
        return Corrupt(expected, "entry " + std::to_string(expected) +
                                     " is missing (the next stored entry is " +
                                     std::to_string(*index) + ")");
      }
      range.Append(HashLeaf(common::AsBytes(it->value())), on_complete);
      if (!tile_status.ok()) {
        return ExplainLeafMismatch(kv, tile_status, tiles.leaf_mismatch(), checkpoints);
      }
      CUSTOS_RETURN_IF_ERROR(check_roots());
    }
    CUSTOS_RETURN_IF_ERROR(it->status());
  }
  const uint64_t size = range.size();
  if (next_checkpoint < checkpoints.size()) {
    return Corrupt(size, "checkpoint " + std::to_string(checkpoints[next_checkpoint].size) +
                             " covers entries from index " + std::to_string(size) +
                             " that are missing (the log was truncated)");
  }
  if (state->size > size) {
    return Corrupt(size, "entry " + std::to_string(size) + " is missing (the log state records " +
                             std::to_string(state->size) + " entries)");
  }
  if (state->size < size) {
    return Corrupt(state->size, "entries from index " + std::to_string(state->size) +
                                    " are beyond the log state's size " +
                                    std::to_string(state->size));
  }
  if (state->frontier != range.frontier()) {
    return Corrupt(size, "the log state's right edge differs from the tree of the entries");
  }
  CUSTOS_RETURN_IF_ERROR(tiles.CheckEdges(size));

  // 4. Consistency proofs from the stored tiles between successive checkpoints, as a
  // client holding the older checkpoint would check them.
  for (size_t i = 1; i < checkpoints.size(); ++i) {
    const StoredCheckpoint& a = checkpoints[i - 1];
    const StoredCheckpoint& b = checkpoints[i];
    if (a.size == 0) continue;
    KvHashStore store(kv, b.size);
    auto proof = ConsistencyProof(a.size, b.size, store);
    Status s =
        proof.ok() ? VerifyConsistency(a.size, b.size, *proof, a.root, b.root) : proof.status();
    if (!s.ok()) {
      return CorruptCheckpoint(b.size, "no valid consistency proof from checkpoint " +
                                           std::to_string(a.size) + ": " + s.ToString());
    }
  }

  report.entries = size;
  report.tile_hashes = tiles.compared();
  report.root = range.Root();
  report.latest_checkpoint_size = checkpoints.empty() ? 0 : checkpoints.back().size;
  return report;
}

}  // namespace custos::audit
