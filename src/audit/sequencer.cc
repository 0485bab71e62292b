// Group commit for the audit log (see sequencer.h).
#include "audit/sequencer.h"

#include <algorithm>
#include <memory>

#include "common/thread_name.h"

namespace custos::audit {

Sequencer::Sequencer(SequencerOptions options, CommitFn commit, SyncFn sync, DurableFn durable)
    : options_(options),
      commit_(std::move(commit)),
      sync_(std::move(sync)),
      durable_(std::move(durable)) {
  writer_ = std::thread([this] {
    common::SetCurrentThreadName("audit-writer");
    RunWriter();
  });
  if (sync_) {
    syncer_ = std::thread([this] {
      common::SetCurrentThreadName("audit-syncer");
      RunSyncer();
    });
  }
}

Sequencer::~Sequencer() { Stop(); }

void Sequencer::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  work_.notify_all();
  if (writer_.joinable()) writer_.join();
  {
    std::lock_guard<std::mutex> lock(mu_);
    writer_done_ = true;
  }
  written_ready_.notify_all();
  if (syncer_.joinable()) syncer_.join();
}

void Sequencer::Submit(SequencedEntry entry, AppendCallback done) {
  Status refused;
  bool was_empty = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) {
      refused = UnavailableError("the audit log is shutting down; retry on a running server");
    } else if (queue_.size() >= options_.max_queue) {
      refused =
          ResourceExhaustedError("audit queue full (" + std::to_string(options_.max_queue) +
                                 " entries waiting for the disk); retry later or raise max_queue");
    } else {
      was_empty = queue_.empty();
      queue_.push_back(std::move(entry));
      callbacks_.push_back(std::move(done));
    }
  }
  if (!refused.ok()) {
    done(refused);
    return;
  }
  // The writer sleeps only on an empty queue, so only the first entry must wake it.
  if (was_empty) work_.notify_one();
}

std::future<Result<uint64_t>> Sequencer::SubmitAsync(SequencedEntry entry) {
  auto promise = std::make_shared<std::promise<Result<uint64_t>>>();
  std::future<Result<uint64_t>> future = promise->get_future();
  Submit(std::move(entry),
         [promise](Result<uint64_t> index) { promise->set_value(std::move(index)); });
  return future;
}

Result<uint64_t> Sequencer::SubmitAndWait(SequencedEntry entry) {
  return SubmitAsync(std::move(entry)).get();
}

Status Sequencer::failure() {
  std::lock_guard<std::mutex> lock(mu_);
  return failed_;
}

Status Sequencer::Health() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!failed_.ok()) return failed_;
  if (stopping_) return UnavailableError("the audit log is shutting down");
  return Status::Ok();
}

void Sequencer::Finish(Written& batch, const Status& status) {
  if (status.ok() && durable_) durable_(batch.first, batch.entries);
  for (size_t i = 0; i < batch.callbacks.size(); ++i) {
    if (status.ok()) {
      batch.callbacks[i](batch.first + i);
    } else {
      batch.callbacks[i](status);
    }
  }
}

void Sequencer::RunWriter() {
  size_t expected = 64;  // entries in the next batch, guessed from the last one
  for (;;) {
    Written batch;
    // The next queue is allocated here, outside the lock, with room for a batch like the
    // last one: producers then append without reallocating (and moving every queued
    // entry) while they hold the lock. Constructing and clearing the elements touches
    // every page, so no producer takes the page faults of fresh memory under the lock
    // either.
    std::vector<SequencedEntry> next_queue(expected);
    std::vector<AppendCallback> next_callbacks(expected);
    next_queue.clear();
    next_callbacks.clear();
    {
      std::unique_lock<std::mutex> lock(mu_);
      work_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and drained
      if (queue_.size() <= options_.max_batch) {
        batch.entries = std::move(queue_);  // the common case: take everything, no per-entry moves
        batch.callbacks = std::move(callbacks_);
        queue_ = std::move(next_queue);
        callbacks_ = std::move(next_callbacks);
      } else {
        const auto n = static_cast<std::ptrdiff_t>(options_.max_batch);
        batch.entries.assign(std::make_move_iterator(queue_.begin()),
                             std::make_move_iterator(queue_.begin() + n));
        batch.callbacks.assign(std::make_move_iterator(callbacks_.begin()),
                               std::make_move_iterator(callbacks_.begin() + n));
        queue_.erase(queue_.begin(), queue_.begin() + n);
        callbacks_.erase(callbacks_.begin(), callbacks_.begin() + n);
      }
    }
    // A quarter more than the last batch: batches grow while the load rises.
    expected = std::clamp(batch.entries.size() + batch.entries.size() / 4, size_t{64},
                          std::max(options_.max_batch, size_t{64}));
    if (Status failed = failure(); !failed.ok()) {
      Finish(batch, failed);
      continue;
    }
    Result<uint64_t> first = commit_(batch.entries);
    if (!first.ok()) {
      Finish(batch, first.status());
      continue;
    }
    batch.first = *first;
    if (!sync_) {
      Finish(batch, Status::Ok());
      continue;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      written_.push_back(std::move(batch));
    }
    written_ready_.notify_one();
  }
}

void Sequencer::RunSyncer() {
  std::vector<Written> batches;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      written_ready_.wait(lock, [this] { return writer_done_ || !written_.empty(); });
      if (written_.empty()) return;  // the writer stopped and everything is synced
      batches.swap(written_);
    }
    // One fsync for every batch written so far: those that arrived during the previous
    // fsync share this one.
    Status status = sync_();
    if (!status.ok()) {
      status = status.WithContext(
          "audit log: making entries durable failed; their outcome is unknown until "
          "custos restarts and recovers the log from storage");
      std::lock_guard<std::mutex> lock(mu_);
      failed_ = status;
    }
    for (Written& batch : batches) Finish(batch, status);
    batches.clear();
  }
}

}  // namespace custos::audit
