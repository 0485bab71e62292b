// The audit log's keys, state record and tile storage (see hash_store.h).
#include "audit/hash_store.h"

#include <algorithm>
#include <cstring>

#include "common/key_encoding.h"

namespace custos::audit {
namespace {

constexpr uint8_t kStateVersion = 1;

std::string Tagged(std::string_view tag) { return common::KeyBuilder().AddString(tag).Release(); }

Result<uint64_t> ParseNumberKey(std::string_view key, std::string_view tag) {
  common::KeyReader reader(key);
  auto got_tag = reader.ReadString();
  if (!got_tag.ok() || *got_tag != tag) {
    return InvalidArgumentError("audit key is not a '" + std::string(tag) + "' record");
  }
  auto n = reader.ReadUint64();
  if (!n.ok() || !reader.Done()) {
    return InvalidArgumentError("audit '" + std::string(tag) + "' key is malformed");
  }
  return *n;
}

}  // namespace

std::string EntryKey(uint64_t index) {
  return common::KeyBuilder().AddString("e").AddUint64(index).Release();
}
std::string TileKey(int level, uint64_t index) {
  return common::KeyBuilder()
      .AddString("t")
      .AddUint32(static_cast<uint32_t>(level))
      .AddUint64(index)
      .Release();
}
std::string CheckpointKey(uint64_t size) {
  return common::KeyBuilder().AddString("c").AddUint64(size).Release();
}
std::string StateKey() { return Tagged("s"); }
std::string EntryPrefix() { return Tagged("e"); }
std::string TilePrefix() { return Tagged("t"); }
std::string CheckpointPrefix() { return Tagged("c"); }

Result<uint64_t> ParseEntryKey(std::string_view key) { return ParseNumberKey(key, "e"); }
Result<uint64_t> ParseCheckpointKey(std::string_view key) { return ParseNumberKey(key, "c"); }

std::string EncodeLogState(const LogState& state) {
  std::string out;
  out.reserve(9 + state.frontier.size() * 32);
  out.push_back(static_cast<char>(kStateVersion));
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>(state.size >> (8 * i)));
  for (const Hash& h : state.frontier)
    out.append(reinterpret_cast<const char*>(h.data()), h.size());
  return out;
}

Result<LogState> DecodeLogState(std::string_view data) {
  if (data.size() < 9 || static_cast<uint8_t>(data[0]) != kStateVersion ||
      (data.size() - 9) % 32 != 0) {
    return DataLossError("audit log state record is malformed (" + std::to_string(data.size()) +
                         " bytes); run `custos audit verify` and restore from a replica");
  }
  LogState state;
  for (int i = 1; i <= 8; ++i) state.size = (state.size << 8) | static_cast<uint8_t>(data[i]);
  size_t count = (data.size() - 9) / 32;
  if (count != static_cast<size_t>(__builtin_popcountll(state.size))) {
    return DataLossError("audit log state: " + std::to_string(count) +
                         " edge hashes do not fit size " + std::to_string(state.size));
  }
  state.frontier.resize(count);
  for (size_t i = 0; i < count; ++i)
    std::memcpy(state.frontier[i].data(), data.data() + 9 + 32 * i, 32);
  return state;
}

Result<LogState> ReadLogState(storage::Kv& kv, const storage::ReadOptions& options) {
  CUSTOS_ASSIGN_OR_RETURN(auto value, kv.Get(storage::Keyspace::kAudit, StateKey(), options));
  if (!value) return LogState{};
  return DecodeLogState(*value);
}

Result<std::optional<std::string>> ReadLatestCheckpoint(storage::Kv& kv,
                                                        const storage::ReadOptions& options) {
  storage::ReadOptions bounded = options;
  bounded.lower_bound = CheckpointPrefix();
  bounded.upper_bound = common::PrefixSuccessor(bounded.lower_bound);
  auto it = kv.NewIterator(storage::Keyspace::kAudit, bounded);
  it->SeekForPrev(bounded.upper_bound);
  if (it->Valid() && it->key() == bounded.upper_bound) it->Prev();
  if (!it->Valid()) {
    CUSTOS_RETURN_IF_ERROR(it->status());
    return std::optional<std::string>();
  }
  return std::optional<std::string>(std::string(it->value()));
}

size_t TileRecordOffset(uint32_t width, int row, uint32_t pos) {
  size_t hashes = 0;
  for (int r = 0; r < row; ++r) hashes += TileRowWidth(width, r);
  return kTileRecordHeader + (hashes + pos) * 32;
}

size_t TileRecordSize(uint32_t width) { return TileRecordOffset(width, kTileRows, 0); }

void ComputeInnerRows(TileRows& tile) {
  for (int row = 1; row < kTileRows; ++row) {
    const std::vector<Hash>& below = tile.rows[row - 1];
    std::vector<Hash>& rows = tile.rows[row];
    rows.resize(below.size() / 2);
    for (size_t i = 0; i < rows.size(); ++i) rows[i] = HashChildren(below[2 * i], below[2 * i + 1]);
  }
}

Result<std::string> EncodeTileRecord(const TileRows& tile) {
  const uint32_t width = tile.width();
  if (width == 0 || width > kTileWidth) {
    return InvalidArgumentError("a tile record holds 1..256 hashes in row 0, got " +
                                std::to_string(width));
  }
  std::string out;
  out.reserve(TileRecordSize(width));
  out.push_back(static_cast<char>(kTileRecordFormat));
  out.push_back(static_cast<char>(width - 1));
  for (int row = 0; row < kTileRows; ++row) {
    if (tile.rows[row].size() != TileRowWidth(width, row)) {
      return InvalidArgumentError("tile record row " + std::to_string(row) + " has " +
                                  std::to_string(tile.rows[row].size()) + " hashes, expected " +
                                  std::to_string(TileRowWidth(width, row)));
    }
    for (const Hash& h : tile.rows[row]) out.append(reinterpret_cast<const char*>(h.data()), 32);
  }
  return out;
}

Result<TileRecordView> TileRecordView::Parse(std::string_view data, int level, uint64_t index) {
  auto where = [&] {
    return "audit tile record " + TilePath({level, index, kTileWidth}) + " (" +
           std::to_string(data.size()) + " bytes)";
  };
  if (data.size() % 32 == 0 && !data.empty() && data.size() / 32 <= kTileWidth) {
    return DataLossError(where() +
                         " is in the old format (only the C2SP row, no inner levels): this log "
                         "was written by an older custos; copy it with `custos audit replicate "
                         "--to <new dir>`, which rewrites every tile, and use the copy");
  }
  if (data.size() < kTileRecordHeader || static_cast<uint8_t>(data[0]) != kTileRecordFormat) {
    return DataLossError(
        where() + " has an unknown format byte " +
        (data.empty() ? std::string("(empty)") : std::to_string(static_cast<uint8_t>(data[0]))) +
        ", expected " + std::to_string(kTileRecordFormat) +
        "; the record is corrupt or from a newer custos");
  }
  const uint32_t width = static_cast<uint8_t>(data[1]) + 1u;
  if (data.size() != TileRecordSize(width)) {
    return DataLossError(where() + " should be " + std::to_string(TileRecordSize(width)) +
                         " bytes for its width " + std::to_string(width) +
                         "; the record is truncated or corrupt");
  }
  TileRecordView view;
  view.data_ = data;
  view.width_ = width;
  return view;
}

std::string_view TileRecordView::HashBytes(int row, uint32_t pos) const {
  return data_.substr(TileRecordOffset(width_, row, pos), 32);
}

Hash TileRecordView::At(int row, uint32_t pos) const {
  Hash h;
  std::memcpy(h.data(), data_.data() + TileRecordOffset(width_, row, pos), 32);
  return h;
}

Result<std::vector<Hash>> KvTileReader::ReadTile(int level, uint64_t index, uint32_t width) const {
  CUSTOS_ASSIGN_OR_RETURN(auto value,
                          kv_.Get(storage::Keyspace::kAudit, TileKey(level, index), options_));
  TileId id{level, index, width};
  if (!value) return NotFoundError("audit tile " + TilePath(id) + " is not stored");
  CUSTOS_ASSIGN_OR_RETURN(TileRecordView record, TileRecordView::Parse(*value, level, index));
  if (record.width() < width) {
    return DataLossError("audit tile " + TilePath(id) + " holds " + std::to_string(record.width()) +
                         " hashes, the tree needs " + std::to_string(width));
  }
  std::vector<Hash> out(width);
  for (uint32_t i = 0; i < width; ++i) out[i] = record.At(0, i);
  return out;
}

Result<std::string> ReadTileResource(storage::Kv& kv, std::string_view path,
                                     const storage::ReadOptions& options) {
  CUSTOS_ASSIGN_OR_RETURN(TileId id, ParseTilePath(path));
  if (id.level == kEntriesLevel) {
    if (id.index > (UINT64_MAX >> kTileHeight)) {
      return NotFoundError("audit entry bundle " + std::string(path) + " is beyond any log");
    }
    std::vector<common::Bytes> entries;
    entries.reserve(id.width);
    const uint64_t first = id.index * kTileWidth;
    for (uint64_t i = first; i < first + id.width; ++i) {
      CUSTOS_ASSIGN_OR_RETURN(auto value, kv.Get(storage::Keyspace::kAudit, EntryKey(i), options));
      if (!value) {
        return NotFoundError("audit entry bundle " + std::string(path) + ": entry " +
                             std::to_string(i) + " is not in the log yet");
      }
      entries.push_back(common::ToBytes(*value));
    }
    CUSTOS_ASSIGN_OR_RETURN(common::Bytes bundle, EncodeEntryBundle(entries));
    return std::string(common::AsChars(bundle));
  }
  CUSTOS_ASSIGN_OR_RETURN(auto value,
                          kv.Get(storage::Keyspace::kAudit, TileKey(id.level, id.index), options));
  if (!value) return NotFoundError("audit tile " + std::string(path) + " is not in the log yet");
  CUSTOS_ASSIGN_OR_RETURN(TileRecordView record, TileRecordView::Parse(*value, id.level, id.index));
  if (record.width() < id.width) {
    return NotFoundError("audit tile " + std::string(path) + ": the log holds only " +
                         std::to_string(record.width()) + " of its hashes yet");
  }
  // Row 0 is stored first, as the tile's exact bytes.
  return value->substr(TileRecordOffset(record.width(), 0, 0), size_t{id.width} * 32);
}

std::shared_ptr<const std::string> TileRecordCache::Lookup(int level, uint64_t index) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = map_.find(Key(level, index));
  if (it == map_.end()) return nullptr;
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->record;
}

void TileRecordCache::Insert(int level, uint64_t index, std::shared_ptr<const std::string> record) {
  const uint64_t key = Key(level, index);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = map_.find(key);
  if (it != map_.end()) {
    bytes_ -= it->second->record->size();
    lru_.erase(it->second);
    map_.erase(it);
  }
  bytes_ += record->size();
  lru_.push_front({key, std::move(record)});
  map_[key] = lru_.begin();
  while (bytes_ > capacity_bytes_ && lru_.size() > 1) {
    bytes_ -= lru_.back().record->size();
    map_.erase(lru_.back().key);
    lru_.pop_back();
  }
}

Status KvHashStore::ReadHashes(std::span<const NodeId> nodes, std::span<Hash> out) const {
  if (nodes.size() != out.size()) {
    return InternalError("ReadHashes: " + std::to_string(nodes.size()) + " nodes but " +
                         std::to_string(out.size()) + " outputs");
  }
  struct Fetched {
    int level;
    uint64_t index;
    std::shared_ptr<const std::string> data;
    uint32_t width;  // validated by TileRecordView::Parse
  };
  std::vector<Fetched> fetched;  // a proof touches about two records per tile level
  fetched.reserve(8);
  auto fetch = [&](int tile_level, uint64_t tile_index, uint32_t pos, int row) -> Result<Fetched> {
    if (cache_ != nullptr) {
      std::shared_ptr<const std::string> cached = cache_->Lookup(tile_level, tile_index);
      // A cached record too narrow for this node is from when the tree was smaller.
      if (cached != nullptr) {
        const uint32_t width = static_cast<uint8_t>((*cached)[1]) + 1u;
        if (pos < TileRowWidth(width, row)) return Fetched{tile_level, tile_index, cached, width};
      }
    }
    CUSTOS_ASSIGN_OR_RETURN(
        auto value, kv_.Get(storage::Keyspace::kAudit, TileKey(tile_level, tile_index), options_));
    if (!value) {
      return DataLossError("audit tile record " + TilePath({tile_level, tile_index, kTileWidth}) +
                           " is missing, but the tree of size " + std::to_string(tree_size_) +
                           " has nodes in it");
    }
    CUSTOS_ASSIGN_OR_RETURN(TileRecordView record,
                            TileRecordView::Parse(*value, tile_level, tile_index));
    const uint32_t width = record.width();
    auto data = std::make_shared<const std::string>(std::move(*value));
    if (cache_ != nullptr && TileRecordCache::Keeps(tile_level, width)) {
      cache_->Insert(tile_level, tile_index, data);
    }
    return Fetched{tile_level, tile_index, std::move(data), width};
  };
  for (size_t i = 0; i < nodes.size(); ++i) {
    const NodeId& node = nodes[i];
    if (node.level < 0 || node.level > kMaxTileLevel) {
      return InvalidArgumentError("no Merkle level " + std::to_string(node.level));
    }
    // Complete at tree_size: (index + 1) << level <= tree_size, without overflow.
    if (node.index >= (tree_size_ >> node.level)) {
      return NotFoundError("Merkle node level " + std::to_string(node.level) + " index " +
                           std::to_string(node.index) + " is not complete in a tree of size " +
                           std::to_string(tree_size_));
    }
    const int tile_level = node.level / kTileHeight;
    const int row = node.level % kTileHeight;
    const int row_bits = kTileHeight - row;  // log2 of the row's full width
    const uint64_t tile_index = node.index >> row_bits;
    const uint32_t pos = static_cast<uint32_t>(node.index & ((uint64_t{1} << row_bits) - 1));
    auto it = std::find_if(fetched.begin(), fetched.end(), [&](const Fetched& f) {
      return f.level == tile_level && f.index == tile_index;
    });
    if (it == fetched.end() || pos >= TileRowWidth(it->width, row)) {
      CUSTOS_ASSIGN_OR_RETURN(Fetched f, fetch(tile_level, tile_index, pos, row));
      if (it == fetched.end()) {
        fetched.push_back(std::move(f));
        it = fetched.end() - 1;
      } else {
        *it = std::move(f);
      }
    }
    if (pos >= TileRowWidth(it->width, row)) {
      return DataLossError("audit tile record " + TilePath({tile_level, tile_index, kTileWidth}) +
                           " holds " + std::to_string(it->width) +
                           " hashes, too few for Merkle node level " + std::to_string(node.level) +
                           " index " + std::to_string(node.index) + " of a tree of size " +
                           std::to_string(tree_size_));
    }
    std::memcpy(out[i].data(), it->data->data() + TileRecordOffset(it->width, row, pos), 32);
  }
  return Status::Ok();
}

Result<TileWriter> TileWriter::Load(uint64_t size, const TileReader& reader) {
  TileWriter writer;
  for (int level = 0; level <= kMaxTileLevel / kTileHeight + 1; ++level) {
    uint64_t count = level * kTileHeight >= 64 ? 0 : size >> (level * kTileHeight);
    if (count == 0) break;
    Edge edge;
    edge.index = count / kTileWidth;
    uint32_t width = static_cast<uint32_t>(count % kTileWidth);
    if (width > 0) {
      CUSTOS_ASSIGN_OR_RETURN(edge.tile.rows[0], reader.ReadTile(level, edge.index, width));
      ComputeInnerRows(edge.tile);
    }
    writer.edges_.push_back(std::move(edge));
  }
  return writer;
}

Status TileWriter::OnComplete(const NodeId& node, const Hash& hash, storage::WriteBatch& batch) {
  const size_t level = static_cast<size_t>(node.level / kTileHeight);
  const int row = node.level % kTileHeight;
  const int row_bits = kTileHeight - row;
  const uint64_t tile = node.index >> row_bits;
  const uint64_t pos = node.index & ((uint64_t{1} << row_bits) - 1);
  if (edges_.size() <= level) edges_.resize(level + 1);
  Edge& edge = edges_[level];
  std::vector<Hash>& hashes = edge.tile.rows[row];
  if (row == 0 && pos == 0 && hashes.empty()) edge.index = tile;
  if (edge.index != tile || hashes.size() != pos) {
    return InternalError("audit tile writer: node " + std::to_string(node.level) + "/" +
                         std::to_string(node.index) + " arrived out of order");
  }
  hashes.push_back(hash);
  edge.dirty = true;
  // The top row's second node is the last node of a full tile.
  if (row == kTileRows - 1 && hashes.size() == TileRowWidth(kTileWidth, row)) {
    auto record = EncodeTileRecord(edge.tile);
    if (!record.ok()) return InternalError("audit tile writer: " + record.status().message());
    batch.PutOwned(storage::Keyspace::kAudit, TileKey(static_cast<int>(level), tile),
                   std::move(*record));
    for (auto& r : edge.tile.rows) r.clear();
    edge.index = tile + 1;
    edge.dirty = false;
  }
  return Status::Ok();
}

void TileWriter::Flush(storage::WriteBatch& batch) {
  for (size_t level = 0; level < edges_.size(); ++level) {
    Edge& edge = edges_[level];
    if (!edge.dirty) continue;
    // Between appends every row holds exactly the nodes its row 0 completes (OnComplete
    // enforces the order), so encoding cannot fail; if it ever did, the record is left
    // unwritten and `custos audit verify` reports the tile missing.
    auto record = EncodeTileRecord(edge.tile);
    if (!record.ok()) continue;
    batch.PutOwned(storage::Keyspace::kAudit, TileKey(static_cast<int>(level), edge.index),
                   std::move(*record));
    edge.dirty = false;
  }
}

}  // namespace custos::audit
