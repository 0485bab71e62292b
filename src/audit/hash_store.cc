// The audit log's keys, state record and tile storage (see hash_store.h).
#include "audit/hash_store.h"

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

Result<std::vector<Hash>> KvTileReader::ReadTile(int level, uint64_t index, uint32_t width) const {
  CUSTOS_ASSIGN_OR_RETURN(auto value,
                          kv_.Get(storage::Keyspace::kAudit, TileKey(level, index), options_));
  TileId id{level, index, width};
  if (!value) return NotFoundError("audit tile " + TilePath(id) + " is not stored");
  if (value->size() % 32 != 0 || value->size() / 32 > kTileWidth) {
    return DataLossError("audit tile " + TilePath(id) + " has " + std::to_string(value->size()) +
                         " bytes, not whole hashes");
  }
  if (value->size() / 32 < width) {
    return DataLossError("audit tile " + TilePath(id) + " holds " +
                         std::to_string(value->size() / 32) + " hashes, the tree needs " +
                         std::to_string(width));
  }
  return DecodeTile(common::AsBytes(std::string_view(*value).substr(0, size_t{width} * 32)), width);
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
      CUSTOS_ASSIGN_OR_RETURN(edge.hashes, reader.ReadTile(level, edge.index, width));
    }
    writer.edges_.push_back(std::move(edge));
  }
  return writer;
}

Status TileWriter::OnComplete(const NodeId& node, const Hash& hash, storage::WriteBatch& batch) {
  if (node.level % kTileHeight != 0) return Status::Ok();
  size_t level = static_cast<size_t>(node.level / kTileHeight);
  if (edges_.size() <= level) edges_.resize(level + 1);
  Edge& edge = edges_[level];
  uint64_t tile = node.index / kTileWidth;
  uint64_t pos = node.index % kTileWidth;
  if (pos == 0 && edge.hashes.empty()) edge.index = tile;
  if (edge.index != tile || edge.hashes.size() != pos) {
    return InternalError("audit tile writer: node " + std::to_string(node.level) + "/" +
                         std::to_string(node.index) + " arrived out of order");
  }
  edge.hashes.push_back(hash);
  edge.dirty = true;
  if (edge.hashes.size() == kTileWidth) {
    common::Bytes data = EncodeTile(edge.hashes);
    batch.Put(storage::Keyspace::kAudit, TileKey(static_cast<int>(level), tile),
              common::AsChars(data));
    edge.hashes.clear();
    edge.index = tile + 1;
    edge.dirty = false;
  }
  return Status::Ok();
}

void TileWriter::Flush(storage::WriteBatch& batch) {
  for (size_t level = 0; level < edges_.size(); ++level) {
    Edge& edge = edges_[level];
    if (!edge.dirty) continue;
    common::Bytes data = EncodeTile(edge.hashes);
    batch.Put(storage::Keyspace::kAudit, TileKey(static_cast<int>(level), edge.index),
              common::AsChars(data));
    edge.dirty = false;
  }
}

}  // namespace custos::audit
