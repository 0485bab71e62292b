// Instance: every service of one data directory, opened in dependency order and closed in
// reverse: the audit log (and its salt), the policy store, the identity directory, API
// keys, MFA, tokens, the CA, the catalog's governance registry, the access workflow, the
// catalog store, the feature store, lineage (graph, service, OpenLineage ingest) and the
// artifact vault (blob store under <data dir>/artifacts, signers, vault).
// The CLI's embedded mode and the HTTPS server both run on an Instance, so they see the
// same state and make the same audit events.
//
// Policies: the operator's `*.cedar` files are read from `<data dir>/policies/` when that
// folder exists (an empty set otherwise: deny by default); grants are linked on top by the
// access service.
// Thread-safety: the services are safe for concurrent use; Open/destruction are not.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "access/access_service.h"
#include "artifacts/blob_store.h"
#include "artifacts/signers.h"
#include "artifacts/vault.h"
#include "audit/event.h"
#include "audit/log.h"
#include "catalog/catalog_store.h"
#include "catalog/governance.h"
#include "common/clock.h"
#include "common/status.h"
#include "features/feature_store.h"
#include "identity/api_keys.h"
#include "identity/ca.h"
#include "identity/directory.h"
#include "identity/identity_audit.h"
#include "identity/mfa.h"
#include "identity/token_service.h"
#include "lineage/lineage_service.h"
#include "lineage/lineage_store.h"
#include "lineage/openlineage_emit.h"
#include "lineage/openlineage_ingest.h"
#include "lineage/openlineage_schema.h"
#include "policy/policy_store.h"
#include "storage/data_dir.h"

namespace custos::server {

// The folder of the operator's policy files inside a data directory.
inline constexpr std::string_view kPolicyFolder = "policies";

struct InstanceOptions {
  std::string audit_origin = "custos.local/audit";
  audit::Durability durability = audit::Durability::kFsync;
  // The CLI answers one command and exits: it signs a checkpoint on close instead.
  bool background_checkpoints = true;
  // nullptr: the system clock.
  const common::Clock* clock = nullptr;
  identity::TokenServiceOptions tokens;
  access::AccessOptions access;
  features::FeatureStoreOptions features;
  // Where custos emits its own lineage as OpenLineage RunEvents: "file:/path/events.jsonl"
  // or "http(s)://host[:port][/base]" (Marquez's POST /api/v1/lineage). Empty: nowhere.
  std::string lineage_emit;
  std::string lineage_emit_ca_file;  // https: trust this CA file (default: the system's)
  std::string lineage_emit_token;    // http(s): sent as "Authorization: Bearer <token>"
  // How often a background thread ends grants and requests that are due (their policy
  // stops matching at expiry on its own; this records the state change and its audit
  // event). Zero: no thread; Open still ends what is due once.
  std::chrono::milliseconds expiry_interval{0};
  // The artifact vault's blob store (upload idle timeout, fsync). Its root is always
  // <data dir>/artifacts.
  artifacts::BlobStoreOptions blobs;
  artifacts::VaultOptions vault;
};

// The folder of the artifact vault's blob files inside a data directory.
inline constexpr std::string_view kArtifactFolder = "artifacts";

class Instance {
 public:
  static Result<std::unique_ptr<Instance>> Open(std::unique_ptr<storage::DataDir> dir,
                                                InstanceOptions options = {});
  ~Instance();

  storage::DataDir& dir() { return *dir_; }
  const common::Clock& clock() const { return *clock_; }
  audit::AuditLog& audit() { return *audit_; }
  const audit::AuditSalt& salt() const { return *salt_; }
  policy::PolicyStore& policies() { return *policies_; }
  identity::IdentityAuditor& identity_auditor() { return *auditor_; }
  identity::Directory& directory() { return *directory_; }
  identity::ApiKeys& api_keys() { return *api_keys_; }
  identity::Mfa& mfa() { return *mfa_; }
  identity::TokenService& tokens() { return *tokens_; }
  catalog::GovernanceRegistry& governance() { return *governance_; }
  access::AccessService& access() { return *access_; }
  catalog::CatalogStore& catalog() { return *catalog_; }
  features::FeatureStore& features() { return *features_; }
  lineage::LineageService& lineage() { return *lineage_; }
  lineage::LineageStore& lineage_store() { return *lineage_store_; }
  lineage::OpenLineageIngest& openlineage() { return *openlineage_; }
  // The artifact vault (issue 9) and what it is built on; never null after Open.
  artifacts::ArtifactVault* artifact_vault() { return artifact_vault_.get(); }
  artifacts::ArtifactSigners* artifact_signers() { return artifact_signers_.get(); }
  artifacts::BlobStore* blob_store() { return blob_store_.get(); }
  // The emitter of custos's own lineage, or nullptr when InstanceOptions::lineage_emit is
  // empty.
  lineage::OpenLineageEmitter* lineage_emitter() { return lineage_emitter_.get(); }

  // The CA made by `custos init`. NotFound (saying how to create one) when the data
  // directory has none.
  Result<identity::CertificateAuthority*> ca();
  // Creates the CA (`custos init` does; AlreadyExists when there is one).
  Result<identity::CertificateAuthority*> CreateCa(const identity::Caller& caller,
                                                   const identity::CaOptions& options = {});

  // The access workflow's view of an authenticated principal: it must exist and be
  // enabled; its groups (transitively) come from the directory and its last MFA from
  // the MFA store.
  Result<access::Actor> ActorFor(const identity::PrincipalId& principal, audit::AuthMethod method);

 private:
  Instance() = default;
  void ExpiryLoop(std::chrono::milliseconds interval);

  std::unique_ptr<storage::DataDir> dir_;
  std::unique_ptr<common::SystemClock> system_clock_;
  const common::Clock* clock_ = nullptr;
  std::unique_ptr<audit::AuditLog> audit_;
  std::unique_ptr<audit::AuditSalt> salt_;
  std::unique_ptr<policy::PolicyStore> policies_;
  std::unique_ptr<identity::IdentityAuditor> auditor_;
  std::unique_ptr<identity::Directory> directory_;
  std::unique_ptr<identity::ApiKeys> api_keys_;
  std::unique_ptr<identity::Mfa> mfa_;
  std::unique_ptr<identity::TokenService> tokens_;
  std::unique_ptr<identity::CertificateAuthority> ca_;
  std::unique_ptr<catalog::GovernanceRegistry> governance_;
  std::unique_ptr<access::AccessService> access_;
  std::unique_ptr<catalog::CatalogStore> catalog_;
  std::unique_ptr<features::FeatureStore> features_;
  std::unique_ptr<lineage::OpenLineageEmitter> lineage_emitter_;
  std::unique_ptr<lineage::LineageStore> lineage_store_;
  std::unique_ptr<lineage::LineageService> lineage_;
  std::unique_ptr<lineage::OpenLineageValidator> openlineage_validator_;
  std::unique_ptr<lineage::OpenLineageIngest> openlineage_;
  std::unique_ptr<artifacts::BlobStore> blob_store_;
  std::unique_ptr<artifacts::ArtifactSigners> artifact_signers_;
  std::unique_ptr<artifacts::ArtifactVault> artifact_vault_;

  std::mutex expiry_mu_;
  std::condition_variable expiry_cv_;
  bool stopping_ = false;
  std::thread expiry_thread_;
};

}  // namespace custos::server
