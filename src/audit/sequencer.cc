// Group commit for the audit log (see sequencer.h).
#include "audit/sequencer.h"

#include <vector>

namespace custos::audit {

Sequencer::Sequencer(SequencerOptions options, CommitFn commit)
    : options_(options), commit_(std::move(commit)) {
  writer_ = std::thread([this] { Run(); });
}

Sequencer::~Sequencer() { Stop(); }

void Sequencer::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  work_.notify_all();
  if (writer_.joinable()) writer_.join();
}

std::future<Result<uint64_t>> Sequencer::SubmitAsync(SequencedEntry entry) {
  std::promise<Result<uint64_t>> done;
  std::future<Result<uint64_t>> future = done.get_future();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) {
      done.set_value(UnavailableError("the audit log is shutting down; retry on a running server"));
      return future;
    }
    if (queue_.size() >= options_.max_queue) {
      done.set_value(
          ResourceExhaustedError("audit queue full (" + std::to_string(options_.max_queue) +
                                 " entries waiting for the disk); retry later or raise max_queue"));
      return future;
    }
    queue_.push_back({std::move(entry), std::move(done)});
  }
  work_.notify_one();
  return future;
}

Result<uint64_t> Sequencer::Submit(SequencedEntry entry) {
  return SubmitAsync(std::move(entry)).get();
}

void Sequencer::Run() {
  std::vector<Pending> batch;
  std::vector<SequencedEntry> entries;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      work_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and drained
      size_t n = std::min(queue_.size(), options_.max_batch);
      for (size_t i = 0; i < n; ++i) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    entries.clear();
    entries.reserve(batch.size());
    for (Pending& p : batch) entries.push_back(std::move(p.entry));
    Result<uint64_t> first = commit_(entries);
    for (size_t i = 0; i < batch.size(); ++i) {
      if (first.ok()) {
        batch[i].done.set_value(*first + i);
      } else {
        batch[i].done.set_value(first.status());
      }
    }
    batch.clear();
  }
}

}  // namespace custos::audit
