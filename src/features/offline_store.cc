// Offline store: atomic ingestion into encrypted column blocks, the block index, retention
// purges and crypto-shredding.
#include "features/offline_store.h"

#include <algorithm>
#include <numeric>

#include "common/binary_io.h"
#include "common/key_encoding.h"

namespace custos::features {
namespace {

constexpr uint8_t kMetaFormat = 1;
constexpr uint8_t kIndexFormat = 1;
constexpr uint32_t kMetaTag = 0;
constexpr uint32_t kIndexTag = 1;
constexpr uint32_t kColumnTag = 2;
constexpr int kBlockNumberBits = 24;

using common::GetVarint;
using common::PutVarint;

void PutBytes(std::string& out, std::string_view bytes) {
  PutVarint(out, bytes.size());
  out.append(bytes);
}

bool GetBytes(std::string_view& in, std::string& out) {
  uint64_t len = 0;
  if (!GetVarint(in, len) || len > in.size()) return false;
  out.assign(in.substr(0, len));
  in.remove_prefix(len);
  return true;
}

void PutI64(std::string& out, int64_t v) {
  char buf[8];
  std::memcpy(buf, &v, 8);
  out.append(buf, 8);
}

bool GetI64(std::string_view& in, int64_t& v) {
  if (in.size() < 8) return false;
  std::memcpy(&v, in.data(), 8);
  in.remove_prefix(8);
  return true;
}

std::string VersionPrefix(std::string_view version_id) {
  return common::KeyBuilder().AddString(version_id).Release();
}

std::string MetaKey(std::string_view version_id) {
  return common::KeyBuilder().AddString(version_id).AddUint32(kMetaTag).Release();
}

std::string IndexKey(std::string_view version_id, std::string_view first_key, uint64_t id) {
  return common::KeyBuilder()
      .AddString(version_id)
      .AddUint32(kIndexTag)
      .AddString(first_key)
      .AddUint64(id)
      .Release();
}

std::string ColumnPrefix(std::string_view version_id, std::string_view first_key, uint64_t id) {
  return common::KeyBuilder()
      .AddString(version_id)
      .AddUint32(kColumnTag)
      .AddString(first_key)
      .AddUint64(id)
      .Release();
}

std::string ColumnKey(std::string_view prefix, uint32_t column) {
  return common::KeyBuilder().AddRaw(prefix).AddUint32(column).Release();
}

void EncodeColumns(const std::vector<Column>& columns, std::string& out) {
  PutVarint(out, columns.size());
  for (const Column& c : columns) {
    PutBytes(out, c.name);
    out.push_back(static_cast<char>(c.type.scalar));
    out.push_back(c.type.is_list ? '\1' : '\0');
  }
}

// The schema as stored in the meta record, compared bytewise on later ingestions.
std::string EncodeSchema(const OfflineViewSchema& schema) {
  std::string out;
  PutBytes(out, schema.version_id);
  EncodeColumns(schema.join_keys, out);
  EncodeColumns(schema.features, out);
  return out;
}

struct Meta {
  uint64_t next_ingestion = 1;
  std::string schema;  // EncodeSchema form
};

std::string EncodeMeta(const Meta& meta) {
  std::string out;
  out.push_back(static_cast<char>(kMetaFormat));
  PutVarint(out, meta.next_ingestion);
  PutBytes(out, meta.schema);
  return out;
}

Result<Meta> DecodeMeta(std::string_view in, std::string_view version_id) {
  Meta meta;
  if (in.empty() || static_cast<uint8_t>(in[0]) != kMetaFormat) {
    return DataLossError("offline meta record of '" + std::string(version_id) +
                         "' has an unknown format");
  }
  in.remove_prefix(1);
  if (!GetVarint(in, meta.next_ingestion) || !GetBytes(in, meta.schema) || !in.empty()) {
    return DataLossError("offline meta record of '" + std::string(version_id) + "' is corrupt");
  }
  return meta;
}

std::string EncodeIndex(const OfflineBlockInfo& info) {
  std::string out;
  out.push_back(static_cast<char>(kIndexFormat));
  PutVarint(out, info.rows);
  PutBytes(out, info.first_key);
  PutBytes(out, info.last_key);
  PutI64(out, info.min_event_ts);
  PutI64(out, info.max_event_ts);
  return out;
}

Status DecodeIndex(std::string_view in, OfflineBlockInfo& info) {
  uint64_t rows = 0;
  if (in.empty() || static_cast<uint8_t>(in[0]) != kIndexFormat) {
    return DataLossError("offline block index record has an unknown format");
  }
  in.remove_prefix(1);
  if (!GetVarint(in, rows) || rows == 0 || rows > UINT32_MAX || !GetBytes(in, info.first_key) ||
      !GetBytes(in, info.last_key) || !GetI64(in, info.min_event_ts) ||
      !GetI64(in, info.max_event_ts) || !in.empty()) {
    return DataLossError("offline block index record is corrupt");
  }
  info.rows = static_cast<uint32_t>(rows);
  return Status::Ok();
}

Status CheckColumn(const ColumnVector& column, const Column& expected, size_t rows,
                   std::string_view role) {
  if (!(column.type == expected.type)) {
    return InvalidArgumentError(std::string(role) + " '" + expected.name + "' has type " +
                                catalog::ValueTypeName(column.type) + " in the batch but " +
                                catalog::ValueTypeName(expected.type) + " in the view");
  }
  if (column.size() != rows) {
    return InvalidArgumentError(std::string(role) + " '" + expected.name + "' has " +
                                std::to_string(column.size()) + " rows; the batch has " +
                                std::to_string(rows));
  }
  return Status::Ok();
}

Status ValidateBatch(const OfflineViewSchema& schema, const OfflineBatch& batch) {
  const size_t n = batch.size();
  if (batch.created_ts.size() != n) {
    return InvalidArgumentError("batch has " + std::to_string(n) + " event timestamps but " +
                                std::to_string(batch.created_ts.size()) + " created timestamps");
  }
  if (batch.join_keys.size() != schema.join_keys.size() ||
      batch.features.size() != schema.features.size()) {
    return InvalidArgumentError(
        "batch has " + std::to_string(batch.join_keys.size()) + " join keys and " +
        std::to_string(batch.features.size()) + " features; view '" + schema.version_id + "' has " +
        std::to_string(schema.join_keys.size()) + " and " + std::to_string(schema.features.size()));
  }
  if (schema.join_keys.empty()) {
    return InvalidArgumentError("view '" + schema.version_id + "' has no join keys");
  }
  for (size_t k = 0; k < schema.join_keys.size(); ++k) {
    CUSTOS_RETURN_IF_ERROR(CheckColumn(batch.join_keys[k], schema.join_keys[k], n, "join key"));
  }
  for (size_t f = 0; f < schema.features.size(); ++f) {
    CUSTOS_RETURN_IF_ERROR(CheckColumn(batch.features[f], schema.features[f], n, "feature"));
  }
  return Status::Ok();
}

// Encoded entity keys of every row of `batch`, in one arena.
Status EncodeBatchKeys(const OfflineViewSchema& schema, const OfflineBatch& batch,
                       std::string& arena, std::vector<std::string_view>& keys) {
  const size_t n = batch.size();
  std::vector<size_t> ends(n);
  for (size_t i = 0; i < n; ++i) {
    for (size_t k = 0; k < schema.join_keys.size(); ++k) {
      CUSTOS_RETURN_IF_ERROR(AppendKeyCell(batch.join_keys[k], i, schema.join_keys[k].name, arena));
    }
    ends[i] = arena.size();
  }
  keys.resize(n);
  size_t start = 0;
  for (size_t i = 0; i < n; ++i) {
    keys[i] = std::string_view(arena).substr(start, ends[i] - start);
    start = ends[i];
  }
  return Status::Ok();
}

// Seals one block's records (index + columns) into `batch`. `rows` index the columns.
void WriteBlock(const storage::EncryptedKeyspace& keyspace, const OfflineViewSchema& schema,
                uint64_t block_id, const std::vector<std::string_view>& keys,
                const int64_t* event_ts, const int64_t* created_ts,
                const std::vector<ColumnVector>& features, const uint32_t* rows, size_t n,
                storage::WriteBatch& batch) {
  OfflineBlockInfo info;
  info.block_id = block_id;
  info.rows = static_cast<uint32_t>(n);
  info.first_key = std::string(keys[rows[0]]);
  info.last_key = std::string(keys[rows[n - 1]]);
  info.min_event_ts = INT64_MAX;
  info.max_event_ts = INT64_MIN;
  std::vector<int64_t> ev(n);
  std::vector<int64_t> cr(n);
  for (size_t i = 0; i < n; ++i) {
    ev[i] = event_ts[rows[i]];
    cr[i] = created_ts[rows[i]];
    info.min_event_ts = std::min(info.min_event_ts, ev[i]);
    info.max_event_ts = std::max(info.max_event_ts, ev[i]);
  }
  const std::string prefix = ColumnPrefix(schema.version_id, info.first_key, block_id);
  std::string plain;
  EncodeKeyBlock(keys, rows, n, plain);
  keyspace.PutTo(batch, ColumnKey(prefix, kKeyColumn), plain);
  plain.clear();
  EncodeInt64Block(ev.data(), n, plain);
  keyspace.PutTo(batch, ColumnKey(prefix, kEventTsColumn), plain);
  plain.clear();
  EncodeInt64Block(cr.data(), n, plain);
  keyspace.PutTo(batch, ColumnKey(prefix, kCreatedTsColumn), plain);
  for (size_t f = 0; f < features.size(); ++f) {
    plain.clear();
    EncodeColumnBlock(features[f], rows, n, plain);
    keyspace.PutTo(batch, ColumnKey(prefix, kFirstFeatureColumn + static_cast<uint32_t>(f)), plain);
  }
  keyspace.PutTo(batch, IndexKey(schema.version_id, info.first_key, block_id), EncodeIndex(info));
}

void DeleteBlock(std::string_view version_id, const OfflineBlockInfo& info, size_t features,
                 storage::WriteBatch& batch) {
  batch.Delete(storage::Keyspace::kOffline, IndexKey(version_id, info.first_key, info.block_id));
  for (uint32_t c = 0; c < kFirstFeatureColumn + features; ++c) {
    batch.Delete(storage::Keyspace::kOffline, ColumnKey(info.column_prefix, c));
  }
}

Status ShreddedError(std::string_view version_id) {
  return FailedPreconditionError("feature view version '" + std::string(version_id) +
                                 "' was crypto-shredded; its offline data can no longer be read "
                                 "or written (publish a new version)");
}

}  // namespace

OfflineBatch MakeOfflineBatch(const OfflineViewSchema& schema) {
  OfflineBatch batch;
  for (const Column& c : schema.join_keys) batch.join_keys.emplace_back(c.type);
  for (const Column& c : schema.features) batch.features.emplace_back(c.type);
  return batch;
}

std::string OfflineStore::DekOwner(std::string_view version_id) {
  return "features:" + std::string(version_id);
}

OfflineStore::OfflineStore(storage::Kv& kv, crypto::Keyring& keyring, OfflineStoreOptions options)
    : kv_(kv), keyring_(keyring), options_(options) {
  if (options_.rows_per_block == 0) options_.rows_per_block = 1;
}

Result<IngestResult> OfflineStore::Ingest(const OfflineViewSchema& schema,
                                          const OfflineBatch& batch, const StageHook& also) {
  CUSTOS_RETURN_IF_ERROR(ValidateBatch(schema, batch));
  std::string key_arena;
  std::vector<std::string_view> keys;
  CUSTOS_RETURN_IF_ERROR(EncodeBatchKeys(schema, batch, key_arena, keys));

  std::lock_guard lock(write_mu_);
  const std::string owner = DekOwner(schema.version_id);
  if (keyring_.IsShredded(owner)) return ShreddedError(schema.version_id);
  CUSTOS_ASSIGN_OR_RETURN(
      storage::EncryptedKeyspace keyspace,
      storage::EncryptedKeyspace::Open(kv_, storage::Keyspace::kOffline, keyring_, owner));
  const std::string schema_bytes = EncodeSchema(schema);
  Meta meta;
  meta.schema = schema_bytes;
  CUSTOS_ASSIGN_OR_RETURN(std::optional<std::string> stored,
                          keyspace.Get(MetaKey(schema.version_id)));
  if (stored) {
    CUSTOS_ASSIGN_OR_RETURN(meta, DecodeMeta(*stored, schema.version_id));
    if (meta.schema != schema_bytes) {
      return FailedPreconditionError(
          "feature view version '" + schema.version_id +
          "' was ingested with another schema; a published version is immutable, so a schema "
          "change needs a new version");
    }
  }
  IngestResult result;
  result.ingestion = meta.next_ingestion;
  result.rows = batch.size();

  // Stable: among rows equal in (key, event_ts, created_ts), the later one in the batch
  // stays later in the block, and the join prefers it.
  std::vector<uint32_t> perm(batch.size());
  std::iota(perm.begin(), perm.end(), 0u);
  std::stable_sort(perm.begin(), perm.end(), [&](uint32_t a, uint32_t b) {
    int c = keys[a].compare(keys[b]);
    if (c != 0) return c < 0;
    if (batch.event_ts[a] != batch.event_ts[b]) return batch.event_ts[a] < batch.event_ts[b];
    return batch.created_ts[a] < batch.created_ts[b];
  });

  storage::WriteBatch write;
  const size_t n = perm.size();
  const size_t target = options_.rows_per_block;
  size_t i = 0;
  uint64_t block_no = 0;
  while (i < n) {
    size_t j = std::min(i + target, n);
    const size_t limit = std::min(i + 4 * target, n);
    while (j < limit && keys[perm[j]] == keys[perm[j - 1]]) ++j;
    if (block_no >= (uint64_t{1} << kBlockNumberBits)) {
      return InvalidArgumentError("batch too large: more than 16,777,216 blocks; split it");
    }
    const uint64_t block_id = (result.ingestion << kBlockNumberBits) | block_no++;
    WriteBlock(keyspace, schema, block_id, keys, batch.event_ts.data(), batch.created_ts.data(),
               batch.features, perm.data() + i, j - i, write);
    i = j;
  }
  result.blocks = block_no;
  meta.next_ingestion = result.ingestion + 1;
  keyspace.PutTo(write, MetaKey(schema.version_id), EncodeMeta(meta));
  if (also) CUSTOS_RETURN_IF_ERROR(also(write));
  CUSTOS_RETURN_IF_ERROR(kv_.Write(write, options_.write));
  return result;
}

Result<std::vector<OfflineBlockInfo>> OfflineStore::LoadIndex(storage::EncryptedKeyspace& keyspace,
                                                              std::string_view version_id,
                                                              const storage::ReadOptions& options) {
  std::vector<OfflineBlockInfo> blocks;
  const std::string prefix =
      common::KeyBuilder().AddString(version_id).AddUint32(kIndexTag).Release();
  CUSTOS_RETURN_IF_ERROR(keyspace.ScanPrefix(
      prefix,
      [&](std::string_view key, std::string_view plain) -> Status {
        OfflineBlockInfo info;
        CUSTOS_RETURN_IF_ERROR(DecodeIndex(plain, info));
        common::KeyReader reader(key.substr(prefix.size()));
        CUSTOS_ASSIGN_OR_RETURN(std::string first, reader.ReadString());
        CUSTOS_ASSIGN_OR_RETURN(info.block_id, reader.ReadUint64());
        if (first != info.first_key || !reader.Done()) {
          return DataLossError("offline block index record of '" + std::string(version_id) +
                               "' does not match its key");
        }
        info.column_prefix = ColumnPrefix(version_id, info.first_key, info.block_id);
        blocks.push_back(std::move(info));
        return Status::Ok();
      },
      options));
  return blocks;
}

Result<std::unique_ptr<OfflineViewReader>> OfflineStore::OpenView(const OfflineViewSchema& schema) {
  const std::string owner = DekOwner(schema.version_id);
  if (keyring_.IsShredded(owner)) return ShreddedError(schema.version_id);
  std::shared_ptr<const storage::Snapshot> snapshot = kv_.GetSnapshot();
  storage::ReadOptions read;
  read.snapshot = snapshot.get();
  // Only a version that has data has a DEK: do not create one just to read nothing.
  CUSTOS_ASSIGN_OR_RETURN(std::optional<std::string> raw_meta,
                          kv_.Get(storage::Keyspace::kOffline, MetaKey(schema.version_id), read));
  if (!raw_meta) {
    return std::unique_ptr<OfflineViewReader>(
        new OfflineViewReader(kv_, std::nullopt, std::move(snapshot), schema));
  }
  Result<std::shared_ptr<const crypto::DataKey>> key = keyring_.GetDataKey(owner);
  if (!key.ok()) {
    if (keyring_.IsShredded(owner)) return ShreddedError(schema.version_id);
    return key.status();
  }
  CUSTOS_ASSIGN_OR_RETURN(
      storage::EncryptedKeyspace keyspace,
      storage::EncryptedKeyspace::Open(kv_, storage::Keyspace::kOffline, keyring_, owner));
  CUSTOS_ASSIGN_OR_RETURN(std::string meta_plain,
                          keyspace.Decrypt(MetaKey(schema.version_id), *raw_meta));
  CUSTOS_ASSIGN_OR_RETURN(Meta meta, DecodeMeta(meta_plain, schema.version_id));
  if (meta.schema != EncodeSchema(schema)) {
    return FailedPreconditionError("feature view version '" + schema.version_id +
                                   "' is stored with another schema than the one requested");
  }
  CUSTOS_ASSIGN_OR_RETURN(std::vector<OfflineBlockInfo> blocks,
                          LoadIndex(keyspace, schema.version_id, read));
  auto reader = std::unique_ptr<OfflineViewReader>(
      new OfflineViewReader(kv_, std::move(keyspace), std::move(snapshot), schema));
  reader->blocks_ = std::move(blocks);
  return reader;
}

Result<PurgeResult> OfflineStore::PurgeBefore(const OfflineViewSchema& schema,
                                              int64_t cutoff_micros) {
  std::lock_guard lock(write_mu_);
  CUSTOS_ASSIGN_OR_RETURN(std::unique_ptr<OfflineViewReader> reader, OpenView(schema));
  PurgeResult result;
  if (!reader->keyspace_) return result;
  storage::WriteBatch write;
  KeyRuns runs;
  std::vector<int64_t> ev;
  std::vector<int64_t> cr;
  std::vector<ColumnVector> features(schema.features.size());
  for (size_t b = 0; b < reader->blocks().size(); ++b) {
    const OfflineBlockInfo& info = reader->blocks()[b];
    if (info.min_event_ts >= cutoff_micros) continue;
    CUSTOS_RETURN_IF_ERROR(reader->ReadKeys(b, runs));
    CUSTOS_RETURN_IF_ERROR(reader->ReadTimestamps(b, kEventTsColumn, ev));
    CUSTOS_RETURN_IF_ERROR(reader->ReadTimestamps(b, kCreatedTsColumn, cr));
    for (size_t f = 0; f < features.size(); ++f) {
      CUSTOS_RETURN_IF_ERROR(reader->ReadFeature(b, f, features[f]));
    }
    std::vector<std::string_view> keys(info.rows);
    for (size_t r = 0; r < runs.runs(); ++r) {
      for (uint32_t row = runs.run_start[r]; row < runs.run_start[r + 1]; ++row) {
        keys[row] = runs.key(r);
      }
    }
    std::vector<uint32_t> kept;
    for (uint32_t row = 0; row < info.rows; ++row) {
      if (ev[row] >= cutoff_micros) kept.push_back(row);
    }
    result.rows_purged += info.rows - kept.size();
    DeleteBlock(schema.version_id, info, schema.features.size(), write);
    if (kept.empty()) {
      ++result.blocks_deleted;
      continue;
    }
    ++result.blocks_rewritten;
    WriteBlock(*reader->keyspace_, schema, info.block_id, keys, ev.data(), cr.data(), features,
               kept.data(), kept.size(), write);
  }
  if (!write.empty()) CUSTOS_RETURN_IF_ERROR(kv_.Write(write, options_.write));
  return result;
}

Status OfflineStore::Shred(std::string_view version_id) {
  std::lock_guard lock(write_mu_);
  const std::string owner = DekOwner(version_id);
  if (!keyring_.IsShredded(owner)) {
    // A version that never got data still gets a key, so that its name is shredded for good.
    CUSTOS_RETURN_IF_ERROR(keyring_.GetOrCreateDataKey(owner));
    CUSTOS_RETURN_IF_ERROR(keyring_.ShredDataKey(owner));
  }
  const std::string prefix = VersionPrefix(version_id);
  storage::ReadOptions read;
  read.lower_bound = prefix;
  read.upper_bound = common::PrefixSuccessor(prefix);
  std::unique_ptr<storage::Iterator> it = kv_.NewIterator(storage::Keyspace::kOffline, read);
  storage::WriteBatch write;
  for (it->Seek(prefix); it->Valid(); it->Next()) {
    write.Delete(storage::Keyspace::kOffline, it->key());
  }
  CUSTOS_RETURN_IF_ERROR(it->status());
  if (write.empty()) return Status::Ok();
  return kv_.Write(write, options_.write);
}

Result<std::string> OfflineViewReader::ReadColumn(size_t block, uint32_t column) const {
  if (!keyspace_ || block >= blocks_.size()) {
    return InvalidArgumentError("offline block " + std::to_string(block) + " does not exist");
  }
  const OfflineBlockInfo& info = blocks_[block];
  const std::string key = ColumnKey(info.column_prefix, column);
  storage::ReadOptions read;
  read.snapshot = snapshot_.get();
  CUSTOS_ASSIGN_OR_RETURN(std::optional<std::string> stored,
                          kv_->Get(storage::Keyspace::kOffline, key, read));
  if (!stored) {
    return DataLossError("offline block " + std::to_string(info.block_id) + " of '" +
                         schema_.version_id + "' lacks column " + std::to_string(column));
  }
  return keyspace_->Decrypt(key, *stored);
}

Status OfflineViewReader::VisitColumns(
    size_t block, uint32_t first, uint32_t last, const std::function<bool(uint32_t)>& wanted,
    const std::function<Status(uint32_t, std::string_view)>& visit) const {
  if (!keyspace_ || block >= blocks_.size()) {
    return InvalidArgumentError("offline block " + std::to_string(block) + " does not exist");
  }
  const OfflineBlockInfo& info = blocks_[block];
  storage::ReadOptions read;
  read.snapshot = snapshot_.get();
  read.verify_checksums = false;  // the AEAD tag checks every value
  read.lower_bound = ColumnKey(info.column_prefix, first);
  read.upper_bound = ColumnKey(info.column_prefix, last + 1);
  std::unique_ptr<storage::Iterator> it = kv_->NewIterator(storage::Keyspace::kOffline, read);
  uint32_t column = first;
  for (it->Seek(read.lower_bound); it->Valid() && column <= last; it->Next(), ++column) {
    if (it->key() != ColumnKey(info.column_prefix, column)) break;
    if (!wanted(column)) continue;
    CUSTOS_ASSIGN_OR_RETURN(std::string plain, keyspace_->Decrypt(it->key(), it->value()));
    CUSTOS_RETURN_IF_ERROR(visit(column, plain));
  }
  CUSTOS_RETURN_IF_ERROR(it->status());
  if (column <= last) {
    return DataLossError("offline block " + std::to_string(info.block_id) + " of '" +
                         schema_.version_id + "' lacks column " + std::to_string(column));
  }
  return Status::Ok();
}

Status OfflineViewReader::ReadKeys(size_t block, KeyRuns& out) const {
  CUSTOS_ASSIGN_OR_RETURN(std::string plain, ReadColumn(block, kKeyColumn));
  return DecodeKeyBlock(plain, blocks_[block].rows, out);
}

Status OfflineViewReader::ReadTimestamps(size_t block, uint32_t column,
                                         std::vector<int64_t>& out) const {
  CUSTOS_ASSIGN_OR_RETURN(std::string plain, ReadColumn(block, column));
  return DecodeInt64Block(plain, blocks_[block].rows, out);
}

Status OfflineViewReader::ReadFeature(size_t block, size_t feature, ColumnVector& out) const {
  if (feature >= schema_.features.size()) {
    return InvalidArgumentError("feature " + std::to_string(feature) + " does not exist");
  }
  CUSTOS_ASSIGN_OR_RETURN(std::string plain,
                          ReadColumn(block, kFirstFeatureColumn + static_cast<uint32_t>(feature)));
  return DecodeColumnBlock(plain, schema_.features[feature].type, blocks_[block].rows, out);
}

}  // namespace custos::features
