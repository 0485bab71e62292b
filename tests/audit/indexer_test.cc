// The audit indexes behind the log: posting lists per time bucket, queries compared with
// a brute-force scan, and rebuilding lost index records from the log.
#include "audit/indexer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <future>
#include <random>

#include "audit/log.h"
#include "common/key_encoding.h"
#include "log_test_util.h"

namespace custos::audit {
namespace {

using testing::CreateDataDir;
using testing::ReopenDataDir;
using testing::TempDir;

LogOptions QuietOptions() {
  LogOptions options;
  options.background_checkpoints = false;
  options.durability = Durability::kOsBuffer;
  return options;
}

// Events 10 ms apart with up to +-300 ms of jitter, so that times are out of log order
// within and across the ~65 ms index buckets.
std::vector<AuditEvent> JitteredEvents(size_t n) {
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<int64_t> jitter(-300'000, 300'000);
  std::vector<AuditEvent> events;
  for (size_t i = 0; i < n; ++i) {
    AuditEvent e = testing::MakeEvent(i);
    e.time = common::FromUnixSeconds(1'800'000'000) +
             std::chrono::microseconds(static_cast<int64_t>(i) * 10'000 + jitter(rng));
    events.push_back(std::move(e));
  }
  return events;
}

// Appends all events with many in flight, so that the indexer writes multi-event records.
void AppendAll(AuditLog& log, const std::vector<AuditEvent>& events) {
  std::vector<std::future<Result<uint64_t>>> pending;
  for (const AuditEvent& e : events) pending.push_back(log.AppendAsync(e));
  for (size_t i = 0; i < pending.size(); ++i) ASSERT_EQ(*pending[i].get(), i);
}

bool Expected(const EventQuery& q, const AuditEvent& e) {
  if (q.principal && e.principal_id != *q.principal) return false;
  if (q.action && e.action != *q.action) return false;
  if (q.decision && e.decision != *q.decision) return false;
  if (q.resource) {
    bool found = false;
    for (const auto& r : e.resources) found = found || r.type + "::" + r.id == *q.resource;
    if (!found) return false;
  }
  return (!q.from || e.time >= *q.from) && (!q.to || e.time < *q.to);
}

// Every page of `query`, concatenated.
std::vector<uint64_t> AllPages(AuditLog& log, EventQuery query) {
  std::vector<uint64_t> got;
  for (int page = 0; page < 10'000; ++page) {
    auto result = log.Query(query);
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    if (!result.ok()) break;
    for (const auto& hit : result->hits) got.push_back(hit.index);
    if (result->next_page_token.empty()) break;
    query.page_token = result->next_page_token;
  }
  return got;
}

std::vector<uint64_t> BruteForce(const std::vector<AuditEvent>& events, const EventQuery& q) {
  std::vector<std::pair<common::TimePoint, uint64_t>> hits;
  for (uint64_t i = 0; i < events.size(); ++i) {
    if (Expected(q, events[i])) hits.push_back({events[i].time, i});
  }
  std::sort(hits.begin(), hits.end());
  std::vector<uint64_t> out;
  for (const auto& h : hits) out.push_back(h.second);
  return out;
}

std::vector<EventQuery> SampleQueries() {
  const auto t0 = common::FromUnixSeconds(1'800'000'000);
  std::vector<EventQuery> queries(7);
  queries[0].principal = "User::bob";
  queries[1].resource = "FeatureView::fv2";
  queries[1].from = t0 + std::chrono::milliseconds(1234);
  queries[2].action = "export";
  queries[2].to = t0 + std::chrono::milliseconds(9876);
  queries[3].decision = Decision::kDeny;
  queries[3].principal = std::nullopt;
  queries[4].from = t0 + std::chrono::milliseconds(3000);  // time index only
  queries[4].to = t0 + std::chrono::milliseconds(3700);
  queries[5].principal = "User::carol";  // principal index, action filter
  queries[5].action = "read";
  queries[6].principal = "User::nobody";
  for (size_t i = 0; i < queries.size(); ++i) queries[i].limit = 1 + i * 13;
  return queries;
}

TEST(AuditIndexerTest, PagedQueriesEqualABruteForceScan) {
  TempDir tmp;
  auto data = CreateDataDir(tmp.Sub("d"));
  auto log = *AuditLog::Open(data.dir->kv(), data.dir->keyring(), QuietOptions());
  const auto events = JitteredEvents(3000);
  AppendAll(*log, events);
  for (const EventQuery& q : SampleQueries()) {
    std::vector<uint64_t> expected = BruteForce(events, q);
    EXPECT_EQ(AllPages(*log, q), expected) << "limit " << q.limit;
  }
  EXPECT_FALSE(BruteForce(events, SampleQueries()[4]).empty());
}

TEST(AuditIndexerTest, BusyLogWritesFarFewerIndexRecordsThanEvents) {
  TempDir tmp;
  auto data = CreateDataDir(tmp.Sub("d"));
  auto log = *AuditLog::Open(data.dir->kv(), data.dir->keyring(), QuietOptions());
  AppendAll(*log, JitteredEvents(3000));
  ASSERT_TRUE(log->Query(EventQuery{}).ok());  // waits for the indexer
  std::string prefix = common::KeyBuilder().AddString("i").Release();
  size_t records = 0;
  storage::ReadOptions bounds;
  bounds.lower_bound = prefix;
  bounds.upper_bound = common::PrefixSuccessor(prefix);
  auto it = data.dir->kv().NewIterator(storage::Keyspace::kAudit, bounds);
  for (it->Seek(prefix); it->Valid(); it->Next()) ++records;
  // 3000 events x 5 index kinds would be 15,000 per-event records.
  EXPECT_GT(records, 0u);
  EXPECT_LT(records, 15'000u);
}

TEST(AuditIndexerTest, LostIndexRecordsAreRebuiltFromTheLogOnOpen) {
  TempDir tmp;
  const std::string path = tmp.Sub("d");
  auto data = CreateDataDir(path);
  const auto events = JitteredEvents(500);
  {
    auto log = *AuditLog::Open(data.dir->kv(), data.dir->keyring(), QuietOptions());
    AppendAll(*log, events);
    ASSERT_TRUE(log->Query(EventQuery{}).ok());
  }
  // Lose every index record and the watermark, as a crash before their (unsynced) write
  // reached the disk could.
  storage::WriteBatch wipe;
  for (const std::string tag : {"i", "w"}) {
    std::string prefix = common::KeyBuilder().AddString(tag).Release();
    storage::ReadOptions bounds;
    bounds.lower_bound = prefix;
    bounds.upper_bound = common::PrefixSuccessor(prefix);
    auto it = data.dir->kv().NewIterator(storage::Keyspace::kAudit, bounds);
    for (it->Seek(prefix); it->Valid(); it->Next()) {
      wipe.Delete(storage::Keyspace::kAudit, it->key());
    }
  }
  ASSERT_GT(wipe.size(), 1u);
  ASSERT_TRUE(data.dir->kv().Write(wipe, {}).ok());
  ASSERT_EQ(*AuditIndexer::ReadWatermark(data.dir->kv()), 0u);

  auto log = *AuditLog::Open(data.dir->kv(), data.dir->keyring(), QuietOptions());
  EventQuery by_bob;
  by_bob.principal = "User::bob";
  by_bob.limit = 50;
  EXPECT_EQ(AllPages(*log, by_bob), BruteForce(events, by_bob));
  EXPECT_EQ(*AuditIndexer::ReadWatermark(data.dir->kv()), 500u);
}

TEST(AuditIndexerTest, ShreddedSegmentsAreSkippedByQueriesAndCatchUp) {
  TempDir tmp;
  auto data = CreateDataDir(tmp.Sub("d"));
  auto log = *AuditLog::Open(data.dir->kv(), data.dir->keyring(), QuietOptions());
  AppendAll(*log, JitteredEvents(30));
  ASSERT_TRUE(log->Query(EventQuery{}).ok());
  ASSERT_TRUE(data.dir->keyring().ShredDataKey(SegmentKeyOwner(0)).ok());
  EventQuery all;
  auto page = log->Query(all);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_TRUE(page->hits.empty());
  EXPECT_TRUE(page->next_page_token.empty());
  log.reset();
  // Catch-up over shredded entries indexes nothing and does not fail.
  storage::WriteBatch wipe;
  wipe.Delete(storage::Keyspace::kAudit, common::KeyBuilder().AddString("w").Release());
  ASSERT_TRUE(data.dir->kv().Write(wipe, {}).ok());
  log = *AuditLog::Open(data.dir->kv(), data.dir->keyring(), QuietOptions());
  page = log->Query(all);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_TRUE(page->hits.empty());
}

TEST(AuditIndexerTest, AnUnreadableEntryFailsQueriesInsteadOfHidingEvents) {
  TempDir tmp;
  auto data = CreateDataDir(tmp.Sub("d"));
  {
    auto log = *AuditLog::Open(data.dir->kv(), data.dir->keyring(), QuietOptions());
    AppendAll(*log, JitteredEvents(10));
  }
  // Entry 4 altered and the index lost: catch-up cannot read it back.
  std::string sealed = **data.dir->kv().Get(storage::Keyspace::kAudit, EntryKey(4));
  sealed[sealed.size() / 2] ^= 1;
  storage::WriteBatch batch;
  batch.Put(storage::Keyspace::kAudit, EntryKey(4), sealed);
  batch.Delete(storage::Keyspace::kAudit, common::KeyBuilder().AddString("w").Release());
  ASSERT_TRUE(data.dir->kv().Write(batch, {}).ok());
  auto log = *AuditLog::Open(data.dir->kv(), data.dir->keyring(), QuietOptions());
  auto page = log->Query(EventQuery{});
  ASSERT_FALSE(page.ok());
  EXPECT_NE(page.status().message().find("audit index stopped at entry 4"), std::string::npos)
      << page.status().ToString();
}

TEST(AuditIndexerTest, AnIndexAheadOfTheLogIsReportedOnOpen) {
  TempDir tmp;
  auto data = CreateDataDir(tmp.Sub("d"));
  {
    auto log = *AuditLog::Open(data.dir->kv(), data.dir->keyring(), QuietOptions());
    AppendAll(*log, JitteredEvents(5));
    ASSERT_TRUE(log->Query(EventQuery{}).ok());
  }
  ASSERT_TRUE(data.dir->kv()
                  .Put(storage::Keyspace::kAudit, common::KeyBuilder().AddString("w").Release(),
                       common::KeyBuilder().AddUint64(9).Release())
                  .ok());
  auto log = AuditLog::Open(data.dir->kv(), data.dir->keyring(), QuietOptions());
  ASSERT_FALSE(log.ok());
  EXPECT_EQ(log.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(log.status().message().find("covers 9 entries but the log holds 5"), std::string::npos)
      << log.status().ToString();
}

}  // namespace
}  // namespace custos::audit
