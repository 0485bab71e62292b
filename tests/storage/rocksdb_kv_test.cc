// The RocksDB engine: keyspaces are separate, batches are atomic, scans are ordered
// and bounded, snapshots are stable, and a second opener is refused.
#include "storage/rocksdb_kv.h"

#include <gtest/gtest.h>

#include "common/key_encoding.h"
#include "test_dirs.h"

namespace custos::storage {
namespace {

using testing::TempDir;

std::unique_ptr<RocksDbKv> OpenAt(const std::string& path) {
  auto kv = RocksDbKv::Open({.path = path});
  EXPECT_TRUE(kv.ok()) << kv.status().ToString();
  return std::move(*kv);
}

TEST(RocksDbKvTest, KeyspacesAreSeparate) {
  TempDir tmp;
  auto kv = OpenAt(tmp.Sub("db"));
  ASSERT_TRUE(kv->Put(Keyspace::kOnline, "k", "online").ok());
  ASSERT_TRUE(kv->Put(Keyspace::kOffline, "k", "offline").ok());
  EXPECT_EQ(**kv->Get(Keyspace::kOnline, "k"), "online");
  EXPECT_EQ(**kv->Get(Keyspace::kOffline, "k"), "offline");
  EXPECT_FALSE(kv->Get(Keyspace::kAudit, "k")->has_value());
  ASSERT_TRUE(kv->Delete(Keyspace::kOnline, "k").ok());
  EXPECT_FALSE(kv->Get(Keyspace::kOnline, "k")->has_value());
  EXPECT_TRUE(kv->Get(Keyspace::kOffline, "k")->has_value());
}

TEST(RocksDbKvTest, BatchAppliesAcrossKeyspaces) {
  TempDir tmp;
  auto kv = OpenAt(tmp.Sub("db"));
  WriteBatch batch;
  batch.Put(Keyspace::kCatalog, "a", "1");
  batch.Put(Keyspace::kLineage, "b", "2");
  batch.Delete(Keyspace::kCatalog, "missing");
  ASSERT_TRUE(kv->Write(batch).ok());
  EXPECT_EQ(**kv->Get(Keyspace::kCatalog, "a"), "1");
  EXPECT_EQ(**kv->Get(Keyspace::kLineage, "b"), "2");
}

TEST(RocksDbKvTest, PrefixScanIsOrderedAndBounded) {
  TempDir tmp;
  auto kv = OpenAt(tmp.Sub("db"));
  // Order-preserving keys: view | signed timestamp.
  for (int64_t ts : {5, -3, 100, 0}) {
    std::string key = common::KeyBuilder().AddString("v1").AddInt64(ts).Release();
    ASSERT_TRUE(kv->Put(Keyspace::kOffline, key, std::to_string(ts)).ok());
  }
  ASSERT_TRUE(kv->Put(Keyspace::kOffline, common::KeyBuilder().AddString("v10").AddInt64(1).key(),
                      "other view")
                  .ok());
  std::vector<std::string> seen;
  std::string prefix = common::KeyBuilder().AddString("v1").Release();
  ASSERT_TRUE(kv->ScanPrefix(Keyspace::kOffline, prefix, [&](auto, std::string_view v) {
                  seen.emplace_back(v);
                  return Status::Ok();
                }).ok());
  EXPECT_EQ(seen, (std::vector<std::string>{"-3", "0", "5", "100"}));

  // Point-in-time style seek: the greatest ts <= 50.
  auto it = kv->NewIterator(Keyspace::kOffline);
  it->SeekForPrev(common::KeyBuilder().AddString("v1").AddInt64(50).key());
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(it->value(), "5");
}

TEST(RocksDbKvTest, ScanStopsOnVisitorError) {
  TempDir tmp;
  auto kv = OpenAt(tmp.Sub("db"));
  for (char c = 'a'; c <= 'e'; ++c)
    ASSERT_TRUE(kv->Put(Keyspace::kCatalog, std::string(1, c), "x").ok());
  int visits = 0;
  Status s = kv->ScanPrefix(Keyspace::kCatalog, "", [&](std::string_view k, auto) {
    ++visits;
    return k == "c" ? InvalidArgumentError("stop at c") : Status::Ok();
  });
  EXPECT_EQ(s.message(), "stop at c");
  EXPECT_EQ(visits, 3);
}

TEST(RocksDbKvTest, SnapshotIgnoresLaterWrites) {
  TempDir tmp;
  auto kv = OpenAt(tmp.Sub("db"));
  ASSERT_TRUE(kv->Put(Keyspace::kOnline, "k", "before").ok());
  auto snap = kv->GetSnapshot();
  ASSERT_TRUE(kv->Put(Keyspace::kOnline, "k", "after").ok());
  ASSERT_TRUE(kv->Put(Keyspace::kOnline, "k2", "new").ok());
  EXPECT_EQ(**kv->Get(Keyspace::kOnline, "k", {.snapshot = snap.get()}), "before");
  EXPECT_FALSE(kv->Get(Keyspace::kOnline, "k2", {.snapshot = snap.get()})->has_value());
  EXPECT_EQ(**kv->Get(Keyspace::kOnline, "k"), "after");
}

TEST(RocksDbKvTest, DataSurvivesReopen) {
  TempDir tmp;
  {
    auto kv = OpenAt(tmp.Sub("db"));
    ASSERT_TRUE(kv->Put(Keyspace::kIdentity, "u", "alice").ok());
  }
  auto kv = OpenAt(tmp.Sub("db"));
  EXPECT_EQ(**kv->Get(Keyspace::kIdentity, "u"), "alice");
}

TEST(RocksDbKvTest, SecondOpenerIsRefused) {
  TempDir tmp;
  auto first = OpenAt(tmp.Sub("db"));
  auto second = RocksDbKv::Open({.path = tmp.Sub("db")});
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(second.status().message().find("another custos process holds this data directory"),
            std::string::npos)
      << second.status().message();
}

TEST(RocksDbKvTest, PurgeDeletedRemovesOldValuesFromFiles) {
  TempDir tmp;
  auto kv = OpenAt(tmp.Sub("db"));
  const std::string marker = "PURGE-ME-7f3a9c";
  ASSERT_TRUE(kv->Put(Keyspace::kKeys, "k", marker).ok());
  ASSERT_TRUE(kv->PurgeDeleted(Keyspace::kKeys).ok());                 // now in an SST file
  EXPECT_FALSE(testing::FilesContaining(tmp.path(), marker).empty());  // the search works
  ASSERT_TRUE(kv->Delete(Keyspace::kKeys, "k").ok());
  ASSERT_TRUE(kv->PurgeDeleted(Keyspace::kKeys).ok());
  EXPECT_EQ(testing::FilesContaining(tmp.path(), marker), std::vector<std::string>{});
}

}  // namespace
}  // namespace custos::storage
