// The audit sequencer: many threads submit entries, one writer thread takes everything
// queued as one batch, hands it to the commit function (one durable write), and answers
// every caller in the batch with its index: group commit, as in Trillian's sequencer.
// Thread-safety: Submit is safe from any number of threads; Stop from any thread.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <span>
#include <thread>

#include "audit/event.h"
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

// One entry to append: its canonical encoding and the event (for secondary indexes).
struct SequencedEntry {
  common::Bytes encoded;
  AuditEvent event;
};

class Sequencer {
 public:
  // Durably appends `batch` as consecutive entries and returns the first one's index.
  // On error nothing of the batch may be visible, and the committer must be ready to
  // take the next batch at the same index.
  using CommitFn = std::function<Result<uint64_t>(std::span<const SequencedEntry> batch)>;

  Sequencer(SequencerOptions options, CommitFn commit);
  ~Sequencer();  // Stop()
  Sequencer(const Sequencer&) = delete;
  Sequencer& operator=(const Sequencer&) = delete;

  // Blocks until the entry is durable and returns its index, or the batch's error.
  // ResourceExhausted when the queue is full, Unavailable after Stop.
  Result<uint64_t> Submit(SequencedEntry entry);
  // The same without blocking: the future is ready once the entry is durable.
  std::future<Result<uint64_t>> SubmitAsync(SequencedEntry entry);

  // Commits what is queued, then stops the writer; later submits fail with Unavailable.
  void Stop();

 private:
  struct Pending {
    SequencedEntry entry;
    std::promise<Result<uint64_t>> done;
  };
  void Run();

  const SequencerOptions options_;
  const CommitFn commit_;
  std::mutex mu_;
  std::condition_variable work_;
  std::deque<Pending> queue_;  // guarded by mu_
  bool stopping_ = false;      // guarded by mu_
  std::thread writer_;
};

}  // namespace custos::audit
