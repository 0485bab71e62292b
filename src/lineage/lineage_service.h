// LineageService: how lineage records enter custos. Each record is checked against the
// graph, appended to the audit log as a `lineage.record` event carrying the SHA-256 of
// its canonical bytes (so the graph is as tamper-evident as the log), and only then
// stored. No audit record, no lineage record.
//
// Records from concurrent callers are committed together: one thread takes whatever is
// queued, checks it as a batch, appends the audit events at once (one group commit) and
// stores the batch in one write, as the audit log's sequencer does for events.
// Thread-safety: safe for concurrent use; the store and log must outlive the service.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "audit/log.h"
#include "common/clock.h"
#include "common/status.h"
#include "lineage/graph.h"
#include "lineage/lineage_store.h"

namespace custos::lineage {

struct LineageServiceOptions {
  // Most records checked and committed together. Default 2000.
  size_t max_batch_records = 2000;
  // Most records waiting; Record answers ResourceExhausted beyond it. Default 100,000.
  size_t max_queued_records = 100000;
  // Called on the committing thread with each record once it is stored (e.g. to emit it
  // as OpenLineage); it must not block. Default none.
  std::function<void(const LineageRecord&)> on_recorded;
};

class LineageService {
 public:
  LineageService(LineageStore& store, audit::AuditLog& audit, const common::Clock& clock,
                 LineageServiceOptions options = {});
  ~LineageService();  // answers what is queued, then stops
  LineageService(const LineageService&) = delete;
  LineageService& operator=(const LineageService&) = delete;

  // Records one record (a zero record time is set to now, zero edge times to the
  // record's); returns its audit index once it is
  // audited and stored. InvalidArgument / AlreadyExists say what in the record is wrong.
  Result<uint64_t> Record(LineageRecord record);
  // Many records, each answered on its own (a refused record does not stop the others;
  // a record may use nodes of the ones before it).
  std::vector<Result<uint64_t>> RecordAll(std::vector<LineageRecord> records);
  // RecordAll without waiting: queues the records (in order, after everything queued so
  // far) and returns one future per record, answered as RecordAll would answer it. Lets a
  // caller prepare its next records while these are committed.
  std::vector<std::future<Result<uint64_t>>> RecordAllAsync(std::vector<LineageRecord> records);

  LineageStore& store() { return store_; }

 private:
  struct Pending {
    LineageRecord record;
    std::promise<Result<uint64_t>> answer;
  };
  void CommitLoop();
  void CommitBatch(std::vector<Pending>& batch);
  Result<std::vector<uint64_t>> AuditAccepted(const std::vector<CheckedRecord>& checked);

  LineageStore& store_;
  audit::AuditLog& audit_;
  const common::Clock& clock_;
  const LineageServiceOptions options_;

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Pending> queue_;
  bool stopping_ = false;
  std::thread committer_;
};

}  // namespace custos::lineage
