// Opening and closing every service of a data directory (see instance.h).
#include "server/instance.h"

#include <algorithm>
#include <filesystem>

#include "audit/log_signer.h"
#include "audit/salt_store.h"
#include "common/thread_name.h"

namespace custos::server {

Result<std::unique_ptr<Instance>> Instance::Open(std::unique_ptr<storage::DataDir> dir,
                                                 InstanceOptions options) {
  std::unique_ptr<Instance> in(new Instance());
  in->dir_ = std::move(dir);
  if (options.clock == nullptr) {
    in->system_clock_ = std::make_unique<common::SystemClock>();
    in->clock_ = in->system_clock_.get();
  } else {
    in->clock_ = options.clock;
  }
  storage::Kv& kv = in->dir_->kv();
  crypto::Keyring& keyring = in->dir_->keyring();

  audit::LogOptions log_options;
  log_options.origin = options.audit_origin;
  log_options.durability = options.durability;
  log_options.background_checkpoints = options.background_checkpoints;
  log_options.public_key_path = in->dir_->path() + "/" + std::string(audit::kPublicKeyFileName);
  CUSTOS_ASSIGN_OR_RETURN(in->audit_, audit::AuditLog::Open(kv, keyring, log_options));
  CUSTOS_ASSIGN_OR_RETURN(audit::AuditSalt salt, audit::LoadOrCreateAuditSalt(kv, keyring));
  in->salt_ = std::make_unique<audit::AuditSalt>(std::move(salt));

  in->policies_ = std::make_unique<policy::PolicyStore>();
  const std::filesystem::path policy_dir =
      std::filesystem::path(in->dir_->path()) / std::string(kPolicyFolder);
  std::error_code ec;
  if (std::filesystem::is_directory(policy_dir, ec)) {
    CUSTOS_RETURN_IF_ERROR(in->policies_->LoadDirectory(policy_dir).status());
  }

  in->auditor_ = std::make_unique<identity::IdentityAuditor>(*in->audit_, *in->salt_, *in->clock_);
  CUSTOS_ASSIGN_OR_RETURN(in->directory_, identity::Directory::Open(kv, keyring, *in->auditor_));
  CUSTOS_ASSIGN_OR_RETURN(in->api_keys_,
                          identity::ApiKeys::Open(kv, keyring, *in->directory_, *in->auditor_));
  CUSTOS_ASSIGN_OR_RETURN(in->mfa_,
                          identity::Mfa::Open(kv, keyring, *in->directory_, *in->auditor_));
  CUSTOS_ASSIGN_OR_RETURN(
      in->tokens_, identity::TokenService::Open(kv, keyring, *in->audit_, *in->salt_, *in->clock_,
                                                options.tokens));
  CUSTOS_ASSIGN_OR_RETURN(in->governance_,
                          catalog::GovernanceRegistry::Open(kv, keyring, *in->audit_, *in->clock_));
  // Promotion to prod goes through the access workflow: "promote" must be grantable.
  auto& grantable = options.access.grantable_actions;
  if (std::find(grantable.begin(), grantable.end(), "promote") == grantable.end()) {
    grantable.push_back("promote");
  }
  CUSTOS_ASSIGN_OR_RETURN(
      in->access_,
      access::AccessService::Open(kv, keyring, *in->audit_, *in->policies_, *in->governance_,
                                  *in->clock_, std::move(options.access)));
  CUSTOS_RETURN_IF_ERROR(in->access_->ExpireDue().status());
  CUSTOS_ASSIGN_OR_RETURN(in->catalog_, catalog::CatalogStore::Open(kv, keyring, *in->audit_,
                                                                    *in->governance_, *in->clock_));
  CUSTOS_ASSIGN_OR_RETURN(
      in->features_,
      features::FeatureStore::Open(kv, keyring, *in->audit_, *in->catalog_, *in->directory_,
                                   *in->clock_, std::move(options.features)));
  CUSTOS_ASSIGN_OR_RETURN(in->lineage_store_, lineage::LineageStore::Open(kv, keyring));
  lineage::LineageServiceOptions lineage_options;
  if (!options.lineage_emit.empty()) {
    lineage::HttpSinkOptions http;
    http.ca_file = options.lineage_emit_ca_file;
    http.bearer_token = options.lineage_emit_token;
    CUSTOS_ASSIGN_OR_RETURN(std::unique_ptr<lineage::EventSink> sink,
                            lineage::OpenEventSink(options.lineage_emit, {}, http));
    in->lineage_emitter_ = std::make_unique<lineage::OpenLineageEmitter>(std::move(sink));
    // Only custos's own records go out: events that came in as OpenLineage are the
    // sender's to publish.
    lineage_options.on_recorded =
        [emitter = in->lineage_emitter_.get()](const lineage::LineageRecord& record) {
          if (record.origin.starts_with("custos:")) emitter->Emit(record);
        };
  }
  in->lineage_ = std::make_unique<lineage::LineageService>(*in->lineage_store_, *in->audit_,
                                                           *in->clock_, std::move(lineage_options));
  CUSTOS_ASSIGN_OR_RETURN(lineage::OpenLineageValidator validator,
                          lineage::OpenLineageValidator::Create());
  in->openlineage_validator_ =
      std::make_unique<lineage::OpenLineageValidator>(std::move(validator));
  in->openlineage_ =
      std::make_unique<lineage::OpenLineageIngest>(*in->lineage_, *in->openlineage_validator_);
  CUSTOS_ASSIGN_OR_RETURN(
      in->blob_store_,
      artifacts::BlobStore::Open(
          (std::filesystem::path(in->dir_->path()) / std::string(kArtifactFolder)).string(),
          keyring, *in->clock_, options.blobs));
  CUSTOS_ASSIGN_OR_RETURN(in->artifact_signers_,
                          artifacts::ArtifactSigners::Open(kv, keyring, *in->audit_, *in->clock_));
  artifacts::VaultDeps vault_deps;
  vault_deps.kv = &kv;
  vault_deps.keyring = &keyring;
  vault_deps.audit = in->audit_.get();
  vault_deps.clock = in->clock_;
  vault_deps.blobs = in->blob_store_.get();
  vault_deps.signers = in->artifact_signers_.get();
  vault_deps.governance = in->governance_.get();
  vault_deps.access = in->access_.get();
  vault_deps.lineage = in->lineage_.get();
  CUSTOS_ASSIGN_OR_RETURN(in->artifact_vault_,
                          artifacts::ArtifactVault::Open(vault_deps, std::move(options.vault)));
  if (options.expiry_interval.count() > 0) {
    in->expiry_thread_ = std::thread(
        [raw = in.get(), interval = options.expiry_interval] { raw->ExpiryLoop(interval); });
  }
  return in;
}

void Instance::ExpiryLoop(std::chrono::milliseconds interval) {
  common::SetCurrentThreadName("access-expiry");
  std::unique_lock lock(expiry_mu_);
  while (!expiry_cv_.wait_for(lock, interval, [this] { return stopping_; })) {
    lock.unlock();
    // A failure (e.g. the audit log unavailable) leaves the records as they are; the
    // grant's policy has lapsed regardless, and the next round retries.
    (void)access_->ExpireDue();
    // Artifact versions past their retention are crypto-shredded on the same schedule.
    (void)artifact_vault_->ShredExpired();
    // Uploads left idle (a client that went away) are rolled back: blob, DEK and record.
    (void)artifact_vault_->ExpireUploads();
    lock.lock();
  }
}

Instance::~Instance() {
  if (expiry_thread_.joinable()) {
    {
      std::lock_guard lock(expiry_mu_);
      stopping_ = true;
    }
    expiry_cv_.notify_all();
    expiry_thread_.join();
  }
  // Services append to the log: drop them first, then drain and close the log.
  artifact_vault_.reset();
  artifact_signers_.reset();
  blob_store_.reset();
  openlineage_.reset();
  openlineage_validator_.reset();
  lineage_.reset();
  lineage_store_.reset();
  lineage_emitter_.reset();  // sends what is queued (bounded wait)
  features_.reset();
  catalog_.reset();
  access_.reset();
  governance_.reset();
  ca_.reset();
  tokens_.reset();
  mfa_.reset();
  api_keys_.reset();
  directory_.reset();
  auditor_.reset();
  if (audit_) audit_->Close();
  audit_.reset();
}

Result<identity::CertificateAuthority*> Instance::ca() {
  if (ca_) return ca_.get();
  CUSTOS_ASSIGN_OR_RETURN(bool exists, identity::CertificateAuthority::Exists(dir_->kv()));
  if (!exists) {
    return NotFoundError(
        "this data directory has no certificate authority; `custos init` creates one "
        "(data directories made before it: run `custos ca init --dir " +
        dir_->path() + "`)");
  }
  CUSTOS_ASSIGN_OR_RETURN(ca_, identity::CertificateAuthority::Open(dir_->kv(), dir_->keyring(),
                                                                    *audit_, *salt_, *clock_));
  return ca_.get();
}

Result<identity::CertificateAuthority*> Instance::CreateCa(const identity::Caller& caller,
                                                           const identity::CaOptions& options) {
  CUSTOS_ASSIGN_OR_RETURN(
      ca_, identity::CertificateAuthority::Create(dir_->kv(), dir_->keyring(), *audit_, *salt_,
                                                  *clock_, options, caller));
  return ca_.get();
}

Result<access::Actor> Instance::ActorFor(const identity::PrincipalId& principal,
                                         audit::AuthMethod method) {
  CUSTOS_RETURN_IF_ERROR(directory_->CheckActive(principal));
  access::Actor actor;
  actor.principal = principal.ToEntityUid();
  actor.auth_method = method;
  CUSTOS_ASSIGN_OR_RETURN(std::vector<identity::PrincipalId> groups,
                          directory_->Ancestors(principal));
  for (const identity::PrincipalId& g : groups) actor.groups.push_back(g.ToEntityUid());
  CUSTOS_ASSIGN_OR_RETURN(actor.last_mfa, mfa_->LastMfaTime(principal));
  return actor;
}

}  // namespace custos::server
