// Point-in-time join: Feast's semantics at every edge (ties, ttl bounds, created_ts <= ts,
// misses, overlapping ingestions), several views, feature subsets, and a randomized
// comparison against a naive reference join.
#include "features/point_in_time.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

#include "features_test_util.h"

namespace custos::features::testing {
namespace {

// conv_rate of row i of the result, or nullopt when null.
std::optional<double> Rate(const PitResult& r, size_t i, size_t column = 0) {
  if (r.values[column].IsNull(i)) return std::nullopt;
  return r.values[column].DoubleAt(i);
}

using PitTest = OfflineFixture;

TEST_F(PitTest, PicksGreatestEventTimeAtOrBeforeTheEntityTime) {
  Ingest({{1, 100, 100, 0.1}, {1, 200, 200, 0.2}, {1, 300, 300, 0.3}, {2, 150, 150, 2.5}});
  PitResult r = Join(DriverEntities({{1, 250}, {1, 200}, {1, 99}, {2, 1000}, {1, 10000}}),
                     {{DriverSchema(), {"conv_rate"}, 0}});
  ASSERT_EQ(r.rows, 5u);
  ASSERT_EQ(r.columns.size(), 1u);
  EXPECT_EQ(r.columns[0].name, "conv_rate");
  EXPECT_EQ(Rate(r, 0), 0.2);           // 200 <= 250 < 300
  EXPECT_EQ(Rate(r, 1), 0.2);           // a row exactly at ts counts
  EXPECT_EQ(Rate(r, 2), std::nullopt);  // before the first row
  EXPECT_EQ(Rate(r, 3), 2.5);
  EXPECT_EQ(Rate(r, 4), 0.3);
  EXPECT_EQ(r.views[0].rows_matched, 4u);
}

TEST_F(PitTest, TiesOnEventTimeGoToTheGreatestCreatedTime) {
  Ingest({{1, 100, 105, 0.5}, {1, 100, 110, 0.7}, {1, 100, 101, 0.1}});
  PitResult r = Join(DriverEntities({{1, 100}, {1, 500}}), {{DriverSchema(), {"conv_rate"}, 0}});
  EXPECT_EQ(Rate(r, 0), 0.7);
  EXPECT_EQ(Rate(r, 1), 0.7);
}

TEST_F(PitTest, FullTiesGoToTheLaterIngestion) {
  Ingest({{1, 100, 100, 0.1}});
  Ingest({{1, 100, 100, 0.9}});
  PitResult r = Join(DriverEntities({{1, 100}}), {{DriverSchema(), {"conv_rate"}, 0}});
  EXPECT_EQ(Rate(r, 0), 0.9);
}

TEST_F(PitTest, TtlBoundIsInclusive) {
  Ingest({{1, 100, 100, 0.1}});
  const int64_t ttl = 50 * kSecond;
  PitResult r = Join(DriverEntities({{1, 150}, {1, 151}, {1, 100}, {1, 149}}),
                     {{DriverSchema(), {"conv_rate"}, ttl}});
  EXPECT_EQ(Rate(r, 0), 0.1);           // exactly ts - ttl
  EXPECT_EQ(Rate(r, 1), std::nullopt);  // one second too old
  EXPECT_EQ(Rate(r, 2), 0.1);
  EXPECT_EQ(Rate(r, 3), 0.1);
}

TEST_F(PitTest, TtlFallsBackToNoOlderRow) {
  // The newest row is in range; an older one would be too old but is never chosen over it.
  Ingest({{1, 10, 10, 0.1}, {1, 100, 100, 0.2}});
  PitResult r =
      Join(DriverEntities({{1, 120}, {1, 99}}), {{DriverSchema(), {"conv_rate"}, 30 * kSecond}});
  EXPECT_EQ(Rate(r, 0), 0.2);
  EXPECT_EQ(Rate(r, 1), std::nullopt);  // only row 10 precedes 99, and it is 89 s old
}

TEST_F(PitTest, CreatedBeforeTsOptionSkipsLateWrites) {
  // Row at event 100 was written (created) at 300: a model at ts 200 could not have seen it.
  Ingest({{1, 50, 60, 0.1}, {1, 100, 300, 0.2}, {1, 100, 150, 0.15}});
  PitOptions strict;
  strict.require_created_before_ts = true;
  PitResult loose =
      Join(DriverEntities({{1, 200}, {1, 120}, {1, 400}}), {{DriverSchema(), {"conv_rate"}, 0}});
  PitResult r = Join(DriverEntities({{1, 200}, {1, 120}, {1, 400}}),
                     {{DriverSchema(), {"conv_rate"}, 0}}, strict);
  EXPECT_EQ(Rate(loose, 0), 0.2);
  EXPECT_EQ(Rate(r, 0), 0.15);  // created 150 <= 200
  EXPECT_EQ(Rate(r, 1), 0.1);   // created 150 > 120 and 300 > 120: back to event 50
  EXPECT_EQ(Rate(r, 2), 0.2);
}

TEST_F(PitTest, CreatedBeforeTsOptionRespectsTtl) {
  Ingest({{1, 10, 10, 0.1}, {1, 100, 300, 0.2}});
  PitOptions strict;
  strict.require_created_before_ts = true;
  PitResult r =
      Join(DriverEntities({{1, 200}}), {{DriverSchema(), {"conv_rate"}, 150 * kSecond}}, strict);
  EXPECT_EQ(Rate(r, 0), std::nullopt);  // event 10 is 190 s old
}

TEST_F(PitTest, EntityWithNoRowsGetsNulls) {
  Ingest({{1, 100, 100, 0.1, 7, "Paris"}});
  PitResult r = Join(DriverEntities({{2, 500}, {1, 500}, {0, 500}}), {{DriverSchema(), {}, 0}});
  ASSERT_EQ(r.columns.size(), 3u);
  for (size_t c = 0; c < 3; ++c) {
    EXPECT_TRUE(r.values[c].IsNull(0));
    EXPECT_TRUE(r.values[c].IsNull(2));
  }
  EXPECT_EQ(r.values[0].DoubleAt(1), 0.1);
  EXPECT_EQ(r.values[1].Int64At(1), 7);
  EXPECT_EQ(r.values[2].BytesAt(1), "Paris");
}

TEST_F(PitTest, NullFeatureValuesStayNull) {
  Ingest({{1, 100, 100, std::nullopt, 3, std::nullopt}});
  PitResult r = Join(DriverEntities({{1, 100}}), {{DriverSchema(), {}, 0}});
  EXPECT_TRUE(r.values[0].IsNull(0));
  EXPECT_EQ(r.values[1].Int64At(0), 3);
  EXPECT_TRUE(r.values[2].IsNull(0));
}

TEST_F(PitTest, UnknownVersionReadsAsEmpty) {
  PitResult r = Join(DriverEntities({{1, 100}}), {{DriverSchema("nothing:1"), {}, 0}});
  EXPECT_EQ(r.views[0].blocks_total, 0u);
  EXPECT_TRUE(r.values[0].IsNull(0));
}

TEST_F(PitTest, OverlappingIngestionsMerge) {
  // Three ingestions covering the same keys, each newer in part.
  Ingest({{1, 100, 100, 1.0}, {2, 100, 100, 2.0}, {3, 100, 100, 3.0}});
  Ingest({{2, 200, 200, 2.2}, {3, 50, 50, 3.05}, {1, 90, 95, 0.9}});
  Ingest({{3, 300, 300, 3.3}, {1, 100, 120, 1.1}});
  PitResult r = Join(DriverEntities({{1, 150}, {2, 150}, {2, 250}, {3, 250}, {3, 350}, {3, 60}}),
                     {{DriverSchema(), {"conv_rate"}, 0}});
  EXPECT_EQ(Rate(r, 0), 1.1);  // tie on event 100, created 120 wins
  EXPECT_EQ(Rate(r, 1), 2.0);
  EXPECT_EQ(Rate(r, 2), 2.2);
  EXPECT_EQ(Rate(r, 3), 3.0);
  EXPECT_EQ(Rate(r, 4), 3.3);
  EXPECT_EQ(Rate(r, 5), 3.05);
  EXPECT_EQ(r.views[0].blocks_total, 3u);
}

TEST_F(PitTest, SubsetOfFeaturesInRequestedOrder) {
  Ingest({{1, 100, 100, 0.1, 7, "Paris"}});
  PitResult r = Join(DriverEntities({{1, 100}}), {{DriverSchema(), {"city", "conv_rate"}, 0}});
  ASSERT_EQ(r.columns.size(), 2u);
  EXPECT_EQ(r.columns[0].name, "city");
  EXPECT_EQ(r.values[0].BytesAt(0), "Paris");
  EXPECT_EQ(r.columns[1].name, "conv_rate");
  EXPECT_EQ(r.values[1].DoubleAt(0), 0.1);
}

TEST_F(PitTest, SeveralViewsWithDifferentKeysAndTtls) {
  Ingest({{1, 100, 100, 0.1, 7, "Paris"}});
  OfflineViewSchema customer{
      "customer_profile:2", {{"customer_id", String()}}, {{"spend", Double()}}};
  OfflineBatch b = MakeOfflineBatch(customer);
  for (auto [id, ts, spend] : std::vector<std::tuple<std::string, int64_t, double>>{
           {"alice", 50, 10.5}, {"bob", 90, 20.0}, {"alice", 95, 11.0}}) {
    b.join_keys[0].AppendBytes(id);
    b.event_ts.push_back(ts * kSecond);
    b.created_ts.push_back(ts * kSecond);
    b.features[0].AppendDouble(spend);
  }
  ASSERT_TRUE(store_->Ingest(customer, b).ok());

  EntityRowsSpec spec;
  spec.join_keys = {{"driver_id", Int64()}, {"customer_id", String()}};
  EntityRows e = MakeEntityRows(spec);
  for (auto [d, c, ts] : std::vector<std::tuple<int64_t, std::string, int64_t>>{
           {1, "alice", 100}, {1, "bob", 200}, {2, "alice", 96}}) {
    e.keys[0].AppendInt64(d);
    e.keys[1].AppendBytes(c);
    e.ts.push_back(ts * kSecond);
  }
  PitResult r = Join(e, {{DriverSchema(), {"trips"}, 0}, {customer, {}, 100 * kSecond}});
  ASSERT_EQ(r.columns.size(), 2u);
  EXPECT_EQ(r.values[0].Int64At(0), 7);
  EXPECT_EQ(r.values[0].Int64At(1), 7);
  EXPECT_TRUE(r.values[0].IsNull(2));
  EXPECT_EQ(r.values[1].DoubleAt(0), 11.0);
  EXPECT_TRUE(r.values[1].IsNull(1));  // bob's row at 90 is 110 s old
  EXPECT_EQ(r.values[1].DoubleAt(2), 11.0);
}

TEST_F(PitTest, BadRequestsAreRejectedBeforeReading) {
  Ingest({{1, 100, 100, 0.1}});
  auto unknown = PointInTimeJoin(*store_, DriverEntities({{1, 1}}),
                                 {{DriverSchema(), {"conv_rate", "speed"}, 0}});
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(unknown.status().message(),
            "unknown feature 'speed' in view 'driver_stats:1' (it has: conv_rate, trips, city)");

  EntityRowsSpec spec;
  spec.join_keys = {{"driver_id", String()}};
  EntityRows wrong = MakeEntityRows(spec);
  wrong.keys[0].AppendBytes("1");
  wrong.ts.push_back(0);
  auto typed = PointInTimeJoin(*store_, wrong, {{DriverSchema(), {}, 0}});
  ASSERT_FALSE(typed.ok());
  EXPECT_EQ(typed.status().message(),
            "entity rows give join key 'driver_id' as string but view 'driver_stats:1' needs "
            "int64");

  auto twice = PointInTimeJoin(*store_, DriverEntities({{1, 1}}),
                               {{DriverSchema(), {"trips"}, 0}, {DriverSchema(), {"trips"}, 0}});
  ASSERT_FALSE(twice.ok());
  EXPECT_EQ(twice.status().code(), StatusCode::kInvalidArgument);
  PitOptions full;
  full.full_feature_names = true;
  auto named = PointInTimeJoin(*store_, DriverEntities({{1, 100}}),
                               {{DriverSchema(), {"conv_rate"}, 0}}, full);
  ASSERT_TRUE(named.ok());
  EXPECT_EQ(named->columns[0].name, "driver_stats:1__conv_rate");
}

// Naive reference: for each entity row, scan every ingested row.
struct RefRow {
  int64_t key;
  int64_t ev;
  int64_t cr;
  uint64_t order;  // ingestion order, later wins full ties
  std::optional<double> value;
};

std::optional<double> Reference(const std::vector<RefRow>& all, int64_t key, int64_t ts,
                                int64_t ttl, bool strict) {
  const RefRow* best = nullptr;
  for (const RefRow& r : all) {
    if (r.key != key || r.ev > ts || (ttl > 0 && r.ev < ts - ttl) || (strict && r.cr > ts)) {
      continue;
    }
    if (best == nullptr ||
        std::tie(r.ev, r.cr, r.order) > std::tie(best->ev, best->cr, best->order)) {
      best = &r;
    }
  }
  return best == nullptr ? std::nullopt : best->value;
}

class PitRandomTest : public OfflineFixture, public ::testing::WithParamInterface<int> {};

TEST_P(PitRandomTest, MatchesNaiveJoin) {
  Close();
  OfflineStoreOptions small;
  small.rows_per_block = 7;  // many blocks, entities split across them
  Open(small);
  std::mt19937_64 rng(static_cast<uint64_t>(GetParam()));
  std::vector<RefRow> all;
  uint64_t order = 0;
  for (int ingestion = 0; ingestion < 4; ++ingestion) {
    std::vector<DriverRow> rows;
    const int count = 20 + static_cast<int>(rng() % 200);
    for (int i = 0; i < count; ++i) {
      DriverRow r{static_cast<int64_t>(rng() % 30) - 5, static_cast<int64_t>(rng() % 100),
                  static_cast<int64_t>(rng() % 100), std::nullopt};
      if (rng() % 10 != 0) {
        r.conv_rate = static_cast<double>(rng() % 1000) / 8;
        r.city = "city-" + std::to_string(*r.conv_rate);  // strings cross the thread arenas
      }
      rows.push_back(r);
    }
    // Reference order: ingestion, then position in the batch.
    for (const DriverRow& r : rows) {
      all.push_back(
          {r.driver_id, r.event_s * kSecond, r.created_s * kSecond, order++, r.conv_rate});
    }
    Ingest(rows);
  }
  std::vector<std::pair<int64_t, int64_t>> entities;
  for (int i = 0; i < 3000; ++i) {
    entities.push_back({static_cast<int64_t>(rng() % 34) - 7, static_cast<int64_t>(rng() % 110)});
  }
  EntityRows e = DriverEntities(entities);
  for (int64_t ttl : {int64_t{0}, 20 * kSecond}) {
    for (bool strict : {false, true}) {
      PitOptions options;
      options.require_created_before_ts = strict;
      PitResult r = Join(e, {{DriverSchema(), {"conv_rate", "city"}, ttl}}, options);
      ASSERT_EQ(r.rows, entities.size());
      for (size_t i = 0; i < entities.size(); ++i) {
        std::optional<double> want =
            Reference(all, entities[i].first, entities[i].second * kSecond, ttl, strict);
        ASSERT_EQ(Rate(r, i), want) << "entity row " << i << " key " << entities[i].first << " ts "
                                    << entities[i].second << " ttl " << ttl << " strict " << strict;
        if (want) {
          ASSERT_EQ(r.values[1].BytesAt(i), "city-" + std::to_string(*want)) << i;
        } else {
          ASSERT_TRUE(r.values[1].IsNull(i)) << i;
        }
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Seeds, PitRandomTest, ::testing::Values(1, 2, 3, 4, 5));

}  // namespace
}  // namespace custos::features::testing
