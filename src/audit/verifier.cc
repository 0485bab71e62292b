// The keyless audit log verifier and the read-only store it opens (see verifier.h).
#include "audit/verifier.h"

#include <rocksdb/db.h>

#include <condition_variable>
#include <cstring>
#include <deque>
#include <filesystem>
#include <mutex>
#include <optional>
#include <thread>
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

// Compares every recomputed Merkle node with its stored copy in the tile record that
// holds it (row 0 for levels 8L, the inner rows for the levels in between), one record per
// tile level cached at a time: nodes complete left to right, so each record is read once.
class TileChecker {
 public:
  explicit TileChecker(storage::Kv& kv) : kv_(kv) {}

  Status Check(const NodeId& node, const Hash& hash) {
    const int level = node.level / kTileHeight;
    const int row = node.level % kTileHeight;
    const int row_bits = kTileHeight - row;
    const uint64_t tile = node.index >> row_bits;
    const uint32_t pos = static_cast<uint32_t>(node.index & ((uint64_t{1} << row_bits) - 1));
    const uint64_t first_leaf = node.index << node.level;
    if (cache_.size() <= static_cast<size_t>(level)) cache_.resize(level + 1);
    Cached& c = cache_[level];
    if (!c.loaded || c.index != tile) {
      CUSTOS_RETURN_IF_ERROR(Load(c, level, tile));
    }
    const TileId id{level, tile, kTileWidth};
    if (!c.parse_error.empty()) {
      // Reported at the first leaf under the whole tile.
      return Corrupt(tile << (kTileHeight * (level + 1)), c.parse_error);
    }
    if (!c.present || pos >= TileRowWidth(c.width, row)) {
      return Corrupt(first_leaf, "tile record " + TilePath(id) + " lacks hash " +
                                     std::to_string(pos) + " of row " + std::to_string(row) +
                                     " (Merkle level " + std::to_string(node.level) +
                                     "): the tile is missing or truncated");
    }
    const char* stored_bytes = c.data.data() + TileRecordOffset(c.width, row, pos);
    if (std::memcmp(stored_bytes, hash.data(), 32) != 0) {
      Hash stored;
      std::memcpy(stored.data(), stored_bytes, 32);
      if (node.level == 0) leaf_mismatch_ = LeafMismatch{node.index, hash, stored};
      return Corrupt(
          first_leaf,
          (node.level == 0 ? "the leaf hash of entry " + std::to_string(node.index)
                           : "the hash of leaves " + std::to_string(first_leaf) + ".." +
                                 std::to_string(first_leaf + (uint64_t{1} << node.level) - 1)) +
              " (" + ShortHash(hash) + "...) differs from hash " + std::to_string(pos) +
              " of row " + std::to_string(row) + " (Merkle level " + std::to_string(node.level) +
              ") of tile record " + TilePath(id) + " (" + ShortHash(stored) +
              "...): the entry or the tile was altered");
    }
    ++compared_;
    return Status::Ok();
  }

  // After the last leaf: the right-edge tiles must not hold hashes the tree lacks, and
  // no tile record may lie beyond the tree (both would be traces of removed entries).
  Status CheckEdges(uint64_t size) {
    for (size_t level = 0; level < cache_.size(); ++level) {
      uint64_t count = size >> (level * kTileHeight);
      uint64_t tile = count / kTileWidth;
      uint32_t width = static_cast<uint32_t>(count % kTileWidth);
      if (width == 0) continue;
      const Cached& c = cache_[level];
      if (c.loaded && c.present && c.index == tile && c.width > width) {
        return Corrupt(size, "tile record " + TilePath({static_cast<int>(level), tile, width}) +
                                 " holds " + std::to_string(c.width) +
                                 " hashes, more than the log's entries (entries were removed)");
      }
    }
    storage::ReadOptions ro;
    ro.lower_bound = TilePrefix();
    ro.upper_bound = common::PrefixSuccessor(ro.lower_bound);
    auto it = kv_.NewIterator(storage::Keyspace::kAudit, ro);
    for (int level = 0; level <= kMaxTileLevel; ++level) {
      const uint64_t count = level * kTileHeight >= 64 ? 0 : size >> (level * kTileHeight);
      const uint64_t tiles = count / kTileWidth + (count % kTileWidth != 0 ? 1 : 0);
      it->Seek(TileKey(level, tiles));
      if (!it->Valid()) break;
      if (it->key() < TileKey(level + 1, 0)) {
        return Corrupt(size, "a tile record at level " + std::to_string(level) +
                                 " lies beyond the log's " + std::to_string(size) +
                                 " entries (entries were removed)");
      }
    }
    return it->status();
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
    bool present = false;
    uint64_t index = 0;
    std::string data;
    uint32_t width = 0;  // of a record that parsed
    std::string parse_error;
  };

  Status Load(Cached& c, int level, uint64_t tile) {
    auto value = kv_.Get(storage::Keyspace::kAudit, TileKey(level, tile));
    if (!value.ok()) return value.status();
    c.loaded = true;
    c.index = tile;
    c.present = value->has_value();
    c.width = 0;
    c.parse_error.clear();
    c.data = c.present ? std::move(**value) : std::string();
    if (c.present) {
      auto record = TileRecordView::Parse(c.data, level, tile);
      if (record.ok()) {
        c.width = record->width();
      } else {
        c.parse_error = record.status().message();
      }
    }
    return Status::Ok();
  }

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
    // The verifier scans each range once, front to back: read ahead, and keep the scan
    // out of the block cache that tile reads use. Block checksums are not verified on
    // scans: every scanned byte is checked by SHA-256 against the tiles and the signed
    // checkpoints, and a damaged block still fails RocksDB's bounds checks or shows up as
    // a wrong key or hash (as corruption at an index); they cost a sixth of the scan.
    ro.readahead_size = 2 << 20;
    ro.fill_cache = false;
    ro.verify_checksums = false;
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

// Recomputes the tree from the entries in index order: leaf hashes, every node checked
// against its tile record, and each checkpoint's root when the tree reaches its size.
// Runs on the verifier's tree thread; the reading thread owns it again after joining.
class TreeWalker {
 public:
  TreeWalker(storage::Kv& kv, const std::vector<StoredCheckpoint>& checkpoints)
      : kv_(kv), tiles_(kv), checkpoints_(checkpoints) {}

  // Before the first entry (a checkpoint of the empty tree), then after each entry.
  Status CheckRoots() {
    while (next_checkpoint_ < checkpoints_.size() &&
           checkpoints_[next_checkpoint_].size == range_.size()) {
      const StoredCheckpoint& c = checkpoints_[next_checkpoint_];
      Hash root = range_.Root();
      if (root != c.root) {
        return CorruptCheckpoint(
            c.size, "its signed root " + ShortHash(c.root) + "... differs from the root " +
                        ShortHash(root) + "... of the stored entries 0.." + std::to_string(c.size) +
                        "-1 (entries were rewritten)");
      }
      ++next_checkpoint_;
      ++checkpoints_verified_;
    }
    return Status::Ok();
  }

  Status Add(const Hash& leaf_hash) {
    range_.Append(leaf_hash, [this](const NodeId& node, const Hash& hash) {
      if (tile_status_.ok()) tile_status_ = tiles_.Check(node, hash);
    });
    if (!tile_status_.ok()) {
      return ExplainLeafMismatch(kv_, tile_status_, tiles_.leaf_mismatch(), checkpoints_);
    }
    return CheckRoots();
  }

  const CompactRange& range() const { return range_; }
  TileChecker& tiles() { return tiles_; }
  size_t next_checkpoint() const { return next_checkpoint_; }
  uint64_t checkpoints_verified() const { return checkpoints_verified_; }

 private:
  storage::Kv& kv_;
  CompactRange range_;
  TileChecker tiles_;
  Status tile_status_;
  const std::vector<StoredCheckpoint>& checkpoints_;
  size_t next_checkpoint_ = 0;
  uint64_t checkpoints_verified_ = 0;
};

// Entries copied out of the storage iterator, back to back, for the tree thread.
// Either raw entries (the tree thread hashes the leaves) or their leaf hashes (the
// reading thread hashed them, when it had time to spare).
struct EntryChunk {
  bool hashed = false;
  std::vector<Hash> leaf_hashes;
  std::string bytes;
  std::vector<uint32_t> ends;  // raw entry i is bytes[ends[i-1], ends[i])
  size_t size() const { return hashed ? leaf_hashes.size() : ends.size(); }
  void Clear() {
    leaf_hashes.clear();
    bytes.clear();
    ends.clear();
  }
};

// A bounded hand-off from the reading thread to the tree thread, recycling chunks so
// that a steady scan allocates nothing.
class ChunkPipe {
 public:
  // Producer: an empty chunk to fill (nullopt once the consumer stopped).
  std::optional<EntryChunk> Take() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return stopped_ || full_.size() < kDepth; });
    if (stopped_) return std::nullopt;
    EntryChunk chunk;
    if (!free_.empty()) {
      chunk = std::move(free_.back());
      free_.pop_back();
    }
    // Work goes where there is time for it: while the tree thread has a backlog (more
    // than the chunk it is about to take), the reader hashes the leaves itself;
    // otherwise the tree thread gets raw entries and hashes them.
    chunk.hashed = full_.size() >= 2;
    return chunk;
  }
  void Push(EntryChunk chunk) {
    std::lock_guard<std::mutex> lock(mu_);
    full_.push_back(std::move(chunk));
    cv_.notify_all();
  }
  void Close() {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    cv_.notify_all();
  }
  // Consumer: the next filled chunk, or nullopt once closed and drained.
  std::optional<EntryChunk> Next() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return closed_ || !full_.empty(); });
    if (full_.empty()) return std::nullopt;
    EntryChunk chunk = std::move(full_.front());
    full_.pop_front();
    cv_.notify_all();
    return chunk;
  }
  void Recycle(EntryChunk chunk) {
    chunk.Clear();
    std::lock_guard<std::mutex> lock(mu_);
    free_.push_back(std::move(chunk));
  }
  // Consumer: stop early (an error); the producer's Take returns nullopt from now on.
  void Stop() {
    std::lock_guard<std::mutex> lock(mu_);
    stopped_ = true;
    cv_.notify_all();
  }

 private:
  static constexpr size_t kDepth = 4;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<EntryChunk> full_;
  std::vector<EntryChunk> free_;
  bool closed_ = false;
  bool stopped_ = false;
};

// Chunk bounds: big enough that hand-offs cost nothing per entry, small enough that the
// two threads overlap from the start.
constexpr size_t kChunkEntries = 2048;
constexpr size_t kChunkBytes = 1 << 20;

// Step 3 of VerifyLog: every entry in index order. This thread reads storage and checks
// the keys; a second thread hashes and checks the tree, so reading and hashing overlap
// (the scan is otherwise as costly as the hashing). Errors are reported for the lowest
// index either thread found: the tree thread only ever sees entries before the reader's.
Status WalkEntries(storage::Kv& kv, TreeWalker& tree) {
  ChunkPipe pipe;
  Status tree_status;
  std::thread tree_thread([&] {
    while (std::optional<EntryChunk> chunk = pipe.Next()) {
      const size_t n = chunk->size();
      uint32_t begin = 0;
      for (size_t i = 0; i < n; ++i) {
        Status s;
        if (chunk->hashed) {
          s = tree.Add(chunk->leaf_hashes[i]);
        } else {
          const uint32_t end = chunk->ends[i];
          s = tree.Add(HashLeaf(common::AsBytes(chunk->bytes).subspan(begin, end - begin)));
          begin = end;
        }
        if (!s.ok()) {
          tree_status = s;
          pipe.Stop();
          return;
        }
      }
      pipe.Recycle(std::move(*chunk));
    }
  });

  Status read_status;
  {
    const std::string prefix = EntryPrefix();
    storage::ReadOptions ro;
    ro.lower_bound = prefix;
    ro.upper_bound = common::PrefixSuccessor(ro.lower_bound);
    auto it = kv.NewIterator(storage::Keyspace::kAudit, ro);
    uint64_t expected = 0;
    std::optional<EntryChunk> chunk = pipe.Take();
    for (it->SeekToFirst(); chunk && it->Valid(); it->Next(), ++expected) {
      std::string_view key = it->key();
      // Fast path for the expected key; ParseEntryKey explains anything else.
      bool in_place = key.size() == prefix.size() + 8 && key.substr(0, prefix.size()) == prefix;
      uint64_t index = 0;
      for (size_t i = prefix.size(); in_place && i < key.size(); ++i) {
        index = index << 8 | static_cast<uint8_t>(key[i]);
      }
      if (!in_place || index != expected) {
        auto parsed = ParseEntryKey(key);
        read_status = !parsed.ok()
                          ? Corrupt(expected, parsed.status().message())
                          : Corrupt(expected, "entry " + std::to_string(expected) +
                                                  " is missing (the next stored entry is " +
                                                  std::to_string(*parsed) + ")");
        break;
      }
      if (chunk->hashed) {
        chunk->leaf_hashes.push_back(HashLeaf(common::AsBytes(it->value())));
      } else {
        chunk->bytes.append(it->value());
        chunk->ends.push_back(static_cast<uint32_t>(chunk->bytes.size()));
      }
      if (chunk->size() == kChunkEntries || chunk->bytes.size() >= kChunkBytes) {
        pipe.Push(std::move(*chunk));
        chunk = pipe.Take();
      }
    }
    if (read_status.ok()) read_status = it->status();
    if (chunk && chunk->size() > 0) pipe.Push(std::move(*chunk));
    pipe.Close();
  }
  tree_thread.join();
  if (!tree_status.ok()) return tree_status;
  return read_status;
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
  // SST files are immutable (compaction writes new ones, and a mapping outlives the
  // unlink): map them instead of reading every block with a pread system call, which
  // halved the whole-log scan's throughput on the 2-vCPU VM (480 vs 1000 MB/s of SHA-256
  // input, bench/audit_proof_bench.cc).
  options.allow_mmap_reads = true;
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

  // 3. Every entry in order: leaf hashes, every node against its tile record, and
  // checkpoint roots along the way.
  TreeWalker tree(kv, checkpoints);
  CUSTOS_RETURN_IF_ERROR(tree.CheckRoots());  // a checkpoint of the empty tree
  CUSTOS_RETURN_IF_ERROR(WalkEntries(kv, tree));
  const CompactRange& range = tree.range();
  const uint64_t size = range.size();
  if (tree.next_checkpoint() < checkpoints.size()) {
    return Corrupt(size, "checkpoint " + std::to_string(checkpoints[tree.next_checkpoint()].size) +
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
  CUSTOS_RETURN_IF_ERROR(tree.tiles().CheckEdges(size));

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
  report.tile_hashes = tree.tiles().compared();
  report.checkpoints = tree.checkpoints_verified();
  report.root = range.Root();
  report.latest_checkpoint_size = checkpoints.empty() ? 0 : checkpoints.back().size;
  return report;
}

}  // namespace custos::audit
