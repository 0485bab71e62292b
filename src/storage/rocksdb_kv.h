// RocksDbKv: the embedded storage engine, one RocksDB column family per keyspace.
// This is the default engine and stays first-class: everything custos stores goes
// through it unless an operator configures PostgreSQL/Redis for scale-out.
// Thread-safety: safe for concurrent use (RocksDB's own guarantees).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "storage/kv.h"

namespace custos::storage {

struct RocksDbOptions {
  // Directory holding the RocksDB files. Created when missing and create_if_missing.
  std::string path;
  bool create_if_missing = true;
  // Shared LRU block cache for all keyspaces, in MiB. Default 64.
  size_t block_cache_mib = 64;
  // Background compaction/flush threads. Default 2 (this is a 2-core target).
  int background_threads = 2;
  // Read table files through memory maps rather than read(2): a point read that misses
  // the block cache then costs a page-cache copy, not a system call (which is slow in
  // virtual machines; it decides the tail latency of audit proofs). Default true.
  bool mmap_reads = true;
  // Keyspaces whose table files are written without block compression: their values
  // are ciphertext and hashes, which do not compress, so trying only costs CPU in every
  // flush and compaction. Default: the audit keyspace (sealed entries, Merkle tiles) and the
  // online store (sealed rows).
  std::vector<Keyspace> uncompressed_keyspaces = {Keyspace::kAudit, Keyspace::kOnline};
  // Keyspaces whose table index and filter blocks are kept with each open table file
  // rather than in the shared block cache: random reads over far more data than the
  // cache holds (audit proofs read one 16 KiB tile record each) would otherwise evict
  // them, and every such read would first re-read and re-checksum a whole index block.
  // Costs memory per open table (about 0.1% of its data). Default: the audit keyspace and
  // the online store (a point read would otherwise re-checksum the table's whole filter
  // block: over half of an online read's CPU with 1M entities).
  std::vector<Keyspace> pinned_index_keyspaces = {Keyspace::kAudit, Keyspace::kOnline};
};

class RocksDbKv final : public Kv {
 public:
  // Opens (or creates) the database with every keyspace's column family. Errors:
  // Unavailable when another process holds the database, DataLoss on corruption.
  static Result<std::unique_ptr<RocksDbKv>> Open(const RocksDbOptions& options);
  ~RocksDbKv() override;

  Result<std::optional<std::string>> Get(Keyspace keyspace, std::string_view key,
                                         const ReadOptions& options = {}) override;
  Status Put(Keyspace keyspace, std::string_view key, std::string_view value,
             const WriteOptions& options = {}) override;
  Status Delete(Keyspace keyspace, std::string_view key, const WriteOptions& options = {}) override;
  Status Write(const WriteBatch& batch, const WriteOptions& options = {}) override;
  Status SyncWal() override;
  std::unique_ptr<Iterator> NewIterator(Keyspace keyspace,
                                        const ReadOptions& options = {}) override;
  std::shared_ptr<const Snapshot> GetSnapshot() override;
  Status PurgeDeleted(Keyspace keyspace) override;

 private:
  struct Impl;
  explicit RocksDbKv(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace custos::storage
