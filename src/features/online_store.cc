// OnlineStore: latest-row records, their codec, and the per-version keyspaces.
#include "features/online_store.h"

#include <cstring>
#include <mutex>

#include "common/binary_io.h"
#include "common/key_encoding.h"

namespace custos::features {
namespace {

constexpr uint32_t kRowTag = 1;
constexpr uint8_t kRowFormat = 1;

void PutLe64(std::string& out, uint64_t v) {
  char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<char>(v >> (8 * i));
  out.append(b, 8);
}

bool GetLe64(std::string_view& in, uint64_t& v) {
  if (in.size() < 8) return false;
  v = 0;
  for (int i = 0; i < 8; ++i) v |= uint64_t{static_cast<uint8_t>(in[i])} << (8 * i);
  in.remove_prefix(8);
  return true;
}

Status CorruptRow(std::string_view version_id) {
  return DataLossError("online row of feature view version '" + std::string(version_id) +
                       "' is malformed; the data directory is damaged (restore it from a backup)");
}

Status ShreddedError(std::string_view version_id) {
  return FailedPreconditionError("feature view version '" + std::string(version_id) +
                                 "' was crypto-shredded (retention ended); its rows are gone");
}

std::string VersionPrefix(std::string_view version_id) {
  return common::KeyBuilder().AddString(version_id).AddUint32(kRowTag).Release();
}

// (event_ts, created_ts) of a stored row, from its decrypted bytes.
bool ReadRowTimes(std::string_view bytes, int64_t& event_ts, int64_t& created_ts) {
  if (bytes.empty() || static_cast<uint8_t>(bytes[0]) != kRowFormat) return false;
  bytes.remove_prefix(1);
  uint64_t e = 0, c = 0;
  if (!GetLe64(bytes, e) || !GetLe64(bytes, c)) return false;
  event_ts = static_cast<int64_t>(e);
  created_ts = static_cast<int64_t>(c);
  return true;
}

}  // namespace

std::string EncodeOnlineRow(const OfflineViewSchema& schema, int64_t event_ts, int64_t created_ts,
                            const std::vector<ColumnVector>& features, size_t row) {
  std::string out;
  out.reserve(17 + schema.features.size() * 9);
  out.push_back(static_cast<char>(kRowFormat));
  PutLe64(out, static_cast<uint64_t>(event_ts));
  PutLe64(out, static_cast<uint64_t>(created_ts));
  for (size_t f = 0; f < schema.features.size(); ++f) {
    const ColumnVector& column = features[f];
    if (column.IsNull(row)) {
      out.push_back(0);
      continue;
    }
    out.push_back(1);
    if (IsVarlen(column.type)) {
      const std::string_view bytes = column.BytesAt(row);
      common::PutVarint(out, bytes.size());
      out.append(bytes);
    } else {
      PutLe64(out, column.fixed[row]);
    }
  }
  return out;
}

Result<OnlineRow> DecodeOnlineRow(const OfflineViewSchema& schema, std::string_view bytes) {
  OnlineRow row;
  if (!ReadRowTimes(bytes, row.event_ts, row.created_ts)) return CorruptRow(schema.version_id);
  bytes.remove_prefix(17);
  row.features.reserve(schema.features.size());
  for (const Column& column : schema.features) {
    if (bytes.empty()) return CorruptRow(schema.version_id);
    const uint8_t present = static_cast<uint8_t>(bytes[0]);
    bytes.remove_prefix(1);
    if (present == 0) {
      row.features.emplace_back(std::monostate{});
      continue;
    }
    if (present != 1) return CorruptRow(schema.version_id);
    if (IsVarlen(column.type)) {
      uint64_t length = 0;
      if (!common::GetVarint(bytes, length) || length > bytes.size()) {
        return CorruptRow(schema.version_id);
      }
      const std::string_view cell = bytes.substr(0, length);
      bytes.remove_prefix(length);
      if (column.type.is_list) {
        auto list = DecodeList(cell, column.type.scalar);
        if (!list.ok()) return CorruptRow(schema.version_id);
        row.features.emplace_back(std::move(*list));
      } else {
        row.features.emplace_back(std::string(cell));
      }
      continue;
    }
    uint64_t bits = 0;
    if (!GetLe64(bytes, bits)) return CorruptRow(schema.version_id);
    switch (column.type.scalar) {
      case catalog::ScalarType::kInt64:
        row.features.emplace_back(static_cast<int64_t>(bits));
        break;
      case catalog::ScalarType::kDouble: {
        double d;
        std::memcpy(&d, &bits, 8);
        row.features.emplace_back(d);
        break;
      }
      case catalog::ScalarType::kBool:
        if (bits > 1) return CorruptRow(schema.version_id);
        row.features.emplace_back(bits == 1);
        break;
      case catalog::ScalarType::kTimestamp:
        row.features.emplace_back(catalog::Timestamp{static_cast<int64_t>(bits)});
        break;
      case catalog::ScalarType::kString:
        return CorruptRow(schema.version_id);  // strings are varlen
    }
  }
  if (!bytes.empty()) return CorruptRow(schema.version_id);
  return row;
}

Result<std::string> EncodeEntityKey(const std::vector<Column>& join_keys,
                                    const std::vector<catalog::Value>& values) {
  if (values.size() != join_keys.size()) {
    return InvalidArgumentError("an entity key needs " + std::to_string(join_keys.size()) +
                                " value(s) (" +
                                [&] {
                                  std::string names;
                                  for (const Column& c : join_keys) {
                                    if (!names.empty()) names += ", ";
                                    names += c.name;
                                  }
                                  return names;
                                }() +
                                "), got " + std::to_string(values.size()));
  }
  std::string key;
  for (size_t k = 0; k < join_keys.size(); ++k) {
    ColumnVector cell(join_keys[k].type);
    if (std::holds_alternative<std::monostate>(values[k])) {
      return InvalidArgumentError("entity key '" + join_keys[k].name + "' is empty; give a " +
                                  catalog::ValueTypeName(join_keys[k].type) + " value");
    }
    Status appended = cell.AppendValue(values[k]);
    if (!appended.ok()) {
      return InvalidArgumentError("entity key '" + join_keys[k].name +
                                  "': " + std::string(appended.message()));
    }
    CUSTOS_RETURN_IF_ERROR(AppendKeyCell(cell, 0, join_keys[k].name, key));
  }
  return key;
}

Result<std::vector<catalog::Value>> DecodeEntityKey(const std::vector<Column>& join_keys,
                                                    std::string_view key) {
  const auto corrupt = [] {
    return DataLossError("an online entity key is malformed; the data directory is damaged");
  };
  std::vector<catalog::Value> values;
  values.reserve(join_keys.size());
  for (const Column& column : join_keys) {
    switch (column.type.scalar) {
      case catalog::ScalarType::kInt64:
      case catalog::ScalarType::kTimestamp:
      case catalog::ScalarType::kDouble: {
        if (key.size() < 8) return corrupt();
        uint64_t bits = 0;
        for (int i = 0; i < 8; ++i) bits = (bits << 8) | static_cast<uint8_t>(key[i]);
        key.remove_prefix(8);
        if (column.type.scalar == catalog::ScalarType::kDouble) {
          bits = (bits >> 63) != 0 ? bits & ~(uint64_t{1} << 63) : ~bits;
          double d;
          std::memcpy(&d, &bits, 8);
          values.emplace_back(d);
        } else {
          const auto v = static_cast<int64_t>(bits ^ (uint64_t{1} << 63));
          if (column.type.scalar == catalog::ScalarType::kInt64) {
            values.emplace_back(v);
          } else {
            values.emplace_back(catalog::Timestamp{v});
          }
        }
        break;
      }
      case catalog::ScalarType::kBool:
        if (key.empty() || static_cast<uint8_t>(key[0]) > 1) return corrupt();
        values.emplace_back(key[0] == 1);
        key.remove_prefix(1);
        break;
      case catalog::ScalarType::kString: {
        std::string text;
        for (;;) {
          if (key.size() < 2) return corrupt();
          if (key[0] == '\0') {
            if (key[1] == '\x01') {
              key.remove_prefix(2);
              break;
            }
            if (key[1] != '\xff') return corrupt();
            text.push_back('\0');
            key.remove_prefix(2);
            continue;
          }
          text.push_back(key[0]);
          key.remove_prefix(1);
        }
        values.emplace_back(std::move(text));
        break;
      }
    }
  }
  if (!key.empty()) return corrupt();
  return values;
}

OnlineStore::OnlineStore(storage::Kv& kv, crypto::Keyring& keyring) : kv_(kv), keyring_(keyring) {}

std::string OnlineStore::RowKey(std::string_view version_id, std::string_view entity_key) {
  return common::KeyBuilder().AddString(version_id).AddUint32(kRowTag).AddRaw(entity_key).Release();
}

Result<std::shared_ptr<storage::EncryptedKeyspace>> OnlineStore::OpenKeyspace(
    std::string_view version_id, bool create) {
  const uint64_t epoch = keyring_.shred_epoch();
  {
    std::shared_lock lock(keyspaces_mu_);
    if (epoch == keyspaces_epoch_) {
      auto it = keyspaces_.find(std::string(version_id));
      if (it != keyspaces_.end()) return it->second;
    }
  }
  {
    // A key was shredded since these were opened: open them again (a shredded one fails).
    std::unique_lock lock(keyspaces_mu_);
    if (epoch != keyspaces_epoch_) {
      keyspaces_.clear();
      keyspaces_epoch_ = epoch;
    }
  }
  const std::string owner = OfflineStore::DekOwner(version_id);
  if (keyring_.IsShredded(owner)) return ShreddedError(version_id);
  if (!create) {
    // Only a version that has data has a DEK: reading must not create one.
    auto key = keyring_.GetDataKey(owner);
    if (!key.ok()) {
      if (key.status().code() == StatusCode::kNotFound) {
        return std::shared_ptr<storage::EncryptedKeyspace>();
      }
      return key.status();
    }
  }
  CUSTOS_ASSIGN_OR_RETURN(
      storage::EncryptedKeyspace keyspace,
      storage::EncryptedKeyspace::Open(kv_, storage::Keyspace::kOnline, keyring_, owner));
  auto shared = std::make_shared<storage::EncryptedKeyspace>(std::move(keyspace));
  std::unique_lock lock(keyspaces_mu_);
  auto [it, inserted] = keyspaces_.emplace(std::string(version_id), shared);
  return it->second;
}

Result<size_t> OnlineStore::StageLatest(const OfflineViewSchema& schema, const OfflineBatch& batch,
                                        storage::WriteBatch& write) {
  if (batch.size() == 0) return size_t{0};
  // The newest row of each entity within the batch; later rows win exact ties.
  std::unordered_map<std::string, size_t> newest;
  newest.reserve(batch.size());
  std::string key;
  for (size_t r = 0; r < batch.size(); ++r) {
    key.clear();
    for (size_t k = 0; k < schema.join_keys.size(); ++k) {
      CUSTOS_RETURN_IF_ERROR(AppendKeyCell(batch.join_keys[k], r, schema.join_keys[k].name, key));
    }
    auto [it, inserted] = newest.try_emplace(key, r);
    if (inserted) continue;
    const size_t have = it->second;
    if (batch.event_ts[r] > batch.event_ts[have] ||
        (batch.event_ts[r] == batch.event_ts[have] &&
         batch.created_ts[r] >= batch.created_ts[have])) {
      it->second = r;
    }
  }
  CUSTOS_ASSIGN_OR_RETURN(std::shared_ptr<storage::EncryptedKeyspace> keyspace,
                          OpenKeyspace(schema.version_id, /*create=*/true));
  size_t written = 0;
  for (const auto& [entity_key, r] : newest) {
    const std::string row_key = RowKey(schema.version_id, entity_key);
    CUSTOS_ASSIGN_OR_RETURN(std::optional<std::string> stored, keyspace->Get(row_key));
    if (stored) {
      int64_t event_ts = 0, created_ts = 0;
      if (!ReadRowTimes(*stored, event_ts, created_ts)) return CorruptRow(schema.version_id);
      if (event_ts > batch.event_ts[r] ||
          (event_ts == batch.event_ts[r] && created_ts > batch.created_ts[r])) {
        continue;  // the stored row is newer
      }
    }
    keyspace->PutTo(
        write, row_key,
        EncodeOnlineRow(schema, batch.event_ts[r], batch.created_ts[r], batch.features, r));
    ++written;
  }
  return written;
}

Result<std::optional<OnlineRow>> OnlineStore::Read(const OfflineViewSchema& schema,
                                                   std::string_view entity_key) {
  CUSTOS_ASSIGN_OR_RETURN(std::shared_ptr<storage::EncryptedKeyspace> keyspace,
                          OpenKeyspace(schema.version_id, /*create=*/false));
  if (!keyspace) return std::optional<OnlineRow>();
  CUSTOS_ASSIGN_OR_RETURN(std::optional<std::string> stored,
                          keyspace->Get(RowKey(schema.version_id, entity_key)));
  if (!stored) return std::optional<OnlineRow>();
  CUSTOS_ASSIGN_OR_RETURN(OnlineRow row, DecodeOnlineRow(schema, *stored));
  return std::optional<OnlineRow>(std::move(row));
}

Status OnlineStore::Scan(const OfflineViewSchema& schema,
                         const std::function<Status(std::string_view, const OnlineRow&)>& visit) {
  CUSTOS_ASSIGN_OR_RETURN(std::shared_ptr<storage::EncryptedKeyspace> keyspace,
                          OpenKeyspace(schema.version_id, /*create=*/false));
  if (!keyspace) return Status::Ok();
  const std::string prefix = VersionPrefix(schema.version_id);
  std::shared_ptr<const storage::Snapshot> snapshot = kv_.GetSnapshot();
  storage::ReadOptions read;
  read.snapshot = snapshot.get();
  return keyspace->ScanPrefix(
      prefix,
      [&](std::string_view key, std::string_view plain) -> Status {
        CUSTOS_ASSIGN_OR_RETURN(OnlineRow row, DecodeOnlineRow(schema, plain));
        return visit(key.substr(prefix.size()), row);
      },
      read);
}

Result<size_t> OnlineStore::PurgeBefore(const OfflineViewSchema& schema, int64_t cutoff_micros,
                                        const storage::WriteOptions& options) {
  CUSTOS_ASSIGN_OR_RETURN(std::shared_ptr<storage::EncryptedKeyspace> keyspace,
                          OpenKeyspace(schema.version_id, /*create=*/false));
  if (!keyspace) return size_t{0};
  storage::WriteBatch write;
  CUSTOS_RETURN_IF_ERROR(keyspace->ScanPrefix(VersionPrefix(schema.version_id),
                                              [&](std::string_view key, std::string_view plain) {
                                                int64_t event_ts = 0, created_ts = 0;
                                                if (!ReadRowTimes(plain, event_ts, created_ts))
                                                  return CorruptRow(schema.version_id);
                                                if (event_ts < cutoff_micros)
                                                  write.Delete(storage::Keyspace::kOnline, key);
                                                return Status::Ok();
                                              }));
  const size_t purged = write.size();
  if (purged > 0) CUSTOS_RETURN_IF_ERROR(kv_.Write(write, options));
  return purged;
}

Status OnlineStore::DropVersion(std::string_view version_id, const storage::WriteOptions& options) {
  storage::WriteBatch write;
  CUSTOS_RETURN_IF_ERROR(kv_.ScanPrefix(storage::Keyspace::kOnline, VersionPrefix(version_id),
                                        [&](std::string_view key, std::string_view) {
                                          write.Delete(storage::Keyspace::kOnline, key);
                                          return Status::Ok();
                                        }));
  if (!write.empty()) CUSTOS_RETURN_IF_ERROR(kv_.Write(write, options));
  std::unique_lock lock(keyspaces_mu_);
  keyspaces_.erase(std::string(version_id));
  return Status::Ok();
}

}  // namespace custos::features
