// OpenLineage RunEvents in: mapping to nodes and edges, versions across runs, batches,
// and refusals (malformed JSON, schema violations, unknown custos inputs) that store
// nothing.
#include "lineage/openlineage_ingest.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "lineage_test_util.h"

namespace custos::lineage {
namespace {

using nlohmann::json;
using testing::LineageWorld;
using testing::MakeNode;
using testing::MakeRecord;

json Dataset(const std::string& name_space, const std::string& name,
             const std::string& version = "") {
  json dataset = {{"namespace", name_space}, {"name", name}};
  if (!version.empty()) {
    dataset["facets"]["version"] = {
        {"_producer", "https://example.com/producer"},
        {"_schemaURL",
         "https://openlineage.io/spec/facets/1-0-1/"
         "DatasetVersionDatasetFacet.json#/$defs/DatasetVersionDatasetFacet"},
        {"datasetVersion", version}};
  }
  return dataset;
}

std::string RunEvent(const std::string& type, const std::string& run_id, const std::string& job,
                     std::vector<json> inputs, std::vector<json> outputs) {
  json event = {{"eventType", type},
                {"eventTime", "2026-11-20T10:00:00.123Z"},
                {"producer", "https://github.com/OpenLineage/OpenLineage/tree/1.0.0/client"},
                {"schemaURL", "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"},
                {"run", {{"runId", run_id}}},
                {"job", {{"namespace", "airflow"}, {"name", job}}},
                {"inputs", inputs},
                {"outputs", outputs}};
  return event.dump();
}

constexpr char kRun1[] = "3f5e0c1a-8c1b-4b9e-9d7e-1f2a3b4c5d6e";
constexpr char kRun2[] = "4a6f1d2b-9d2c-4cae-8e8f-2a3b4c5d6e7f";
constexpr char kRun3[] = "5b7a2e3c-ae3d-4dbf-9f90-3b4c5d6e7f80";

class OpenLineageIngestTest : public ::testing::Test {
 protected:
  OpenLineageIngestTest()
      : validator_(*OpenLineageValidator::Create()), ingest_(world_.service(), validator_) {}

  std::vector<std::string> Upstream(const std::string& id) {
    auto graph = world_.store().Walk(id, {});
    EXPECT_TRUE(graph.ok()) << graph.status().ToString();
    std::vector<std::string> ids;
    if (graph.ok()) {
      for (const auto& node : graph->nodes) ids.push_back(node.id);
    }
    return ids;
  }

  LineageWorld world_;
  OpenLineageValidator validator_;
  OpenLineageIngest ingest_;
};

TEST_F(OpenLineageIngestTest, ARunBecomesInputsJobAndNewOutputVersions) {
  auto done = ingest_.Ingest(
      RunEvent("COMPLETE", kRun1, "clean_tx", {Dataset("postgres://db:5432", "public.tx")},
               {Dataset("s3://lake", "tx_clean")}),
      "ServiceAccount::airflow");
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_EQ(done->run_id, kRun1);
  EXPECT_EQ(done->event_type, "COMPLETE");
  EXPECT_EQ(done->edges, 2u);
  const std::string output = std::string("dataset:s3://lake/tx_clean@run:") + kRun1;
  EXPECT_EQ(Upstream(output), (std::vector<std::string>{output, "transformation:airflow/clean_tx@",
                                                        "dataset:postgres://db:5432/public.tx@"}));
  auto stored = world_.store().GetNode(output);
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ((*stored)->node.attributes.at("ol_namespace"), "s3://lake");
  EXPECT_EQ((*stored)->node.attributes.at("ol_name"), "tx_clean");
  auto event = world_.log().ReadEvent(done->audit_index);
  ASSERT_TRUE(event.ok());
  EXPECT_EQ(event->action, "lineage.record");
  EXPECT_EQ(event->principal_id, "ServiceAccount::airflow");
}

TEST_F(OpenLineageIngestTest, LaterRunsReadTheNewestVersionAndMayRewriteTheirInput) {
  ASSERT_TRUE(ingest_
                  .Ingest(RunEvent("COMPLETE", kRun1, "append", {Dataset("s3://lake", "daily")},
                                   {Dataset("s3://lake", "daily")}),
                          "User::dana")
                  .ok());
  auto second =
      ingest_.Ingest(RunEvent("COMPLETE", kRun2, "append", {Dataset("s3://lake", "daily")},
                              {Dataset("s3://lake", "daily")}),
                     "User::dana");
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  const std::string v2 = std::string("dataset:s3://lake/daily@run:") + kRun2;
  const std::string v1 = std::string("dataset:s3://lake/daily@run:") + kRun1;
  EXPECT_EQ(Upstream(v2), (std::vector<std::string>{v2, "transformation:airflow/append@", v1,
                                                    "dataset:s3://lake/daily@"}));
}

TEST_F(OpenLineageIngestTest, CustosNodesJoinOutsideRunsByNamespaceAndVersion) {
  ASSERT_TRUE(world_.service()
                  .Record(MakeRecord({MakeNode(NodeKind::kTrainingSet, "fraud-train", "5")}, {}))
                  .ok());
  auto trained = ingest_.Ingest(
      RunEvent("COMPLETE", kRun1, "train_fraud", {Dataset("custos", "training_set:fraud-train")},
               {Dataset("custos", "model:fraud", "7")}),
      "ServiceAccount::trainer");
  ASSERT_TRUE(trained.ok()) << trained.status().ToString();
  EXPECT_EQ(Upstream("model:fraud@7"),
            (std::vector<std::string>{"model:fraud@7", "transformation:airflow/train_fraud@",
                                      "training_set:fraud-train@5"}));

  // A custos input that was never recorded is a dangling reference.
  auto unknown = ingest_.Ingest(
      RunEvent("COMPLETE", kRun2, "train_other", {Dataset("custos", "feature_view:nope")},
               {Dataset("custos", "model:other", "1")}),
      "ServiceAccount::trainer");
  EXPECT_EQ(unknown.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(unknown.status().message().find(
                "/inputs/0: custos feature_view 'nope' has no recorded version"),
            std::string::npos)
      << unknown.status().message();
}

TEST_F(OpenLineageIngestTest, OnlyCompleteRunsAddEdges) {
  auto started = ingest_.Ingest(
      RunEvent("START", kRun1, "job", {Dataset("s3://lake", "in")}, {Dataset("s3://lake", "out")}),
      "User::dana");
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  EXPECT_EQ(started->edges, 0u);
  EXPECT_EQ(world_.store().edge_count(), 0u);
  EXPECT_EQ(world_.store().node_count(), 2u);  // the job and its input
  auto failed = ingest_.Ingest(
      RunEvent("FAIL", kRun1, "job", {Dataset("s3://lake", "in")}, {Dataset("s3://lake", "out")}),
      "User::dana");
  ASSERT_TRUE(failed.ok());
  EXPECT_EQ(world_.store().edge_count(), 0u);
}

TEST_F(OpenLineageIngestTest, BadEventsAreRefusedWithWhereAndNothingIsStored) {
  const uint64_t log_size = world_.log().size();
  auto malformed = ingest_.Ingest("{\"eventType\": \"START\",", "User::dana");
  EXPECT_EQ(malformed.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(malformed.status().message().find("not valid JSON"), std::string::npos);

  auto bad_run = ingest_.Ingest(RunEvent("COMPLETE", "not-a-uuid", "job", {}, {}), "User::dana");
  EXPECT_EQ(bad_run.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad_run.status().message().find("/run/runId"), std::string::npos)
      << bad_run.status().message();

  json wrong_type = json::parse(RunEvent("COMPLETE", kRun1, "job", {}, {}));
  wrong_type["eventType"] = "FINISHED";
  auto bad_type = ingest_.Ingest(wrong_type.dump(), "User::dana");
  EXPECT_EQ(bad_type.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad_type.status().message().find("/eventType"), std::string::npos);

  EXPECT_EQ(
      ingest_.Ingest(std::string(kMaxOpenLineageEventBytes + 1, ' '), "User::dana").status().code(),
      StatusCode::kInvalidArgument);
  EXPECT_EQ(world_.log().size(), log_size);
  EXPECT_EQ(world_.store().node_count(), 0u);
}

TEST_F(OpenLineageIngestTest, ABatchMayUseOutputsOfEarlierEventsInIt) {
  const auto results =
      ingest_.IngestAll({RunEvent("COMPLETE", kRun1, "extract", {Dataset("s3://raw", "tx")},
                                  {Dataset("s3://lake", "tx")}),
                         RunEvent("COMPLETE", kRun2, "features", {Dataset("s3://lake", "tx")},
                                  {Dataset("s3://lake", "tx_features")}),
                         "not json",
                         RunEvent("COMPLETE", kRun3, "train", {Dataset("s3://lake", "tx_features")},
                                  {Dataset("custos", "model:m", "1")})},
                        "ServiceAccount::airflow");
  ASSERT_EQ(results.size(), 4u);
  EXPECT_TRUE(results[0].ok());
  EXPECT_TRUE(results[1].ok());
  EXPECT_EQ(results[2].status().code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(results[3].ok()) << results[3].status().ToString();
  auto graph = world_.store().Walk("model:m@1", {});
  ASSERT_TRUE(graph.ok());
  EXPECT_EQ(graph->nodes.back().id, "dataset:s3://raw/tx@");
  EXPECT_EQ(graph->nodes.back().depth, 6u);
}

TEST_F(OpenLineageIngestTest, TheSpecsFullExampleEventIsAccepted) {
  std::ifstream in(std::string(CUSTOS_SHARED_DIR) + "/openlineage/tests/example_full_event.json");
  std::stringstream text;
  text << in.rdbuf();
  auto done = ingest_.Ingest(text.str(), "User::dana");
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_EQ(done->run_id, "f69a6e9b-9bac-3c9a-9cf6-eacb70ecc9a9");
  auto job = world_.store().GetNode("transformation:food_delivery/dbt@");
  ASSERT_TRUE(job.ok());
  EXPECT_TRUE(job->has_value());
}

}  // namespace
}  // namespace custos::lineage
