// The audit indexer: keeps the secondary indexes (audit_index.h) up to date behind the
// log, on its own thread, so that the durable append path writes one record per event
// and the index records (five or more per event) go to storage in large batches without
// an fsync, off the group-commit writer.
//
// The log is the source of truth; the indexes are derived from it. The indexer stores
// how far it got ("w", written in the same batch as the index records), and on start
// it reads and indexes every durable entry beyond that point, so index records lost in
// a crash (they skip the write-ahead log and live in the memtable until RocksDB
// flushes it) are rebuilt from the log. Queries wait until the index
// covers the log as it was when the query began (read-your-writes).
// Thread-safety: Enqueue is for the log's single writer; WaitFor, status and Stop are
// safe from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "audit/audit_index.h"
#include "audit/event.h"
#include "audit/sequencer.h"
#include "common/status.h"
#include "storage/kv.h"

namespace custos::audit {

struct IndexerOptions {
  // Events held in memory for the indexer; beyond this, newer batches keep only their
  // index range and the indexer reads those events back from the log (bounded memory,
  // and the append path never waits for indexing). Default 1,048,576.
  size_t max_buffered_events = 1 << 20;
  // Most events indexed in one storage write. Default 16384.
  size_t max_events_per_write = 16384;
  // How long new work may wait for more before it is written, unless a query waits.
  // Default 20 ms.
  std::chrono::milliseconds linger{20};
};

class AuditIndexer {
 public:
  // Reads entry `index`'s event: NotFound if its segment key was shredded (nothing left
  // to index), another error if the entry cannot be read.
  using ReadEventFn = std::function<Result<AuditEvent>(uint64_t index)>;

  // The stored watermark: entries below it are indexed. 0 when none is stored.
  static Result<uint64_t> ReadWatermark(storage::Kv& kv);

  // Starts the thread, which first indexes entries [watermark, log_size) through `read`.
  // `kv`, `index` and whatever `read` uses must outlive the indexer.
  AuditIndexer(storage::Kv& kv, const AuditIndex& index, ReadEventFn read, uint64_t watermark,
               uint64_t log_size, IndexerOptions options = {});
  ~AuditIndexer();  // Stop()
  AuditIndexer(const AuditIndexer&) = delete;
  AuditIndexer& operator=(const AuditIndexer&) = delete;

  // The durable entries [first, first + entries.size()), in log order, right after the
  // previous call's range. Only their terms are used (the log's batch is handed over
  // whole, so no per-entry copy is made).
  void Enqueue(uint64_t first, std::vector<SequencedEntry> entries);

  // Blocks until entries below `size` are indexed. Unavailable on timeout; the indexer's
  // error if it stopped on one (queries then fail rather than miss events).
  Status WaitFor(uint64_t size, std::chrono::milliseconds timeout);

  // Indexes what is queued, then stops the thread.
  void Stop();

 private:
  struct Work {
    uint64_t first = 0;
    uint64_t count = 0;
    std::vector<SequencedEntry> entries;  // empty: read them from the log
  };
  void Run();
  Status Index(std::vector<Work>& works);

  storage::Kv& kv_;
  const AuditIndex& index_;
  const ReadEventFn read_;
  const IndexerOptions options_;

  std::mutex mu_;
  std::condition_variable work_ready_;
  std::condition_variable progress_;
  std::deque<Work> queue_;      // guarded by mu_
  size_t buffered_events_ = 0;  // events held in queue_; guarded by mu_
  uint64_t queued_events_ = 0;  // entries covered by queue_; guarded by mu_
  int waiters_ = 0;             // WaitFor callers; guarded by mu_
  uint64_t indexed_ = 0;        // guarded by mu_
  Status error_;                // guarded by mu_; set once, stops the indexer
  bool stopping_ = false;       // guarded by mu_
  std::thread thread_;
};

}  // namespace custos::audit
