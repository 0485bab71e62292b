// The audit sequencer: many threads submit entries, one writer thread takes everything
// queued as one batch, hands it to the commit function (one write), and every caller in
// the batch gets its index once the batch is durable: group commit, as in Trillian's
// sequencer.
//
// With a sync function, durability is pipelined: the writer writes batch N+1 while a
// syncer thread fsyncs what is written so far (one fsync may cover several batches),
// so the CPU work of a batch overlaps the previous batch's fsync. A batch is answered
// only after an fsync that began after it was written. A failed fsync is sticky: the
// outcome of unsynced batches is unknown (as after a crash), so they and every later
// submit fail until the process restarts and recovers from storage.
//
// Completion is a callback run on the writer thread (what an asynchronous server wants:
// post the answer to the request's executor); SubmitAsync and Submit wrap it in a future
// for simpler callers. The queue is swapped out whole under the lock, so the writer's
// cost per entry is the commit's, not the queue's; the writer allocates the next queue
// outside the lock, sized like the last batch, so producers never wait on a
// reallocation.
// Thread-safety: Submit* are safe from any number of threads; Stop from any thread.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <future>
#include <mutex>
#include <span>
#include <thread>
#include <vector>

#include "audit/audit_index.h"
#include "common/bytes.h"
#include "common/status.h"

namespace custos::audit {

struct SequencerOptions {
  // Entries waiting for the writer beyond which Submit fails with ResourceExhausted
  // (back-pressure rather than unbounded memory). Default 65536.
  size_t max_queue = 65536;
  // Most entries committed in one write. Default 4096.
  size_t max_batch = 4096;
};

// One entry to append: its canonical encoding and its terms for the query indexes.
struct SequencedEntry {
  common::Bytes encoded;
  IndexTerms terms;
};

// Receives the entry's index once it is durable, or the error that failed its batch.
// Runs on the writer thread: it must be quick and must not block or append.
using AppendCallback = std::function<void(Result<uint64_t>)>;

class Sequencer {
 public:
  // Writes `batch` as consecutive entries and returns the first one's index; with no
  // SyncFn the write must be durable when it returns. On error nothing of the batch may
  // be visible, and the committer must be ready to take the next batch at the same
  // index. The committer may move from the entries' encodings.
  using CommitFn = std::function<Result<uint64_t>(std::span<SequencedEntry> batch)>;
  // Makes every batch committed so far durable.
  using SyncFn = std::function<Status()>;
  // Told of each batch once durable, in order, before its callers are answered. It may
  // move the entries (or the whole vector) away: the sequencer discards them after.
  using DurableFn = std::function<void(uint64_t first, std::vector<SequencedEntry>& batch)>;

  // `sync` may be empty (each commit is durable by itself); `durable` may be empty.
  Sequencer(SequencerOptions options, CommitFn commit, SyncFn sync = {}, DurableFn durable = {});
  ~Sequencer();  // Stop()
  Sequencer(const Sequencer&) = delete;
  Sequencer& operator=(const Sequencer&) = delete;

  // Queues the entry; `done` gets its index once durable, or the batch's error. It gets
  // ResourceExhausted at once when the queue is full, Unavailable after Stop.
  void Submit(SequencedEntry entry, AppendCallback done);
  // The same with a future.
  std::future<Result<uint64_t>> SubmitAsync(SequencedEntry entry);
  // Blocks until the entry is durable and returns its index, or the batch's error.
  Result<uint64_t> SubmitAndWait(SequencedEntry entry);

  // Commits and syncs what is queued, then stops; later submits fail with Unavailable.
  void Stop();

  // OK while appends can succeed: the sticky fsync failure, or Unavailable after Stop.
  Status Health();

 private:
  // A written batch waiting for its fsync.
  struct Written {
    uint64_t first = 0;
    std::vector<SequencedEntry> entries;
    std::vector<AppendCallback> callbacks;
  };
  void RunWriter();
  void RunSyncer();
  void Finish(Written& batch, const Status& status);
  Status failure();

  const SequencerOptions options_;
  const CommitFn commit_;
  const SyncFn sync_;
  const DurableFn durable_;
  std::mutex mu_;
  std::condition_variable work_;
  std::condition_variable written_ready_;
  std::vector<SequencedEntry> queue_;      // guarded by mu_
  std::vector<AppendCallback> callbacks_;  // guarded by mu_, one per queue_ entry
  std::vector<Written> written_;           // guarded by mu_: waiting for the syncer
  Status failed_;                          // guarded by mu_: a failed fsync, sticky
  bool stopping_ = false;                  // guarded by mu_
  bool writer_done_ = false;               // guarded by mu_
  std::thread writer_;
  std::thread syncer_;
};

}  // namespace custos::audit
