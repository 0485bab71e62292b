// KeyRecordStore: how the keyring persists its records (sealed KEKs, wrapped DEKs,
// metadata) without depending on storage/, which sits below crypto/ in the module
// order. storage/ provides the implementation over the `keys` column family
// (storage/key_record_store_kv.h); tests may use InMemoryKeyRecordStore.
// Thread-safety: implementations must be safe for concurrent use.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.h"
#include "common/status.h"

namespace custos::crypto {

struct KeyRecordWrite {
  std::string key;
  std::optional<common::Bytes> value;  // nullopt deletes the record
};

class KeyRecordStore {
 public:
  virtual ~KeyRecordStore() = default;
  virtual Result<std::optional<common::Bytes>> Get(std::string_view key) = 0;
  // Applies every write or none, durably (synced) before returning.
  virtual Status Apply(const std::vector<KeyRecordWrite>& writes) = 0;
  // Applies every write or none, atomically but without waiting for stable storage:
  // for work that is safe to repeat (rewrapping during rotation), followed by one
  // synced Apply. Defaults to Apply.
  virtual Status ApplyUnsynced(const std::vector<KeyRecordWrite>& writes) { return Apply(writes); }
  // Calls `visit` for each record whose key starts with `prefix`, in key order;
  // stops early and returns the first non-OK status `visit` returns.
  virtual Status Scan(
      std::string_view prefix,
      const std::function<Status(std::string_view key, common::ByteView value)>& visit) = 0;
  // Makes deleted records unrecoverable from the underlying files (no stale copy in
  // logs or old tables). Called after a crypto-shred.
  virtual Status PurgeDeleted() = 0;
};

class InMemoryKeyRecordStore final : public KeyRecordStore {
 public:
  Result<std::optional<common::Bytes>> Get(std::string_view key) override;
  Status Apply(const std::vector<KeyRecordWrite>& writes) override;
  Status Scan(std::string_view prefix,
              const std::function<Status(std::string_view, common::ByteView)>& visit) override;
  Status PurgeDeleted() override { return Status::Ok(); }

 private:
  std::mutex mu_;
  std::map<std::string, common::Bytes, std::less<>> records_;
};

}  // namespace custos::crypto
