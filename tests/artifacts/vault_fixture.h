// A whole vault world for tests: a real data directory (RocksDB) in a TempDir, the audit
// log, governance registry, policy store and access service (with "promote" grantable),
// lineage store and service, blob store, signers and the vault, on a FakeClock; plus
// helpers to upload bytes, read them back, approve grants and read audit events.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "../audit/log_test_util.h"
#include "access/access_service.h"
#include "artifacts/blob_store.h"
#include "artifacts/signers.h"
#include "artifacts/vault.h"
#include "audit/log.h"
#include "catalog/governance.h"
#include "lineage/lineage_service.h"
#include "lineage/lineage_store.h"
#include "policy/policy_store.h"

namespace custos::artifacts::testing {

using policy::EntityUid;

inline EntityUid User(const std::string& id) { return EntityUid("User", id); }
inline access::Actor As(const std::string& user) {
  access::Actor actor;
  actor.principal = User(user);
  actor.auth_method = audit::AuthMethod::kToken;
  return actor;
}
inline access::Actor AsWithMfa(const std::string& user, common::TimePoint mfa) {
  access::Actor actor = As(user);
  actor.last_mfa = mfa;
  return actor;
}

// 2027-01-15T08:00:00Z.
inline constexpr int64_t kStartSeconds = 1'800'000'000;
// The smallest chunk the blob store accepts: tests upload a few of them.
inline constexpr uint32_t kChunk = kMinChunkSize;

class VaultWorld {
 public:
  VaultWorld() : clock_(common::FromUnixSeconds(kStartSeconds)) {
    data_ = audit::testing::CreateDataDir(tmp_.Sub("data"));
    Open();
  }
  ~VaultWorld() { Close(); }

  void Open() {
    audit::LogOptions log_options;
    log_options.background_checkpoints = false;
    log_options.durability = audit::Durability::kOsBuffer;
    auto log = audit::AuditLog::Open(kv(), keyring(), log_options);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    log_ = std::move(*log);
    policies_ = std::make_unique<policy::PolicyStore>();
    auto catalog = catalog::GovernanceRegistry::Open(kv(), keyring(), *log_, clock_);
    ASSERT_TRUE(catalog.ok()) << catalog.status().ToString();
    catalog_ = std::move(*catalog);
    access::AccessOptions access_options;
    access_options.grantable_actions.push_back("promote");
    auto access = access::AccessService::Open(kv(), keyring(), *log_, *policies_, *catalog_, clock_,
                                              access_options);
    ASSERT_TRUE(access.ok()) << access.status().ToString();
    access_ = std::move(*access);
    auto store = lineage::LineageStore::Open(kv(), keyring());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    lineage_store_ = std::move(*store);
    lineage_ = std::make_unique<lineage::LineageService>(*lineage_store_, *log_, clock_);
    BlobStoreOptions blob_options;
    blob_options.sync = false;
    auto blobs = BlobStore::Open(tmp_.Sub("blobs"), keyring(), clock_, blob_options);
    ASSERT_TRUE(blobs.ok()) << blobs.status().ToString();
    blobs_ = std::move(*blobs);
    auto signers = ArtifactSigners::Open(kv(), keyring(), *log_, clock_);
    ASSERT_TRUE(signers.ok()) << signers.status().ToString();
    signers_ = std::move(*signers);
    VaultDeps deps;
    deps.kv = &kv();
    deps.keyring = &keyring();
    deps.audit = log_.get();
    deps.clock = &clock_;
    deps.blobs = blobs_.get();
    deps.signers = signers_.get();
    deps.governance = catalog_.get();
    deps.access = access_.get();
    deps.lineage = lineage_.get();
    auto vault = ArtifactVault::Open(deps);
    ASSERT_TRUE(vault.ok()) << vault.status().ToString();
    vault_ = std::move(*vault);
  }

  void Close() {
    vault_.reset();
    signers_.reset();
    blobs_.reset();
    lineage_.reset();
    lineage_store_.reset();
    access_.reset();
    catalog_.reset();
    if (log_) log_->Close();
    log_.reset();
    policies_.reset();
  }

  // Deterministic bytes: `size` bytes derived from `seed`.
  static std::string Bytes(size_t size, char seed) {
    std::string out(size, '\0');
    for (size_t i = 0; i < size; ++i) out[i] = static_cast<char>(seed + static_cast<char>(i % 251));
    return out;
  }

  // Begins an upload of `content` under `name` and sends every chunk; answers the upload id.
  std::string Upload(const std::string& name, const std::string& content,
                     ArtifactKind kind = ArtifactKind::kModel,
                     const access::Actor& actor = As("dana")) {
    auto begun = vault_->BeginUpload(name, kind, "application/octet-stream", actor, kChunk);
    EXPECT_TRUE(begun.ok()) << begun.status().ToString();
    if (!begun.ok()) return "";
    uint64_t index = 0;
    size_t offset = 0;
    do {
      const size_t n = std::min<size_t>(kChunk, content.size() - offset);
      if (n == 0 && index > 0) break;  // the last full chunk was the end
      auto appended = vault_->AppendChunk(
          begun->upload_id, index++, common::AsBytes(std::string_view(content).substr(offset, n)));
      EXPECT_TRUE(appended.ok()) << appended.status().ToString();
      offset += n;
      if (n < kChunk) break;  // the short chunk was the last one
    } while (true);
    return begun->upload_id;
  }

  Result<ArtifactVersion> UploadAndCommit(const std::string& name, const std::string& content,
                                          CommitOptions options = {},
                                          const access::Actor& actor = As("dana")) {
    const std::string id = Upload(name, content, ArtifactKind::kModel, actor);
    return vault_->Commit(id, options, actor);
  }

  // Every byte of the version, via OpenForRead.
  Result<std::string> ReadAll(const ArtifactRef& ref) {
    CUSTOS_ASSIGN_OR_RETURN(auto reader, vault_->OpenForRead(ref, As("dana")));
    std::string out;
    CUSTOS_RETURN_IF_ERROR(reader->CopyTo([&](common::ByteView bytes) {
      out.append(common::AsChars(bytes));
      return Status::Ok();
    }));
    return out;
  }

  // Registers Artifact::"<name>" with owners olivia and oscar (steward stella).
  void Govern(const std::string& name, catalog::Classification c) {
    catalog::GovernedResource spec;
    spec.uid = EntityUid("Artifact", name);
    spec.classification = c;
    spec.owners = {User("olivia"), User("oscar")};
    spec.stewards = {User("stella")};
    auto r = catalog_->Register(spec, User("admin"));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }

  // `requester` asks for `action` on Artifact::"<name>" for a week; olivia (with MFA) and,
  // when the rule needs a second approver, oscar approve. Answers the grant id ("" on
  // failure).
  std::string ApprovedGrant(const std::string& requester, const std::string& name,
                            const std::string& action) {
    if (!purpose_defined_) {
      auto p = access_->DefinePurpose(access::Purpose{"release", "model release", std::nullopt},
                                      As("admin"));
      EXPECT_TRUE(p.ok()) << p.status().ToString();
      purpose_defined_ = true;
    }
    access::RequestSpec spec;
    spec.purpose = "release";
    spec.resources = {EntityUid("Artifact", name)};
    spec.actions = {action};
    spec.duration = std::chrono::hours(24 * 7);
    spec.justification = "release " + name + " (CHG-1234)";
    auto request = access_->CreateRequest(spec, As(requester));
    EXPECT_TRUE(request.ok()) << request.status().ToString();
    if (!request.ok()) return "";
    auto first =
        access_->Approve(request->id, AsWithMfa("olivia", clock_.Now() - std::chrono::minutes(1)));
    EXPECT_TRUE(first.ok()) << first.status().ToString();
    if (first.ok() && first->grant) return first->grant->id;  // the rule needed one approver
    auto second = access_->Approve(request->id, As("oscar"));
    EXPECT_TRUE(second.ok()) << second.status().ToString();
    if (!second.ok() || !second->grant) return "";
    return second->grant->id;
  }

  // Every audit event so far, in log order.
  std::vector<audit::AuditEvent> Events() const {
    std::vector<audit::AuditEvent> out;
    for (uint64_t i = 0; i < log_->size(); ++i) {
      auto e = log_->ReadEvent(i);
      EXPECT_TRUE(e.ok()) << e.status().ToString();
      if (e.ok()) out.push_back(std::move(*e));
    }
    return out;
  }
  std::vector<audit::AuditEvent> EventsWithAction(const std::string& action) const {
    std::vector<audit::AuditEvent> out;
    for (auto& e : Events()) {
      if (e.action == action) out.push_back(std::move(e));
    }
    return out;
  }

  storage::Kv& kv() { return data_.dir->kv(); }
  crypto::Keyring& keyring() { return data_.dir->keyring(); }
  common::FakeClock& clock() { return clock_; }
  audit::AuditLog& log() { return *log_; }
  catalog::GovernanceRegistry& catalog() { return *catalog_; }
  access::AccessService& access() { return *access_; }
  lineage::LineageService& lineage() { return *lineage_; }
  lineage::LineageStore& lineage_store() { return *lineage_store_; }
  BlobStore& blobs() { return *blobs_; }
  ArtifactSigners& signers() { return *signers_; }
  ArtifactVault& vault() { return *vault_; }

 private:
  custos::testing::TempDir tmp_;
  audit::testing::TestDataDir data_;
  common::FakeClock clock_;
  std::unique_ptr<audit::AuditLog> log_;
  std::unique_ptr<policy::PolicyStore> policies_;
  std::unique_ptr<catalog::GovernanceRegistry> catalog_;
  std::unique_ptr<access::AccessService> access_;
  std::unique_ptr<lineage::LineageStore> lineage_store_;
  std::unique_ptr<lineage::LineageService> lineage_;
  std::unique_ptr<BlobStore> blobs_;
  std::unique_ptr<ArtifactSigners> signers_;
  std::unique_ptr<ArtifactVault> vault_;
  bool purpose_defined_ = false;
};

}  // namespace custos::artifacts::testing
