// The keyring's records in the `keys` keyspace.
#include "storage/key_record_store_kv.h"

namespace custos::storage {

Result<std::optional<common::Bytes>> KvKeyRecordStore::Get(std::string_view key) {
  CUSTOS_ASSIGN_OR_RETURN(std::optional<std::string> value, kv_.Get(Keyspace::kKeys, key));
  if (!value) return std::optional<common::Bytes>();
  return std::optional<common::Bytes>(common::ToBytes(*value));
}

Status KvKeyRecordStore::Apply(const std::vector<crypto::KeyRecordWrite>& writes) {
  return Write(writes, /*sync=*/true);
}

Status KvKeyRecordStore::ApplyUnsynced(const std::vector<crypto::KeyRecordWrite>& writes) {
  return Write(writes, /*sync=*/false);
}

Status KvKeyRecordStore::Write(const std::vector<crypto::KeyRecordWrite>& writes, bool sync) {
  WriteBatch batch;
  for (const auto& w : writes) {
    if (w.value) {
      batch.Put(Keyspace::kKeys, w.key, common::AsChars(*w.value));
    } else {
      batch.Delete(Keyspace::kKeys, w.key);
    }
  }
  return kv_.Write(batch, WriteOptions{.sync = sync});
}

Status KvKeyRecordStore::Scan(
    std::string_view prefix,
    const std::function<Status(std::string_view, common::ByteView)>& visit) {
  return kv_.ScanPrefix(Keyspace::kKeys, prefix, [&](std::string_view k, std::string_view v) {
    return visit(k, common::AsBytes(v));
  });
}

}  // namespace custos::storage
