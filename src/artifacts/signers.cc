// The artifact signer registry and the server's signing key (see signers.h).
#include "artifacts/signers.h"

#include <string>
#include <utility>

#include "common/binary_io.h"
#include "common/bytes.h"
#include "crypto/secret.h"

namespace custos::artifacts {
namespace {

constexpr uint8_t kRecordVersion = 1;
constexpr std::string_view kResourceType = "ArtifactSigningKey";

std::string RecordKey(std::string_view key_id) {
  return std::string(kSignerRecordPrefix) + std::string(key_id);
}

std::string EncodeRecord(const SignerRecord& record) {
  common::ByteWriter w;
  w.U8(kRecordVersion)
      .Str(record.signer)
      .Str(record.key_id)
      .Blob(record.key.bytes())
      .I64(common::ToUnixMicros(record.registered))
      .U8(record.revoked ? 1 : 0);
  if (record.revoked) w.I64(common::ToUnixMicros(*record.revoked));
  return w.Release();
}

Result<SignerRecord> DecodeRecord(std::string_view key, std::string_view data) {
  const std::string what = "artifact signer record '" + std::string(key) + "'";
  common::ByteReader r(data, what);
  CUSTOS_ASSIGN_OR_RETURN(uint8_t version, r.U8());
  if (version != kRecordVersion) {
    return DataLossError(what + " has format version " + std::to_string(version) +
                         "; this build reads version " + std::to_string(kRecordVersion));
  }
  SignerRecord record;
  CUSTOS_ASSIGN_OR_RETURN(std::string_view signer, r.Str());
  CUSTOS_ASSIGN_OR_RETURN(std::string_view key_id, r.Str());
  CUSTOS_ASSIGN_OR_RETURN(std::string_view public_key, r.Str());
  CUSTOS_ASSIGN_OR_RETURN(int64_t registered, r.I64());
  CUSTOS_ASSIGN_OR_RETURN(uint8_t revoked, r.U8());
  if (revoked > 1) return DataLossError(what + " has an invalid revocation flag");
  if (revoked == 1) {
    CUSTOS_ASSIGN_OR_RETURN(int64_t revoked_at, r.I64());
    record.revoked = common::FromUnixMicros(revoked_at);
  }
  CUSTOS_RETURN_IF_ERROR(r.ExpectEnd());
  auto parsed = crypto::Ed25519PublicKey::FromBytes(common::AsBytes(public_key));
  if (!parsed.ok()) return DataLossError(what + ": " + parsed.status().message());
  record.signer = std::string(signer);
  record.key_id = std::string(key_id);
  record.key = *parsed;
  record.registered = common::FromUnixMicros(registered);
  // The record must be the one its storage key names, and name its own key.
  if (RecordKey(record.key_id) != key || KeyIdOf(record.key) != record.key_id) {
    return DataLossError(what + " does not match its key id; the record was altered or moved");
  }
  return record;
}

Status CheckSignerName(const std::string& signer) {
  if (signer.empty()) {
    return InvalidArgumentError(
        "signer is empty; give the principal the key belongs to, e.g. "
        "ServiceAccount::\"trainer\"");
  }
  if (signer.size() > kMaxSignerBytes) {
    return InvalidArgumentError("signer of " + std::to_string(signer.size()) +
                                " bytes is too long; at most " + std::to_string(kMaxSignerBytes) +
                                " allowed");
  }
  for (size_t i = 0; i < signer.size(); ++i) {
    auto c = static_cast<unsigned char>(signer[i]);
    if (c < 0x20 || c == 0x7f) {
      return InvalidArgumentError("signer: control character at byte " + std::to_string(i) +
                                  " is not allowed");
    }
  }
  if (signer == kServerSigner) {
    return InvalidArgumentError("signer '" + signer +
                                "' is reserved for the server's own key; register keys for "
                                "principals only");
  }
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<ArtifactSigners>> ArtifactSigners::Open(storage::Kv& kv,
                                                               crypto::Keyring& keyring,
                                                               audit::AuditLog& audit,
                                                               const common::Clock& clock) {
  CUSTOS_ASSIGN_OR_RETURN(storage::EncryptedKeyspace keyspace,
                          storage::EncryptedKeyspace::Open(kv, storage::Keyspace::kArtifacts,
                                                           keyring, kSignersKeyOwner));
  CUSTOS_ASSIGN_OR_RETURN(std::optional<std::string> stored, keyspace.Get(kServerKeyRecord));
  std::optional<crypto::Ed25519PrivateKey> server_key;
  if (stored) {
    crypto::SecretBytes seed = crypto::SecretBytes::CopyOf(common::AsBytes(*stored));
    crypto::ZeroizeString(*stored);
    auto loaded = crypto::Ed25519PrivateKey::FromSeed(seed);
    if (!loaded.ok()) {
      return DataLossError("artifact server signing key: stored seed is unusable (" +
                           loaded.status().message() + "); restore the artifacts keyspace");
    }
    server_key.emplace(std::move(*loaded));
  } else {
    server_key.emplace(crypto::Ed25519PrivateKey::Generate());
    crypto::SecretBytes seed = server_key->Seed();
    CUSTOS_RETURN_IF_ERROR(keyspace.Put(kServerKeyRecord, common::AsChars(seed.span())));
  }

  std::map<std::string, SignerRecord, std::less<>> records;
  CUSTOS_RETURN_IF_ERROR(keyspace.ScanPrefix(
      kSignerRecordPrefix, [&](std::string_view key, std::string_view plaintext) -> Status {
        CUSTOS_ASSIGN_OR_RETURN(SignerRecord record, DecodeRecord(key, plaintext));
        records.emplace(record.key_id, std::move(record));
        return Status::Ok();
      }));
  std::unique_ptr<ArtifactSigners> signers(
      new ArtifactSigners(std::move(keyspace), audit, clock, std::move(*server_key)));
  signers->records_ = std::move(records);
  return signers;
}

ArtifactSignature ArtifactSigners::SignAsServer(const ArtifactStatement& statement) const {
  return SignStatement(statement, std::string(kServerSigner), server_key_);
}

Status ArtifactSigners::Audit(std::string_view action, const std::string& by,
                              const std::string& key_id, const std::string& signer,
                              const Status& refusal) {
  audit::AuditEvent event;
  event.time = clock_.Now();
  event.principal_id = by;
  event.action = std::string(action);
  event.resources.push_back({std::string(kResourceType), key_id, 0});
  if (refusal.ok()) {
    event.decision = audit::Decision::kAllow;
    event.outcome = audit::Outcome::kOk;
    event.outcome_detail = "signer=" + signer;
  } else {
    event.decision = audit::Decision::kDeny;
    event.outcome = audit::Outcome::kDenied;
    event.outcome_detail = refusal.ToString().substr(0, audit::kMaxEventString);
  }
  auto appended = audit_.Append(event);
  if (!appended.ok()) {
    return appended.status().WithContext(
        refusal.ok() ? "cannot audit the change, so it was not made" : "cannot audit a refusal");
  }
  return Status::Ok();
}

Result<SignerRecord> ArtifactSigners::Register(const std::string& signer,
                                               const crypto::Ed25519PublicKey& key,
                                               const std::string& by) {
  const std::string key_id = KeyIdOf(key);
  auto refuse = [&](Status status) -> Status {
    CUSTOS_RETURN_IF_ERROR(Audit("artifact.signer.register", by, key_id, signer, status));
    return status;
  };
  if (by.empty()) {
    return InvalidArgumentError("register artifact signer: the acting principal is empty");
  }
  if (Status s = CheckSignerName(signer); !s.ok()) return refuse(s);
  std::lock_guard lock(mu_);
  if (key_id == KeyIdOf(server_key_.public_key())) {
    return refuse(AlreadyExistsError("key " + key_id +
                                     " is the server's own signing key; register another key"));
  }
  if (auto it = records_.find(key_id); it != records_.end()) {
    return refuse(AlreadyExistsError(
        "key " + key_id + " is already registered to " + it->second.signer +
        (it->second.revoked ? " and was revoked; a revoked key cannot be registered again, "
                              "generate a new key pair"
                            : "; a key belongs to one signer")));
  }
  SignerRecord record;
  record.signer = signer;
  record.key_id = key_id;
  record.key = key;
  record.registered = clock_.Now();
  // Fail closed: the key is registered only once its event is in the log.
  CUSTOS_RETURN_IF_ERROR(Audit("artifact.signer.register", by, key_id, signer, Status::Ok()));
  CUSTOS_RETURN_IF_ERROR(keyspace_.Put(RecordKey(key_id), EncodeRecord(record)));
  records_[key_id] = record;
  return record;
}

Status ArtifactSigners::Revoke(const std::string& key_id, const std::string& by) {
  std::string signer;
  auto refuse = [&](Status status) -> Status {
    CUSTOS_RETURN_IF_ERROR(Audit("artifact.signer.revoke", by, key_id, signer, status));
    return status;
  };
  if (by.empty()) {
    return InvalidArgumentError("revoke artifact signer: the acting principal is empty");
  }
  std::lock_guard lock(mu_);
  if (key_id == KeyIdOf(server_key_.public_key())) {
    return refuse(FailedPreconditionError(
        "key " + key_id + " is the server's own signing key; it cannot be revoked here"));
  }
  auto it = records_.find(key_id);
  if (it == records_.end()) {
    return refuse(NotFoundError("key id '" + key_id.substr(0, 64) +
                                "' is not registered; list the signers to find the key id"));
  }
  signer = it->second.signer;
  if (it->second.revoked) {
    return refuse(FailedPreconditionError("key " + key_id + " of " + signer +
                                          " is already revoked (at " +
                                          common::FormatRfc3339(*it->second.revoked) + ")"));
  }
  SignerRecord record = it->second;
  record.revoked = clock_.Now();
  CUSTOS_RETURN_IF_ERROR(Audit("artifact.signer.revoke", by, key_id, signer, Status::Ok()));
  CUSTOS_RETURN_IF_ERROR(keyspace_.Put(RecordKey(key_id), EncodeRecord(record)));
  it->second = std::move(record);
  return Status::Ok();
}

Result<std::vector<SignerRecord>> ArtifactSigners::List() const {
  std::vector<SignerRecord> out;
  CUSTOS_RETURN_IF_ERROR(keyspace_.ScanPrefix(
      kSignerRecordPrefix, [&](std::string_view key, std::string_view plaintext) -> Status {
        CUSTOS_ASSIGN_OR_RETURN(SignerRecord record, DecodeRecord(key, plaintext));
        out.push_back(std::move(record));
        return Status::Ok();
      }));
  return out;
}

Status ArtifactSigners::CheckSignature(const ArtifactStatement& statement,
                                       const ArtifactSignature& signature) const {
  CUSTOS_RETURN_IF_ERROR(ValidateStatement(statement));
  const std::string what = "signature by '" + signature.signer.substr(0, kMaxSignerBytes) +
                           "' (key " + signature.key_id.substr(0, 64) + ")";
  TrustedKey trusted;
  trusted.signer = signature.signer;
  trusted.key_id = signature.key_id;
  if (signature.signer == kServerSigner) {
    if (signature.key_id != KeyIdOf(server_key_.public_key())) {
      return PermissionDeniedError(what + ": not the server's signing key");
    }
    trusted.key = server_key_.public_key();
  } else {
    // The stored record, not the cache, so a revocation made through another instance
    // over the same store counts at once.
    CUSTOS_ASSIGN_OR_RETURN(std::optional<std::string> stored,
                            keyspace_.Get(RecordKey(signature.key_id)));
    if (!stored) {
      return PermissionDeniedError(what +
                                   ": the key is not registered; register its public key for "
                                   "the signer first");
    }
    CUSTOS_ASSIGN_OR_RETURN(SignerRecord record,
                            DecodeRecord(RecordKey(signature.key_id), *stored));
    if (record.signer != signature.signer) {
      return PermissionDeniedError(what + ": the key is registered to " + record.signer +
                                   ", not to this signer");
    }
    if (record.revoked) {
      return PermissionDeniedError(what + ": the key was revoked at " +
                                   common::FormatRfc3339(*record.revoked) +
                                   "; sign with a registered, unrevoked key");
    }
    trusted.key = record.key;
  }
  if (!VerifySignature(statement, signature, {trusted})) {
    return PermissionDeniedError(what + ": does not verify over the canonical statement of " +
                                 FormatArtifactRef({statement.name, statement.version}) +
                                 "; sign exactly the statement's canonical text with this key");
  }
  return Status::Ok();
}

std::vector<TrustedKey> ArtifactSigners::TrustedKeys() const {
  std::vector<TrustedKey> out;
  out.push_back(
      {std::string(kServerSigner), KeyIdOf(server_key_.public_key()), server_key_.public_key()});
  std::lock_guard lock(mu_);
  for (const auto& [key_id, record] : records_) {
    if (!record.revoked) out.push_back({record.signer, record.key_id, record.key});
  }
  return out;
}

}  // namespace custos::artifacts
