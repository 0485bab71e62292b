// The audit indexer's thread, catch-up and watermark (see indexer.h).
#include "audit/indexer.h"

#include <deque>

#include "common/key_encoding.h"
#include "common/thread_name.h"

namespace custos::audit {
namespace {

std::string WatermarkKey() { return common::KeyBuilder().AddString("w").Release(); }

std::string EncodeWatermark(uint64_t value) {
  return common::KeyBuilder().AddUint64(value).Release();
}

// The indexer stops on the first entry it cannot index: queries then fail with this
// rather than silently miss events.
Status StoppedAt(uint64_t index, const Status& cause) {
  return cause.WithContext("audit index stopped at entry " + std::to_string(index) +
                           " (restart custos to rebuild the index from the log)");
}

}  // namespace

Result<uint64_t> AuditIndexer::ReadWatermark(storage::Kv& kv) {
  CUSTOS_ASSIGN_OR_RETURN(auto value, kv.Get(storage::Keyspace::kAudit, WatermarkKey()));
  if (!value) return uint64_t{0};
  common::KeyReader reader(*value);
  auto watermark = reader.ReadUint64();
  if (!watermark.ok() || !reader.Done()) {
    return DataLossError(
        "audit index watermark is malformed; delete the audit index records to rebuild them");
  }
  return *watermark;
}

AuditIndexer::AuditIndexer(storage::Kv& kv, const AuditIndex& index, ReadEventFn read,
                           uint64_t watermark, uint64_t log_size, IndexerOptions options)
    : kv_(kv), index_(index), read_(std::move(read)), options_(options), indexed_(watermark) {
  if (watermark < log_size) {
    queue_.push_back({watermark, log_size - watermark, {}});
    queued_events_ = log_size - watermark;
  }
  thread_ = std::thread([this] {
    common::SetCurrentThreadName("audit-indexer");
    Run();
  });
}

AuditIndexer::~AuditIndexer() { Stop(); }

void AuditIndexer::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  work_ready_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void AuditIndexer::Enqueue(uint64_t first, std::vector<SequencedEntry> entries) {
  const uint64_t count = entries.size();
  if (count == 0) return;
  // Over the memory bound, keep only the range: the events are durable in the log.
  bool keep = true;
  {
    std::lock_guard<std::mutex> lock(mu_);
    keep = buffered_events_ + count <= options_.max_buffered_events;
    if (keep) {
      buffered_events_ += count;
      queued_events_ += count;
      queue_.push_back({first, count, std::move(entries)});
    } else {
      queued_events_ += count;
      queue_.push_back({first, count, {}});
    }
  }
  work_ready_.notify_one();
}

Status AuditIndexer::WaitFor(uint64_t size, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  ++waiters_;
  work_ready_.notify_one();  // a waiting query ends the indexer's linger
  bool done = progress_.wait_for(lock, timeout, [&] { return indexed_ >= size || !error_.ok(); });
  --waiters_;
  if (!error_.ok()) return error_;
  if (!done) {
    return UnavailableError("the audit index is " + std::to_string(size - indexed_) +
                            " entries behind the log; retry the query in a moment");
  }
  return Status::Ok();
}

void AuditIndexer::Run() {
  for (;;) {
    std::vector<Work> works;
    {
      std::unique_lock<std::mutex> lock(mu_);
      work_ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and drained
      // Let work gather for a moment: posting lists get longer and records fewer.
      work_ready_.wait_for(lock, options_.linger, [this] {
        return stopping_ || waiters_ > 0 || queued_events_ >= options_.max_events_per_write;
      });
      uint64_t taken = 0;
      while (!queue_.empty() &&
             (taken == 0 || taken + queue_.front().count <= options_.max_events_per_write)) {
        taken += queue_.front().count;
        queued_events_ -= queue_.front().count;
        buffered_events_ -= queue_.front().entries.size();
        works.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    Status status = Index(works);
    if (!status.ok()) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        error_ = status;
      }
      progress_.notify_all();
      return;
    }
  }
}

Status AuditIndexer::Index(std::vector<Work>& works) {
  // Events of one storage write, and the end of the log range they cover (entries of
  // shredded segments are covered but have nothing to index).
  std::vector<IndexedEvent> events;
  std::deque<IndexTerms> read_back;  // stable addresses
  uint64_t end = 0;
  auto flush = [&]() -> Status {
    storage::WriteBatch batch;
    index_.AddTo(batch, events);
    batch.Put(storage::Keyspace::kAudit, WatermarkKey(), EncodeWatermark(end));
    // Not in the write-ahead log at all: the records and the watermark are one batch, so
    // a crash loses both together (whatever the memtable held) and catch-up rebuilds
    // them from the log, which is the source of truth. The log's own writes, and their
    // fsyncs, then carry only log bytes.
    Status written = kv_.Write(batch, storage::WriteOptions{.sync = false, .disable_wal = true});
    if (!written.ok()) return StoppedAt(events.empty() ? end : events.front().index, written);
    events.clear();
    read_back.clear();
    {
      std::lock_guard<std::mutex> lock(mu_);
      indexed_ = end;
    }
    progress_.notify_all();
    return Status::Ok();
  };
  for (Work& work : works) {
    for (uint64_t i = 0; i < work.count; ++i) {
      const uint64_t index = work.first + i;
      if (!work.entries.empty()) {
        events.push_back({index, &work.entries[i].terms});
      } else {
        auto event = read_(index);
        if (!event.ok() && event.status().code() != StatusCode::kNotFound) {
          return StoppedAt(index, event.status());
        }
        if (event.ok()) {  // NotFound: shredded, nothing left to index
          read_back.push_back(IndexTerms::Of(*event));
          events.push_back({index, &read_back.back()});
        }
      }
      end = index + 1;
      if (events.size() >= options_.max_events_per_write) CUSTOS_RETURN_IF_ERROR(flush());
    }
  }
  return flush();
}

}  // namespace custos::audit
