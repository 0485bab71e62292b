// ArtifactVault: named, versioned, encrypted and signed artifacts (models and research
// datasets). A version's bytes live in the BlobStore (chunked AES-GCM under a DEK of its
// own); its metadata (version_record.h) is sealed in the `artifacts` keyspace under keyring
// owner "artifacts:meta". The vault adds what makes a blob an artifact: names and version
// numbers, content addressing, signatures, environments and promotion, export control,
// retention and crypto-shredding, audit and lineage.
//
// Lifecycle of a version:
//   BeginUpload -> AppendChunk... -> [StatementFor] -> Commit -> Promote... -> Shred
// The upload is finished (sealed into a blob, no more chunks) by StatementFor or by Commit,
// whichever comes first. Commit assigns version latest+1 and, in this order:
//   1. checks the inputs (expected digest, client signature by the acting principal over
//      the statement of that version, retention, labels, lineage inputs exist),
//   2. appends "artifact.version.commit" to the audit log (fail closed: on failure the blob
//      is shredded and the version never exists),
//   3. records lineage when a LineageService is configured (before the version becomes
//      visible: a lineage failure shreds the blob and fails the commit),
//   4. writes the version record and its digest index in one Kv batch (only now is the
//      version visible).
// A commit of content identical to the name's latest active version answers that version
// and shreds the new blob (idempotent re-upload); nothing is audited for it.
// A version number whose lineage node was recorded by a commit that then failed at step 4
// is skipped, so the graph never holds two contents for one version.
//
// Errors: NotFound names the ref or upload; FailedPrecondition for state (shredded,
// promotion order, stale signature); PermissionDenied for a missing grant or bad
// signature; DataLoss for a corrupt metadata record.
// Thread-safety: safe for concurrent use. Commits, promotions, retention changes and
// shreds are serialized by one mutex (they read-modify-write version records); reads take
// no lock (each record is written whole in one batch).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "access/access_service.h"
#include "access/records.h"
#include "artifacts/blob_store.h"
#include "artifacts/environment.h"
#include "artifacts/signature_bundle.h"
#include "artifacts/signers.h"
#include "artifacts/statement.h"
#include "artifacts/version_record.h"
#include "audit/log.h"
#include "catalog/governance.h"
#include "common/clock.h"
#include "common/status.h"
#include "crypto/keyring.h"
#include "lineage/lineage_service.h"
#include "storage/encrypted_keyspace.h"
#include "storage/kv.h"

namespace custos::artifacts {

inline constexpr std::string_view kVaultKeyOwner = "artifacts:meta";

// What the vault is built on. Every reference must outlive the vault. The pointers are
// optional: without `governance` every artifact counts as restricted for export (fail
// closed) and EnsureGoverned is FailedPrecondition; without `access` no grant can be found
// (promotion to prod and export of a restricted artifact are refused); without `lineage`
// no lineage is recorded and commits with lineage inputs are refused.
struct VaultDeps {
  storage::Kv* kv = nullptr;
  crypto::Keyring* keyring = nullptr;
  audit::AuditLog* audit = nullptr;
  const common::Clock* clock = nullptr;
  BlobStore* blobs = nullptr;
  ArtifactSigners* signers = nullptr;
  catalog::GovernanceRegistry* governance = nullptr;
  access::AccessService* access = nullptr;
  lineage::LineageService* lineage = nullptr;
};

struct VaultOptions {
  // Labels per version. Default 64.
  size_t max_labels = 64;
  // Bytes of a label key (which must be [a-z0-9][a-z0-9._/-]*) or value. Default 256.
  size_t max_label_bytes = 256;
  // Bytes of a description or a shred reason. Default 4096.
  size_t max_text_bytes = 4096;
  // Lineage inputs per commit. Default 256.
  size_t max_lineage_inputs = 256;
  // The principal recorded for ShredExpired's shreds. Default ServiceAccount::"custos-retention".
  std::string retention_principal = "ServiceAccount::\"custos-retention\"";
  // Uploads begun but not committed are rolled back by ExpireUploads once idle this long:
  // an unfinished one measured from its last chunk, a finished one from its beginning.
  // Default 24 hours.
  std::chrono::seconds upload_idle_timeout = std::chrono::hours(24);
};

// How long a committed version must be kept; after that ShredExpired crypto-shreds it.
// At most one of the two may be set.
struct Retention {
  std::optional<std::chrono::seconds> duration;  // from the commit time
  std::optional<common::TimePoint> until;
};

struct CommitOptions {
  // The SHA-256 the client computed; a mismatch is FailedPrecondition (corrupted upload).
  std::optional<crypto::Digest> expected_sha256;
  // The client's own signature over StatementFor(upload) (signer must be the actor).
  std::optional<ArtifactSignature> client_signature;
  Retention retention;
  std::map<std::string, std::string> labels;
  std::string description;
  // Lineage node ids the artifact was derived from (e.g. a training set's node id).
  std::vector<std::string> lineage_inputs;
};

// What AuthorizeExport allowed: the caller then streams the bytes with OpenForRead.
struct ExportTicket {
  ArtifactRef ref;
  std::optional<std::string> grant_id;  // the export grant used, when one was needed
  uint64_t audit_index = 0;             // of the artifact.export event
};

class ArtifactVault {
 public:
  // Opens the vault's metadata keyspace. InvalidArgument if a required dependency is null.
  static Result<std::unique_ptr<ArtifactVault>> Open(const VaultDeps& deps,
                                                     VaultOptions options = {});

  // --- Uploads ---
  // Validates the name and media type, begins a BlobStore upload and remembers what it is
  // for. No version exists yet. FailedPrecondition if the name holds artifacts of another
  // kind.
  Result<UploadStatus> BeginUpload(std::string_view name, ArtifactKind kind,
                                   std::string_view media_type, const access::Actor& actor,
                                   uint32_t chunk_size = kDefaultChunkSize);
  // Pass through to the BlobStore; NotFound unless the upload was begun through the vault.
  Result<UploadStatus> AppendChunk(std::string_view upload_id, uint64_t index,
                                   common::ByteView data);
  Result<UploadStatus> GetUpload(std::string_view upload_id);
  // What an upload is for (name, kind, media type, who began it). NotFound unless the upload
  // was begun through the vault and is not yet committed or rolled back.
  Result<PendingUpload> GetPendingUpload(std::string_view upload_id);
  // Rolls back every upload idle longer than options.upload_idle_timeout (its blob, its DEK
  // and its record), then any part file the blob store holds without a vault record (a
  // crash between the two). Answers how many uploads were rolled back.
  Result<size_t> ExpireUploads();
  // Abandons an upload (finished or not): its blob is rolled back and its record removed.
  Status AbortUpload(std::string_view upload_id);
  // Finishes the upload (if not already) and answers the statement the next Commit would
  // sign: version = latest + 1. A client signs this and passes the signature to Commit.
  Result<ArtifactStatement> StatementFor(std::string_view upload_id);
  // Commits the upload as the next version (see the lifecycle above).
  Result<ArtifactVersion> Commit(std::string_view upload_id, const CommitOptions& options,
                                 const access::Actor& actor);

  // --- Reads ---
  // NotFound naming the ref. Shredded versions are answered (as tombstones).
  Result<ArtifactVersion> Get(const ArtifactRef& ref);
  // The highest version of `name` (shredded or not); NotFound if the name has none.
  Result<ArtifactVersion> Latest(std::string_view name);
  // Every version of `name`, oldest first (empty when none).
  Result<std::vector<ArtifactVersion>> ListVersions(std::string_view name);
  // Every name with at least one version, in byte order.
  Result<std::vector<std::string>> ListNames();
  // Every version whose bytes have this SHA-256, shredded ones included.
  Result<std::vector<ArtifactRef>> FindByDigest(const crypto::Digest& sha256);
  // The statement and signatures of a version, for offline verification.
  Result<SignatureBundle> Bundle(const ArtifactRef& ref);
  // A reader over the version's bytes. FailedPrecondition when it was crypto-shredded;
  // NotFound naming the ref. Authorization (Cedar, environment) and the audit event of the
  // read are the caller's (the server's request pipeline); `actor` names who reads.
  Result<std::unique_ptr<BlobReader>> OpenForRead(const ArtifactRef& ref,
                                                  const access::Actor& actor);

  // --- Environments ---
  // Moves the version one step up (dev -> staging -> prod). FailedPrecondition for a skip,
  // a step down, a repeat or a shredded version; promotion to prod needs an active grant
  // with action "promote" on Artifact::"<name>" for the actor (PermissionDenied otherwise).
  // Audited ("artifact.version.promote", refusals included), fail closed.
  Result<ArtifactVersion> Promote(const ArtifactRef& ref, Environment target,
                                  const access::Actor& actor);
  // Registers Artifact::"<name>" in the governance registry unless it is registered, and
  // answers its record (the existing one, unchanged, if it was).
  Result<catalog::GovernedResource> EnsureGoverned(std::string_view name,
                                                   catalog::Classification classification,
                                                   const std::vector<policy::EntityUid>& owners,
                                                   const access::Actor& actor);

  // --- Export control ---
  // Restricted artifacts (and unregistered ones: fail closed) need an active grant with
  // action "export" on Artifact::"<name>" for the actor; others are allowed here. Every
  // decision is audited as "artifact.export" (allow or deny); PermissionDenied when refused.
  Result<ExportTicket> AuthorizeExport(const ArtifactRef& ref, const access::Actor& actor);

  // --- Retention and crypto-shredding ---
  // Sets (or clears, with nullopt) when the version may be shredded. Audited
  // ("artifact.version.retention"), fail closed. FailedPrecondition if shredded.
  Result<ArtifactVersion> SetRetention(const ArtifactRef& ref,
                                       std::optional<common::TimePoint> until,
                                       const access::Actor& actor);
  // Audits "artifact.version.shred" (fail closed), destroys the blob's DEK, and keeps the
  // record as a tombstone. FailedPrecondition if already shredded.
  Result<ArtifactVersion> Shred(const ArtifactRef& ref, std::string_view reason,
                                const access::Actor& actor);
  // Shreds every active version whose retention_until is at or before now (reason
  // "retention", principal options.retention_principal). Answers the refs shredded; stops
  // at the first failure.
  Result<std::vector<ArtifactRef>> ShredExpired();

 private:
  ArtifactVault(const VaultDeps& deps, VaultOptions options, storage::EncryptedKeyspace meta);

  Result<PendingUpload> LoadUpload(std::string_view upload_id);
  Result<std::optional<ArtifactVersion>> LoadVersion(const ArtifactRef& ref);
  Result<std::optional<ArtifactVersion>> LoadLatest(std::string_view name);
  Result<ArtifactVersion> MustLoad(const ArtifactRef& ref);
  // Finishes the upload's blob if needed and stores its info in the upload record.
  Result<PendingUpload> Finish(PendingUpload upload, const std::optional<crypto::Digest>& expected);
  // latest + 1, skipping numbers whose lineage node a failed commit left behind.
  Result<uint64_t> NextVersion(std::string_view name, ArtifactKind kind);
  Status CheckClientSignature(const ArtifactStatement& statement,
                              const ArtifactSignature& signature, const access::Actor& actor);
  Status CheckCommitOptions(const CommitOptions& options) const;
  // Removes the upload's blob (aborts or shreds it) and its record.
  Status RollBack(const PendingUpload& upload);
  // The id of an active grant for `actor` with `action` on Artifact::"<name>", if any.
  Result<std::optional<std::string>> FindGrant(std::string_view name, std::string_view action,
                                               const access::Actor& actor);
  Result<ArtifactVersion> ShredLocked(const ArtifactRef& ref, std::string_view reason,
                                      const std::string& principal, audit::AuthMethod method);
  Status WriteVersion(const ArtifactVersion& version);
  audit::AuditEvent Event(std::string_view action, const ArtifactRef& ref,
                          const std::string& principal, audit::AuthMethod method) const;

  storage::Kv& kv_;
  audit::AuditLog& audit_;
  const common::Clock& clock_;
  BlobStore& blobs_;
  ArtifactSigners& signers_;
  catalog::GovernanceRegistry* governance_;
  access::AccessService* access_;
  lineage::LineageService* lineage_;
  const VaultOptions options_;
  mutable storage::EncryptedKeyspace meta_;
  // Serializes commits, promotions, retention changes and shreds.
  std::mutex write_mu_;
};

}  // namespace custos::artifacts
