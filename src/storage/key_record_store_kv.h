// KvKeyRecordStore: the keyring's KeyRecordStore over the `keys` keyspace of a Kv.
// Every write is synced; PurgeDeleted compacts the keyspace so destroyed keys leave
// no stale copy in WAL or table files.
// Thread-safety: safe for concurrent use (as the underlying Kv).
#pragma once

#include "crypto/key_record_store.h"
#include "storage/kv.h"

namespace custos::storage {

class KvKeyRecordStore final : public crypto::KeyRecordStore {
 public:
  explicit KvKeyRecordStore(Kv& kv) : kv_(kv) {}

  Result<std::optional<common::Bytes>> Get(std::string_view key) override;
  Status Apply(const std::vector<crypto::KeyRecordWrite>& writes) override;
  Status ApplyUnsynced(const std::vector<crypto::KeyRecordWrite>& writes) override;
  Status Scan(std::string_view prefix,
              const std::function<Status(std::string_view, common::ByteView)>& visit) override;
  Status PurgeDeleted() override { return kv_.PurgeDeleted(Keyspace::kKeys); }

 private:
  Status Write(const std::vector<crypto::KeyRecordWrite>& writes, bool sync);
  Kv& kv_;
};

}  // namespace custos::storage
