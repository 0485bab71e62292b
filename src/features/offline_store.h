// OfflineStore: the full history of every feature-view version, in the `offline` keyspace,
// as encrypted column blocks that a point-in-time join can seek and read column by column.
//
// Each ingestion sorts its rows by (entity key, event_ts, created_ts) and cuts them into
// blocks of about `rows_per_block` rows. A block is one index record (its row count, first
// and last entity key, event time range, id) plus one record per column (entity keys,
// event_ts, created_ts, then each feature), every one sealed with AES-256-GCM under the
// version's DEK (owner "features:<version_id>", the catalog's ViewVersion::KeyOwner when
// version_id is "<view>:v<N>") with associated data keyspace | record key |
// DEK id (storage::EncryptedKeyspace). Record keys, order-preserving:
//   meta:   version_id | 0
//   index:  version_id | 1 | first entity key | block id
//   column: version_id | 2 | first entity key | block id | column number
// so the index lists blocks by first key. The first entity key of each block is visible in
// the key (as DESIGN.md's row keys are); values never are. Block ids are
// ingestion number << 24 | block number, so a later ingestion's block has a larger id.
// Blocks of different ingestions may overlap in key range; readers must merge them.
//
// Thread-safety: safe for concurrent use. Ingestions, purges and shredding of one store
// are serialized by a mutex; readers (OfflineViewReader) see a consistent snapshot.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "crypto/keyring.h"
#include "features/offline_block.h"
#include "features/offline_columns.h"
#include "storage/encrypted_keyspace.h"
#include "storage/kv.h"

namespace custos::features {

struct OfflineStoreOptions {
  // Target rows per block; a block is cut at the first entity-key change after this many
  // rows (and at 4x this, mid-key, for one entity's very long history). Default 4096.
  size_t rows_per_block = 4096;
  // Durability of each ingestion's write. Default: synced.
  storage::WriteOptions write;
};

// Rows to ingest, column-aligned with the view's schema: join_keys[k] has the type of
// schema.join_keys[k], features[f] that of schema.features[f]; timestamps are UTC micros.
struct OfflineBatch {
  std::vector<ColumnVector> join_keys;
  std::vector<int64_t> event_ts;
  std::vector<int64_t> created_ts;
  std::vector<ColumnVector> features;
  size_t size() const { return event_ts.size(); }
};

// Builds an empty batch with the schema's column types.
OfflineBatch MakeOfflineBatch(const OfflineViewSchema& schema);

struct IngestResult {
  uint64_t ingestion = 0;  // 1, 2, ... per version
  size_t rows = 0;
  size_t blocks = 0;
};

struct PurgeResult {
  size_t rows_purged = 0;
  size_t blocks_rewritten = 0;  // blocks that kept some rows
  size_t blocks_deleted = 0;    // blocks left empty
};

// One block as listed by the index.
struct OfflineBlockInfo {
  uint64_t block_id = 0;
  uint32_t rows = 0;
  std::string first_key;  // encoded entity keys (AppendKeyCell form)
  std::string last_key;
  int64_t min_event_ts = 0;
  int64_t max_event_ts = 0;
  std::string column_prefix;  // record key of column c = column_prefix + uint32(c)
};

// Column numbers within a block.
inline constexpr uint32_t kKeyColumn = 0;
inline constexpr uint32_t kEventTsColumn = 1;
inline constexpr uint32_t kCreatedTsColumn = 2;
inline constexpr uint32_t kFirstFeatureColumn = 3;

// Reads one version's blocks as of the moment it was opened (it holds a storage snapshot,
// so it must not outlive the Kv). Thread-safety: the read methods are const and safe to call
// from several threads at once.
class OfflineViewReader {
 public:
  const OfflineViewSchema& schema() const { return schema_; }
  // Blocks sorted by (first_key, block id).
  const std::vector<OfflineBlockInfo>& blocks() const { return blocks_; }

  // Decrypts the block's columns first..last (in column order) that `wanted` accepts and
  // calls visit(column, plaintext) for each, reading through one iterator without copying
  // the stored values. Storage checksums are skipped: the AES-GCM tag authenticates every
  // value. DataLoss when a column is missing or fails to authenticate.
  Status VisitColumns(size_t block, uint32_t first, uint32_t last,
                      const std::function<bool(uint32_t)>& wanted,
                      const std::function<Status(uint32_t, std::string_view)>& visit) const;

  // DataLoss when a record fails to authenticate or decode (tampering, corruption).
  Status ReadKeys(size_t block, KeyRuns& out) const;
  Status ReadTimestamps(size_t block, uint32_t column, std::vector<int64_t>& out) const;
  Status ReadFeature(size_t block, size_t feature, ColumnVector& out) const;

 private:
  friend class OfflineStore;
  OfflineViewReader(storage::Kv& kv, std::optional<storage::EncryptedKeyspace> keyspace,
                    std::shared_ptr<const storage::Snapshot> snapshot, OfflineViewSchema schema)
      : kv_(&kv),
        keyspace_(std::move(keyspace)),
        snapshot_(std::move(snapshot)),
        schema_(std::move(schema)) {}
  Result<std::string> ReadColumn(size_t block, uint32_t column) const;

  storage::Kv* kv_;
  std::optional<storage::EncryptedKeyspace> keyspace_;  // nullopt: the version has no data
  std::shared_ptr<const storage::Snapshot> snapshot_;
  OfflineViewSchema schema_;
  std::vector<OfflineBlockInfo> blocks_;
};

class OfflineStore {
 public:
  // `kv` and `keyring` must outlive the store.
  OfflineStore(storage::Kv& kv, crypto::Keyring& keyring, OfflineStoreOptions options = {});

  // Adds more records to an ingestion's write (the online rows, ...); runs under the store's
  // write lock, so stagings of one store are serialized. An error aborts the ingestion.
  using StageHook = std::function<Status(storage::WriteBatch&)>;

  // Appends `batch` to the version's history in one atomic write, together with whatever
  // `also` stages. InvalidArgument when the batch does not match the schema (naming the
  // column and row); FailedPrecondition when the version was ingested before with another
  // schema (a schema change is a new version) or was shredded.
  Result<IngestResult> Ingest(const OfflineViewSchema& schema, const OfflineBatch& batch,
                              const StageHook& also = nullptr);

  // Opens the version for reading. An unknown version reads as empty. FailedPrecondition
  // when it was crypto-shredded, or its stored schema differs from `schema`.
  Result<std::unique_ptr<OfflineViewReader>> OpenView(const OfflineViewSchema& schema);

  // Removes every row with event_ts < cutoff_micros (retention), rewriting the blocks that
  // hold such rows, in one atomic write.
  Result<PurgeResult> PurgeBefore(const OfflineViewSchema& schema, int64_t cutoff_micros);

  // Crypto-shreds the version: destroys its DEK through the keyring (every block becomes
  // unreadable for good), then deletes its records.
  Status Shred(std::string_view version_id);

  // The DEK owner of a version: "features:<version_id>" (shared with the online store).
  static std::string DekOwner(std::string_view version_id);

 private:
  Result<std::vector<OfflineBlockInfo>> LoadIndex(storage::EncryptedKeyspace& keyspace,
                                                  std::string_view version_id,
                                                  const storage::ReadOptions& options);

  storage::Kv& kv_;
  crypto::Keyring& keyring_;
  OfflineStoreOptions options_;
  std::mutex write_mu_;  // serializes ingestions, purges and shredding
};

}  // namespace custos::features
