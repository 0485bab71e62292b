// Test fixture for the offline store: a RocksDB directory, a keyring over it and an
// OfflineStore, plus helpers that build batches and entity rows from plain rows.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "../testing/temp_dir.h"
#include "common/clock.h"
#include "crypto/keyring.h"
#include "crypto/software_kek_backend.h"
#include "features/entity_rows.h"
#include "features/offline_store.h"
#include "features/point_in_time.h"
#include "storage/key_record_store_kv.h"
#include "storage/rocksdb_kv.h"

namespace custos::features::testing {

constexpr int64_t kSecond = 1000000;
using catalog::ScalarType;
using catalog::ValueType;

inline ValueType Int64() { return {ScalarType::kInt64, false}; }
inline ValueType Double() { return {ScalarType::kDouble, false}; }
inline ValueType String() { return {ScalarType::kString, false}; }

// driver_stats:1: join key driver_id (int64); features conv_rate (double), trips (int64),
// city (string).
inline OfflineViewSchema DriverSchema(std::string version = "driver_stats:1") {
  return {std::move(version),
          {{"driver_id", Int64()}},
          {{"conv_rate", Double()}, {"trips", Int64()}, {"city", String()}}};
}

// One offline row of DriverSchema; nullopt features are null. Times in seconds.
struct DriverRow {
  int64_t driver_id;
  int64_t event_s;
  int64_t created_s;
  std::optional<double> conv_rate;
  std::optional<int64_t> trips = std::nullopt;
  std::optional<std::string> city = std::nullopt;
};

inline OfflineBatch DriverBatch(const std::vector<DriverRow>& rows,
                                const OfflineViewSchema& schema = DriverSchema()) {
  OfflineBatch b = MakeOfflineBatch(schema);
  for (const DriverRow& r : rows) {
    b.join_keys[0].AppendInt64(r.driver_id);
    b.event_ts.push_back(r.event_s * kSecond);
    b.created_ts.push_back(r.created_s * kSecond);
    if (r.conv_rate) {
      b.features[0].AppendDouble(*r.conv_rate);
    } else {
      b.features[0].AppendNull();
    }
    if (r.trips) {
      b.features[1].AppendInt64(*r.trips);
    } else {
      b.features[1].AppendNull();
    }
    if (r.city) {
      b.features[2].AppendBytes(*r.city);
    } else {
      b.features[2].AppendNull();
    }
  }
  return b;
}

// Entity rows keyed by driver_id (int64) with timestamps in seconds.
inline EntityRows DriverEntities(const std::vector<std::pair<int64_t, int64_t>>& rows) {
  EntityRowsSpec spec;
  spec.join_keys = {{"driver_id", Int64()}};
  EntityRows e = MakeEntityRows(spec);
  for (auto [id, ts] : rows) {
    e.keys[0].AppendInt64(id);
    e.ts.push_back(ts * kSecond);
  }
  return e;
}

class OfflineFixture : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }
  void TearDown() override { Close(); }

  void Open(OfflineStoreOptions options = {}) {
    storage::RocksDbOptions db;
    db.path = dir_.Sub("db");
    auto kv = storage::RocksDbKv::Open(db);
    ASSERT_TRUE(kv.ok()) << kv.status().ToString();
    kv_ = std::move(*kv);
    records_ = std::make_unique<storage::KvKeyRecordStore>(*kv_);
    auto backend = crypto::SoftwareKekBackend::Create(root_.Clone(), *records_, "test");
    ASSERT_TRUE(backend.ok()) << backend.status().ToString();
    auto keyring = crypto::Keyring::Open(std::move(*backend), *records_, clock_);
    ASSERT_TRUE(keyring.ok()) << keyring.status().ToString();
    keyring_ = std::move(*keyring);
    options.write.sync = false;
    store_ = std::make_unique<OfflineStore>(*kv_, *keyring_, options);
  }
  void Close() {
    store_.reset();
    keyring_.reset();
    records_.reset();
    kv_.reset();
  }

  void Ingest(const std::vector<DriverRow>& rows,
              const OfflineViewSchema& schema = DriverSchema()) {
    auto r = store_->Ingest(schema, DriverBatch(rows, schema));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }

  PitResult Join(const EntityRows& e, std::vector<PitViewRequest> views, PitOptions options = {}) {
    auto r = PointInTimeJoin(*store_, e, views, options);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::move(*r) : PitResult{};
  }

  custos::testing::TempDir dir_;
  crypto::SecretBytes root_ = crypto::SecretBytes::Random(32);
  common::FakeClock clock_{common::FromUnixMicros(1767225600LL * kSecond)};  // 2026-01-01
  std::unique_ptr<storage::RocksDbKv> kv_;
  std::unique_ptr<storage::KvKeyRecordStore> records_;
  std::unique_ptr<crypto::Keyring> keyring_;
  std::unique_ptr<OfflineStore> store_;
};

}  // namespace custos::features::testing
