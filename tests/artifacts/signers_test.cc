// The artifact signer registry: the server key (created once, kept across a reopen),
// register/list/revoke with their audit events, CheckSignature's refusals, the trusted-keys
// document, and sealed storage.
#include "artifacts/signers.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "../audit/log_test_util.h"
#include "artifacts/offline_verify.h"
#include "crypto/hash.h"

namespace custos::artifacts {
namespace {

using ::testing::HasSubstr;

const std::string kTrainer = "ServiceAccount::\"trainer\"";
const std::string kAdmin = "User::\"admin\"";

ArtifactStatement Sample() {
  ArtifactStatement s;
  s.name = "fraud/scorer";
  s.version = 1;
  s.kind = ArtifactKind::kModel;
  s.sha256 = crypto::Sha256Of(common::AsBytes("weights"));
  s.size = 7;
  s.media_type = "application/octet-stream";
  return s;
}

class SignersTest : public ::testing::Test {
 protected:
  SignersTest() : clock_(common::FromUnixSeconds(1'800'000'000)) {
    data_ = audit::testing::CreateDataDir(tmp_.Sub("data"));
    Open();
  }
  ~SignersTest() override { Close(); }

  void Open() {
    audit::LogOptions options;
    options.background_checkpoints = false;
    options.durability = audit::Durability::kOsBuffer;
    log_ = std::move(*audit::AuditLog::Open(data_.dir->kv(), data_.dir->keyring(), options));
    auto signers = ArtifactSigners::Open(data_.dir->kv(), data_.dir->keyring(), *log_, clock_);
    ASSERT_TRUE(signers.ok()) << signers.status().ToString();
    signers_ = std::move(*signers);
  }
  void Close() {
    signers_.reset();
    if (log_) log_->Close();
    log_.reset();
  }
  void Restart() {
    Close();
    data_.dir.reset();
    data_.dir = audit::testing::ReopenDataDir(tmp_.Sub("data"), data_.shares);
    Open();
  }
  audit::AuditEvent LastEvent() { return *log_->ReadEvent(log_->size() - 1); }

  custos::testing::TempDir tmp_;
  audit::testing::TestDataDir data_;
  common::FakeClock clock_;
  std::unique_ptr<audit::AuditLog> log_;
  std::unique_ptr<ArtifactSigners> signers_;
  crypto::Ed25519PrivateKey trainer_key_ = crypto::Ed25519PrivateKey::Generate();
};

TEST_F(SignersTest, ServerKeySignsAndPersistsAcrossReopen) {
  const crypto::Ed25519PublicKey before = signers_->server_key().public_key();
  ArtifactSignature sig = signers_->SignAsServer(Sample());
  EXPECT_EQ(sig.signer, "custos-server");
  EXPECT_EQ(sig.key_id, KeyIdOf(before));
  EXPECT_TRUE(signers_->CheckSignature(Sample(), sig).ok());
  std::vector<TrustedKey> trusted = signers_->TrustedKeys();
  ASSERT_EQ(trusted.size(), 1u);
  EXPECT_EQ(trusted[0].signer, "custos-server");
  EXPECT_TRUE(VerifySignature(Sample(), sig, trusted));

  Restart();
  EXPECT_EQ(signers_->server_key().public_key(), before);
  // A signature from before the restart still checks.
  EXPECT_TRUE(signers_->CheckSignature(Sample(), sig).ok());
  EXPECT_TRUE(VerifySignature(Sample(), sig, signers_->TrustedKeys()));
}

TEST_F(SignersTest, RegisterListRevokeWithAuditEvents) {
  const uint64_t log_size = log_->size();
  auto record = signers_->Register(kTrainer, trainer_key_.public_key(), kAdmin);
  ASSERT_TRUE(record.ok()) << record.status().ToString();
  EXPECT_EQ(record->signer, kTrainer);
  EXPECT_EQ(record->key_id, KeyIdOf(trainer_key_.public_key()));
  EXPECT_EQ(record->registered, clock_.Now());
  EXPECT_FALSE(record->revoked.has_value());

  ASSERT_EQ(log_->size(), log_size + 1);
  audit::AuditEvent e = LastEvent();
  EXPECT_EQ(e.action, "artifact.signer.register");
  EXPECT_EQ(e.principal_id, kAdmin);
  EXPECT_EQ(e.decision, audit::Decision::kAllow);
  EXPECT_EQ(e.outcome, audit::Outcome::kOk);
  ASSERT_EQ(e.resources.size(), 1u);
  EXPECT_EQ(e.resources[0].id, record->key_id);
  EXPECT_EQ(e.outcome_detail, "signer=" + kTrainer);

  auto list = signers_->List();
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0], *record);
  EXPECT_EQ(signers_->TrustedKeys().size(), 2u);

  ArtifactSignature sig = SignStatement(Sample(), kTrainer, trainer_key_);
  EXPECT_TRUE(signers_->CheckSignature(Sample(), sig).ok());

  clock_.Advance(std::chrono::seconds(60));
  ASSERT_TRUE(signers_->Revoke(record->key_id, kAdmin).ok());
  e = LastEvent();
  EXPECT_EQ(e.action, "artifact.signer.revoke");
  EXPECT_EQ(e.principal_id, kAdmin);
  EXPECT_EQ(e.outcome, audit::Outcome::kOk);
  EXPECT_EQ(e.resources[0].id, record->key_id);

  // Revoked: listed with its revocation time, no longer trusted, signatures refused.
  list = signers_->List();
  ASSERT_EQ(list->size(), 1u);
  ASSERT_TRUE((*list)[0].revoked.has_value());
  EXPECT_EQ(*(*list)[0].revoked, clock_.Now());
  EXPECT_EQ(signers_->TrustedKeys().size(), 1u);
  Status refused = signers_->CheckSignature(Sample(), sig);
  EXPECT_EQ(refused.code(), StatusCode::kPermissionDenied);
  EXPECT_THAT(refused.message(), HasSubstr("revoked at"));

  // Everything survives a reopen.
  Restart();
  list = signers_->List();
  ASSERT_EQ(list->size(), 1u);
  EXPECT_TRUE((*list)[0].revoked.has_value());
  EXPECT_EQ(signers_->CheckSignature(Sample(), sig).code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(signers_->TrustedKeys().size(), 1u);
}

TEST_F(SignersTest, RefusedChangesAreAuditedAndChangeNothing) {
  ASSERT_TRUE(signers_->Register(kTrainer, trainer_key_.public_key(), kAdmin).ok());
  const std::string key_id = KeyIdOf(trainer_key_.public_key());

  auto again = signers_->Register("ServiceAccount::\"other\"", trainer_key_.public_key(), kAdmin);
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);
  EXPECT_THAT(again.status().message(), HasSubstr("already registered to " + kTrainer));
  audit::AuditEvent e = LastEvent();
  EXPECT_EQ(e.action, "artifact.signer.register");
  EXPECT_EQ(e.decision, audit::Decision::kDeny);
  EXPECT_EQ(e.outcome, audit::Outcome::kDenied);

  auto server = signers_->Register(kTrainer, signers_->server_key().public_key(), kAdmin);
  EXPECT_EQ(server.status().code(), StatusCode::kAlreadyExists);
  auto reserved = signers_->Register("custos-server", trainer_key_.public_key(), kAdmin);
  EXPECT_EQ(reserved.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(reserved.status().message(), HasSubstr("reserved"));
  EXPECT_EQ(signers_->Register("", trainer_key_.public_key(), kAdmin).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(signers_->Register(kTrainer, trainer_key_.public_key(), "").status().code(),
            StatusCode::kInvalidArgument);

  Status unknown = signers_->Revoke("ed25519:0000000000000000", kAdmin);
  EXPECT_EQ(unknown.code(), StatusCode::kNotFound);
  EXPECT_EQ(LastEvent().action, "artifact.signer.revoke");
  EXPECT_EQ(LastEvent().outcome, audit::Outcome::kDenied);
  EXPECT_EQ(signers_->Revoke(KeyIdOf(signers_->server_key().public_key()), kAdmin).code(),
            StatusCode::kFailedPrecondition);

  ASSERT_TRUE(signers_->Revoke(key_id, kAdmin).ok());
  EXPECT_EQ(signers_->Revoke(key_id, kAdmin).code(), StatusCode::kFailedPrecondition);
  // A revoked key cannot come back under a new registration.
  auto revived = signers_->Register(kTrainer, trainer_key_.public_key(), kAdmin);
  EXPECT_EQ(revived.status().code(), StatusCode::kAlreadyExists);
  EXPECT_THAT(revived.status().message(), HasSubstr("revoked"));

  auto list = signers_->List();
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].signer, kTrainer);
}

TEST_F(SignersTest, CheckSignatureRefusals) {
  ASSERT_TRUE(signers_->Register(kTrainer, trainer_key_.public_key(), kAdmin).ok());
  ArtifactSignature good = SignStatement(Sample(), kTrainer, trainer_key_);
  ASSERT_TRUE(signers_->CheckSignature(Sample(), good).ok());

  // Not registered.
  crypto::Ed25519PrivateKey stranger = crypto::Ed25519PrivateKey::Generate();
  Status s = signers_->CheckSignature(Sample(), SignStatement(Sample(), kTrainer, stranger));
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied);
  EXPECT_THAT(s.message(), HasSubstr("not registered"));
  // Registered to another signer.
  s = signers_->CheckSignature(Sample(),
                               SignStatement(Sample(), "ServiceAccount::\"x\"", trainer_key_));
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied);
  EXPECT_THAT(s.message(), HasSubstr("registered to " + kTrainer));
  // Claiming the server's name with another key.
  s = signers_->CheckSignature(Sample(), SignStatement(Sample(), "custos-server", trainer_key_));
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied);
  // A statement changed after signing.
  ArtifactStatement changed = Sample();
  changed.size = 8;
  s = signers_->CheckSignature(changed, good);
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied);
  EXPECT_THAT(s.message(), HasSubstr("does not verify over the canonical statement of "
                                     "fraud/scorer@1"));
  // A corrupted signature.
  ArtifactSignature bad = good;
  bad.signature[5] ^= 0x10;
  EXPECT_EQ(signers_->CheckSignature(Sample(), bad).code(), StatusCode::kPermissionDenied);
  // A malformed statement.
  ArtifactStatement invalid = Sample();
  invalid.name = "Bad Name";
  EXPECT_EQ(signers_->CheckSignature(invalid, good).code(), StatusCode::kInvalidArgument);
}

TEST_F(SignersTest, TrustedKeysDocumentVerifiesOffline) {
  ASSERT_TRUE(signers_->Register(kTrainer, trainer_key_.public_key(), kAdmin).ok());
  auto trusted = ParseTrustedKeys(TrustedKeysToJson(signers_->TrustedKeys()));
  ASSERT_TRUE(trusted.ok()) << trusted.status().ToString();
  ASSERT_EQ(trusted->size(), 2u);
  SignatureBundle bundle;
  bundle.statement = Sample();
  bundle.signatures = {signers_->SignAsServer(Sample()),
                       SignStatement(Sample(), kTrainer, trainer_key_)};
  auto parsed = ParseBundle(BundleToJson(bundle));
  ASSERT_TRUE(parsed.ok());
  for (const ArtifactSignature& sig : parsed->signatures) {
    EXPECT_TRUE(VerifySignature(parsed->statement, sig, *trusted)) << sig.signer;
  }
}

TEST_F(SignersTest, RecordsAreSealedAndTamperingIsDataLoss) {
  ASSERT_TRUE(signers_->Register(kTrainer, trainer_key_.public_key(), kAdmin).ok());
  const std::string record_key = "s|" + KeyIdOf(trainer_key_.public_key());
  storage::Kv& kv = data_.dir->kv();
  auto stored = kv.Get(storage::Keyspace::kArtifacts, record_key);
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ((*stored)->find(kTrainer), std::string::npos) << "signer stored in clear";
  auto seed = kv.Get(storage::Keyspace::kArtifacts, "server-key");
  ASSERT_TRUE(seed.ok() && seed->has_value());
  EXPECT_GT((*seed)->size(), 32u);  // sealed: format byte, nonce and tag around the seed

  // A sealed record moved to another key id no longer opens.
  std::string moved_key = "s|ed25519:0000000000000000";
  ASSERT_TRUE(kv.Put(storage::Keyspace::kArtifacts, moved_key, **stored).ok());
  EXPECT_EQ(signers_->List().status().code(), StatusCode::kDataLoss);
  ASSERT_TRUE(kv.Delete(storage::Keyspace::kArtifacts, moved_key).ok());
  // A flipped byte in a sealed record is DataLoss, on list and on check.
  std::string flipped = **stored;
  flipped[flipped.size() / 2] ^= 0x01;
  ASSERT_TRUE(kv.Put(storage::Keyspace::kArtifacts, record_key, flipped).ok());
  EXPECT_EQ(signers_->List().status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(
      signers_->CheckSignature(Sample(), SignStatement(Sample(), kTrainer, trainer_key_)).code(),
      StatusCode::kDataLoss);
}

}  // namespace
}  // namespace custos::artifacts
