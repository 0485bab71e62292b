// Training-set writers (CSV with RFC 4180 quoting, JSON Lines) and the manifest.
#include "features/training_set.h"

#include <gtest/gtest.h>

#include "common/bytes.h"
#include "crypto/hash.h"
#include "features_test_util.h"

namespace custos::features::testing {
namespace {

using TrainingSetTest = OfflineFixture;

TEST_F(TrainingSetTest, CsvAndJsonlOutput) {
  Ingest({{1, 100, 100, 0.25, 7, "Paris, \"Left Bank\""}, {2, 100, 100, std::nullopt, 3, ""}});
  auto rows = ReadEntityRowsCsv(
      "driver_id,event_timestamp,label\n2,1970-01-01T00:03:20Z,0\n1,200,1\n3,200,\n", "e.csv",
      {{{"driver_id", Int64()}}});
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  std::vector<PitViewRequest> views = {{DriverSchema(), {}, 0}};
  PitResult r = Join(*rows, views);

  std::string csv;
  WriteTrainingSet(*rows, r, TrainingSetFormat::kCsv, csv);
  EXPECT_EQ(csv,
            "driver_id,event_timestamp,label,conv_rate,trips,city\r\n"
            "2,1970-01-01T00:03:20Z,0,,3,\"\"\r\n"
            "1,1970-01-01T00:03:20Z,1,0.25,7,\"Paris, \"\"Left Bank\"\"\"\r\n"
            "3,1970-01-01T00:03:20Z,,,,\r\n");

  std::string jsonl;
  WriteTrainingSet(*rows, r, TrainingSetFormat::kJsonl, jsonl);
  EXPECT_EQ(jsonl,
            "{\"driver_id\":2,\"event_timestamp\":\"1970-01-01T00:03:20Z\",\"label\":\"0\","
            "\"conv_rate\":null,\"trips\":3,\"city\":\"\"}\n"
            "{\"driver_id\":1,\"event_timestamp\":\"1970-01-01T00:03:20Z\",\"label\":\"1\","
            "\"conv_rate\":0.25,\"trips\":7,\"city\":\"Paris, \\\"Left Bank\\\"\"}\n"
            "{\"driver_id\":3,\"event_timestamp\":\"1970-01-01T00:03:20Z\",\"label\":null,"
            "\"conv_rate\":null,\"trips\":null,\"city\":null}\n");

  auto manifest = MakeTrainingSetManifest(*rows, views, {}, r, TrainingSetFormat::kCsv, csv,
                                          "user:ana", "churn-model", clock_);
  ASSERT_TRUE(manifest.ok());
  EXPECT_EQ(manifest->view_versions, std::vector<std::string>{"driver_stats:1"});
  EXPECT_EQ(manifest->rows, 3u);
  EXPECT_EQ(manifest->output_sha256, common::HexEncode(crypto::Sha256Of(common::AsBytes(csv))));
  EXPECT_EQ(manifest->as_of_min_micros, 200 * kSecond);
  EXPECT_EQ(manifest->columns, (std::vector<std::string>{"driver_id", "event_timestamp", "label",
                                                         "conv_rate", "trips", "city"}));
  std::string json = manifest->ToJson();
  EXPECT_TRUE(json.starts_with("{\"view_versions\":[\"driver_stats:1\"],\"columns\":"));
  EXPECT_NE(json.find("\"as_of\":{\"min\":\"1970-01-01T00:03:20Z\",\"max\":\"1970-01-01T00:03:"
                      "20Z\"}"),
            std::string::npos)
      << json;
  EXPECT_NE(json.find("\"principal\":\"user:ana\",\"purpose\":\"churn-model\",\"created_at\":"
                      "\"2026-01-01T00:00:00Z\""),
            std::string::npos)
      << json;
  auto back = TrainingSetManifest::FromJson(json);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->ToJson(), json);
  EXPECT_EQ(TrainingSetManifest::FromJson("{\"rows\":1}").status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(TrainingSetTest, EntitySetHashIgnoresFileFormat) {
  EntityRowsSpec spec{{{"driver_id", Int64()}}};
  auto csv = ReadEntityRowsCsv("driver_id,event_timestamp\n1,5\n2,6\n", "e.csv", spec);
  auto jsonl = ReadEntityRowsJsonl(
      "{\"driver_id\":1,\"event_timestamp\":\"1970-01-01T00:00:05Z\"}\n"
      "{\"driver_id\":2,\"event_timestamp\":6}\n",
      "e.jsonl", spec);
  auto other = ReadEntityRowsCsv("driver_id,event_timestamp\n1,5\n2,7\n", "e.csv", spec);
  ASSERT_TRUE(csv.ok() && jsonl.ok() && other.ok());
  EXPECT_EQ(*EntitySetSha256(*csv), *EntitySetSha256(*jsonl));
  EXPECT_NE(*EntitySetSha256(*csv), *EntitySetSha256(*other));
  EXPECT_EQ(EntitySetSha256(*csv)->size(), 64u);
}

TEST(TrainingSetCellsTest, ListsBoolsTimestampsAndDoubles) {
  EntityRowsSpec spec{{{"id", Int64()}}};
  EntityRows rows = MakeEntityRows(spec);
  rows.keys[0].AppendInt64(1);
  rows.ts.push_back(1767225600LL * kSecond + 5);
  PitResult r;
  r.rows = 1;
  r.columns = {{"tags", {ScalarType::kString, true}},
               {"ok", {ScalarType::kBool, false}},
               {"seen", {ScalarType::kTimestamp, false}},
               {"x", Double()}};
  for (const Column& c : r.columns) r.values.emplace_back(c.type);
  ASSERT_TRUE(r.values[0]
                  .AppendValue(catalog::Value{
                      std::vector<catalog::Scalar>{std::string("a,b"), std::string("q\"")}})
                  .ok());
  r.values[1].AppendBool(true);
  r.values[2].AppendTimestamp(1767225600LL * kSecond);
  r.values[3].AppendDouble(1e-7);
  std::string csv;
  WriteTrainingSet(rows, r, TrainingSetFormat::kCsv, csv);
  EXPECT_EQ(csv,
            "id,event_timestamp,tags,ok,seen,x\r\n"
            "1,2026-01-01T00:00:00.000005Z,\"[\"\"a,b\"\",\"\"q\\\"\"\"\"]\",true,"
            "2026-01-01T00:00:00Z,1e-07\r\n");
  std::string jsonl;
  WriteTrainingSet(rows, r, TrainingSetFormat::kJsonl, jsonl);
  EXPECT_EQ(jsonl,
            "{\"id\":1,\"event_timestamp\":\"2026-01-01T00:00:00.000005Z\",\"tags\":[\"a,b\","
            "\"q\\\"\"],\"ok\":true,\"seen\":\"2026-01-01T00:00:00Z\",\"x\":1e-07}\n");
}

}  // namespace
}  // namespace custos::features::testing
