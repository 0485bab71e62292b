// CaptureArtifact: an artifact version becomes a model/dataset node with its content digest,
// linked from its inputs through the upload transformation; bad captures record nothing.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "lineage/capture.h"
#include "lineage_test_util.h"

namespace custos::lineage {
namespace {

using testing::LineageWorld;
using testing::MakeNode;
using testing::MakeRecord;

class CaptureArtifactTest : public ::testing::Test {
 protected:
  ArtifactCapture Capture() const {
    ArtifactCapture capture;
    capture.kind = NodeKind::kModel;
    capture.name = "fraud/scorer";
    capture.version = "3";
    capture.content_sha256 = std::string(64, 'c');
    capture.size = 1234;
    capture.media_type = "application/octet-stream";
    capture.principal = "User::\"dana\"";
    capture.time = common::FromUnixSeconds(1'800'000'100);
    capture.run_id = "artifact-commit-42";
    return capture;
  }

  void RecordTrainingSet() {
    ASSERT_TRUE(world_.service().Record(MakeRecord({training_}, {})).ok());
  }

  const Node training_ = MakeNode(NodeKind::kTrainingSet, "fraud-train", "sha256:bb");
  LineageWorld world_;
};

TEST_F(CaptureArtifactTest, RecordsNodeWithDigestAndEdgesThroughUpload) {
  RecordTrainingSet();
  ArtifactCapture capture = Capture();
  capture.inputs = {training_.Id()};
  capture.attributes["label_team"] = "risk";
  EXPECT_EQ(ArtifactNodeId(capture), "model:fraud/scorer@3");

  auto index = CaptureArtifact(world_.service(), capture);
  ASSERT_TRUE(index.ok()) << index.status().ToString();
  auto event = world_.log().ReadEvent(*index);
  ASSERT_TRUE(event.ok()) << event.status().ToString();
  EXPECT_EQ(event->action, "lineage.record");

  auto stored = world_.store().GetNode("model:fraud/scorer@3");
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  ASSERT_TRUE(stored->has_value());
  const Node& node = (*stored)->node;
  EXPECT_EQ(node.kind, NodeKind::kModel);
  EXPECT_EQ(node.content_sha256, std::string(64, 'c'));
  EXPECT_EQ(node.attributes.at("size"), "1234");
  EXPECT_EQ(node.attributes.at("media_type"), "application/octet-stream");
  EXPECT_EQ(node.attributes.at("label_team"), "risk");

  const std::string upload = "transformation:custos/artifact-upload@0.1.0";
  auto transformation = world_.store().GetNode(upload);
  ASSERT_TRUE(transformation.ok());
  EXPECT_TRUE(transformation->has_value());

  WalkOptions options;
  options.direction = Direction::kUpstream;
  auto walk = world_.store().Walk("model:fraud/scorer@3", options);
  ASSERT_TRUE(walk.ok()) << walk.status().ToString();
  ASSERT_EQ(walk->edges.size(), 2u);
  auto has_edge = [&](const std::string& from, const std::string& to) {
    return std::any_of(walk->edges.begin(), walk->edges.end(), [&](const Edge& e) {
      return e.from == from && e.to == to && e.run_id == "artifact-commit-42";
    });
  };
  EXPECT_TRUE(has_edge(training_.Id(), upload));
  EXPECT_TRUE(has_edge(upload, "model:fraud/scorer@3"));
}

TEST_F(CaptureArtifactTest, DatasetWithoutInputsIsANodeAlone) {
  ArtifactCapture capture = Capture();
  capture.kind = NodeKind::kDataset;
  capture.name = "research/claims";
  capture.version = "1";
  ASSERT_TRUE(CaptureArtifact(world_.service(), capture).ok());
  auto stored = world_.store().GetNode("dataset:research/claims@1");
  ASSERT_TRUE(stored.ok());
  ASSERT_TRUE(stored->has_value());
  EXPECT_EQ((*stored)->node.content_sha256, std::string(64, 'c'));
  auto upload = world_.store().GetNode("transformation:custos/artifact-upload@0.1.0");
  ASSERT_TRUE(upload.ok());
  EXPECT_FALSE(upload->has_value());
  EXPECT_EQ(world_.store().edge_count(), 0u);
}

TEST_F(CaptureArtifactTest, MissingInputIsRefusedNamingItAndRecordsNothing) {
  ArtifactCapture capture = Capture();
  capture.inputs = {"training_set:nowhere@sha256:00"};
  const uint64_t log_size = world_.log().size();
  auto index = CaptureArtifact(world_.service(), capture);
  ASSERT_FALSE(index.ok());
  EXPECT_EQ(index.status().code(), StatusCode::kNotFound);
  EXPECT_NE(index.status().message().find("'training_set:nowhere@sha256:00'"), std::string::npos)
      << index.status().message();
  EXPECT_NE(index.status().message().find("model:fraud/scorer@3"), std::string::npos);
  EXPECT_EQ(world_.log().size(), log_size);
  EXPECT_EQ(world_.store().node_count(), 0u);
}

TEST_F(CaptureArtifactTest, BadKindDuplicateInputAndBadDigestAreRefused) {
  ArtifactCapture wrong_kind = Capture();
  wrong_kind.kind = NodeKind::kFeatureView;
  auto a = CaptureArtifact(world_.service(), wrong_kind);
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(a.status().message().find("use model or dataset"), std::string::npos);

  RecordTrainingSet();
  ArtifactCapture twice = Capture();
  twice.inputs = {training_.Id(), training_.Id()};
  auto b = CaptureArtifact(world_.service(), twice);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(b.status().message().find("listed twice"), std::string::npos);

  ArtifactCapture bad_digest = Capture();
  bad_digest.content_sha256 = "not-hex";
  auto c = CaptureArtifact(world_.service(), bad_digest);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(c.status().message().find("model:fraud/scorer@3"), std::string::npos);

  EXPECT_EQ(world_.store().node_count(), 1u);  // only the training set
}

TEST_F(CaptureArtifactTest, SameVersionWithOtherContentIsRefused) {
  ASSERT_TRUE(CaptureArtifact(world_.service(), Capture()).ok());
  ArtifactCapture other = Capture();
  other.content_sha256 = std::string(64, 'd');
  auto again = CaptureArtifact(world_.service(), other);
  ASSERT_FALSE(again.ok());
  auto stored = world_.store().GetNode("model:fraud/scorer@3");
  ASSERT_TRUE(stored.ok());
  ASSERT_TRUE(stored->has_value());
  EXPECT_EQ((*stored)->node.content_sha256, std::string(64, 'c'));
}

}  // namespace
}  // namespace custos::lineage
