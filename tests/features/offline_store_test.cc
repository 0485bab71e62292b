// Offline store: block codec round trips, atomic ingestion and schema checks, encryption at
// rest (no plaintext on disk), tampering, retention purge and crypto-shredding.
#include "features/offline_store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/key_encoding.h"
#include "features/offline_block.h"
#include "features_test_util.h"

namespace custos::features::testing {
namespace {

std::vector<std::string> FilesContaining(const std::string& dir, std::string_view needle) {
  std::vector<std::string> hits;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    if (ss.str().find(needle) != std::string::npos) hits.push_back(entry.path().string());
  }
  return hits;
}

TEST(OfflineBlockTest, ColumnRoundTripEveryType) {
  std::vector<ValueType> types = {Int64(),
                                  Double(),
                                  String(),
                                  {ScalarType::kBool, false},
                                  {ScalarType::kTimestamp, false},
                                  {ScalarType::kInt64, true},
                                  {ScalarType::kString, true}};
  for (const ValueType& type : types) {
    ColumnVector col(type);
    const size_t n = 1000;
    for (size_t i = 0; i < n; ++i) {
      if (i % 7 == 3) {
        col.AppendNull();
        continue;
      }
      catalog::Value v;
      if (type.is_list) {
        std::vector<catalog::Scalar> list;
        for (size_t k = 0; k < i % 4; ++k) {
          if (type.scalar == ScalarType::kInt64) {
            list.emplace_back(static_cast<int64_t>(i * k) - 5);
          } else {
            list.emplace_back(std::string(k, 'x'));
          }
        }
        v = list;
      } else if (type.scalar == ScalarType::kInt64) {
        v = static_cast<int64_t>(i * 1000003) - (i % 2 == 0 ? INT64_MAX / 2 : 0);
      } else if (type.scalar == ScalarType::kDouble) {
        v = static_cast<double>(i) / 3;
      } else if (type.scalar == ScalarType::kString) {
        v = std::string("s,\"") + std::to_string(i);
      } else if (type.scalar == ScalarType::kBool) {
        v = i % 3 == 0;
      } else {
        v = catalog::Timestamp{static_cast<int64_t>(i) * kSecond + 1767225600LL * kSecond};
      }
      ASSERT_TRUE(col.AppendValue(v).ok());
    }
    std::vector<uint32_t> rows;
    for (uint32_t i = 0; i < n; i += 2) rows.push_back(i);  // every other row
    std::string block;
    EncodeColumnBlock(col, rows.data(), rows.size(), block);
    ColumnVector back;
    ASSERT_TRUE(DecodeColumnBlock(block, type, rows.size(), back).ok())
        << catalog::ValueTypeName(type);
    ASSERT_EQ(back.size(), rows.size());
    for (size_t i = 0; i < rows.size(); ++i) {
      EXPECT_TRUE(back.ValueAt(i) == col.ValueAt(rows[i]))
          << catalog::ValueTypeName(type) << " " << i;
    }
    // A truncated block is DataLoss, not garbage.
    ColumnVector bad;
    Status s = DecodeColumnBlock(std::string_view(block).substr(0, block.size() - 9), type,
                                 rows.size(), bad);
    EXPECT_EQ(s.code(), StatusCode::kDataLoss) << catalog::ValueTypeName(type);
  }
}

TEST(OfflineBlockTest, ExtremeInt64RangeUsesRawWidth) {
  ColumnVector col(Int64());
  col.AppendInt64(INT64_MIN);
  col.AppendInt64(INT64_MAX);
  col.AppendInt64(0);
  std::vector<uint32_t> rows = {0, 1, 2};
  std::string block;
  EncodeColumnBlock(col, rows.data(), 3, block);
  ColumnVector back;
  ASSERT_TRUE(DecodeColumnBlock(block, Int64(), 3, back).ok());
  EXPECT_EQ(back.Int64At(0), INT64_MIN);
  EXPECT_EQ(back.Int64At(1), INT64_MAX);
  EXPECT_EQ(back.Int64At(2), 0);
}

TEST(OfflineBlockTest, KeyRuns) {
  std::vector<std::string_view> keys = {"a", "a", "b", "c", "c", "c"};
  std::vector<uint32_t> rows = {0, 1, 2, 3, 4, 5};
  std::string block;
  EncodeKeyBlock(keys, rows.data(), rows.size(), block);
  KeyRuns runs;
  ASSERT_TRUE(DecodeKeyBlock(block, 6, runs).ok());
  ASSERT_EQ(runs.runs(), 3u);
  EXPECT_EQ(runs.key(2), "c");
  EXPECT_EQ(runs.run_start, (std::vector<uint32_t>{0, 2, 3, 6}));
  EXPECT_EQ(DecodeKeyBlock(block, 7, runs).code(), StatusCode::kDataLoss);
}

using OfflineStoreTest = OfflineFixture;

TEST_F(OfflineStoreTest, IngestCutsSortedBlocksAtKeyBoundaries) {
  Close();
  OfflineStoreOptions options;
  options.rows_per_block = 4;
  Open(options);
  std::vector<DriverRow> rows;
  for (int64_t id = 9; id >= 0; --id) {
    for (int64_t t = 0; t < 3; ++t) rows.push_back({id, 100 + t, 100 + t, 0.5});
  }
  auto r = store_->Ingest(DriverSchema(), DriverBatch(rows));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->ingestion, 1u);
  EXPECT_EQ(r->rows, 30u);
  // 3 rows per key, target 4: each block takes two keys (6 rows), the last one 2 keys.
  EXPECT_EQ(r->blocks, 5u);
  auto reader = store_->OpenView(DriverSchema());
  ASSERT_TRUE(reader.ok());
  ASSERT_EQ((*reader)->blocks().size(), 5u);
  EXPECT_EQ((*reader)->blocks()[0].rows, 6u);
  EXPECT_EQ((*reader)->blocks()[0].min_event_ts, 100 * kSecond);
  EXPECT_EQ((*reader)->blocks()[0].max_event_ts, 102 * kSecond);
  KeyRuns runs;
  ASSERT_TRUE((*reader)->ReadKeys(0, runs).ok());
  EXPECT_EQ(runs.runs(), 2u);
  auto second = store_->Ingest(DriverSchema(), DriverBatch({{1, 1, 1, 0.1}}));
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->ingestion, 2u);
}

TEST_F(OfflineStoreTest, RejectsMismatchedBatchesWithoutWriting) {
  OfflineBatch batch = DriverBatch({{1, 1, 1, 0.1}, {2, 2, 2, 0.2}});
  batch.features[1].AppendInt64(5);  // one row too many
  auto r = store_->Ingest(DriverSchema(), batch);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "feature 'trips' has 3 rows; the batch has 2");

  OfflineBatch nulls = DriverBatch({{1, 1, 1, 0.1}});
  nulls.join_keys[0].valid[0] = 0;
  r = store_->Ingest(DriverSchema(), nulls);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "join key 'driver_id' is null in row 1; every entity row needs its keys");

  auto reader = store_->OpenView(DriverSchema());
  ASSERT_TRUE(reader.ok());
  EXPECT_TRUE((*reader)->blocks().empty());
}

TEST_F(OfflineStoreTest, SchemaOfAVersionIsImmutable) {
  Ingest({{1, 1, 1, 0.1}});
  OfflineViewSchema changed = DriverSchema();
  changed.features[1].type = Double();
  OfflineBatch b = MakeOfflineBatch(changed);
  auto r = store_->Ingest(changed, b);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(store_->OpenView(changed).status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(OfflineStoreTest, NoPlaintextOnDisk) {
  const std::string secret_city = "Zanzibar-secret-city-4711";
  std::vector<DriverRow> rows;
  for (int64_t i = 0; i < 500; ++i) rows.push_back({i, 100, 100, 0.25, 424242, secret_city});
  Ingest(rows);
  Close();  // flush and release files
  EXPECT_TRUE(FilesContaining(dir_.path(), secret_city).empty());
  EXPECT_TRUE(FilesContaining(dir_.path(), "Zanzibar").empty());
  Open();
  PitResult r = Join(DriverEntities({{7, 100}}), {{DriverSchema(), {"city"}, 0}});
  EXPECT_EQ(r.values[0].BytesAt(0), secret_city);
}

// Every raw record of the offline keyspace.
std::vector<std::pair<std::string, std::string>> RawRecords(storage::Kv& kv) {
  std::vector<std::pair<std::string, std::string>> out;
  auto it = kv.NewIterator(storage::Keyspace::kOffline);
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    out.emplace_back(std::string(it->key()), std::string(it->value()));
  }
  return out;
}

TEST_F(OfflineStoreTest, TamperedBlockIsDataLossNotWrongData) {
  Ingest({{1, 100, 100, 0.1}, {2, 100, 100, 0.2}});
  auto records = RawRecords(*kv_);
  // meta + index + 6 columns (keys, event_ts, created_ts, 3 features).
  ASSERT_EQ(records.size(), 8u);
  // The event_ts column of the block: flip one ciphertext bit.
  auto reader = store_->OpenView(DriverSchema());
  ASSERT_TRUE(reader.ok());
  std::string column_key = (*reader)->blocks()[0].column_prefix;
  column_key += std::string("\0\0\0\1", 4);  // column 1: event_ts
  std::string value;
  for (auto& [k, v] : records) {
    if (k == column_key) value = v;
  }
  ASSERT_FALSE(value.empty());
  value[value.size() / 2] ^= 0x01;
  ASSERT_TRUE(kv_->Put(storage::Keyspace::kOffline, column_key, value).ok());
  auto r = PointInTimeJoin(*store_, DriverEntities({{1, 100}}), {{DriverSchema(), {}, 0}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
}

TEST_F(OfflineStoreTest, BlockMovedToAnotherKeyFailsToOpen) {
  Ingest({{1, 100, 100, 0.1}});
  auto reader = store_->OpenView(DriverSchema());
  ASSERT_TRUE(reader.ok());
  const std::string prefix = (*reader)->blocks()[0].column_prefix;
  auto conv = kv_->Get(storage::Keyspace::kOffline, prefix + std::string("\0\0\0\3", 4));
  ASSERT_TRUE(conv.ok() && conv->has_value());
  // Put the conv_rate column where the trips column belongs: same DEK, other record.
  ASSERT_TRUE(
      kv_->Put(storage::Keyspace::kOffline, prefix + std::string("\0\0\0\4", 4), **conv).ok());
  auto r = PointInTimeJoin(*store_, DriverEntities({{1, 100}}), {{DriverSchema(), {"trips"}, 0}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
}

TEST_F(OfflineStoreTest, ShreddingMakesTheVersionUnreadable) {
  Ingest({{1, 100, 100, 0.1}});
  Ingest({{1, 100, 100, 0.1}}, DriverSchema("driver_stats:2"));
  auto before = RawRecords(*kv_);
  ASSERT_FALSE(before.empty());
  ASSERT_TRUE(store_->OpenView(DriverSchema()).ok());
  ASSERT_TRUE(store_->Shred("driver_stats:1").ok());
  EXPECT_TRUE(keyring_->IsShredded(OfflineStore::DekOwner("driver_stats:1")));
  // The version cannot be read or written again.
  auto open = store_->OpenView(DriverSchema());
  ASSERT_FALSE(open.ok());
  EXPECT_EQ(open.status().code(), StatusCode::kFailedPrecondition);
  auto join = PointInTimeJoin(*store_, DriverEntities({{1, 100}}), {{DriverSchema(), {}, 0}});
  EXPECT_EQ(join.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(store_->Ingest(DriverSchema(), DriverBatch({{1, 1, 1, 0.1}})).status().code(),
            StatusCode::kFailedPrecondition);
  // Its records are gone, and a copy made before cannot be decrypted: the DEK is gone.
  for (const auto& [k, v] : RawRecords(*kv_)) {
    EXPECT_TRUE(k.starts_with(common::KeyBuilder().AddString("driver_stats:2").key()));
  }
  EXPECT_EQ(keyring_->GetDataKey(OfflineStore::DekOwner("driver_stats:1")).status().code(),
            StatusCode::kNotFound);
  Close();
  Open();
  EXPECT_EQ(keyring_->GetDataKey(OfflineStore::DekOwner("driver_stats:1")).status().code(),
            StatusCode::kNotFound);
  // The other version is untouched.
  PitResult r = Join(DriverEntities({{1, 100}}), {{DriverSchema("driver_stats:2"), {}, 0}});
  EXPECT_EQ(r.values[0].DoubleAt(0), 0.1);
}

TEST_F(OfflineStoreTest, RetentionPurgeRewritesBlocks) {
  Close();
  OfflineStoreOptions options;
  options.rows_per_block = 4;
  Open(options);
  Ingest({{1, 10, 10, 0.1},
          {1, 20, 20, 0.2},
          {1, 30, 30, 0.3},
          {2, 5, 5, 2.0},
          {2, 6, 6, 2.1},
          {3, 40, 40, 3.0}});
  Ingest({{4, 1, 1, 4.0}});
  auto purge = store_->PurgeBefore(DriverSchema(), 20 * kSecond);
  ASSERT_TRUE(purge.ok()) << purge.status().ToString();
  EXPECT_EQ(purge->rows_purged, 4u);       // 1@10, 2@5, 2@6, 4@1
  EXPECT_EQ(purge->blocks_deleted, 1u);    // the second ingestion's block
  EXPECT_EQ(purge->blocks_rewritten, 1u);  // [1@10 1@20 1@30 2@5 2@6]; [3@40] is untouched
  PitResult r = Join(DriverEntities({{1, 15}, {1, 25}, {2, 100}, {3, 100}, {4, 100}}),
                     {{DriverSchema(), {"conv_rate"}, 0}});
  EXPECT_TRUE(r.values[0].IsNull(0));  // the row at 10 is gone
  EXPECT_EQ(r.values[0].DoubleAt(1), 0.2);
  EXPECT_TRUE(r.values[0].IsNull(2));
  EXPECT_EQ(r.values[0].DoubleAt(3), 3.0);
  EXPECT_TRUE(r.values[0].IsNull(4));
  auto again = store_->PurgeBefore(DriverSchema(), 20 * kSecond);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->rows_purged, 0u);
}

}  // namespace
}  // namespace custos::features::testing
