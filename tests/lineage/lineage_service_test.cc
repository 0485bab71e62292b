// Recording lineage through the service into real storage and the audit log: the happy
// path, refusals that store nothing, batches, restarts, queries, verification, export.
#include <gtest/gtest.h>

#include <fstream>

#include "common/bytes.h"
#include "common/key_encoding.h"
#include "crypto/hash.h"
#include "lineage/export.h"
#include "lineage/queries.h"
#include "lineage/verify.h"
#include "lineage_test_util.h"
#include "storage/encrypted_keyspace.h"

namespace custos::lineage {
namespace {

using testing::LineageWorld;
using testing::MakeEdge;
using testing::MakeNode;
using testing::MakeRecord;

// source -> ingest job -> feature view -> training set -> model, recorded in three steps
// by three principals.
class LineageServiceTest : public ::testing::Test {
 protected:
  const Node source = MakeNode(NodeKind::kSource, "tx.csv", "sha256:aa", std::string(64, 'a'));
  const Node ingest = MakeNode(NodeKind::kTransformation, "custos/ingest", "1");
  const Node view = MakeNode(NodeKind::kFeatureView, "fraud", "3");
  const Node training = MakeNode(NodeKind::kTrainingSet, "fraud-train", "sha256:bb");
  const Node model = MakeNode(NodeKind::kModel, "fraud-model", "7");

  void RecordChain() {
    ASSERT_TRUE(world_.service()
                    .Record(MakeRecord({source, ingest, view},
                                       {MakeEdge(source.Id(), ingest.Id(), "run-1"),
                                        MakeEdge(ingest.Id(), view.Id(), "run-1")},
                                       "User::steward"))
                    .ok());
    ASSERT_TRUE(world_.service()
                    .Record(MakeRecord({training}, {MakeEdge(view.Id(), training.Id(), "run-2")},
                                       "User::dana"))
                    .ok());
    ASSERT_TRUE(world_.service()
                    .Record(MakeRecord({model}, {MakeEdge(training.Id(), model.Id(), "run-3")},
                                       "ServiceAccount::trainer"))
                    .ok());
  }

  LineageWorld world_;
};

TEST_F(LineageServiceTest, EveryRecordIsAnAuditEventNamingItsDigest) {
  const LineageRecord record = MakeRecord({source}, {});
  const uint64_t log_size = world_.log().size();
  auto index = world_.service().Record(record);
  ASSERT_TRUE(index.ok()) << index.status().ToString();
  EXPECT_EQ(*index, log_size);
  auto event = world_.log().ReadEvent(*index);
  ASSERT_TRUE(event.ok());
  EXPECT_EQ(event->action, "lineage.record");
  EXPECT_EQ(event->principal_id, "User::dana");
  ASSERT_EQ(event->resources.size(), 2u);
  EXPECT_EQ(event->resources[0].type, "LineageRecord");
  LineageRecord stamped = record;
  stamped.time = event->time;  // the service stamps a zero time with its clock
  EXPECT_EQ(event->resources[0].id, RecordDigest(stamped));
  EXPECT_EQ(event->resources[1].id, source.Id());
  EXPECT_EQ(event->outcome_detail, "1 new nodes, 0 new edges from test");
}

TEST_F(LineageServiceTest, WalksAnswerUpstreamAndDownstreamAndSurviveARestart) {
  RecordChain();
  auto check = [&] {
    WalkOptions up;
    auto graph = world_.store().Walk(model.Id(), up);
    ASSERT_TRUE(graph.ok()) << graph.status().ToString();
    ASSERT_EQ(graph->nodes.size(), 5u);
    EXPECT_EQ(graph->nodes[0].id, model.Id());
    EXPECT_EQ(graph->nodes[4].id, source.Id());
    EXPECT_EQ(graph->nodes[4].depth, 4u);
    EXPECT_EQ(graph->edges.size(), 4u);
    WalkOptions down;
    down.direction = Direction::kDownstream;
    down.max_depth = 2;
    auto impact = world_.store().Walk(source.Id(), down);
    ASSERT_TRUE(impact.ok());
    EXPECT_EQ(impact->nodes.size(), 3u);  // source, ingest, view
  };
  check();
  world_.Reopen();
  EXPECT_EQ(world_.store().node_count(), 5u);
  EXPECT_EQ(world_.store().edge_count(), 4u);
  check();
  EXPECT_EQ(world_.store().Walk("model:nope@1", {}).status().code(), StatusCode::kNotFound);
}

TEST_F(LineageServiceTest, BadRecordsAreRefusedAndNothingIsStoredOrAudited) {
  RecordChain();
  const uint64_t log_size = world_.log().size();
  const size_t nodes = world_.store().node_count();

  // A dangling reference.
  auto dangling =
      world_.service().Record(MakeRecord({MakeNode(NodeKind::kModel, "m", "1")},
                                         {MakeEdge("feature_view:ghost@1", "model:m@1", "run-9")}));
  EXPECT_EQ(dangling.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(dangling.status().message().find(
                "edge 0 ('feature_view:ghost@1' -> 'model:m@1', run 'run-9'): "
                "'feature_view:ghost@1' is neither recorded nor in this record"),
            std::string::npos)
      << dangling.status().message();

  // A cycle: the source derived from the model.
  auto cycle = world_.service().Record(MakeRecord({}, {MakeEdge(model.Id(), source.Id())}));
  EXPECT_EQ(cycle.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(cycle.status().message().find("would close a cycle"), std::string::npos);

  // The same node id with other content.
  Node changed = view;
  changed.attributes["owner"] = "someone-else";
  auto conflict = world_.service().Record(MakeRecord({changed}, {}));
  EXPECT_EQ(conflict.status().code(), StatusCode::kAlreadyExists);

  // Node checks name the node.
  auto bad_node = world_.service().Record(MakeRecord({MakeNode(NodeKind::kModel, "m", "a@b")}, {}));
  EXPECT_EQ(bad_node.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad_node.status().message().find("node 'model:m@a@b'"), std::string::npos);

  EXPECT_EQ(world_.service().Record(MakeRecord({}, {})).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(world_.log().size(), log_size);
  EXPECT_EQ(world_.store().node_count(), nodes);
  EXPECT_EQ(world_.store().edge_count(), 4u);

  // Recording the same node again with the same content is a no-op that is still audited.
  auto again = world_.service().Record(MakeRecord({view}, {}));
  EXPECT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(world_.store().node_count(), nodes);
}

TEST_F(LineageServiceTest, ABatchAnswersEachRecordOnItsOwn) {
  const Node a = MakeNode(NodeKind::kDataset, "ns/a", "1");
  const Node b = MakeNode(NodeKind::kDataset, "ns/b", "1");
  std::vector<LineageRecord> batch;
  batch.push_back(MakeRecord({a}, {}));
  batch.push_back(MakeRecord({}, {MakeEdge("dataset:ns/missing@1", a.Id())}));  // refused
  batch.push_back(MakeRecord({b}, {MakeEdge(a.Id(), b.Id(), "r")}));            // uses record 0
  batch.push_back(MakeRecord({}, {MakeEdge(b.Id(), a.Id())}));  // a cycle with record 2
  const auto results = world_.service().RecordAll(std::move(batch));
  ASSERT_EQ(results.size(), 4u);
  EXPECT_TRUE(results[0].ok());
  EXPECT_EQ(results[1].status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(results[2].ok()) << results[2].status().ToString();
  EXPECT_EQ(results[3].status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(*results[2], *results[0] + 1);  // audit indexes in order
  EXPECT_EQ(world_.store().node_count(), 2u);
  EXPECT_EQ(world_.store().edge_count(), 1u);
  auto latest = world_.store().LatestVersion(NodeKind::kDataset, "ns/b");
  ASSERT_TRUE(latest.ok() && latest->has_value());
  EXPECT_EQ(**latest, b.Id());
}

// Newest versions and node contents are answered from memory: they must be rebuilt from
// the stored records at open, and a record refused in a batch must not move them.
TEST_F(LineageServiceTest, NewestVersionsAndNodeContentsSurviveAReopen) {
  const Node v1 = MakeNode(NodeKind::kDataset, "ns/t", "1");
  const Node v2 = MakeNode(NodeKind::kDataset, "ns/t", "2");
  const Node v3 = MakeNode(NodeKind::kDataset, "ns/t", "3");
  std::vector<LineageRecord> batch;
  batch.push_back(MakeRecord({v1}, {}));
  batch.push_back(MakeRecord({v2}, {MakeEdge(v1.Id(), v2.Id(), "r1")}));
  batch.push_back(MakeRecord({v3}, {MakeEdge("dataset:ns/ghost@1", v3.Id())}));  // refused
  const auto results = world_.service().RecordAll(std::move(batch));
  ASSERT_TRUE(results[0].ok() && results[1].ok());
  ASSERT_FALSE(results[2].ok());
  auto newest = [&] {
    auto latest = world_.store().LatestVersion(NodeKind::kDataset, "ns/t");
    EXPECT_TRUE(latest.ok()) << latest.status().ToString();
    return latest.ok() && latest->has_value() ? **latest : std::string("(none)");
  };
  EXPECT_EQ(newest(), v2.Id());
  auto none = world_.store().LatestVersion(NodeKind::kDataset, "ns/other");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());

  world_.Reopen();
  EXPECT_EQ(newest(), v2.Id());
  // v1 again with the same content is a no-op; with other content it is refused.
  EXPECT_TRUE(world_.service().Record(MakeRecord({v1}, {})).ok());
  Node changed = v1;
  changed.attributes["owner"] = "someone-else";
  auto conflict = world_.service().Record(MakeRecord({changed}, {}));
  EXPECT_EQ(conflict.status().code(), StatusCode::kAlreadyExists) << conflict.status().ToString();
  EXPECT_NE(conflict.status().message().find("node 'dataset:ns/t@1'"), std::string::npos);
  // Re-recording v1 does not make it the newest again.
  EXPECT_EQ(newest(), v2.Id());
  ASSERT_TRUE(world_.service().Record(MakeRecord({v3}, {})).ok());
  EXPECT_EQ(newest(), v3.Id());
}

TEST_F(LineageServiceTest, ContributorsAndImpactGroupByKindAndNameThePrincipals) {
  RecordChain();
  auto contributors = ContributorsOf(world_.store(), model.Id());
  ASSERT_TRUE(contributors.ok()) << contributors.status().ToString();
  EXPECT_EQ(contributors->by_kind[NodeKind::kFeatureView], std::vector<std::string>{view.Id()});
  EXPECT_EQ(contributors->by_kind[NodeKind::kSource], std::vector<std::string>{source.Id()});
  EXPECT_EQ(contributors->by_kind[NodeKind::kTrainingSet], std::vector<std::string>{training.Id()});
  EXPECT_EQ(contributors->principals,
            (std::vector<std::string>{"User::dana", "User::steward"}));  // the model's own
                                                                         // record is not upstream
  auto impact = ImpactOf(world_.store(), source.Id());
  ASSERT_TRUE(impact.ok());
  EXPECT_EQ(impact->by_kind[NodeKind::kModel], std::vector<std::string>{model.Id()});
  EXPECT_EQ(impact->by_kind.size(), 4u);  // transformation, feature view, training set, model
  EXPECT_FALSE(impact->truncated);
}

TEST_F(LineageServiceTest, AccessesUpstreamJoinTheAuditLogAtTheExactVersion) {
  RecordChain();
  auto read = [&](uint64_t version, const char* who, audit::Decision decision) {
    audit::AuditEvent event = audit::testing::MakeEvent(1);
    event.principal_id = who;
    event.action = "features.online";
    event.resources = {{"FeatureView", "fraud", version}};
    event.decision = decision;
    return *world_.log().Append(event);
  };
  const uint64_t first = read(3, "User::alice", audit::Decision::kAllow);
  read(2, "User::bob", audit::Decision::kAllow);  // another version: not upstream
  const uint64_t denied = read(3, "User::mallory", audit::Decision::kDeny);
  auto report = AccessesUpstreamOf(world_.store(), world_.log(), model.Id());
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  ASSERT_EQ(report->accesses.size(), 2u);
  EXPECT_EQ(report->accesses[0].audit_index, first);
  EXPECT_EQ(report->accesses[0].principal, "User::alice");
  EXPECT_EQ(report->accesses[0].node_id, view.Id());
  EXPECT_TRUE(report->accesses[0].allowed);
  EXPECT_EQ(report->accesses[1].audit_index, denied);
  EXPECT_FALSE(report->accesses[1].allowed);
}

TEST_F(LineageServiceTest, VerifyFindsChangedRecordsAndChangedContent) {
  const std::string path = world_.tmp() + "/tx.csv";
  std::ofstream(path) << "id,amount\n1,10\n";
  Node file_source = MakeNode(NodeKind::kSource, "tx.csv", "v1");
  file_source.content_sha256 =
      common::HexEncode(crypto::Sha256Of(common::AsBytes(std::string_view("id,amount\n1,10\n"))));
  file_source.attributes["path"] = path;
  ASSERT_TRUE(world_.service().Record(MakeRecord({file_source}, {})).ok());
  RecordChain();

  auto clean = VerifyLineage(world_.store(), world_.log());
  ASSERT_TRUE(clean.ok());
  EXPECT_TRUE(clean->ok()) << clean->problems.front();
  EXPECT_EQ(clean->records_checked, 4u);
  EXPECT_EQ(clean->content_hashes_checked, 1u);

  // The file changes after it was recorded.
  std::ofstream(path) << "id,amount\n1,99\n";
  // And someone with the data key re-seals the second stored record (the chain's first)
  // with another principal in it.
  auto sealed = storage::EncryptedKeyspace::Open(world_.kv(), storage::Keyspace::kLineage,
                                                 world_.keyring(), "lineage");
  ASSERT_TRUE(sealed.ok());
  const std::string key = common::KeyBuilder().AddRaw("r").AddUint64(2).Release();
  auto stored = sealed->Get(key);
  ASSERT_TRUE(stored.ok() && stored->has_value());
  std::string value = **stored;
  const size_t at = value.find("User::steward");
  ASSERT_NE(at, std::string::npos);
  value.replace(at, 13, "User::mallory");
  ASSERT_TRUE(sealed->Put(key, value).ok());
  // And someone without it flips a byte of the third.
  const std::string third = common::KeyBuilder().AddRaw("r").AddUint64(3).Release();
  auto raw = world_.kv().Get(storage::Keyspace::kLineage, third);
  ASSERT_TRUE(raw.ok() && raw->has_value());
  std::string flipped = **raw;
  flipped[flipped.size() / 2] ^= 0x01;
  ASSERT_TRUE(world_.kv().Put(storage::Keyspace::kLineage, third, flipped).ok());

  auto tampered = VerifyLineage(world_.store(), world_.log());
  ASSERT_TRUE(tampered.ok());
  ASSERT_EQ(tampered->problems.size(), 3u);
  EXPECT_NE(tampered->problems[0].find("node 'source:tx.csv@v1': " + path + " now hashes to"),
            std::string::npos)
      << tampered->problems[0];
  EXPECT_NE(tampered->problems[1].find("lineage record 2 (audit index"), std::string::npos);
  EXPECT_NE(tampered->problems[1].find("changed after it was audited"), std::string::npos);
  EXPECT_NE(tampered->problems[2].find("lineage record 3: the stored value does not authenticate"),
            std::string::npos)
      << tampered->problems[2];

  // A restart leaves the damaged record (and the one that builds on it) out of the graph
  // and still serves the rest.
  world_.Reopen();
  EXPECT_TRUE(world_.store().GetNode(file_source.Id()).ok());
  auto after = VerifyLineage(world_.store(), world_.log());
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->problems.size(), 4u);
  EXPECT_NE(after->problems[3].find("lineage record 4 is left out of the graph"), std::string::npos)
      << after->problems[3];
}

TEST_F(LineageServiceTest, ExportsJsonAndDot) {
  RecordChain();
  auto graph = world_.store().Walk(view.Id(), {});
  ASSERT_TRUE(graph.ok());
  auto json = ExportJson(world_.store(), *graph);
  ASSERT_TRUE(json.ok());
  EXPECT_NE(json->find("\"id\": \"feature_view:fraud@3\""), std::string::npos) << *json;
  EXPECT_NE(json->find("\"run_id\": \"run-1\""), std::string::npos);
  EXPECT_NE(json->find("\"time\": \"2027-01-15T08:00:00Z\""), std::string::npos) << *json;
  auto dot = ExportDot(world_.store(), *graph);
  ASSERT_TRUE(dot.ok());
  EXPECT_NE(dot->find("\"source:tx.csv@sha256:aa\" -> \"transformation:custos/ingest@1\" "
                      "[label=\"run run-1\"];"),
            std::string::npos)
      << *dot;
  EXPECT_NE(dot->find("label=\"feature_view\\nfraud@3\""), std::string::npos) << *dot;
  auto whole = WholeGraph(world_.store());
  ASSERT_TRUE(whole.ok());
  EXPECT_EQ(whole->nodes.size(), 5u);
  EXPECT_EQ(whole->edges.size(), 4u);
}

}  // namespace
}  // namespace custos::lineage
