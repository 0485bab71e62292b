// Kv: the ordered key-value interface every custos module stores through.
// Keys and values are byte strings; keys compare bytewise (see common/key_encoding.h
// for order-preserving composite keys). Each keyspace is a separate namespace (a
// RocksDB column family in the embedded engine), listed in DESIGN.md.
// Thread-safety: implementations are safe for concurrent use from many threads
// without external synchronization; an Iterator is for one thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace custos::storage {

enum class Keyspace : uint8_t {
  kCatalog,
  kKeys,
  kOnline,
  kOffline,
  kAudit,
  kLineage,
  kIdentity,
  kAccess,
  kArtifacts,
};
inline constexpr Keyspace kAllKeyspaces[] = {
    Keyspace::kCatalog,  Keyspace::kKeys,   Keyspace::kOnline,
    Keyspace::kOffline,  Keyspace::kAudit,  Keyspace::kLineage,
    Keyspace::kIdentity, Keyspace::kAccess, Keyspace::kArtifacts};

// "catalog", "keys", ...: the column family name, also bound into encrypted values.
std::string_view KeyspaceName(Keyspace keyspace);

// A consistent point-in-time view; reads through it ignore later writes.
class Snapshot {
 public:
  virtual ~Snapshot() = default;
};

struct ReadOptions {
  // Read as of this snapshot (nullptr: the latest state).
  const Snapshot* snapshot = nullptr;
  // Iterator bounds: [lower_bound, upper_bound); empty means unbounded.
  std::string lower_bound;
  std::string upper_bound;
  // false skips the storage engine's block checksums: only for data whose integrity
  // the reader checks itself (e.g. Merkle hashes that a proof's verifier checks against
  // a signed checkpoint), where a checksum would cost time and add no protection.
  bool verify_checksums = true;
  // false: blocks read for this call are not added to the engine's block cache (a scan
  // or random reads over far more data than the cache holds would only evict what
  // other readers use, and pay for the copy into the cache).
  bool fill_cache = true;
};

struct WriteOptions {
  // true: the write is on stable storage (fsync) before the call returns.
  // false: it survives a process crash (it is in the OS page cache) but not a power loss.
  bool sync = true;
  // true: the write skips the write-ahead log, so a crash loses it (and every later
  // such write) until the memtable is flushed: only for data that is rebuilt from other
  // records after a crash, such as derived indexes written with their own watermark in
  // the same batch. Ignored (false) when sync is true.
  bool disable_wal = false;
};

// An atomic group of writes across keyspaces: all apply or none.
class WriteBatch {
 public:
  struct Op {
    Keyspace keyspace;
    std::string key;
    std::optional<std::string> value;  // nullopt: delete
  };
  void Put(Keyspace keyspace, std::string_view key, std::string_view value) {
    ops_.push_back({keyspace, std::string(key), std::string(value)});
  }
  // Put, taking over the strings: no copy of a large value.
  void PutOwned(Keyspace keyspace, std::string key, std::string value) {
    ops_.push_back({keyspace, std::move(key), std::move(value)});
  }
  void Delete(Keyspace keyspace, std::string_view key) {
    ops_.push_back({keyspace, std::string(key), std::nullopt});
  }
  const std::vector<Op>& ops() const { return ops_; }
  // Moves the operations out, leaving the batch empty.
  std::vector<Op> ReleaseOps() { return std::move(ops_); }
  size_t size() const { return ops_.size(); }
  bool empty() const { return ops_.empty(); }
  void Clear() { ops_.clear(); }

 private:
  std::vector<Op> ops_;
};

class Iterator {
 public:
  virtual ~Iterator() = default;
  virtual void Seek(std::string_view target) = 0;  // first key >= target
  virtual void SeekToFirst() = 0;
  virtual void SeekForPrev(std::string_view target) = 0;  // last key <= target
  virtual bool Valid() const = 0;
  virtual void Next() = 0;
  virtual void Prev() = 0;
  virtual std::string_view key() const = 0;    // valid until the next move
  virtual std::string_view value() const = 0;  // valid until the next move
  // Non-OK when iteration stopped because of an error rather than the end.
  virtual Status status() const = 0;
};

class Kv {
 public:
  virtual ~Kv() = default;

  virtual Result<std::optional<std::string>> Get(Keyspace keyspace, std::string_view key,
                                                 const ReadOptions& options = {}) = 0;
  virtual Status Put(Keyspace keyspace, std::string_view key, std::string_view value,
                     const WriteOptions& options = {}) = 0;
  virtual Status Delete(Keyspace keyspace, std::string_view key,
                        const WriteOptions& options = {}) = 0;
  virtual Status Write(const WriteBatch& batch, const WriteOptions& options = {}) = 0;
  // Makes every write that returned before this call durable, as if it had been written
  // with sync: a writer can then write without sync and fsync on another thread while it
  // prepares the next write. The default writes an empty batch with sync.
  virtual Status SyncWal() { return Write(WriteBatch(), WriteOptions{.sync = true}); }
  virtual std::unique_ptr<Iterator> NewIterator(Keyspace keyspace,
                                                const ReadOptions& options = {}) = 0;
  virtual std::shared_ptr<const Snapshot> GetSnapshot() = 0;

  // Rewrites the keyspace's files so that deleted and overwritten values are gone from
  // disk (used after crypto-shredding, so no stale copy of a wrapped key survives).
  virtual Status PurgeDeleted(Keyspace keyspace) = 0;

  // Calls `visit` for every entry whose key starts with `prefix`, in key order.
  Status ScanPrefix(
      Keyspace keyspace, std::string_view prefix,
      const std::function<Status(std::string_view key, std::string_view value)>& visit,
      const ReadOptions& options = {});
};

}  // namespace custos::storage
