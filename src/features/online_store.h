// OnlineStore: the latest row of every entity of every feature-view version, in the `online`
// keyspace, for serving. One record per (version, entity): key version_id | 1 | encoded
// entity key (AppendKeyCell form, order-preserving), value sealed with AES-256-GCM under the
// version's DEK (the same owner as the offline store, "features:<version_id>"), so shredding
// a version's key makes its online rows unreadable too.
//
// Row value: format byte 1 | event_ts (8, LE) | created_ts (8, LE) | one cell per feature:
// 0 (null) or 1 followed by 8 LE bytes (fixed types) or a varint length and the bytes
// (strings, encoded lists).
//
// "Latest" is Feast's order: the greatest event_ts, ties broken by the greatest created_ts; a
// row older than the stored one never replaces it, so ingesting history out of order is safe.
// Thread-safety: safe for concurrent use. Stagings of one version must be serialized by the
// caller (the offline store's ingestion lock does this); reads never block each other.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "catalog/value_type.h"
#include "crypto/keyring.h"
#include "features/offline_columns.h"
#include "features/offline_store.h"
#include "storage/encrypted_keyspace.h"
#include "storage/kv.h"

namespace custos::features {

// One entity's latest row.
struct OnlineRow {
  int64_t event_ts = 0;                  // UTC micros
  int64_t created_ts = 0;                // UTC micros
  std::vector<catalog::Value> features;  // in schema order; null as std::monostate
};

class OnlineStore {
 public:
  // `kv` and `keyring` must outlive the store.
  OnlineStore(storage::Kv& kv, crypto::Keyring& keyring);

  // Adds to `write` the newest row of each entity of `batch` when it is newer than the stored
  // one. Returns how many entities were written. InvalidArgument for a null key cell.
  Result<size_t> StageLatest(const OfflineViewSchema& schema, const OfflineBatch& batch,
                             storage::WriteBatch& write);

  // The entity's row (`entity_key` as EncodeEntityKey makes it), nullopt when absent.
  // FailedPrecondition when the version was crypto-shredded; DataLoss when the record does
  // not authenticate or decode.
  Result<std::optional<OnlineRow>> Read(const OfflineViewSchema& schema,
                                        std::string_view entity_key);

  // Calls visit(entity key, row) for every row of the version, in key order, as of one
  // snapshot. An error from `visit` stops the scan and is returned.
  Status Scan(const OfflineViewSchema& schema,
              const std::function<Status(std::string_view, const OnlineRow&)>& visit);

  // Deletes the version's rows whose event_ts < cutoff (retention), in one atomic write.
  Result<size_t> PurgeBefore(const OfflineViewSchema& schema, int64_t cutoff_micros,
                             const storage::WriteOptions& options = {});
  // Deletes every row of the version (after its key was shredded) and forgets its key.
  Status DropVersion(std::string_view version_id, const storage::WriteOptions& options = {});

  // The record key of an entity's row.
  static std::string RowKey(std::string_view version_id, std::string_view entity_key);

 private:
  // The version's keyspace, opened once; nullopt-equivalent (nullptr) with create=false when
  // the version has no DEK yet.
  Result<std::shared_ptr<storage::EncryptedKeyspace>> OpenKeyspace(std::string_view version_id,
                                                                   bool create);

  storage::Kv& kv_;
  crypto::Keyring& keyring_;
  std::shared_mutex keyspaces_mu_;
  std::unordered_map<std::string, std::shared_ptr<storage::EncryptedKeyspace>> keyspaces_;
  uint64_t keyspaces_epoch_ = 0;  // the keyring's shred epoch they were opened at
};

// The encoded key of one entity from its join-key values (in the schema's join-key order).
// InvalidArgument naming the key when a value is null or of another type.
Result<std::string> EncodeEntityKey(const std::vector<Column>& join_keys,
                                    const std::vector<catalog::Value>& values);

// The join-key values of an encoded entity key (the inverse of EncodeEntityKey). DataLoss
// when `key` is not an encoding of `join_keys`.
Result<std::vector<catalog::Value>> DecodeEntityKey(const std::vector<Column>& join_keys,
                                                    std::string_view key);

// Encodes/decodes an online row's value (exposed for tests and fuzzing). DataLoss when
// `bytes` is not a row of `schema`.
std::string EncodeOnlineRow(const OfflineViewSchema& schema, int64_t event_ts, int64_t created_ts,
                            const std::vector<ColumnVector>& features, size_t row);
Result<OnlineRow> DecodeOnlineRow(const OfflineViewSchema& schema, std::string_view bytes);

}  // namespace custos::features
