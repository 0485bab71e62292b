// The vault's metadata records: one artifact version (ArtifactVersion), a pending upload
// (PendingUpload), their storage keys and their sealed encodings, and the JSON form the
// API answers with.
//
// Keys (in the `artifacts` keyspace, order-preserving, common/key_encoding.h; names and
// digests are in the clear so ranges can be scanned, as the catalog's keys hold names):
//   "vault:v|" name:string version:u64     -> ArtifactVersion   (versions of a name, in order)
//   "vault:d|" sha256-hex:string name:string version:u64 -> ""  (content-address index)
//   "vault:u|" upload_id                   -> PendingUpload     (upload begun, no version yet)
// Values are sealed by the vault (storage::EncryptedKeyspace, owner "artifacts:meta").
//
// Value encoding: compact JSON objects with a "format" member,
// "custos-artifact-version/v1" or "custos-artifact-upload/v1"; times are integer Unix
// microseconds, digests lowercase hex, signatures base64url without padding. Decoding is
// strict (every member present with its type, no unknown members) and answers DataLoss
// naming the storage key and the member when a record is malformed.
// Thread-safety: plain values and free functions; safe from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "artifacts/blob_store.h"
#include "artifacts/environment.h"
#include "artifacts/signature_bundle.h"
#include "artifacts/statement.h"
#include "common/clock.h"
#include "common/status.h"
#include "crypto/hash.h"

namespace custos::artifacts {

inline constexpr std::string_view kVersionRecordFormat = "custos-artifact-version/v1";
inline constexpr std::string_view kUploadRecordFormat = "custos-artifact-upload/v1";
inline constexpr std::string_view kVersionKeyPrefix = "vault:v|";
inline constexpr std::string_view kDigestKeyPrefix = "vault:d|";
inline constexpr std::string_view kUploadKeyPrefix = "vault:u|";

enum class VersionState : uint8_t { kActive = 0, kShredded = 1 };
std::string_view VersionStateName(VersionState state);  // "active" | "shredded"

// One committed version of a named artifact. A shredded version is a tombstone: its bytes
// are unreadable (DEK destroyed) but everything here, digest included, is kept so that
// lineage and audit records naming it still resolve.
struct ArtifactVersion {
  std::string name;
  uint64_t version = 0;  // 1, 2, 3, ... per name
  ArtifactKind kind = ArtifactKind::kModel;
  std::string media_type;
  BlobInfo blob;  // blob id, size, chunking and SHA-256 of the bytes
  common::TimePoint created{};
  std::string created_by;  // principal uid text, e.g. User::"dana"
  // Every environment the version was promoted into (dev from the start).
  std::set<Environment> environments;
  VersionState state = VersionState::kActive;
  std::optional<common::TimePoint> shredded_at;
  std::string shred_reason;  // e.g. "retention"
  std::optional<common::TimePoint> retention_until;
  std::map<std::string, std::string> labels;
  std::string description;
  // The server's signature first, then the client's, if one was given.
  std::vector<ArtifactSignature> signatures;
  std::string lineage_node;  // e.g. "model:fraud/scorer@3"; empty without lineage
  uint64_t audit_index = 0;  // of its artifact.version.commit event

  ArtifactRef ref() const { return ArtifactRef{name, version}; }
  // What the version's signatures cover.
  ArtifactStatement statement() const;
  // The environment furthest along that the version reached.
  Environment highest_environment() const;
  friend bool operator==(const ArtifactVersion&, const ArtifactVersion&) = default;
};

// True when the version is active and was promoted into `env` (or further: a version in
// prod was in staging and dev before and stays readable there).
bool InEnvironment(const ArtifactVersion& version, Environment env);

// An upload begun through the vault: what the version will be called and who began it.
// `blob` is set once the upload is finished (by StatementFor or Commit).
struct PendingUpload {
  std::string upload_id;  // == the blob id
  std::string name;
  ArtifactKind kind = ArtifactKind::kModel;
  std::string media_type;
  std::string created_by;
  common::TimePoint created{};
  std::optional<BlobInfo> blob;
  friend bool operator==(const PendingUpload&, const PendingUpload&) = default;
};

std::string VersionKey(std::string_view name, uint64_t version);
// Every version key of `name` starts with this.
std::string VersionPrefix(std::string_view name);
// DataLoss naming the key when it is not a version key (ParseDigestKey likewise).
Result<ArtifactRef> ParseVersionKey(std::string_view key);
std::string DigestKey(const crypto::Digest& sha256, std::string_view name, uint64_t version);
std::string DigestPrefix(const crypto::Digest& sha256);
Result<ArtifactRef> ParseDigestKey(std::string_view key);
std::string UploadKey(std::string_view upload_id);

std::string EncodeVersion(const ArtifactVersion& version);
// DataLoss naming `key` and the member when `bytes` is not a valid version record.
Result<ArtifactVersion> DecodeVersion(std::string_view key, std::string_view bytes);
std::string EncodePendingUpload(const PendingUpload& upload);
Result<PendingUpload> DecodePendingUpload(std::string_view key, std::string_view bytes);

// The API form: {"ref":"fraud/scorer@3","name","version","kind","media_type","size",
// "sha256":"<hex>","chunk_size","chunks","created":"<RFC 3339>","created_by",
// "environments":["dev",..],"state","shredded_at"?,"shred_reason"?,"retention_until"?,
// "labels":{..},"description","signatures":[{"signer","key_id","signature"}],
// "lineage_node"?,"audit_index"}. The blob id is internal and left out.
std::string ArtifactVersionToJson(const ArtifactVersion& version);

}  // namespace custos::artifacts
