// Batched check -> audit -> store for lineage records (see lineage_service.h).
#include "lineage/lineage_service.h"

#include <algorithm>
#include <utility>

#include "common/bytes.h"
#include "common/ids.h"
#include "crypto/hash.h"

namespace custos::lineage {
namespace {

// The event names the record by digest and its new nodes by id (room is left for the
// record itself in the event's list limit; the digest covers every node anyway).
audit::AuditEvent RecordEvent(const CheckedRecord& checked) {
  audit::AuditEvent event;
  event.time = checked.record.time;
  event.request_id = common::NewId("lin");
  event.principal_id = checked.record.principal;
  event.auth_method = audit::AuthMethod::kEmbedded;
  event.action = "lineage.record";
  // RecordDigest(checked.record), from the bytes Check already encoded.
  event.resources.push_back(
      {"LineageRecord",
       "sha256:" + common::HexEncode(crypto::Sha256Of(common::AsBytes(checked.bytes))), 0});
  for (const Node& node : checked.new_nodes) {
    if (event.resources.size() >= audit::kMaxEventListItems) break;
    event.resources.push_back({"LineageNode", node.Id(), 0});
  }
  event.decision = audit::Decision::kAllow;
  event.outcome = audit::Outcome::kOk;
  std::string detail = std::to_string(checked.new_nodes.size()) + " new nodes, " +
                       std::to_string(checked.new_edges.size()) + " new edges from " +
                       checked.record.origin;
  if (detail.size() > audit::kMaxEventString) detail.resize(audit::kMaxEventString);
  event.outcome_detail = std::move(detail);
  return event;
}

}  // namespace

LineageService::LineageService(LineageStore& store, audit::AuditLog& audit,
                               const common::Clock& clock, LineageServiceOptions options)
    : store_(store), audit_(audit), clock_(clock), options_(options) {
  committer_ = std::thread([this] { CommitLoop(); });
}

LineageService::~LineageService() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  committer_.join();
}

Result<uint64_t> LineageService::Record(LineageRecord record) {
  std::vector<LineageRecord> one;
  one.push_back(std::move(record));
  return std::move(RecordAll(std::move(one)).front());
}

std::vector<Result<uint64_t>> LineageService::RecordAll(std::vector<LineageRecord> records) {
  std::vector<std::future<Result<uint64_t>>> futures = RecordAllAsync(std::move(records));
  std::vector<Result<uint64_t>> results;
  results.reserve(futures.size());
  for (auto& future : futures) results.push_back(future.get());
  return results;
}

std::vector<std::future<Result<uint64_t>>> LineageService::RecordAllAsync(
    std::vector<LineageRecord> records) {
  std::vector<std::future<Result<uint64_t>>> futures;
  futures.reserve(records.size());
  {
    std::lock_guard lock(mutex_);
    for (LineageRecord& record : records) {
      std::promise<Result<uint64_t>> answer;
      futures.push_back(answer.get_future());
      if (stopping_ || queue_.size() >= options_.max_queued_records) {
        answer.set_value(stopping_ ? UnavailableError("the lineage service is stopping")
                                   : ResourceExhaustedError(
                                         "too many lineage records are waiting; retry shortly"));
        continue;
      }
      if (record.time == common::TimePoint{}) record.time = clock_.Now();
      for (Edge& edge : record.edges) {
        if (edge.time == common::TimePoint{}) edge.time = record.time;
      }
      queue_.push_back(Pending{std::move(record), std::move(answer)});
    }
  }
  wake_.notify_one();
  return futures;
}

void LineageService::CommitLoop() {
  for (;;) {
    std::vector<Pending> batch;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything is answered
      const size_t n = std::min(queue_.size(), options_.max_batch_records);
      batch.reserve(n);
      for (size_t i = 0; i < n; ++i) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    CommitBatch(batch);
  }
}

void LineageService::CommitBatch(std::vector<Pending>& batch) {
  std::vector<LineageRecord> records;
  records.reserve(batch.size());
  for (Pending& pending : batch) records.push_back(std::move(pending.record));
  const std::vector<CheckedRecord> checked = store_.Check(std::move(records));

  auto fail_accepted = [&](const Status& status) {
    for (size_t i = 0; i < batch.size(); ++i) {
      batch[i].answer.set_value(checked[i].status.ok() ? Result<uint64_t>(status)
                                                       : Result<uint64_t>(checked[i].status));
    }
  };
  auto indexes = AuditAccepted(checked);
  if (!indexes.ok()) {
    // Fail closed: nothing of the batch is stored when any of its audit events failed.
    fail_accepted(indexes.status().WithContext("cannot audit the lineage record; nothing stored"));
    return;
  }
  if (Status stored = store_.Commit(checked, *indexes); !stored.ok()) {
    fail_accepted(stored.WithContext("audited, but the lineage record could not be stored"));
    return;
  }
  if (options_.on_recorded) {
    for (const CheckedRecord& c : checked) {
      if (c.status.ok()) options_.on_recorded(c.record);
    }
  }
  size_t next = 0;
  for (size_t i = 0; i < batch.size(); ++i) {
    batch[i].answer.set_value(checked[i].status.ok() ? Result<uint64_t>((*indexes)[next++])
                                                     : Result<uint64_t>(checked[i].status));
  }
}

Result<std::vector<uint64_t>> LineageService::AuditAccepted(
    const std::vector<CheckedRecord>& checked) {
  std::vector<std::future<Result<uint64_t>>> appends;
  for (const CheckedRecord& c : checked) {
    if (c.status.ok()) appends.push_back(audit_.AppendAsync(RecordEvent(c)));
  }
  std::vector<uint64_t> indexes;
  indexes.reserve(appends.size());
  Status first_error;
  for (auto& append : appends) {
    Result<uint64_t> index = append.get();
    if (!index.ok()) {
      if (first_error.ok()) first_error = index.status();
      continue;
    }
    indexes.push_back(*index);
  }
  if (!first_error.ok()) return first_error;
  return indexes;
}

}  // namespace custos::lineage
