// Node ids and checks, the canonical record encoding, and the in-memory index's walks and
// cycle checks under the run rule.
#include "lineage/graph.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "lineage/graph_index.h"
#include "lineage_test_util.h"

namespace custos::lineage {
namespace {

using testing::MakeEdge;
using testing::MakeNode;
using testing::MakeRecord;

TEST(LineageGraph, NodeIdsNameKindNameAndVersion) {
  EXPECT_EQ(MakeNode(NodeKind::kFeatureView, "fraud", "3").Id(), "feature_view:fraud@3");
  EXPECT_EQ(MakeNode(NodeKind::kDataset, "s3://bank@eu/tx", "").Id(), "dataset:s3://bank@eu/tx@");
  EXPECT_EQ(*ParseNodeKind("training_set"), NodeKind::kTrainingSet);
  const Status unknown = ParseNodeKind("table").status();
  EXPECT_EQ(unknown.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(unknown.message().find("use one of source, transformation, feature_view"),
            std::string::npos)
      << unknown.message();
}

TEST(LineageGraph, ValidateNodeNamesTheFieldAndTheFix) {
  EXPECT_TRUE(ValidateNode(MakeNode(NodeKind::kSource, "tx.csv", "sha256:ab")).ok());
  const Status at = ValidateNode(MakeNode(NodeKind::kSource, "tx.csv", "v@2"));
  EXPECT_EQ(at.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(at.message().find("(found '@')"), std::string::npos) << at.message();
  EXPECT_NE(ValidateNode(MakeNode(NodeKind::kSource, "", "1")).message().find("1 to 512 bytes"),
            std::string::npos);
  EXPECT_NE(ValidateNode(MakeNode(NodeKind::kSource, "a", "1", "ABC"))
                .message()
                .find("64 lowercase hex digits"),
            std::string::npos);
  Node bad_attribute = MakeNode(NodeKind::kSource, "a", "1");
  bad_attribute.attributes["Code-Ref"] = "x";
  EXPECT_NE(ValidateNode(bad_attribute).message().find("attribute name 'Code-Ref'"),
            std::string::npos);
}

TEST(LineageGraph, RecordsEncodeCanonicallyAndDecodeStrictly) {
  Node source = MakeNode(NodeKind::kSource, "tx.csv", "sha256:1", std::string(64, 'a'));
  source.attributes = {{"path", "/data/tx.csv"}, {"format", "csv"}};
  LineageRecord record = MakeRecord({source, MakeNode(NodeKind::kFeatureView, "fraud", "1")},
                                    {MakeEdge(source.Id(), "feature_view:fraud@1", "run-1")});
  record.time = common::FromUnixSeconds(1'800'000'123);
  const std::string bytes = EncodeRecord(record);
  auto decoded = DecodeRecord(bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->nodes, record.nodes);
  EXPECT_EQ(decoded->edges, record.edges);
  EXPECT_EQ(decoded->principal, "User::dana");
  EXPECT_EQ(decoded->time, record.time);
  EXPECT_EQ(EncodeRecord(*decoded), bytes);
  EXPECT_EQ(RecordDigest(record), RecordDigest(*decoded));
  EXPECT_EQ(RecordDigest(record).size(), 7u + 64u);

  EXPECT_EQ(DecodeRecord(bytes.substr(0, bytes.size() - 1)).status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(DecodeRecord(bytes + "x").status().code(), StatusCode::kDataLoss);
  LineageRecord changed = record;
  changed.edges[0].run_id = "run-2";
  EXPECT_NE(RecordDigest(changed), RecordDigest(record));
}

// A small index built from (id, kind) nodes and (from, to, run) edges.
class IndexTest : public ::testing::Test {
 protected:
  uint32_t N(const std::string& id, NodeKind kind = NodeKind::kDataset) {
    return index_.AddNode(id, kind);
  }
  void E(const std::string& from, const std::string& to, const std::string& run = "") {
    ASSERT_TRUE(index_.AddEdge(*index_.Find(from), *index_.Find(to), run));
  }
  std::vector<std::string> Reached(const std::string& start, Direction direction,
                                   uint32_t depth = 10) {
    WalkOptions options;
    options.direction = direction;
    options.max_depth = depth;
    const WalkResult walk = index_.Walk(*index_.Find(start), options);
    std::vector<std::string> ids;
    for (const auto& reached : walk.nodes) ids.push_back(index_.NodeId(reached.node));
    std::sort(ids.begin() + 1, ids.end());
    return ids;
  }
  bool Cycle(const std::string& from, const std::string& to, const std::string& run = "") {
    return index_.WouldCloseCycle(*index_.Find(from), *index_.Find(to), run);
  }
  GraphIndex index_;
};

TEST_F(IndexTest, WalksFollowDepthAndDirection) {
  for (const char* id : {"a", "b", "c", "d"}) N(id);
  E("a", "b");
  E("b", "c");
  E("c", "d");
  EXPECT_EQ(Reached("d", Direction::kUpstream), (std::vector<std::string>{"d", "a", "b", "c"}));
  EXPECT_EQ(Reached("d", Direction::kUpstream, 2), (std::vector<std::string>{"d", "b", "c"}));
  EXPECT_EQ(Reached("b", Direction::kDownstream), (std::vector<std::string>{"b", "c", "d"}));
  EXPECT_EQ(Reached("a", Direction::kUpstream), (std::vector<std::string>{"a"}));
  EXPECT_FALSE(index_.AddEdge(*index_.Find("a"), *index_.Find("b"), ""));  // already there
  EXPECT_EQ(index_.edge_count(), 3u);
}

TEST_F(IndexTest, ATransformationIsLeftThroughTheRunItWasEnteredBy) {
  // One job, two runs: run r1 reads in1 and writes out1, run r2 reads in2 and writes out2.
  for (const char* id : {"in1", "in2", "out1", "out2"}) N(id);
  N("job", NodeKind::kTransformation);
  E("in1", "job", "r1");
  E("job", "out1", "r1");
  E("in2", "job", "r2");
  E("job", "out2", "r2");
  EXPECT_EQ(Reached("out1", Direction::kUpstream),
            (std::vector<std::string>{"out1", "in1", "job"}));
  EXPECT_EQ(Reached("in2", Direction::kDownstream),
            (std::vector<std::string>{"in2", "job", "out2"}));
  // Starting at the job itself, every run counts.
  EXPECT_EQ(Reached("job", Direction::kUpstream), (std::vector<std::string>{"job", "in1", "in2"}));
}

TEST_F(IndexTest, WalksStopAtMaxNodesAndSaySo) {
  N("sink");
  for (int i = 0; i < 50; ++i) {
    N("s" + std::to_string(i));
    E("s" + std::to_string(i), "sink");
  }
  WalkOptions options;
  options.max_nodes = 10;
  const WalkResult walk = index_.Walk(*index_.Find("sink"), options);
  EXPECT_TRUE(walk.truncated);
  EXPECT_EQ(walk.nodes.size(), 10u);
  EXPECT_EQ(walk.edges.size(), 9u);
}

TEST_F(IndexTest, CyclesAreFoundUnderTheRunRule) {
  for (const char* id : {"a", "b", "c"}) N(id);
  N("job", NodeKind::kTransformation);
  E("a", "job", "r1");
  E("job", "b", "r1");
  // b -> a would let data flow a -> job -> b -> a.
  EXPECT_TRUE(Cycle("b", "a"));
  EXPECT_TRUE(Cycle("a", "a"));
  // The job reading b in another run is not a cycle: run r2's output is another node.
  EXPECT_FALSE(Cycle("b", "job", "r2"));
  E("b", "job", "r2");
  E("job", "c", "r2");
  EXPECT_TRUE(Cycle("c", "a"));  // a -(r1)-> b -(r2)-> c: data of a reaches c
  N("d");
  EXPECT_FALSE(Cycle("d", "job", "r1"));  // a second input of run r1: no path back to d
  EXPECT_TRUE(Cycle("c", "job", "r1"));   // r1 leaves the job to b, which feeds r2 to c
  EXPECT_TRUE(Cycle("b", "job", "r1"));   // r1 would read its own output
  EXPECT_TRUE(Cycle("c", "job", ""));     // no run: enters every run, including r2's
  EXPECT_FALSE(Cycle("c", "job", "r9"));  // a new run writes nothing yet
}

TEST_F(IndexTest, UndoRemovesTheNewestEdgesAndNodes) {
  N("a");
  N("b");
  E("a", "b");
  const size_t nodes_before = index_.node_count();
  N("c");
  E("b", "c", "r1");
  index_.RemoveNewestEdge(*index_.Find("b"), *index_.Find("c"));
  index_.TruncateNodes(nodes_before);
  EXPECT_FALSE(index_.Find("c").has_value());
  EXPECT_EQ(index_.edge_count(), 1u);
  EXPECT_EQ(Reached("a", Direction::kDownstream), (std::vector<std::string>{"a", "b"}));
}

}  // namespace
}  // namespace custos::lineage
