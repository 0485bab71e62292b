// RocksDB engine: column families per keyspace, status mapping, bounded iterators.
#include "storage/rocksdb_kv.h"

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/iterator.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <array>

namespace custos::storage {
namespace {

// Batches of at least this many operations are inserted in key order (see Write).
constexpr size_t kSortedInsertThreshold = 64;

constexpr size_t kKeyspaceCount = std::size(kAllKeyspaces);

rocksdb::Slice ToSlice(std::string_view s) { return {s.data(), s.size()}; }

Status FromRocks(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return Status::Ok();
  std::string message = std::string(what) + ": " + s.ToString();
  if (s.IsCorruption()) {
    return DataLossError(message + " (the storage files are damaged; restore from backup)");
  }
  if (s.IsNotFound()) return NotFoundError(message);
  if (s.IsInvalidArgument()) return InvalidArgumentError(message);
  if (s.IsIOError() && s.ToString().find("lock") != std::string::npos) {
    return UnavailableError(message + " (another custos process holds this data directory)");
  }
  if (s.IsIOError() || s.IsBusy() || s.IsTryAgain() || s.IsTimedOut()) {
    return UnavailableError(message);
  }
  if (s.IsNotSupported()) return UnimplementedError(message);
  return InternalError(message);
}

class RocksSnapshot final : public Snapshot {
 public:
  RocksSnapshot(rocksdb::DB* db, const rocksdb::Snapshot* snapshot)
      : db_(db), snapshot_(snapshot) {}
  ~RocksSnapshot() override { db_->ReleaseSnapshot(snapshot_); }
  const rocksdb::Snapshot* get() const { return snapshot_; }

 private:
  rocksdb::DB* db_;
  const rocksdb::Snapshot* snapshot_;
};

// Owns its bound strings: RocksDB keeps only Slices to them.
class RocksIterator final : public Iterator {
 public:
  RocksIterator(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf, const ReadOptions& options)
      : lower_(options.lower_bound), upper_(options.upper_bound) {
    rocksdb::ReadOptions ro;
    if (options.snapshot) ro.snapshot = static_cast<const RocksSnapshot*>(options.snapshot)->get();
    ro.verify_checksums = options.verify_checksums;
    ro.fill_cache = options.fill_cache;
    if (!lower_.empty()) {
      lower_slice_ = lower_;
      ro.iterate_lower_bound = &lower_slice_;
    }
    if (!upper_.empty()) {
      upper_slice_ = upper_;
      ro.iterate_upper_bound = &upper_slice_;
    }
    it_.reset(db->NewIterator(ro, cf));
  }

  void Seek(std::string_view target) override { it_->Seek(ToSlice(target)); }
  void SeekToFirst() override { it_->SeekToFirst(); }
  void SeekForPrev(std::string_view target) override { it_->SeekForPrev(ToSlice(target)); }
  bool Valid() const override { return it_->Valid(); }
  void Next() override { it_->Next(); }
  void Prev() override { it_->Prev(); }
  std::string_view key() const override {
    rocksdb::Slice k = it_->key();
    return {k.data(), k.size()};
  }
  std::string_view value() const override {
    rocksdb::Slice v = it_->value();
    return {v.data(), v.size()};
  }
  Status status() const override { return FromRocks(it_->status(), "iterating"); }

 private:
  std::string lower_, upper_;
  rocksdb::Slice lower_slice_, upper_slice_;
  std::unique_ptr<rocksdb::Iterator> it_;
};

}  // namespace

struct RocksDbKv::Impl {
  std::unique_ptr<rocksdb::DB> db;
  std::array<rocksdb::ColumnFamilyHandle*, kKeyspaceCount> cfs{};
  rocksdb::ColumnFamilyHandle* default_cf = nullptr;
  std::string path;

  rocksdb::ColumnFamilyHandle* cf(Keyspace ks) const { return cfs[static_cast<size_t>(ks)]; }

  ~Impl() {
    if (!db) return;
    for (auto* h : cfs) {
      if (h) db->DestroyColumnFamilyHandle(h);
    }
    if (default_cf) db->DestroyColumnFamilyHandle(default_cf);
    db->Close();
  }
};

RocksDbKv::RocksDbKv(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RocksDbKv::~RocksDbKv() = default;

Result<std::unique_ptr<RocksDbKv>> RocksDbKv::Open(const RocksDbOptions& options) {
  rocksdb::Options db_options;
  db_options.create_if_missing = options.create_if_missing;
  db_options.create_missing_column_families = true;
  db_options.paranoid_checks = true;
  db_options.IncreaseParallelism(options.background_threads);
  // Deleted WAL files are removed, never archived: after a crypto-shred no old WAL
  // may keep a copy of a destroyed key.
  db_options.WAL_ttl_seconds = 0;
  db_options.WAL_size_limit_MB = 0;
  db_options.recycle_log_file_num = 0;
  db_options.max_total_wal_size = 64 << 20;
  db_options.allow_mmap_reads = options.mmap_reads;

  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(options.block_cache_mib << 20);
  table.cache_index_and_filter_blocks = true;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  rocksdb::ColumnFamilyOptions cf_options;
  cf_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  rocksdb::BlockBasedTableOptions pinned_table = table;  // the same block cache
  pinned_table.cache_index_and_filter_blocks = false;
  std::shared_ptr<rocksdb::TableFactory> pinned_factory(
      rocksdb::NewBlockBasedTableFactory(pinned_table));

  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  descriptors.emplace_back(rocksdb::kDefaultColumnFamilyName, cf_options);
  auto listed = [](const std::vector<Keyspace>& list, Keyspace ks) {
    return std::find(list.begin(), list.end(), ks) != list.end();
  };
  for (Keyspace ks : kAllKeyspaces) {
    rocksdb::ColumnFamilyOptions ks_options = cf_options;
    if (listed(options.uncompressed_keyspaces, ks)) {
      ks_options.compression = rocksdb::kNoCompression;
    }
    if (listed(options.pinned_index_keyspaces, ks)) ks_options.table_factory = pinned_factory;
    descriptors.emplace_back(std::string(KeyspaceName(ks)), ks_options);
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(db_options, options.path, descriptors, &handles, &raw);
  if (!s.ok()) return FromRocks(s, "opening storage at " + options.path);

  auto impl = std::make_unique<Impl>();
  impl->db.reset(raw);
  impl->path = options.path;
  impl->default_cf = handles[0];
  for (size_t i = 0; i < kKeyspaceCount; ++i) impl->cfs[i] = handles[i + 1];
  return std::unique_ptr<RocksDbKv>(new RocksDbKv(std::move(impl)));
}

Result<std::optional<std::string>> RocksDbKv::Get(Keyspace keyspace, std::string_view key,
                                                  const ReadOptions& options) {
  rocksdb::ReadOptions ro;
  if (options.snapshot) ro.snapshot = static_cast<const RocksSnapshot*>(options.snapshot)->get();
  ro.verify_checksums = options.verify_checksums;
  ro.fill_cache = options.fill_cache;
  std::string value;
  rocksdb::Status s = impl_->db->Get(ro, impl_->cf(keyspace), ToSlice(key), &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return FromRocks(s, "reading " + std::string(KeyspaceName(keyspace)));
  return std::optional<std::string>(std::move(value));
}

Status RocksDbKv::Put(Keyspace keyspace, std::string_view key, std::string_view value,
                      const WriteOptions& options) {
  rocksdb::WriteOptions wo;
  wo.sync = options.sync;
  return FromRocks(impl_->db->Put(wo, impl_->cf(keyspace), ToSlice(key), ToSlice(value)),
                   "writing " + std::string(KeyspaceName(keyspace)));
}

Status RocksDbKv::Delete(Keyspace keyspace, std::string_view key, const WriteOptions& options) {
  rocksdb::WriteOptions wo;
  wo.sync = options.sync;
  return FromRocks(impl_->db->Delete(wo, impl_->cf(keyspace), ToSlice(key)),
                   "deleting from " + std::string(KeyspaceName(keyspace)));
}

Status RocksDbKv::Write(const WriteBatch& batch, const WriteOptions& options) {
  // Large batches go to the memtable in key order: its skip list then reuses the
  // previous insert's position instead of searching from the top for every key, which
  // roughly halves the cost of the audit log's many-record batches. A stable sort keeps
  // the order of operations on the same key.
  const auto& ops = batch.ops();
  std::vector<uint32_t> order(ops.size());
  for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  auto key_order = [&](uint32_t a, uint32_t b) {
    if (ops[a].keyspace != ops[b].keyspace) return ops[a].keyspace < ops[b].keyspace;
    return ops[a].key < ops[b].key;
  };
  if (ops.size() >= kSortedInsertThreshold &&
      !std::is_sorted(order.begin(), order.end(), key_order)) {
    std::stable_sort(order.begin(), order.end(), key_order);
  }
  // Sized up front: a large batch (the audit log writes hundreds of KiB at once) would
  // otherwise grow by doubling, copying and page-faulting at every step.
  size_t bytes = 0;
  for (const auto& op : ops) bytes += op.key.size() + (op.value ? op.value->size() : 0) + 16;
  rocksdb::WriteBatch wb(bytes + 12);  // + the batch header
  for (uint32_t i : order) {
    const auto& op = ops[i];
    rocksdb::Status s = op.value
                            ? wb.Put(impl_->cf(op.keyspace), ToSlice(op.key), ToSlice(*op.value))
                            : wb.Delete(impl_->cf(op.keyspace), ToSlice(op.key));
    if (!s.ok()) return FromRocks(s, "building write batch");
  }
  rocksdb::WriteOptions wo;
  wo.sync = options.sync;
  wo.disableWAL = options.disable_wal && !options.sync;
  return FromRocks(impl_->db->Write(wo, &wb), "writing batch");
}

Status RocksDbKv::SyncWal() {
  return FromRocks(impl_->db->SyncWAL(), "syncing the write-ahead log");
}

std::unique_ptr<Iterator> RocksDbKv::NewIterator(Keyspace keyspace, const ReadOptions& options) {
  return std::make_unique<RocksIterator>(impl_->db.get(), impl_->cf(keyspace), options);
}

std::shared_ptr<const Snapshot> RocksDbKv::GetSnapshot() {
  return std::make_shared<RocksSnapshot>(impl_->db.get(), impl_->db->GetSnapshot());
}

Status RocksDbKv::PurgeDeleted(Keyspace keyspace) {
  // Flush every column family so that no live WAL file still holds the old value,
  // then rewrite the keyspace's SST files down to the last level, dropping
  // deleted and overwritten entries.
  std::vector<rocksdb::ColumnFamilyHandle*> all(impl_->cfs.begin(), impl_->cfs.end());
  all.push_back(impl_->default_cf);
  rocksdb::FlushOptions flush;
  flush.wait = true;
  CUSTOS_RETURN_IF_ERROR(FromRocks(impl_->db->Flush(flush, all), "flushing before purge"));
  rocksdb::CompactRangeOptions compact;
  compact.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  compact.exclusive_manual_compaction = true;
  CUSTOS_RETURN_IF_ERROR(FromRocks(
      impl_->db->CompactRange(compact, impl_->cf(keyspace), nullptr, nullptr), "compacting"));
  CUSTOS_RETURN_IF_ERROR(FromRocks(impl_->db->FlushWAL(true), "syncing WAL"));
  return Status::Ok();
}

}  // namespace custos::storage
