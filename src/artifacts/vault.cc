// The artifact vault: versions, environments, export control, retention (see vault.h).
#include "artifacts/vault.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <utility>

#include "common/bytes.h"
#include "common/ids.h"
#include "common/key_encoding.h"
#include "lineage/capture.h"

namespace custos::artifacts {
namespace {

constexpr std::string_view kOrder = "environments go dev -> staging -> prod, one step at a time";
// How far back a stale client signature is recognized as one (older ones are just invalid).
constexpr uint64_t kStaleSignatureWindow = 16;

std::string Ref(const ArtifactRef& ref) { return FormatArtifactRef(ref); }

std::string Hex(const crypto::Digest& digest) { return common::HexEncode(digest); }

std::string ShreddedMessage(const ArtifactVersion& v) {
  return "artifact " + Ref(v.ref()) + " was crypto-shredded at " +
         common::FormatRfc3339(v.shredded_at.value_or(common::TimePoint{})) + " (" +
         v.shred_reason + ")";
}

std::string Truncated(std::string text) {
  if (text.size() > audit::kMaxEventString) text.resize(audit::kMaxEventString);
  return text;
}

bool IsUtf8(const std::string& text) {
  try {
    (void)nlohmann::json(text).dump();
    return true;
  } catch (const nlohmann::json::exception&) {
    return false;
  }
}

bool IsLabelKey(std::string_view key) {
  if (key.empty()) return false;
  auto lower_digit = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!lower_digit(key[0])) return false;
  return std::all_of(key.begin(), key.end(), [&](char c) {
    return lower_digit(c) || c == '.' || c == '_' || c == '/' || c == '-';
  });
}

lineage::NodeKind LineageKind(ArtifactKind kind) {
  return kind == ArtifactKind::kDataset ? lineage::NodeKind::kDataset : lineage::NodeKind::kModel;
}

policy::EntityUid ArtifactUid(std::string_view name) { return policy::EntityUid("Artifact", name); }

// Appends a refusal event and answers `refusal` (or the audit error: fail closed).
Status AuditRefusal(audit::AuditLog& log, audit::AuditEvent event, const Status& refusal) {
  event.decision = audit::Decision::kDeny;
  event.outcome = audit::Outcome::kDenied;
  event.outcome_detail = Truncated(refusal.ToString());
  auto appended = log.Append(event);
  if (!appended.ok()) {
    return appended.status().WithContext("cannot audit a refused " + event.action);
  }
  return refusal;
}

}  // namespace

Result<std::unique_ptr<ArtifactVault>> ArtifactVault::Open(const VaultDeps& deps,
                                                           VaultOptions options) {
  if (deps.kv == nullptr || deps.keyring == nullptr || deps.audit == nullptr ||
      deps.clock == nullptr || deps.blobs == nullptr || deps.signers == nullptr) {
    return InvalidArgumentError(
        "artifact vault: kv, keyring, audit, clock, blobs and signers are required (only "
        "governance, access and lineage may be null)");
  }
  CUSTOS_ASSIGN_OR_RETURN(auto meta,
                          storage::EncryptedKeyspace::Open(*deps.kv, storage::Keyspace::kArtifacts,
                                                           *deps.keyring, kVaultKeyOwner));
  return std::unique_ptr<ArtifactVault>(
      new ArtifactVault(deps, std::move(options), std::move(meta)));
}

ArtifactVault::ArtifactVault(const VaultDeps& deps, VaultOptions options,
                             storage::EncryptedKeyspace meta)
    : kv_(*deps.kv),
      audit_(*deps.audit),
      clock_(*deps.clock),
      blobs_(*deps.blobs),
      signers_(*deps.signers),
      governance_(deps.governance),
      access_(deps.access),
      lineage_(deps.lineage),
      options_(std::move(options)),
      meta_(std::move(meta)) {}

// ---------------------------------------------------------------------------- records

Result<PendingUpload> ArtifactVault::LoadUpload(std::string_view upload_id) {
  const std::string key = UploadKey(upload_id);
  CUSTOS_ASSIGN_OR_RETURN(std::optional<std::string> stored, meta_.Get(key));
  if (!stored) {
    return NotFoundError("no artifact upload '" + std::string(upload_id.substr(0, 64)) +
                         "' in the vault; begin one with BeginUpload (idle uploads are rolled "
                         "back, committed ones are gone)");
  }
  return DecodePendingUpload(key, *stored);
}

Result<std::optional<ArtifactVersion>> ArtifactVault::LoadVersion(const ArtifactRef& ref) {
  const std::string key = VersionKey(ref.name, ref.version);
  CUSTOS_ASSIGN_OR_RETURN(std::optional<std::string> stored, meta_.Get(key));
  if (!stored) return std::optional<ArtifactVersion>();
  CUSTOS_ASSIGN_OR_RETURN(ArtifactVersion version, DecodeVersion(key, *stored));
  return std::optional<ArtifactVersion>(std::move(version));
}

Result<ArtifactVersion> ArtifactVault::MustLoad(const ArtifactRef& ref) {
  CUSTOS_RETURN_IF_ERROR(ValidateArtifactName(ref.name));
  CUSTOS_ASSIGN_OR_RETURN(std::optional<ArtifactVersion> version, LoadVersion(ref));
  if (!version) {
    return NotFoundError("artifact " + Ref(ref) + " does not exist; list the versions of '" +
                         ref.name + "' to see which do");
  }
  return std::move(*version);
}

Result<std::optional<ArtifactVersion>> ArtifactVault::LoadLatest(std::string_view name) {
  const std::string prefix = VersionPrefix(name);
  const std::string end = common::PrefixSuccessor(prefix);
  auto it = kv_.NewIterator(storage::Keyspace::kArtifacts);
  it->SeekForPrev(end);
  if (it->Valid() && it->key() == end) it->Prev();
  if (!it->Valid() || !it->key().starts_with(prefix)) {
    CUSTOS_RETURN_IF_ERROR(it->status());
    return std::optional<ArtifactVersion>();
  }
  const std::string key(it->key());
  CUSTOS_ASSIGN_OR_RETURN(std::string plain, meta_.Decrypt(key, it->value()));
  CUSTOS_ASSIGN_OR_RETURN(ArtifactVersion version, DecodeVersion(key, plain));
  return std::optional<ArtifactVersion>(std::move(version));
}

Status ArtifactVault::WriteVersion(const ArtifactVersion& version) {
  return meta_.Put(VersionKey(version.name, version.version), EncodeVersion(version));
}

audit::AuditEvent ArtifactVault::Event(std::string_view action, const ArtifactRef& ref,
                                       const std::string& principal,
                                       audit::AuthMethod method) const {
  audit::AuditEvent event;
  event.time = clock_.Now();
  event.request_id = common::NewId("art");
  event.principal_id = principal;
  event.auth_method = method;
  event.action = std::string(action);
  event.resources.push_back({"Artifact", ref.name, ref.version});
  event.decision = audit::Decision::kAllow;
  event.outcome = audit::Outcome::kOk;
  return event;
}

// ---------------------------------------------------------------------------- uploads

Result<UploadStatus> ArtifactVault::BeginUpload(std::string_view name, ArtifactKind kind,
                                                std::string_view media_type,
                                                const access::Actor& actor, uint32_t chunk_size) {
  CUSTOS_RETURN_IF_ERROR(ValidateArtifactName(name));
  CUSTOS_RETURN_IF_ERROR(ValidateMediaType(media_type));
  CUSTOS_ASSIGN_OR_RETURN(std::optional<ArtifactVersion> latest, LoadLatest(name));
  if (latest && latest->kind != kind) {
    return FailedPreconditionError("artifact '" + std::string(name) + "' holds " +
                                   std::string(ArtifactKindName(latest->kind)) +
                                   " versions; upload a " + std::string(ArtifactKindName(kind)) +
                                   " under another name");
  }
  CUSTOS_ASSIGN_OR_RETURN(UploadStatus status, blobs_.BeginUpload(chunk_size));
  PendingUpload upload;
  upload.upload_id = status.upload_id;
  upload.name = std::string(name);
  upload.kind = kind;
  upload.media_type = std::string(media_type);
  upload.created_by = actor.principal.ToString();
  upload.created = clock_.Now();
  if (Status put = meta_.Put(UploadKey(upload.upload_id), EncodePendingUpload(upload)); !put.ok()) {
    (void)blobs_.AbortUpload(upload.upload_id);
    return put.WithContext("cannot record the upload of '" + upload.name + "'");
  }
  return status;
}

Result<UploadStatus> ArtifactVault::AppendChunk(std::string_view upload_id, uint64_t index,
                                                common::ByteView data) {
  CUSTOS_ASSIGN_OR_RETURN(PendingUpload upload, LoadUpload(upload_id));
  if (upload.blob) {
    return FailedPreconditionError("upload " + upload.upload_id + " of '" + upload.name +
                                   "' is finished (its statement was requested); commit it, "
                                   "or abort it and upload again");
  }
  return blobs_.AppendChunk(upload_id, index, data);
}

Result<UploadStatus> ArtifactVault::GetUpload(std::string_view upload_id) {
  CUSTOS_ASSIGN_OR_RETURN(PendingUpload upload, LoadUpload(upload_id));
  if (!upload.blob) return blobs_.GetUpload(upload_id);
  UploadStatus status;
  status.upload_id = upload.upload_id;
  status.chunk_size = upload.blob->chunk_size;
  status.next_index = upload.blob->chunks;
  status.bytes_received = upload.blob->size;
  status.last_activity = upload.created;
  return status;
}

Status ArtifactVault::RollBack(const PendingUpload& upload) {
  Status blob =
      upload.blob ? blobs_.ShredBlob(upload.blob->blob_id) : blobs_.AbortUpload(upload.upload_id);
  if (!blob.ok() && blob.code() != StatusCode::kNotFound) return blob;
  return meta_.Delete(UploadKey(upload.upload_id));
}

Result<PendingUpload> ArtifactVault::GetPendingUpload(std::string_view upload_id) {
  return LoadUpload(upload_id);
}

Result<size_t> ArtifactVault::ExpireUploads() {
  std::lock_guard lock(write_mu_);
  const common::TimePoint now = clock_.Now();
  std::vector<PendingUpload> idle;
  CUSTOS_RETURN_IF_ERROR(meta_.ScanPrefix(
      kUploadKeyPrefix, [&](std::string_view key, std::string_view plain) -> Status {
        CUSTOS_ASSIGN_OR_RETURN(PendingUpload upload, DecodePendingUpload(key, plain));
        common::TimePoint last_activity = upload.created;
        if (!upload.blob) {
          auto status = blobs_.GetUpload(upload.upload_id);
          // NotFound: the blob store already rolled it back; only the record is left.
          if (status.ok())
            last_activity = status->last_activity;
          else if (status.status().code() != StatusCode::kNotFound)
            return status.status();
          else
            last_activity = common::TimePoint{};
        }
        if (now - last_activity > options_.upload_idle_timeout) idle.push_back(std::move(upload));
        return Status::Ok();
      }));
  size_t rolled_back = 0;
  for (const PendingUpload& upload : idle) {
    CUSTOS_RETURN_IF_ERROR(RollBack(upload));
    ++rolled_back;
  }
  CUSTOS_ASSIGN_OR_RETURN(size_t orphans, blobs_.ExpireUploads());
  return rolled_back + orphans;
}

Status ArtifactVault::AbortUpload(std::string_view upload_id) {
  std::lock_guard lock(write_mu_);
  CUSTOS_ASSIGN_OR_RETURN(PendingUpload upload, LoadUpload(upload_id));
  return RollBack(upload);
}

Result<PendingUpload> ArtifactVault::Finish(PendingUpload upload,
                                            const std::optional<crypto::Digest>& expected) {
  if (upload.blob) {
    if (expected && *expected != upload.blob->sha256) {
      return FailedPreconditionError(
          "upload " + upload.upload_id + " of '" + upload.name + "' has SHA-256 " +
          Hex(upload.blob->sha256) + ", not the expected " + Hex(*expected) +
          "; the bytes changed on the way: abort the upload and send the file again");
    }
    return upload;
  }
  auto info = blobs_.FinishUpload(upload.upload_id, expected);
  if (!info.ok()) {
    if (info.status().code() == StatusCode::kNotFound) {
      // The blob store rolled it back (idle too long): forget it here too.
      (void)meta_.Delete(UploadKey(upload.upload_id));
      return NotFoundError("upload " + upload.upload_id + " of '" + upload.name +
                           "' was rolled back (idle too long or aborted); begin a new upload");
    }
    return info.status().WithContext("upload " + upload.upload_id + " of '" + upload.name + "'");
  }
  upload.blob = std::move(*info);
  CUSTOS_RETURN_IF_ERROR(meta_.Put(UploadKey(upload.upload_id), EncodePendingUpload(upload)));
  return upload;
}

Result<uint64_t> ArtifactVault::NextVersion(std::string_view name, ArtifactKind kind) {
  CUSTOS_ASSIGN_OR_RETURN(std::optional<ArtifactVersion> latest, LoadLatest(name));
  if (latest && latest->kind != kind) {
    return FailedPreconditionError(
        "artifact '" + std::string(name) + "' holds " +
        std::string(ArtifactKindName(latest->kind)) + " versions; this upload is a " +
        std::string(ArtifactKindName(kind)) + ": abort it and upload under another name");
  }
  uint64_t next = latest ? latest->version + 1 : 1;
  if (lineage_ != nullptr) {
    for (;;) {
      const std::string node = lineage::MakeNodeId(LineageKind(kind), name, std::to_string(next));
      CUSTOS_ASSIGN_OR_RETURN(auto stored, lineage_->store().GetNode(node));
      if (!stored) break;
      ++next;  // recorded by a commit that failed afterwards: never reuse its number
    }
  }
  return next;
}

Result<ArtifactStatement> ArtifactVault::StatementFor(std::string_view upload_id) {
  std::lock_guard lock(write_mu_);
  CUSTOS_ASSIGN_OR_RETURN(PendingUpload upload, LoadUpload(upload_id));
  CUSTOS_ASSIGN_OR_RETURN(upload, Finish(std::move(upload), std::nullopt));
  CUSTOS_ASSIGN_OR_RETURN(uint64_t version, NextVersion(upload.name, upload.kind));
  return ArtifactStatement{upload.name,         version,           upload.kind,
                           upload.blob->sha256, upload.blob->size, upload.media_type};
}

Status ArtifactVault::CheckClientSignature(const ArtifactStatement& statement,
                                           const ArtifactSignature& signature,
                                           const access::Actor& actor) {
  const std::string principal = actor.principal.ToString();
  if (signature.signer != principal) {
    return PermissionDeniedError("the client signature is by '" +
                                 signature.signer.substr(0, kMaxSignerBytes) +
                                 "' but the commit is made by '" + principal +
                                 "'; sign with a key registered to the committing principal");
  }
  Status checked = signers_.CheckSignature(statement, signature);
  if (checked.ok()) return checked;
  // A signature over an older version number means another commit took this number.
  for (uint64_t older = statement.version - 1;
       older >= 1 && statement.version - older <= kStaleSignatureWindow; --older) {
    ArtifactStatement stale = statement;
    stale.version = older;
    if (signers_.CheckSignature(stale, signature).ok()) {
      return FailedPreconditionError(
          "the client signature covers " + Ref({statement.name, older}) +
          " but the next version is " + Ref({statement.name, statement.version}) +
          " (another commit came first); fetch the statement again and sign it");
    }
  }
  return checked;
}

Status ArtifactVault::CheckCommitOptions(const CommitOptions& options) const {
  if (options.retention.duration && options.retention.until) {
    return InvalidArgumentError("retention: give a duration or an until time, not both");
  }
  if (options.retention.duration && options.retention.duration->count() <= 0) {
    return InvalidArgumentError("retention.duration must be positive (got " +
                                std::to_string(options.retention.duration->count()) + " s)");
  }
  if (options.labels.size() > options_.max_labels) {
    return InvalidArgumentError("labels: " + std::to_string(options.labels.size()) +
                                " given; at most " + std::to_string(options_.max_labels) +
                                " allowed");
  }
  for (const auto& [key, value] : options.labels) {
    if (key.size() > options_.max_label_bytes || !IsLabelKey(key)) {
      return InvalidArgumentError("labels: key '" + key.substr(0, 64) + "' must be 1 to " +
                                  std::to_string(options_.max_label_bytes) +
                                  " characters of a-z, 0-9 and . _ / - starting with a-z or 0-9");
    }
    if (value.size() > options_.max_label_bytes || !IsUtf8(value)) {
      return InvalidArgumentError("labels." + key + ": the value must be UTF-8 of at most " +
                                  std::to_string(options_.max_label_bytes) + " bytes");
    }
  }
  if (options.description.size() > options_.max_text_bytes || !IsUtf8(options.description)) {
    return InvalidArgumentError("description: must be UTF-8 of at most " +
                                std::to_string(options_.max_text_bytes) + " bytes");
  }
  if (options.lineage_inputs.size() > options_.max_lineage_inputs) {
    return InvalidArgumentError("lineage_inputs: " + std::to_string(options.lineage_inputs.size()) +
                                " given; at most " + std::to_string(options_.max_lineage_inputs) +
                                " allowed");
  }
  return Status::Ok();
}

Result<ArtifactVersion> ArtifactVault::Commit(std::string_view upload_id,
                                              const CommitOptions& options,
                                              const access::Actor& actor) {
  CUSTOS_RETURN_IF_ERROR(CheckCommitOptions(options));
  std::lock_guard lock(write_mu_);
  CUSTOS_ASSIGN_OR_RETURN(PendingUpload upload, LoadUpload(upload_id));
  CUSTOS_ASSIGN_OR_RETURN(upload, Finish(std::move(upload), options.expected_sha256));
  const BlobInfo& blob = *upload.blob;
  const std::string where = "commit of upload " + upload.upload_id + " to '" + upload.name + "'";

  // Identical content re-uploaded: the latest version already is this commit.
  CUSTOS_ASSIGN_OR_RETURN(std::optional<ArtifactVersion> latest, LoadLatest(upload.name));
  if (latest && latest->state == VersionState::kActive && latest->kind == upload.kind &&
      latest->media_type == upload.media_type && latest->blob.size == blob.size &&
      latest->blob.sha256 == blob.sha256) {
    CUSTOS_RETURN_IF_ERROR(
        RollBack(upload).WithContext(where + ": identical to " + Ref(latest->ref())));
    return std::move(*latest);
  }

  CUSTOS_ASSIGN_OR_RETURN(uint64_t number, NextVersion(upload.name, upload.kind));
  ArtifactVersion version;
  version.name = upload.name;
  version.version = number;
  version.kind = upload.kind;
  version.media_type = upload.media_type;
  version.blob = blob;
  version.created = clock_.Now();
  version.created_by = actor.principal.ToString();
  version.environments = {Environment::kDev};
  version.labels = options.labels;
  version.description = options.description;
  if (options.retention.duration) {
    version.retention_until = version.created + *options.retention.duration;
  } else if (options.retention.until) {
    if (*options.retention.until <= version.created) {
      return InvalidArgumentError(where + ": retention until " +
                                  common::FormatRfc3339(*options.retention.until) +
                                  " is not after now; give a time in the future");
    }
    version.retention_until = *options.retention.until;
  }
  const ArtifactStatement statement = version.statement();
  version.signatures.push_back(signers_.SignAsServer(statement));
  if (options.client_signature) {
    CUSTOS_RETURN_IF_ERROR(CheckClientSignature(statement, *options.client_signature, actor));
    version.signatures.push_back(*options.client_signature);
  }

  lineage::ArtifactCapture capture;
  if (lineage_ != nullptr) {
    capture.kind = LineageKind(version.kind);
    capture.name = version.name;
    capture.version = std::to_string(version.version);
    capture.content_sha256 = Hex(blob.sha256);
    capture.size = blob.size;
    capture.media_type = version.media_type;
    capture.principal = version.created_by;
    capture.time = version.created;
    capture.inputs = options.lineage_inputs;
    CUSTOS_RETURN_IF_ERROR(lineage::CheckArtifactCapture(*lineage_, capture));
  } else if (!options.lineage_inputs.empty()) {
    return FailedPreconditionError(where +
                                   ": lineage inputs were given but this vault records no "
                                   "lineage; configure a lineage service or leave them out");
  }

  // Fail closed: the version exists only once its commit is in the audit log.
  audit::AuditEvent event =
      Event("artifact.version.commit", version.ref(), version.created_by, actor.auth_method);
  event.time = version.created;
  event.outcome_detail = "sha256=" + Hex(blob.sha256) + " size=" + std::to_string(blob.size);
  auto index = audit_.Append(event);
  if (!index.ok()) {
    Status rolled = RollBack(upload);
    return index.status().WithContext(
        "cannot audit the " + where + "; no version was created and the upload was rolled back" +
        (rolled.ok() ? "" : " (rollback failed: " + rolled.ToString() + ")"));
  }
  version.audit_index = *index;

  if (lineage_ != nullptr) {
    capture.run_id = "artifact-commit-" + std::to_string(*index);
    auto recorded = lineage::CaptureArtifact(*lineage_, capture);
    if (!recorded.ok()) {
      Status rolled = RollBack(upload);
      return recorded.status().WithContext(
          "cannot record the lineage of " + Ref(version.ref()) +
          "; no version was created and the upload was rolled back" +
          (rolled.ok() ? "" : " (rollback failed: " + rolled.ToString() + ")"));
    }
    version.lineage_node = lineage::ArtifactNodeId(capture);
  }

  storage::WriteBatch batch;
  meta_.PutTo(batch, VersionKey(version.name, version.version), EncodeVersion(version));
  meta_.PutTo(batch, DigestKey(blob.sha256, version.name, version.version), "");
  batch.Delete(storage::Keyspace::kArtifacts, UploadKey(upload.upload_id));
  if (Status written = kv_.Write(batch); !written.ok()) {
    Status rolled = RollBack(upload);
    return written.WithContext(
        "audited, but the " + where + " could not be stored; no version was created" +
        (rolled.ok() ? "" : " (rollback failed: " + rolled.ToString() + ")"));
  }
  return version;
}

// ---------------------------------------------------------------------------- reads

Result<ArtifactVersion> ArtifactVault::Get(const ArtifactRef& ref) { return MustLoad(ref); }

Result<ArtifactVersion> ArtifactVault::Latest(std::string_view name) {
  CUSTOS_RETURN_IF_ERROR(ValidateArtifactName(name));
  CUSTOS_ASSIGN_OR_RETURN(std::optional<ArtifactVersion> latest, LoadLatest(name));
  if (!latest) {
    return NotFoundError("artifact '" + std::string(name) +
                         "' has no versions; upload and commit one first");
  }
  return std::move(*latest);
}

Result<std::vector<ArtifactVersion>> ArtifactVault::ListVersions(std::string_view name) {
  CUSTOS_RETURN_IF_ERROR(ValidateArtifactName(name));
  std::vector<ArtifactVersion> out;
  CUSTOS_RETURN_IF_ERROR(meta_.ScanPrefix(
      VersionPrefix(name), [&](std::string_view key, std::string_view plain) -> Status {
        CUSTOS_ASSIGN_OR_RETURN(ArtifactVersion version, DecodeVersion(key, plain));
        out.push_back(std::move(version));
        return Status::Ok();
      }));
  return out;
}

Result<std::vector<std::string>> ArtifactVault::ListNames() {
  std::vector<std::string> names;
  auto it = kv_.NewIterator(storage::Keyspace::kArtifacts);
  for (it->Seek(kVersionKeyPrefix); it->Valid() && it->key().starts_with(kVersionKeyPrefix);) {
    CUSTOS_ASSIGN_OR_RETURN(ArtifactRef ref, ParseVersionKey(it->key()));
    names.push_back(ref.name);
    it->Seek(common::PrefixSuccessor(VersionPrefix(ref.name)));
  }
  CUSTOS_RETURN_IF_ERROR(it->status());
  return names;
}

Result<std::vector<ArtifactRef>> ArtifactVault::FindByDigest(const crypto::Digest& sha256) {
  std::vector<ArtifactRef> refs;
  // Each entry is sealed with its key as associated data, so opening it authenticates the
  // (name, version) its key names.
  CUSTOS_RETURN_IF_ERROR(
      meta_.ScanPrefix(DigestPrefix(sha256), [&](std::string_view key, std::string_view) -> Status {
        CUSTOS_ASSIGN_OR_RETURN(ArtifactRef ref, ParseDigestKey(key));
        refs.push_back(std::move(ref));
        return Status::Ok();
      }));
  return refs;
}

Result<SignatureBundle> ArtifactVault::Bundle(const ArtifactRef& ref) {
  CUSTOS_ASSIGN_OR_RETURN(ArtifactVersion version, MustLoad(ref));
  return SignatureBundle{version.statement(), version.signatures};
}

Result<std::unique_ptr<BlobReader>> ArtifactVault::OpenForRead(const ArtifactRef& ref,
                                                               const access::Actor& /*actor*/) {
  CUSTOS_ASSIGN_OR_RETURN(ArtifactVersion version, MustLoad(ref));
  if (version.state == VersionState::kShredded) {
    return FailedPreconditionError(ShreddedMessage(version));
  }
  auto reader = blobs_.OpenBlob(version.blob);
  if (!reader.ok()) return reader.status().WithContext("artifact " + Ref(ref));
  return std::move(*reader);
}

// ---------------------------------------------------------------------------- environments

Result<std::optional<std::string>> ArtifactVault::FindGrant(std::string_view name,
                                                            std::string_view action,
                                                            const access::Actor& actor) {
  if (access_ == nullptr) return std::optional<std::string>();
  CUSTOS_ASSIGN_OR_RETURN(std::vector<access::Grant> grants,
                          access_->ListGrants(access::GrantState::kActive));
  const policy::EntityUid resource = ArtifactUid(name);
  const common::TimePoint now = clock_.Now();
  for (const access::Grant& grant : grants) {
    if (grant.state != access::GrantState::kActive || grant.expires <= now) continue;
    const bool mine =
        grant.grantee == actor.principal ||
        std::find(actor.groups.begin(), actor.groups.end(), grant.grantee) != actor.groups.end();
    if (!mine) continue;
    if (std::find(grant.resources.begin(), grant.resources.end(), resource) ==
        grant.resources.end()) {
      continue;
    }
    if (std::find(grant.actions.begin(), grant.actions.end(), action) == grant.actions.end()) {
      continue;
    }
    return std::optional<std::string>(grant.id);
  }
  return std::optional<std::string>();
}

Result<ArtifactVersion> ArtifactVault::Promote(const ArtifactRef& ref, Environment target,
                                               const access::Actor& actor) {
  std::lock_guard lock(write_mu_);
  CUSTOS_ASSIGN_OR_RETURN(ArtifactVersion version, MustLoad(ref));
  audit::AuditEvent event =
      Event("artifact.version.promote", ref, actor.principal.ToString(), actor.auth_method);
  event.environment = std::string(EnvironmentName(target));
  if (version.state == VersionState::kShredded) {
    return AuditRefusal(audit_, std::move(event),
                        FailedPreconditionError(ShreddedMessage(version) +
                                                "; a shredded version cannot be promoted"));
  }
  const Environment current = version.highest_environment();
  if (target <= current) {
    return AuditRefusal(audit_, std::move(event),
                        FailedPreconditionError(
                            Ref(ref) + " is already in " + std::string(EnvironmentName(current)) +
                            "; cannot promote it to " + std::string(EnvironmentName(target)) +
                            " (" + std::string(kOrder) + ")"));
  }
  if (PreviousEnvironment(target) != current) {
    const Environment next = static_cast<Environment>(static_cast<uint8_t>(current) + 1);
    return AuditRefusal(
        audit_, std::move(event),
        FailedPreconditionError(Ref(ref) + " is in " + std::string(EnvironmentName(current)) +
                                "; promote it to " + std::string(EnvironmentName(next)) +
                                " before " + std::string(EnvironmentName(target)) + " (" +
                                std::string(kOrder) + ")"));
  }
  if (target == Environment::kProd) {
    CUSTOS_ASSIGN_OR_RETURN(std::optional<std::string> grant,
                            FindGrant(ref.name, "promote", actor));
    if (!grant) {
      return AuditRefusal(audit_, std::move(event),
                          PermissionDeniedError("promoting " + Ref(ref) +
                                                " to prod needs an approved grant: "
                                                "request access to " +
                                                ArtifactUid(ref.name).ToString() +
                                                " with action promote and have it approved"));
    }
    event.grant_id = *grant;
  }
  version.environments.insert(target);
  event.outcome_detail = "environment=" + event.environment;
  CUSTOS_RETURN_IF_ERROR(audit_.Append(event));
  CUSTOS_RETURN_IF_ERROR(WriteVersion(version).WithContext(
      "audited, but the promotion of " + Ref(ref) + " could not be stored; retry"));
  return version;
}

Result<catalog::GovernedResource> ArtifactVault::EnsureGoverned(
    std::string_view name, catalog::Classification classification,
    const std::vector<policy::EntityUid>& owners, const access::Actor& actor) {
  if (governance_ == nullptr) {
    return FailedPreconditionError(
        "this vault has no governance registry; configure one to "
        "govern artifact '" +
        std::string(name) + "'");
  }
  CUSTOS_RETURN_IF_ERROR(ValidateArtifactName(name));
  const policy::EntityUid uid = ArtifactUid(name);
  auto existing = governance_->Get(uid);
  if (existing.ok() || existing.status().code() != StatusCode::kNotFound) return existing;
  catalog::GovernedResource spec;
  spec.uid = uid;
  spec.classification = classification;
  spec.owners = owners;
  spec.description = "artifact " + std::string(name);
  auto registered = governance_->Register(spec, actor.principal);
  if (!registered.ok() && registered.status().code() == StatusCode::kAlreadyExists) {
    return governance_->Get(uid);  // registered concurrently
  }
  return registered;
}

// ---------------------------------------------------------------------------- export

Result<ExportTicket> ArtifactVault::AuthorizeExport(const ArtifactRef& ref,
                                                    const access::Actor& actor) {
  audit::AuditEvent event =
      Event("artifact.export", ref, actor.principal.ToString(), actor.auth_method);
  auto version = MustLoad(ref);
  if (!version.ok()) return AuditRefusal(audit_, std::move(event), version.status());
  if (version->state == VersionState::kShredded) {
    return AuditRefusal(audit_, std::move(event),
                        FailedPreconditionError(ShreddedMessage(*version)));
  }
  catalog::Classification classification = catalog::Classification::kRestricted;
  std::string classified = "unregistered, treated as restricted";
  if (governance_ != nullptr) {
    auto governed = governance_->Get(ArtifactUid(ref.name));
    if (governed.ok()) {
      classification = governed->classification;
      classified = std::string(catalog::ClassificationName(classification));
    } else if (governed.status().code() != StatusCode::kNotFound) {
      return AuditRefusal(audit_, std::move(event), governed.status());
    }
  }
  event.outcome_detail = "classification=" + classified;
  ExportTicket ticket;
  ticket.ref = ref;
  if (classification == catalog::Classification::kRestricted) {
    CUSTOS_ASSIGN_OR_RETURN(std::optional<std::string> grant, FindGrant(ref.name, "export", actor));
    if (!grant) {
      return AuditRefusal(
          audit_, std::move(event),
          PermissionDeniedError("exporting " + Ref(ref) + " (classification " + classified +
                                ") needs an approved grant: request access to " +
                                ArtifactUid(ref.name).ToString() +
                                " with action export and have it approved"));
    }
    event.grant_id = *grant;
    ticket.grant_id = *grant;
  }
  CUSTOS_ASSIGN_OR_RETURN(ticket.audit_index, audit_.Append(event));
  return ticket;
}

// ---------------------------------------------------------------------------- retention

Result<ArtifactVersion> ArtifactVault::SetRetention(const ArtifactRef& ref,
                                                    std::optional<common::TimePoint> until,
                                                    const access::Actor& actor) {
  std::lock_guard lock(write_mu_);
  CUSTOS_ASSIGN_OR_RETURN(ArtifactVersion version, MustLoad(ref));
  if (version.state == VersionState::kShredded) {
    return FailedPreconditionError(ShreddedMessage(version) + "; its retention cannot change");
  }
  audit::AuditEvent event =
      Event("artifact.version.retention", ref, actor.principal.ToString(), actor.auth_method);
  event.outcome_detail = "until=" + (until ? common::FormatRfc3339(*until) : std::string("none"));
  CUSTOS_RETURN_IF_ERROR(audit_.Append(event));
  version.retention_until = until;
  CUSTOS_RETURN_IF_ERROR(WriteVersion(version).WithContext(
      "audited, but the retention of " + Ref(ref) + " could not be stored; retry"));
  return version;
}

Result<ArtifactVersion> ArtifactVault::ShredLocked(const ArtifactRef& ref, std::string_view reason,
                                                   const std::string& principal,
                                                   audit::AuthMethod method) {
  CUSTOS_ASSIGN_OR_RETURN(ArtifactVersion version, MustLoad(ref));
  if (version.state == VersionState::kShredded) {
    return FailedPreconditionError(ShreddedMessage(version) + " already");
  }
  audit::AuditEvent event = Event("artifact.version.shred", ref, principal, method);
  event.outcome_detail = Truncated("reason=" + std::string(reason));
  // Fail closed: nothing is destroyed unless the log says who destroyed it and why.
  CUSTOS_RETURN_IF_ERROR(audit_.Append(event));
  CUSTOS_RETURN_IF_ERROR(blobs_.ShredBlob(version.blob.blob_id)
                             .WithContext("audited, but the bytes of " + Ref(ref) +
                                          " could not be shredded; retry the shred"));
  version.state = VersionState::kShredded;
  version.shredded_at = event.time;
  version.shred_reason = std::string(reason);
  CUSTOS_RETURN_IF_ERROR(WriteVersion(version).WithContext(
      "the bytes of " + Ref(ref) + " are shredded, but its tombstone could not be stored; retry"));
  return version;
}

Result<ArtifactVersion> ArtifactVault::Shred(const ArtifactRef& ref, std::string_view reason,
                                             const access::Actor& actor) {
  if (reason.empty() || reason.size() > options_.max_text_bytes) {
    return InvalidArgumentError("shred reason: give 1 to " +
                                std::to_string(options_.max_text_bytes) +
                                " bytes saying why (e.g. retention, erasure request)");
  }
  std::lock_guard lock(write_mu_);
  return ShredLocked(ref, reason, actor.principal.ToString(), actor.auth_method);
}

Result<std::vector<ArtifactRef>> ArtifactVault::ShredExpired() {
  std::lock_guard lock(write_mu_);
  const common::TimePoint now = clock_.Now();
  std::vector<ArtifactRef> due;
  CUSTOS_RETURN_IF_ERROR(meta_.ScanPrefix(
      kVersionKeyPrefix, [&](std::string_view key, std::string_view plain) -> Status {
        CUSTOS_ASSIGN_OR_RETURN(ArtifactVersion version, DecodeVersion(key, plain));
        if (version.state == VersionState::kActive && version.retention_until &&
            *version.retention_until <= now) {
          due.push_back(version.ref());
        }
        return Status::Ok();
      }));
  for (const ArtifactRef& ref : due) {
    CUSTOS_RETURN_IF_ERROR(
        ShredLocked(ref, "retention", options_.retention_principal, audit::AuthMethod::kEmbedded));
  }
  return due;
}

}  // namespace custos::artifacts
