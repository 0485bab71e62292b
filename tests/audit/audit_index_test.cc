// The audit index's record layout: the exact keys and posting values AuditIndex::AddTo
// writes for a few events (one record per name, time bucket and call, in key order).
#include "audit/audit_index.h"

#include <gtest/gtest.h>

#include <map>
#include <tuple>
#include <vector>

#include "common/key_encoding.h"
#include "log_test_util.h"

namespace custos::audit {
namespace {

using testing::CreateDataDir;
using testing::TempDir;

std::string Posting(int64_t time, uint64_t index) {
  return common::KeyBuilder().AddInt64(time).AddUint64(index).Release();
}

struct ParsedKey {
  std::string kind;
  std::string name;  // the MAC, or the decision number as text; empty for "t"
  int64_t bucket = 0;
  uint64_t first = 0;
};

ParsedKey Parse(std::string_view key) {
  common::KeyReader reader(key);
  ParsedKey parsed;
  EXPECT_EQ(*reader.ReadString(), "i");
  parsed.kind = *reader.ReadString();
  if (parsed.kind == "d") {
    parsed.name = std::to_string(*reader.ReadUint32());
  } else if (parsed.kind != "t") {
    parsed.name = *reader.ReadString();
  }
  parsed.bucket = *reader.ReadInt64();
  parsed.first = *reader.ReadUint64();
  EXPECT_TRUE(reader.Done());
  return parsed;
}

TEST(AuditIndexTest, AddToWritesOneRecordPerNameAndBucketInKeyOrder) {
  TempDir tmp;
  auto data = CreateDataDir(tmp.Sub("d"));
  auto index = AuditIndex::Open(data.dir->kv(), data.dir->keyring());
  ASSERT_TRUE(index.ok()) << index.status().ToString();

  // Buckets are 2^16 microseconds: events 10 and 11 share bucket 1, event 12 is in
  // bucket 3. Events 10 and 12 share a principal; 11 has two resources.
  const int64_t t0 = int64_t{1} << 16;
  IndexTerms a{t0 + 5, "alice", "read", Decision::kAllow, {"FeatureView::f1"}};
  IndexTerms b{t0 + 9, "bob", "read", Decision::kDeny, {"FeatureView::f1", "Dataset::d"}};
  IndexTerms c{3 * t0, "alice", "write", Decision::kAllow, {"Dataset::d"}};
  std::vector<IndexedEvent> events{{10, &a}, {11, &b}, {12, &c}};
  storage::WriteBatch batch;
  index->AddTo(batch, events);

  // p: alice@1, bob@1, alice@3; a: read@1, write@3; d: allow@1, deny@1, allow@3;
  // t: @1, @3; r: f1@1, d@1, d@3.
  ASSERT_EQ(batch.size(), 13u);
  for (size_t i = 1; i < batch.size(); ++i) {
    EXPECT_LT(batch.ops()[i - 1].key, batch.ops()[i].key) << "record " << i;
  }
  std::map<std::tuple<std::string, int64_t, uint64_t>, std::string> values;
  for (const auto& op : batch.ops()) {
    EXPECT_EQ(op.keyspace, storage::Keyspace::kAudit);
    ASSERT_TRUE(op.value.has_value());
    ParsedKey key = Parse(op.key);
    if (key.kind == "p" || key.kind == "a" || key.kind == "r") {
      EXPECT_EQ(key.name.size(), 16u) << "names are stored as 16-byte MACs";
    }
    values[{key.kind + ":" + key.name, key.bucket, key.first}] = *op.value;
  }
  // The time index: every event, in log order, per bucket.
  EXPECT_EQ((values[{"t:", 1, 10}]), Posting(t0 + 5, 10) + Posting(t0 + 9, 11));
  EXPECT_EQ((values[{"t:", 3, 12}]), Posting(3 * t0, 12));
  EXPECT_EQ((values[{"d:0", 1, 10}]), Posting(t0 + 5, 10));
  EXPECT_EQ((values[{"d:1", 1, 11}]), Posting(t0 + 9, 11));
  EXPECT_EQ((values[{"d:0", 3, 12}]), Posting(3 * t0, 12));
  // Named records: the same name has the same MAC in every bucket.
  std::map<std::string, std::vector<std::tuple<int64_t, uint64_t, std::string>>> by_name;
  for (const auto& [id, value] : values) {
    const auto& [name, bucket, first] = id;
    if (name[0] == 'p' || name[0] == 'a' || name[0] == 'r') {
      by_name[name].push_back({bucket, first, value});
    }
  }
  // alice (bucket 1 and 3), bob; read, write; f1, d (bucket 1 and 3).
  ASSERT_EQ(by_name.size(), 6u);
  size_t alice = 0, dataset = 0, read = 0;
  for (const auto& [name, records] : by_name) {
    if (records.size() == 2 && name[0] == 'p') {
      ++alice;
      EXPECT_EQ(records[0], std::make_tuple(int64_t{1}, uint64_t{10}, Posting(t0 + 5, 10)));
      EXPECT_EQ(records[1], std::make_tuple(int64_t{3}, uint64_t{12}, Posting(3 * t0, 12)));
    }
    if (records.size() == 2 && name[0] == 'r') {
      ++dataset;
      EXPECT_EQ(records[0], std::make_tuple(int64_t{1}, uint64_t{11}, Posting(t0 + 9, 11)));
      EXPECT_EQ(records[1], std::make_tuple(int64_t{3}, uint64_t{12}, Posting(3 * t0, 12)));
    }
    if (name[0] == 'a' &&
        records[0] ==
            std::make_tuple(int64_t{1}, uint64_t{10}, Posting(t0 + 5, 10) + Posting(t0 + 9, 11))) {
      ++read;  // both bucket-1 events
    }
  }
  EXPECT_EQ(alice, 1u);
  EXPECT_EQ(dataset, 1u);
  EXPECT_EQ(read, 1u);
}

}  // namespace
}  // namespace custos::audit
