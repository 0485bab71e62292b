// The online store: latest-row selection (Feast's order, also across ingestions out of
// order), the row and entity-key codecs, scans, retention purge, and crypto-shredding taking
// effect at once for readers that already opened the version.
#include "features/online_store.h"

#include <gtest/gtest.h>

#include "features_test_util.h"

namespace custos::features {
namespace {

using testing::DriverBatch;
using testing::DriverSchema;
using testing::kSecond;

class OnlineStoreTest : public testing::OfflineFixture {
 protected:
  void SetUp() override {
    OfflineFixture::SetUp();
    online_ = std::make_unique<OnlineStore>(*kv_, *keyring_);
  }
  void TearDown() override {
    online_.reset();
    OfflineFixture::TearDown();
  }
  size_t Stage(const std::vector<testing::DriverRow>& rows) {
    storage::WriteBatch write;
    auto n = online_->StageLatest(DriverSchema(), DriverBatch(rows), write);
    EXPECT_TRUE(n.ok()) << n.status().ToString();
    EXPECT_TRUE(kv_->Write(write).ok());
    return n.ok() ? *n : 0;
  }
  std::optional<OnlineRow> Row(int64_t driver) {
    auto key = EncodeEntityKey(DriverSchema().join_keys, {catalog::Value(driver)});
    EXPECT_TRUE(key.ok());
    auto row = online_->Read(DriverSchema(), *key);
    EXPECT_TRUE(row.ok()) << row.status().ToString();
    return row.ok() ? *row : std::nullopt;
  }
  std::unique_ptr<OnlineStore> online_;
};

TEST_F(OnlineStoreTest, KeepsTheLatestRowByEventThenCreatedTime) {
  EXPECT_EQ(Stage({{1, 10, 10, 0.1, 1, "a"},
                   {1, 20, 5, 0.2, 2, "b"},
                   {1, 20, 6, 0.3, 3, "c"},  // same event time, later created: wins
                   {2, 5, 5, 0.9, std::nullopt, std::nullopt}}),
            2u);
  std::optional<OnlineRow> r1 = Row(1);
  ASSERT_TRUE(r1.has_value());
  EXPECT_EQ(r1->event_ts, 20 * kSecond);
  EXPECT_EQ(r1->created_ts, 6 * kSecond);
  EXPECT_EQ(std::get<double>(r1->features[0]), 0.3);
  EXPECT_EQ(std::get<std::string>(r1->features[2]), "c");
  std::optional<OnlineRow> r2 = Row(2);
  ASSERT_TRUE(r2.has_value());
  EXPECT_TRUE(std::holds_alternative<std::monostate>(r2->features[1]));
  EXPECT_FALSE(Row(3).has_value());

  // Older history ingested later leaves the newer row alone; a newer row replaces it.
  EXPECT_EQ(Stage({{1, 15, 99, 9.9, 9, "old"}}), 0u);
  EXPECT_EQ(std::get<std::string>(Row(1)->features[2]), "c");
  EXPECT_EQ(Stage({{1, 30, 1, 1.5, 4, "new"}}), 1u);
  EXPECT_EQ(std::get<std::string>(Row(1)->features[2]), "new");
}

TEST_F(OnlineStoreTest, ScanDecodesKeysAndPurgeDropsOldRows) {
  Stage({{1, 10, 10, 0.1, 1, "a"}, {2, 50, 50, 0.2, 2, "b"}, {-7, 60, 60, 0.3, 3, "c"}});
  std::vector<int64_t> seen;
  ASSERT_TRUE(online_
                  ->Scan(DriverSchema(),
                         [&](std::string_view key, const OnlineRow&) -> Status {
                           auto keys = DecodeEntityKey(DriverSchema().join_keys, key);
                           if (!keys.ok()) return keys.status();
                           seen.push_back(std::get<int64_t>((*keys)[0]));
                           return Status::Ok();
                         })
                  .ok());
  EXPECT_EQ(seen, (std::vector<int64_t>{-7, 1, 2}));  // key order is numeric order
  auto purged = online_->PurgeBefore(DriverSchema(), 50 * kSecond);
  ASSERT_TRUE(purged.ok());
  EXPECT_EQ(*purged, 1u);
  EXPECT_FALSE(Row(1).has_value());
  EXPECT_TRUE(Row(2).has_value());
}

TEST_F(OnlineStoreTest, ShreddingTakesEffectForAnOpenReader) {
  Stage({{1, 10, 10, 0.1, 1, "a"}});
  ASSERT_TRUE(Row(1).has_value());  // the version's keyspace is now open and cached
  ASSERT_TRUE(keyring_->ShredDataKey(OfflineStore::DekOwner(DriverSchema().version_id)).ok());
  auto key = EncodeEntityKey(DriverSchema().join_keys, {catalog::Value(int64_t{1})});
  auto row = online_->Read(DriverSchema(), *key);
  ASSERT_FALSE(row.ok());
  EXPECT_EQ(row.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(std::string(row.status().message()).find("crypto-shredded"), std::string::npos);
}

TEST_F(OnlineStoreTest, CodecsRejectDamagedBytes) {
  OfflineBatch b = DriverBatch({{1, 10, 11, 0.5, 7, "x"}});
  std::string bytes = EncodeOnlineRow(DriverSchema(), 10, 11, b.features, 0);
  auto row = DecodeOnlineRow(DriverSchema(), bytes);
  ASSERT_TRUE(row.ok());
  EXPECT_EQ(std::get<int64_t>(row->features[1]), 7);
  EXPECT_EQ(DecodeOnlineRow(DriverSchema(), bytes.substr(0, bytes.size() - 1)).status().code(),
            StatusCode::kDataLoss);
  EXPECT_EQ(DecodeOnlineRow(DriverSchema(), bytes + "z").status().code(), StatusCode::kDataLoss);
  std::vector<Column> keys = {{"city", {catalog::ScalarType::kString, false}},
                              {"ok", {catalog::ScalarType::kBool, false}}};
  auto key = EncodeEntityKey(keys, {catalog::Value(std::string("a\0b", 3)), catalog::Value(true)});
  ASSERT_TRUE(key.ok());
  auto back = DecodeEntityKey(keys, *key);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(std::get<std::string>((*back)[0]), std::string("a\0b", 3));
  EXPECT_EQ(DecodeEntityKey(keys, key->substr(0, key->size() - 1)).status().code(),
            StatusCode::kDataLoss);
  EXPECT_EQ(DecodeEntityKey(keys, *key + "x").status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(
      EncodeEntityKey(keys, {catalog::Value(int64_t{1}), catalog::Value(true)}).status().code(),
      StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace custos::features
