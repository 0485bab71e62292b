// The artifact vault end to end on real storage: versions, content addressing, client and
// server signatures, environments and prod promotion through the access workflow, export
// control, retention and crypto-shredding, fail-closed audit, lineage, and bad input.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "artifacts/offline_verify.h"
#include "common/bytes.h"
#include "crypto/hash.h"
#include "lineage/capture.h"
#include "vault_fixture.h"

namespace custos::artifacts {
namespace {

using namespace testing;  // NOLINT(google-build-using-namespace): test helpers
using std::chrono::days;
using std::chrono::hours;

constexpr const char* kName = "fraud/scorer";

crypto::Digest Sha(const std::string& bytes) { return crypto::Sha256Of(common::AsBytes(bytes)); }

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

class VaultTest : public ::testing::Test {
 protected:
  ArtifactVault& vault() { return w_.vault(); }

  ArtifactVersion MustCommit(const std::string& content, CommitOptions options = {},
                             const std::string& name = kName) {
    auto v = w_.UploadAndCommit(name, content, std::move(options));
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    return v.ok() ? *v : ArtifactVersion{};
  }

  // Nothing of `content` became a version of kName.
  void ExpectNoVersion(const std::string& content) {
    auto versions = vault().ListVersions(kName);
    ASSERT_TRUE(versions.ok()) << versions.status().ToString();
    EXPECT_TRUE(versions->empty());
    auto refs = vault().FindByDigest(Sha(content));
    ASSERT_TRUE(refs.ok());
    EXPECT_TRUE(refs->empty());
    EXPECT_TRUE(w_.EventsWithAction("artifact.version.commit").empty());
  }

  crypto::Ed25519PrivateKey RegisterKey(const std::string& user) {
    crypto::Ed25519PrivateKey key = crypto::Ed25519PrivateKey::Generate();
    auto r = w_.signers().Register(User(user).ToString(), key.public_key(), "User::\"admin\"");
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return key;
  }

  VaultWorld w_;
};

TEST_F(VaultTest, CommitsAssignOneTwoThreeAndReadBack) {
  const std::string a = VaultWorld::Bytes(kChunk * 2 + 17, 'a');
  const std::string b = VaultWorld::Bytes(100, 'b');
  const std::string c = VaultWorld::Bytes(kChunk, 'c');
  const ArtifactVersion v1 = MustCommit(a);
  const ArtifactVersion v2 = MustCommit(b);
  const ArtifactVersion v3 = MustCommit(c);
  EXPECT_EQ(v1.version, 1u);
  EXPECT_EQ(v2.version, 2u);
  EXPECT_EQ(v3.version, 3u);

  EXPECT_EQ(v1.blob.sha256, Sha(a));
  EXPECT_EQ(v1.blob.size, a.size());
  EXPECT_EQ(v1.created_by, "User::\"dana\"");
  EXPECT_EQ(v1.environments, std::set<Environment>{Environment::kDev});
  EXPECT_TRUE(InEnvironment(v1, Environment::kDev));
  EXPECT_FALSE(InEnvironment(v1, Environment::kStaging));
  ASSERT_EQ(v1.signatures.size(), 1u);
  EXPECT_EQ(v1.signatures[0].signer, kServerSigner);
  EXPECT_EQ(v1.lineage_node, "model:fraud/scorer@1");

  auto event = w_.log().ReadEvent(v2.audit_index);
  ASSERT_TRUE(event.ok()) << event.status().ToString();
  EXPECT_EQ(event->action, "artifact.version.commit");
  EXPECT_EQ(event->principal_id, "User::\"dana\"");
  ASSERT_EQ(event->resources.size(), 1u);
  EXPECT_EQ(event->resources[0], (audit::ResourceRef{"Artifact", kName, 2}));
  EXPECT_TRUE(Contains(event->outcome_detail, common::HexEncode(Sha(b))));

  auto latest = vault().Latest(kName);
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ(*latest, v3);
  auto got = vault().Get({kName, 2});
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, v2);
  auto versions = vault().ListVersions(kName);
  ASSERT_TRUE(versions.ok());
  ASSERT_EQ(versions->size(), 3u);
  EXPECT_EQ((*versions)[0].version, 1u);
  EXPECT_EQ((*versions)[2].version, 3u);

  MustCommit("other", {}, "fraud/other");
  auto names = vault().ListNames();
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, (std::vector<std::string>{"fraud/other", "fraud/scorer"}));

  auto read = w_.ReadAll({kName, 1});
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(*read, a);
  auto read3 = w_.ReadAll({kName, 3});
  ASSERT_TRUE(read3.ok()) << read3.status().ToString();
  EXPECT_EQ(*read3, c);

  const std::string json = ArtifactVersionToJson(v1);
  EXPECT_TRUE(Contains(json, "\"ref\":\"fraud/scorer@1\"")) << json;
  EXPECT_TRUE(Contains(json, "\"environments\":[\"dev\"]")) << json;
  EXPECT_FALSE(Contains(json, v1.blob.blob_id)) << json;
}

TEST_F(VaultTest, IdenticalContentIsIdempotentAndFindByDigestListsEveryVersion) {
  const std::string a = VaultWorld::Bytes(5000, 'a');
  const ArtifactVersion v1 = MustCommit(a);
  const std::string again = w_.Upload(kName, a);
  auto same = vault().Commit(again, {}, As("dana"));
  ASSERT_TRUE(same.ok()) << same.status().ToString();
  EXPECT_EQ(*same, v1);
  EXPECT_TRUE(w_.keyring().IsShredded(BlobKeyOwner(again)));  // the new blob rolled back
  EXPECT_EQ(vault().GetUpload(again).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(w_.EventsWithAction("artifact.version.commit").size(), 1u);
  auto versions = vault().ListVersions(kName);
  ASSERT_TRUE(versions.ok());
  EXPECT_EQ(versions->size(), 1u);

  // Only the latest counts: a, b, a makes three versions.
  MustCommit("b");
  const ArtifactVersion v3 = MustCommit(a);
  EXPECT_EQ(v3.version, 3u);
  MustCommit(a, {}, "fraud/copy");
  auto refs = vault().FindByDigest(Sha(a));
  ASSERT_TRUE(refs.ok()) << refs.status().ToString();
  EXPECT_EQ(*refs, (std::vector<ArtifactRef>{{"fraud/copy", 1}, {kName, 1}, {kName, 3}}));
  auto none = vault().FindByDigest(Sha("never uploaded"));
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST_F(VaultTest, ClientSignatureByActorsKeyIsAcceptedOthersRefused) {
  const crypto::Ed25519PrivateKey dana = RegisterKey("dana");
  const crypto::Ed25519PrivateKey erin = RegisterKey("erin");
  const crypto::Ed25519PrivateKey stranger = crypto::Ed25519PrivateKey::Generate();
  const std::string content = VaultWorld::Bytes(3000, 'x');
  const std::string id = w_.Upload(kName, content);
  auto statement = vault().StatementFor(id);
  ASSERT_TRUE(statement.ok()) << statement.status().ToString();
  EXPECT_EQ(statement->version, 1u);
  EXPECT_EQ(statement->sha256, Sha(content));
  EXPECT_EQ(statement->size, content.size());
  // Finished: no more chunks.
  EXPECT_EQ(vault().AppendChunk(id, 1, common::AsBytes("more")).status().code(),
            StatusCode::kFailedPrecondition);

  // An unregistered key claiming to be dana.
  CommitOptions forged;
  forged.client_signature = SignStatement(*statement, User("dana").ToString(), stranger);
  auto refused = vault().Commit(id, forged, As("dana"));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kPermissionDenied);
  // erin's registered key, but dana commits.
  CommitOptions by_erin;
  by_erin.client_signature = SignStatement(*statement, User("erin").ToString(), erin);
  auto mismatch = vault().Commit(id, by_erin, As("dana"));
  ASSERT_FALSE(mismatch.ok());
  EXPECT_EQ(mismatch.status().code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(Contains(mismatch.status().message(), "registered to the committing principal"));
  ExpectNoVersion(content);

  CommitOptions good;
  good.client_signature = SignStatement(*statement, User("dana").ToString(), dana);
  auto committed = vault().Commit(id, good, As("dana"));
  ASSERT_TRUE(committed.ok()) << committed.status().ToString();
  ASSERT_EQ(committed->signatures.size(), 2u);
  EXPECT_EQ(committed->signatures[0].signer, kServerSigner);
  EXPECT_EQ(committed->signatures[1], *good.client_signature);
}

TEST_F(VaultTest, StaleClientSignatureSaysToFetchTheStatementAgain) {
  const crypto::Ed25519PrivateKey dana = RegisterKey("dana");
  const std::string mine = VaultWorld::Bytes(2000, 'm');
  const std::string id = w_.Upload(kName, mine);
  auto statement = vault().StatementFor(id);
  ASSERT_TRUE(statement.ok());
  ASSERT_EQ(statement->version, 1u);
  CommitOptions options;
  options.client_signature = SignStatement(*statement, User("dana").ToString(), dana);

  MustCommit("someone else won");  // takes version 1
  auto stale = vault().Commit(id, options, As("dana"));
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Contains(stale.status().message(), "covers fraud/scorer@1"));
  EXPECT_TRUE(Contains(stale.status().message(), "fetch the statement again"));
  auto versions = vault().ListVersions(kName);
  ASSERT_TRUE(versions.ok());
  EXPECT_EQ(versions->size(), 1u);

  auto fresh = vault().StatementFor(id);
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ(fresh->version, 2u);
  options.client_signature = SignStatement(*fresh, User("dana").ToString(), dana);
  auto committed = vault().Commit(id, options, As("dana"));
  ASSERT_TRUE(committed.ok()) << committed.status().ToString();
  EXPECT_EQ(committed->version, 2u);
}

TEST_F(VaultTest, BundleVerifiesOfflineWithTrustedKeys) {
  const crypto::Ed25519PrivateKey dana = RegisterKey("dana");
  const std::string content = VaultWorld::Bytes(kChunk + 5, 'q');
  const std::string id = w_.Upload(kName, content);
  auto statement = vault().StatementFor(id);
  ASSERT_TRUE(statement.ok());
  CommitOptions options;
  options.client_signature = SignStatement(*statement, User("dana").ToString(), dana);
  ASSERT_TRUE(vault().Commit(id, options, As("dana")).ok());

  auto bundle = vault().Bundle({kName, 1});
  ASSERT_TRUE(bundle.ok()) << bundle.status().ToString();
  EXPECT_EQ(bundle->statement, *statement);
  ASSERT_EQ(bundle->signatures.size(), 2u);
  auto parsed = ParseBundle(BundleToJson(*bundle));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  auto trusted = ParseTrustedKeys(TrustedKeysToJson(w_.signers().TrustedKeys()));
  ASSERT_TRUE(trusted.ok()) << trusted.status().ToString();
  for (const ArtifactSignature& s : parsed->signatures) {
    EXPECT_TRUE(VerifySignature(parsed->statement, s, *trusted)) << s.signer;
  }

  const std::string path = w_.blobs().root() + "/../exported.bin";
  std::ofstream(path, std::ios::binary) << content;
  auto report = VerifyArtifactFile({kName, 1}, path, *parsed, *trusted);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->ok);
  EXPECT_EQ(report->trusted_signers.size(), 2u);

  std::string tampered = content;
  tampered[10] ^= 1;
  std::ofstream(path, std::ios::binary | std::ios::trunc) << tampered;
  auto bad = VerifyArtifactFile({kName, 1}, path, *parsed, *trusted);
  ASSERT_TRUE(bad.ok());
  EXPECT_FALSE(bad->ok);
  EXPECT_FALSE(bad->digest_matches);
}

TEST_F(VaultTest, PromotionGoesOneStepAtATimeAndProdNeedsAnApprovedGrant) {
  w_.Govern(kName, catalog::Classification::kRestricted);
  const ArtifactVersion v1 = MustCommit("model one");
  const ArtifactVersion v2 = MustCommit("model two");

  auto skip = vault().Promote(v2.ref(), Environment::kProd, As("dana"));
  ASSERT_FALSE(skip.ok());
  EXPECT_EQ(skip.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Contains(skip.status().message(), "promote it to staging before prod"))
      << skip.status().message();

  auto staging = vault().Promote(v1.ref(), Environment::kStaging, As("dana"));
  ASSERT_TRUE(staging.ok()) << staging.status().ToString();
  EXPECT_TRUE(InEnvironment(*staging, Environment::kStaging));

  auto denied = vault().Promote(v1.ref(), Environment::kProd, As("dana"));
  ASSERT_FALSE(denied.ok());
  EXPECT_EQ(denied.status().code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(Contains(denied.status().message(), "with action promote and have it approved"));
  auto still = vault().Get(v1.ref());
  ASSERT_TRUE(still.ok());
  EXPECT_FALSE(InEnvironment(*still, Environment::kProd));

  // A grant for another action or another person does not count.
  ASSERT_FALSE(w_.ApprovedGrant("erin", kName, "promote").empty());
  ASSERT_FALSE(w_.ApprovedGrant("dana", kName, "export").empty());
  EXPECT_EQ(vault().Promote(v1.ref(), Environment::kProd, As("dana")).status().code(),
            StatusCode::kPermissionDenied);

  const std::string grant = w_.ApprovedGrant("dana", kName, "promote");
  ASSERT_FALSE(grant.empty());
  auto prod = vault().Promote(v1.ref(), Environment::kProd, As("dana"));
  ASSERT_TRUE(prod.ok()) << prod.status().ToString();
  EXPECT_EQ(prod->environments,
            (std::set<Environment>{Environment::kDev, Environment::kStaging, Environment::kProd}));
  EXPECT_TRUE(InEnvironment(*prod, Environment::kProd));
  EXPECT_TRUE(InEnvironment(*prod, Environment::kStaging));  // still readable there

  auto down = vault().Promote(v1.ref(), Environment::kStaging, As("dana"));
  ASSERT_FALSE(down.ok());
  EXPECT_EQ(down.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Contains(down.status().message(), "already in prod"));

  const auto events = w_.EventsWithAction("artifact.version.promote");
  ASSERT_EQ(events.size(), 6u);  // skip, staging, denied twice, prod, down
}

TEST_F(VaultTest, PromotionEventsRecordDecisionsAndTheGrant) {
  w_.Govern(kName, catalog::Classification::kConfidential);
  const ArtifactVersion v1 = MustCommit("model");
  ASSERT_TRUE(vault().Promote(v1.ref(), Environment::kStaging, As("dana")).ok());
  ASSERT_FALSE(vault().Promote(v1.ref(), Environment::kProd, As("dana")).ok());
  const std::string grant = w_.ApprovedGrant("dana", kName, "promote");
  ASSERT_TRUE(vault().Promote(v1.ref(), Environment::kProd, As("dana")).ok());
  const auto events = w_.EventsWithAction("artifact.version.promote");
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].decision, audit::Decision::kAllow);
  EXPECT_EQ(events[0].environment, "staging");
  EXPECT_EQ(events[1].decision, audit::Decision::kDeny);
  EXPECT_EQ(events[1].environment, "prod");
  EXPECT_TRUE(events[1].grant_id.empty());
  EXPECT_EQ(events[2].decision, audit::Decision::kAllow);
  EXPECT_EQ(events[2].grant_id, grant);
  EXPECT_EQ(events[2].resources[0], (audit::ResourceRef{"Artifact", kName, 1}));
}

TEST_F(VaultTest, ExportOfRestrictedArtifactNeedsAGrantAndEveryDecisionIsAudited) {
  auto governed = vault().EnsureGoverned(kName, catalog::Classification::kRestricted,
                                         {User("olivia"), User("oscar")}, As("admin"));
  ASSERT_TRUE(governed.ok()) << governed.status().ToString();
  // Registering again answers the existing record unchanged.
  auto again =
      vault().EnsureGoverned(kName, catalog::Classification::kPublic, {User("x")}, As("admin"));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->classification, catalog::Classification::kRestricted);
  EXPECT_EQ(again->revision, 1u);

  const ArtifactVersion v1 = MustCommit("weights");
  auto refused = vault().AuthorizeExport(v1.ref(), As("dana"));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(Contains(refused.status().message(), "with action export"));

  const std::string grant = w_.ApprovedGrant("dana", kName, "export");
  ASSERT_FALSE(grant.empty());
  auto ticket = vault().AuthorizeExport(v1.ref(), As("dana"));
  ASSERT_TRUE(ticket.ok()) << ticket.status().ToString();
  EXPECT_EQ(ticket->ref, v1.ref());
  EXPECT_EQ(ticket->grant_id, grant);

  const auto events = w_.EventsWithAction("artifact.export");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].decision, audit::Decision::kDeny);
  EXPECT_EQ(events[0].outcome, audit::Outcome::kDenied);
  EXPECT_EQ(events[0].principal_id, "User::\"dana\"");
  EXPECT_EQ(events[1].decision, audit::Decision::kAllow);
  EXPECT_EQ(events[1].grant_id, grant);
  auto at_index = w_.log().ReadEvent(ticket->audit_index);
  ASSERT_TRUE(at_index.ok());
  EXPECT_EQ(*at_index, events[1]);
}

TEST_F(VaultTest, ExportOfUnregisteredIsRefusedAndOfInternalAllowedWithoutGrant) {
  const ArtifactVersion v1 = MustCommit("weights");
  auto unregistered = vault().AuthorizeExport(v1.ref(), As("dana"));
  ASSERT_FALSE(unregistered.ok());
  EXPECT_EQ(unregistered.status().code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(Contains(unregistered.status().message(), "unregistered"));

  w_.Govern(kName, catalog::Classification::kInternal);
  auto ticket = vault().AuthorizeExport(v1.ref(), As("dana"));
  ASSERT_TRUE(ticket.ok()) << ticket.status().ToString();
  EXPECT_FALSE(ticket->grant_id.has_value());

  auto missing = vault().AuthorizeExport({kName, 7}, As("dana"));
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  const auto events = w_.EventsWithAction("artifact.export");
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].decision, audit::Decision::kDeny);
  EXPECT_EQ(events[1].decision, audit::Decision::kAllow);
  EXPECT_EQ(events[2].decision, audit::Decision::kDeny);
}

TEST_F(VaultTest, ShredMakesReadsFailKeepsTombstoneAndDestroysTheKey) {
  const std::string content = VaultWorld::Bytes(4000, 's');
  const ArtifactVersion v1 = MustCommit(content);
  auto shredded = vault().Shred(v1.ref(), "erasure request", As("stella"));
  ASSERT_TRUE(shredded.ok()) << shredded.status().ToString();
  EXPECT_EQ(shredded->state, VersionState::kShredded);
  EXPECT_EQ(shredded->shred_reason, "erasure request");
  EXPECT_TRUE(w_.keyring().IsShredded(BlobKeyOwner(v1.blob.blob_id)));

  auto read = w_.ReadAll(v1.ref());
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(read.status().message(),
            "artifact fraud/scorer@1 was crypto-shredded at 2027-01-15T08:00:00Z "
            "(erasure request)");

  // The tombstone keeps what lineage and audit refer to.
  auto tomb = vault().Get(v1.ref());
  ASSERT_TRUE(tomb.ok());
  EXPECT_EQ(tomb->blob.sha256, Sha(content));
  EXPECT_EQ(tomb->audit_index, v1.audit_index);
  EXPECT_FALSE(InEnvironment(*tomb, Environment::kDev));
  auto refs = vault().FindByDigest(Sha(content));
  ASSERT_TRUE(refs.ok());
  EXPECT_EQ(*refs, std::vector<ArtifactRef>{v1.ref()});

  const auto events = w_.EventsWithAction("artifact.version.shred");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].principal_id, "User::\"stella\"");
  EXPECT_TRUE(Contains(events[0].outcome_detail, "erasure request"));

  EXPECT_EQ(vault().Shred(v1.ref(), "again", As("stella")).status().code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(vault().Promote(v1.ref(), Environment::kStaging, As("dana")).status().code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(vault().AuthorizeExport(v1.ref(), As("dana")).status().code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(vault().Shred(v1.ref(), "", As("stella")).status().code(),
            StatusCode::kInvalidArgument);

  // The same content uploaded again after shredding is a new version.
  const ArtifactVersion v2 = MustCommit(content);
  EXPECT_EQ(v2.version, 2u);
}

TEST_F(VaultTest, ShredExpiredShredsVersionsPastRetention) {
  CommitOptions one_day;
  one_day.retention.duration = days(1);
  const ArtifactVersion v1 = MustCommit("first", one_day);
  CommitOptions until;
  until.retention.until = w_.clock().Now() + days(10);
  const ArtifactVersion v2 = MustCommit("second", until);
  const ArtifactVersion v3 = MustCommit("third");
  ASSERT_TRUE(v1.retention_until.has_value());
  EXPECT_EQ(*v1.retention_until, w_.clock().Now() + days(1));

  auto none = vault().ShredExpired();
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());

  w_.clock().Advance(days(2));
  auto first = vault().ShredExpired();
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(*first, std::vector<ArtifactRef>{v1.ref()});
  auto read = w_.ReadAll(v1.ref());
  EXPECT_EQ(read.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Contains(read.status().message(), "(retention)"));
  EXPECT_TRUE(w_.ReadAll(v2.ref()).ok());

  // Retention set later is honoured too.
  auto set = vault().SetRetention(v3.ref(), w_.clock().Now() + hours(1), As("stella"));
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  EXPECT_EQ(w_.EventsWithAction("artifact.version.retention").size(), 1u);

  w_.clock().Advance(days(10));
  auto second = vault().ShredExpired();
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*second, (std::vector<ArtifactRef>{v2.ref(), v3.ref()}));
  const auto events = w_.EventsWithAction("artifact.version.shred");
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].principal_id, "ServiceAccount::\"custos-retention\"");
  EXPECT_EQ(vault().SetRetention(v3.ref(), std::nullopt, As("stella")).status().code(),
            StatusCode::kFailedPrecondition);
}

TEST_F(VaultTest, AuditFailureLeavesNoVersion) {
  const std::string content = VaultWorld::Bytes(3000, 'f');
  const std::string id = w_.Upload(kName, content);
  w_.log().Close();
  auto commit = vault().Commit(id, {}, As("dana"));
  ASSERT_FALSE(commit.ok());
  EXPECT_EQ(commit.status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(Contains(commit.status().message(), "no version was created"));
  auto versions = vault().ListVersions(kName);
  ASSERT_TRUE(versions.ok());
  EXPECT_TRUE(versions->empty());
  auto refs = vault().FindByDigest(Sha(content));
  ASSERT_TRUE(refs.ok());
  EXPECT_TRUE(refs->empty());
  EXPECT_TRUE(w_.keyring().IsShredded(BlobKeyOwner(id)));
  EXPECT_EQ(vault().GetUpload(id).status().code(), StatusCode::kNotFound);
  auto node = w_.lineage_store().GetNode("model:fraud/scorer@1");
  ASSERT_TRUE(node.ok());
  EXPECT_FALSE(node->has_value());
}

TEST_F(VaultTest, ShredFailsClosedWhenTheAuditLogIsDown) {
  const ArtifactVersion v1 = MustCommit("keep me");
  w_.log().Close();
  auto shred = vault().Shred(v1.ref(), "erasure", As("stella"));
  ASSERT_FALSE(shred.ok());
  EXPECT_FALSE(w_.keyring().IsShredded(BlobKeyOwner(v1.blob.blob_id)));
  auto read = w_.ReadAll(v1.ref());
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(*read, "keep me");
}

TEST_F(VaultTest, LineageRecordsDigestAndEdgesFromInputs) {
  lineage::Node training;
  training.kind = lineage::NodeKind::kTrainingSet;
  training.name = "fraud-train";
  training.version = "sha256:" + std::string(64, 'b');
  lineage::LineageRecord record;
  record.origin = "test";
  record.principal = "User::\"dana\"";
  record.nodes = {training};
  ASSERT_TRUE(w_.lineage().Record(record).ok());

  const std::string content = VaultWorld::Bytes(2500, 'l');
  CommitOptions options;
  options.lineage_inputs = {training.Id()};
  const ArtifactVersion v1 = MustCommit(content, options);
  EXPECT_EQ(v1.lineage_node, "model:fraud/scorer@1");
  auto node = w_.lineage_store().GetNode(v1.lineage_node);
  ASSERT_TRUE(node.ok());
  ASSERT_TRUE(node->has_value());
  EXPECT_EQ((*node)->node.content_sha256, common::HexEncode(Sha(content)));
  EXPECT_EQ((*node)->node.attributes.at("size"), "2500");

  lineage::WalkOptions walk_options;
  auto walk = w_.lineage_store().Walk(v1.lineage_node, walk_options);
  ASSERT_TRUE(walk.ok()) << walk.status().ToString();
  ASSERT_EQ(walk->edges.size(), 2u);
  const std::string run = "artifact-commit-" + std::to_string(v1.audit_index);
  for (const lineage::Edge& edge : walk->edges) EXPECT_EQ(edge.run_id, run);
  bool from_training = false;
  for (const lineage::Edge& edge : walk->edges) {
    from_training |= edge.from == training.Id();
  }
  EXPECT_TRUE(from_training);
}

TEST_F(VaultTest, MissingLineageInputIsRefusedAndLeavesNothing) {
  const std::string content = VaultWorld::Bytes(2500, 'n');
  const std::string id = w_.Upload(kName, content);
  CommitOptions options;
  options.lineage_inputs = {"training_set:ghost@sha256:00"};
  const size_t nodes = w_.lineage_store().node_count();
  auto commit = vault().Commit(id, options, As("dana"));
  ASSERT_FALSE(commit.ok());
  EXPECT_EQ(commit.status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(Contains(commit.status().message(), "'training_set:ghost@sha256:00'"));
  ExpectNoVersion(content);
  EXPECT_EQ(w_.lineage_store().node_count(), nodes);

  // The upload is still there: fixed inputs commit it.
  auto committed = vault().Commit(id, {}, As("dana"));
  ASSERT_TRUE(committed.ok()) << committed.status().ToString();
  EXPECT_EQ(committed->version, 1u);
}

TEST_F(VaultTest, VersionNumberLeftInLineageByAFailedCommitIsSkipped) {
  // As if a commit of version 1 recorded its lineage and then failed to store the version.
  lineage::ArtifactCapture capture;
  capture.kind = lineage::NodeKind::kModel;
  capture.name = kName;
  capture.version = "1";
  capture.content_sha256 = std::string(64, 'e');
  capture.media_type = "application/octet-stream";
  capture.principal = "User::\"dana\"";
  ASSERT_TRUE(lineage::CaptureArtifact(w_.lineage(), capture).ok());
  const ArtifactVersion v = MustCommit("fresh");
  EXPECT_EQ(v.version, 2u);
}

TEST_F(VaultTest, BadInputIsRefusedWithWhatAndWhere) {
  auto bad_name = vault().BeginUpload("Fraud Model", ArtifactKind::kModel,
                                      "application/octet-stream", As("dana"), kChunk);
  EXPECT_EQ(bad_name.status().code(), StatusCode::kInvalidArgument);
  auto bad_type =
      vault().BeginUpload(kName, ArtifactKind::kModel, "not a type", As("dana"), kChunk);
  EXPECT_EQ(bad_type.status().code(), StatusCode::kInvalidArgument);
  auto unknown = vault().AppendChunk("blb_unknown", 0, common::AsBytes("x"));
  EXPECT_EQ(unknown.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(vault().Commit("blb_unknown", {}, As("dana")).status().code(), StatusCode::kNotFound);

  const std::string content = VaultWorld::Bytes(1000, 'z');
  const std::string id = w_.Upload(kName, content);
  CommitOptions wrong_digest;
  wrong_digest.expected_sha256 = Sha("something else");
  auto mismatch = vault().Commit(id, wrong_digest, As("dana"));
  EXPECT_EQ(mismatch.status().code(), StatusCode::kFailedPrecondition);

  CommitOptions both;
  both.retention.duration = days(1);
  both.retention.until = w_.clock().Now() + days(2);
  EXPECT_EQ(vault().Commit(id, both, As("dana")).status().code(), StatusCode::kInvalidArgument);
  CommitOptions past;
  past.retention.until = w_.clock().Now() - days(1);
  EXPECT_EQ(vault().Commit(id, past, As("dana")).status().code(), StatusCode::kInvalidArgument);
  CommitOptions bad_label;
  bad_label.labels["Team Name"] = "risk";
  auto label = vault().Commit(id, bad_label, As("dana"));
  EXPECT_EQ(label.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(label.status().message(), "Team Name"));
  CommitOptions bad_utf8;
  bad_utf8.description = "\xff\xfe";
  EXPECT_EQ(vault().Commit(id, bad_utf8, As("dana")).status().code(), StatusCode::kInvalidArgument);
  ExpectNoVersion(content);

  CommitOptions right;
  right.expected_sha256 = Sha(content);
  right.labels["team"] = "risk";
  right.description = "scorer trained on Q4";
  auto ok = vault().Commit(id, right, As("dana"));
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->labels.at("team"), "risk");

  // A dataset under a model's name.
  auto other_kind =
      vault().BeginUpload(kName, ArtifactKind::kDataset, "text/csv", As("dana"), kChunk);
  EXPECT_EQ(other_kind.status().code(), StatusCode::kFailedPrecondition);

  auto missing = vault().Get({kName, 9});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(Contains(missing.status().message(), "fraud/scorer@9"));
  EXPECT_EQ(vault().Latest("fraud/none").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(w_.ReadAll({kName, 9}).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(ParseEnvironment("qa").status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(ParseEnvironment("qa").status().message(), "dev, staging, prod"));
}

TEST_F(VaultTest, ConcurrentCommitsGetDistinctConsecutiveVersions) {
  constexpr int kThreads = 4;
  std::vector<std::string> ids;
  for (int i = 0; i < kThreads; ++i) {
    ids.push_back(w_.Upload(kName, VaultWorld::Bytes(1000 + static_cast<size_t>(i), 'k')));
  }
  std::vector<uint64_t> versions(kThreads, 0);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      auto v = vault().Commit(ids[static_cast<size_t>(i)], {}, As("dana"));
      if (v.ok()) versions[static_cast<size_t>(i)] = v->version;
    });
  }
  for (std::thread& t : threads) t.join();
  std::sort(versions.begin(), versions.end());
  EXPECT_EQ(versions, (std::vector<uint64_t>{1, 2, 3, 4}));
  auto listed = vault().ListVersions(kName);
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->size(), 4u);
}

TEST_F(VaultTest, AbortedUploadIsGone) {
  const std::string id = w_.Upload(kName, "partial");
  ASSERT_TRUE(vault().AbortUpload(id).ok());
  EXPECT_EQ(vault().GetUpload(id).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(vault().Commit(id, {}, As("dana")).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(w_.keyring().IsShredded(BlobKeyOwner(id)));
}

TEST_F(VaultTest, IdleUploadsAreRolledBackFinishedOrNot) {
  // A client that went away mid-upload, and one that finished but never committed.
  const std::string unfinished = w_.Upload(kName, "the client went away");
  const std::string uncommitted = w_.Upload(kName, "finished, never committed");
  ASSERT_TRUE(vault().StatementFor(uncommitted).ok());  // finishes the blob
  w_.clock().Advance(std::chrono::hours(23));
  const std::string recent = w_.Upload(kName, "begun an hour before the sweep");
  w_.clock().Advance(std::chrono::hours(2));

  auto expired = vault().ExpireUploads();
  ASSERT_TRUE(expired.ok()) << expired.status().ToString();
  EXPECT_EQ(*expired, 2u);
  for (const std::string& id : {unfinished, uncommitted}) {
    EXPECT_EQ(vault().GetPendingUpload(id).status().code(), StatusCode::kNotFound) << id;
    EXPECT_TRUE(w_.keyring().IsShredded(BlobKeyOwner(id))) << id;
    EXPECT_EQ(vault().Commit(id, {}, As("dana")).status().code(), StatusCode::kNotFound) << id;
  }
  EXPECT_TRUE(vault().GetPendingUpload(recent).ok());
  EXPECT_TRUE(vault().Commit(recent, {}, As("dana")).ok());
  EXPECT_EQ(vault().ListVersions(kName)->size(), 1u);
  // Nothing idle is left: a second sweep rolls back nothing.
  EXPECT_EQ(*vault().ExpireUploads(), 0u);
}

TEST_F(VaultTest, TamperedOrMalformedRecordsAreDataLoss) {
  const ArtifactVersion v1 = MustCommit("weights");
  // A sealed record moved under another key does not open.
  auto stored = w_.kv().Get(storage::Keyspace::kArtifacts, VersionKey(kName, 1));
  ASSERT_TRUE(stored.ok());
  ASSERT_TRUE(stored->has_value());
  ASSERT_TRUE(w_.kv().Put(storage::Keyspace::kArtifacts, VersionKey(kName, 2), **stored).ok());
  auto moved = vault().Get({kName, 2});
  EXPECT_EQ(moved.status().code(), StatusCode::kDataLoss);
  std::string flipped = **stored;
  flipped[flipped.size() / 2] ^= 1;
  ASSERT_TRUE(w_.kv().Put(storage::Keyspace::kArtifacts, VersionKey(kName, 1), flipped).ok());
  EXPECT_EQ(vault().Get(v1.ref()).status().code(), StatusCode::kDataLoss);

  // Decoding: a wrong type, an unknown member, a record under another version's key.
  std::string text = EncodeVersion(v1);
  const std::string key = VersionKey(kName, 1);
  ASSERT_TRUE(DecodeVersion(key, text).ok());
  EXPECT_EQ(*DecodeVersion(key, text), v1);
  std::string wrong_type = text;
  wrong_type.replace(wrong_type.find("\"version\":1"), 11, "\"version\":\"1\"");
  auto a = DecodeVersion(key, wrong_type);
  EXPECT_EQ(a.status().code(), StatusCode::kDataLoss);
  EXPECT_TRUE(Contains(a.status().message(), "version must be an unsigned integer"));
  EXPECT_TRUE(Contains(a.status().message(), "fraud/scorer")) << a.status().message();
  std::string extra = text;
  extra.insert(1, "\"surprise\":1,");
  EXPECT_EQ(DecodeVersion(key, extra).status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(DecodeVersion(VersionKey(kName, 2), text).status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(DecodeVersion(key, "{not json").status().code(), StatusCode::kDataLoss);
}

}  // namespace
}  // namespace custos::artifacts
