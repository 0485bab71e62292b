// Keys, sealed encodings and the API JSON of the vault's records (see version_record.h).
#include "artifacts/version_record.h"

#include <algorithm>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <utility>

#include "common/bytes.h"
#include "common/key_encoding.h"

namespace custos::artifacts {
namespace {

using nlohmann::json;

// A storage key as readable text: printable ASCII as is, other bytes as \xNN.
std::string PrintableKey(std::string_view key) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (char c : key) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte < 0x7f && byte != '\\') {
      out += c;
    } else {
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 15];
    }
  }
  return out;
}

// Reads the members of one stored JSON object strictly, naming the key and member of the
// first problem (DataLoss: a stored record that does not read back is corruption).
class Reader {
 public:
  Reader(std::string_view key, const json& object, std::string path)
      : key_(key), object_(object), path_(std::move(path)) {}

  Status Members(std::initializer_list<std::string_view> allowed) const {
    if (!object_.is_object()) return Bad("", "is not a JSON object");
    for (const auto& [member, value] : object_.items()) {
      if (std::find(allowed.begin(), allowed.end(), member) == allowed.end()) {
        return Bad(member, "is not a known member");
      }
    }
    return Status::Ok();
  }
  Result<std::string> String(std::string_view member) const {
    CUSTOS_ASSIGN_OR_RETURN(const json* value, Find(member));
    if (!value->is_string()) return Bad(member, "must be a string");
    return value->get<std::string>();
  }
  Result<uint64_t> Uint(std::string_view member) const {
    CUSTOS_ASSIGN_OR_RETURN(const json* value, Find(member));
    if (!value->is_number_unsigned()) return Bad(member, "must be an unsigned integer");
    return value->get<uint64_t>();
  }
  Result<int64_t> Int(std::string_view member) const {
    CUSTOS_ASSIGN_OR_RETURN(const json* value, Find(member));
    if (!value->is_number_integer()) return Bad(member, "must be an integer");
    return value->get<int64_t>();
  }
  Result<common::TimePoint> Time(std::string_view member) const {
    CUSTOS_ASSIGN_OR_RETURN(int64_t micros, Int(member));
    return common::FromUnixMicros(micros);
  }
  Result<std::optional<common::TimePoint>> OptionalTime(std::string_view member) const {
    CUSTOS_ASSIGN_OR_RETURN(const json* value, Find(member));
    if (value->is_null()) return std::optional<common::TimePoint>();
    CUSTOS_ASSIGN_OR_RETURN(common::TimePoint t, Time(member));
    return std::optional<common::TimePoint>(t);
  }
  Result<crypto::Digest> Digest(std::string_view member) const {
    CUSTOS_ASSIGN_OR_RETURN(std::string hex, String(member));
    auto bytes = common::HexDecode(hex);
    if (!bytes.ok() || bytes->size() != 32) return Bad(member, "must be 64 hex digits");
    crypto::Digest digest{};
    std::copy(bytes->begin(), bytes->end(), digest.begin());
    return digest;
  }
  Result<ArtifactKind> Kind(std::string_view member) const {
    CUSTOS_ASSIGN_OR_RETURN(std::string text, String(member));
    auto kind = ParseArtifactKind(text);
    if (!kind.ok()) return Bad(member, "must be model or dataset");
    return *kind;
  }
  Result<const json*> Find(std::string_view member) const {
    auto it = object_.find(std::string(member));
    if (it == object_.end()) return Bad(member, "is missing");
    return &*it;
  }
  Status Bad(std::string_view member, std::string_view problem) const {
    std::string where = path_;
    if (!member.empty()) where += (where.empty() ? "" : ".") + std::string(member);
    return DataLossError("artifact metadata record '" + PrintableKey(key_) +
                         "' is corrupt: " + (where.empty() ? "record" : where) + " " +
                         std::string(problem) + "; restore the artifacts keyspace from a backup");
  }
  Reader Sub(const json& object, std::string_view member) const {
    return Reader(key_, object,
                  path_.empty() ? std::string(member) : path_ + "." + std::string(member));
  }

 private:
  std::string_view key_;
  const json& object_;
  std::string path_;
};

Result<json> ParseStored(std::string_view key, std::string_view bytes, std::string_view format) {
  json doc = json::parse(bytes, nullptr, /*allow_exceptions=*/false);
  Reader reader(key, doc, "");
  if (doc.is_discarded()) return reader.Bad("", "is not valid JSON");
  if (!doc.is_object()) return reader.Bad("", "is not a JSON object");
  CUSTOS_ASSIGN_OR_RETURN(std::string found, reader.String("format"));
  if (found != format) return reader.Bad("format", "is not " + std::string(format));
  return doc;
}

json BlobToJson(const BlobInfo& blob) {
  return json{{"id", blob.blob_id},
              {"size", blob.size},
              {"chunk_size", blob.chunk_size},
              {"chunks", blob.chunks},
              {"sha256", common::HexEncode(blob.sha256)}};
}

Result<BlobInfo> BlobFromJson(const Reader& parent, const json& object) {
  Reader r = parent.Sub(object, "blob");
  CUSTOS_RETURN_IF_ERROR(r.Members({"id", "size", "chunk_size", "chunks", "sha256"}));
  BlobInfo blob;
  CUSTOS_ASSIGN_OR_RETURN(blob.blob_id, r.String("id"));
  CUSTOS_ASSIGN_OR_RETURN(blob.size, r.Uint("size"));
  CUSTOS_ASSIGN_OR_RETURN(uint64_t chunk_size, r.Uint("chunk_size"));
  if (chunk_size > UINT32_MAX) return r.Bad("chunk_size", "is out of range");
  blob.chunk_size = static_cast<uint32_t>(chunk_size);
  CUSTOS_ASSIGN_OR_RETURN(blob.chunks, r.Uint("chunks"));
  CUSTOS_ASSIGN_OR_RETURN(blob.sha256, r.Digest("sha256"));
  return blob;
}

json OptionalMicros(const std::optional<common::TimePoint>& t) {
  return t ? json(common::ToUnixMicros(*t)) : json(nullptr);
}

Result<ArtifactRef> ReadRefParts(common::KeyReader& reader, std::string_view key) {
  auto name = reader.ReadString();
  auto version = name.ok() ? reader.ReadUint64() : Result<uint64_t>(name.status());
  if (!name.ok() || !version.ok() || !reader.Done()) {
    return DataLossError("artifact metadata key '" + PrintableKey(key) +
                         "' is malformed; restore the artifacts keyspace from a backup");
  }
  return ArtifactRef{std::move(*name), *version};
}

}  // namespace

std::string_view VersionStateName(VersionState state) {
  return state == VersionState::kShredded ? "shredded" : "active";
}

ArtifactStatement ArtifactVersion::statement() const {
  return ArtifactStatement{name, version, kind, blob.sha256, blob.size, media_type};
}

Environment ArtifactVersion::highest_environment() const {
  return environments.empty() ? Environment::kDev : *environments.rbegin();
}

bool InEnvironment(const ArtifactVersion& version, Environment env) {
  return version.state == VersionState::kActive && version.environments.contains(env);
}

std::string VersionPrefix(std::string_view name) {
  return std::string(kVersionKeyPrefix) + common::KeyBuilder().AddString(name).Release();
}

std::string VersionKey(std::string_view name, uint64_t version) {
  return VersionPrefix(name) + common::KeyBuilder().AddUint64(version).Release();
}

Result<ArtifactRef> ParseVersionKey(std::string_view key) {
  if (!key.starts_with(kVersionKeyPrefix)) {
    return DataLossError("'" + PrintableKey(key) + "' is not an artifact version key");
  }
  common::KeyReader reader(key.substr(kVersionKeyPrefix.size()));
  return ReadRefParts(reader, key);
}

std::string DigestPrefix(const crypto::Digest& sha256) {
  return std::string(kDigestKeyPrefix) +
         common::KeyBuilder().AddString(common::HexEncode(sha256)).Release();
}

std::string DigestKey(const crypto::Digest& sha256, std::string_view name, uint64_t version) {
  return DigestPrefix(sha256) + common::KeyBuilder().AddString(name).AddUint64(version).Release();
}

Result<ArtifactRef> ParseDigestKey(std::string_view key) {
  if (!key.starts_with(kDigestKeyPrefix)) {
    return DataLossError("'" + PrintableKey(key) + "' is not an artifact digest key");
  }
  common::KeyReader reader(key.substr(kDigestKeyPrefix.size()));
  auto digest = reader.ReadString();
  if (!digest.ok()) {
    return DataLossError("artifact digest key '" + PrintableKey(key) +
                         "' is malformed; restore the artifacts keyspace from a backup");
  }
  return ReadRefParts(reader, key);
}

std::string UploadKey(std::string_view upload_id) {
  return std::string(kUploadKeyPrefix) + std::string(upload_id);
}

namespace {

// The list-valued members, in the same form in the stored record and the API answer.
json EnvironmentsJson(const ArtifactVersion& v) {
  json environments = json::array();
  for (Environment env : v.environments) environments.push_back(EnvironmentName(env));
  return environments;
}
json SignaturesJson(const ArtifactVersion& v) {
  json signatures = json::array();
  for (const ArtifactSignature& s : v.signatures) {
    signatures.push_back(json{{"signer", s.signer},
                              {"key_id", s.key_id},
                              {"signature", common::Base64UrlEncode(s.signature)}});
  }
  return signatures;
}
json LabelsJson(const ArtifactVersion& v) {
  json labels = json::object();
  for (const auto& [key, value] : v.labels) labels[key] = value;
  return labels;
}

}  // namespace

std::string EncodeVersion(const ArtifactVersion& v) {
  json doc{{"format", kVersionRecordFormat},
           {"name", v.name},
           {"version", v.version},
           {"kind", ArtifactKindName(v.kind)},
           {"media_type", v.media_type},
           {"blob", BlobToJson(v.blob)},
           {"created", common::ToUnixMicros(v.created)},
           {"created_by", v.created_by},
           {"environments", EnvironmentsJson(v)},
           {"state", VersionStateName(v.state)},
           {"shredded_at", OptionalMicros(v.shredded_at)},
           {"shred_reason", v.shred_reason},
           {"retention_until", OptionalMicros(v.retention_until)},
           {"labels", LabelsJson(v)},
           {"description", v.description},
           {"signatures", SignaturesJson(v)},
           {"lineage_node", v.lineage_node},
           {"audit_index", v.audit_index}};
  // The vault refuses text that is not UTF-8 at commit; replace keeps this total anyway.
  return doc.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<ArtifactVersion> DecodeVersion(std::string_view key, std::string_view bytes) {
  CUSTOS_ASSIGN_OR_RETURN(json doc, ParseStored(key, bytes, kVersionRecordFormat));
  Reader r(key, doc, "");
  CUSTOS_RETURN_IF_ERROR(
      r.Members({"format", "name", "version", "kind", "media_type", "blob", "created", "created_by",
                 "environments", "state", "shredded_at", "shred_reason", "retention_until",
                 "labels", "description", "signatures", "lineage_node", "audit_index"}));
  ArtifactVersion v;
  CUSTOS_ASSIGN_OR_RETURN(v.name, r.String("name"));
  CUSTOS_ASSIGN_OR_RETURN(v.version, r.Uint("version"));
  CUSTOS_ASSIGN_OR_RETURN(v.kind, r.Kind("kind"));
  CUSTOS_ASSIGN_OR_RETURN(v.media_type, r.String("media_type"));
  CUSTOS_ASSIGN_OR_RETURN(const json* blob, r.Find("blob"));
  CUSTOS_ASSIGN_OR_RETURN(v.blob, BlobFromJson(r, *blob));
  CUSTOS_ASSIGN_OR_RETURN(v.created, r.Time("created"));
  CUSTOS_ASSIGN_OR_RETURN(v.created_by, r.String("created_by"));
  CUSTOS_ASSIGN_OR_RETURN(const json* environments, r.Find("environments"));
  if (!environments->is_array()) return r.Bad("environments", "must be an array");
  for (const json& env : *environments) {
    auto parsed = env.is_string() ? ParseEnvironment(env.get<std::string>())
                                  : Result<Environment>(InvalidArgumentError("not a string"));
    if (!parsed.ok()) return r.Bad("environments", "holds an unknown environment");
    v.environments.insert(*parsed);
  }
  CUSTOS_ASSIGN_OR_RETURN(std::string state, r.String("state"));
  if (state == "active") {
    v.state = VersionState::kActive;
  } else if (state == "shredded") {
    v.state = VersionState::kShredded;
  } else {
    return r.Bad("state", "must be active or shredded");
  }
  CUSTOS_ASSIGN_OR_RETURN(v.shredded_at, r.OptionalTime("shredded_at"));
  CUSTOS_ASSIGN_OR_RETURN(v.shred_reason, r.String("shred_reason"));
  CUSTOS_ASSIGN_OR_RETURN(v.retention_until, r.OptionalTime("retention_until"));
  CUSTOS_ASSIGN_OR_RETURN(const json* labels, r.Find("labels"));
  if (!labels->is_object()) return r.Bad("labels", "must be an object");
  for (const auto& [label, value] : labels->items()) {
    if (!value.is_string()) return r.Bad("labels." + label, "must be a string");
    v.labels[label] = value.get<std::string>();
  }
  CUSTOS_ASSIGN_OR_RETURN(v.description, r.String("description"));
  CUSTOS_ASSIGN_OR_RETURN(const json* signatures, r.Find("signatures"));
  if (!signatures->is_array()) return r.Bad("signatures", "must be an array");
  for (size_t i = 0; i < signatures->size(); ++i) {
    const std::string member = "signatures[" + std::to_string(i) + "]";
    Reader s = r.Sub((*signatures)[i], member);
    CUSTOS_RETURN_IF_ERROR(s.Members({"signer", "key_id", "signature"}));
    ArtifactSignature signature;
    CUSTOS_ASSIGN_OR_RETURN(signature.signer, s.String("signer"));
    CUSTOS_ASSIGN_OR_RETURN(signature.key_id, s.String("key_id"));
    CUSTOS_ASSIGN_OR_RETURN(std::string text, s.String("signature"));
    auto bytes = common::Base64UrlDecode(text);
    if (!bytes.ok() || bytes->size() != signature.signature.size()) {
      return s.Bad("signature", "must be 64 bytes in base64url");
    }
    std::copy(bytes->begin(), bytes->end(), signature.signature.begin());
    v.signatures.push_back(std::move(signature));
  }
  CUSTOS_ASSIGN_OR_RETURN(v.lineage_node, r.String("lineage_node"));
  CUSTOS_ASSIGN_OR_RETURN(v.audit_index, r.Uint("audit_index"));
  // The record must be the one its key names.
  CUSTOS_ASSIGN_OR_RETURN(ArtifactRef ref, ParseVersionKey(key));
  if (ref.name != v.name || ref.version != v.version) {
    return r.Bad("name", "does not match the key (" + FormatArtifactRef(v.ref()) + ")");
  }
  return v;
}

std::string EncodePendingUpload(const PendingUpload& u) {
  json doc{{"format", kUploadRecordFormat},
           {"upload_id", u.upload_id},
           {"name", u.name},
           {"kind", ArtifactKindName(u.kind)},
           {"media_type", u.media_type},
           {"created_by", u.created_by},
           {"created", common::ToUnixMicros(u.created)},
           {"blob", u.blob ? BlobToJson(*u.blob) : json(nullptr)}};
  return doc.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<PendingUpload> DecodePendingUpload(std::string_view key, std::string_view bytes) {
  CUSTOS_ASSIGN_OR_RETURN(json doc, ParseStored(key, bytes, kUploadRecordFormat));
  Reader r(key, doc, "");
  CUSTOS_RETURN_IF_ERROR(r.Members(
      {"format", "upload_id", "name", "kind", "media_type", "created_by", "created", "blob"}));
  PendingUpload u;
  CUSTOS_ASSIGN_OR_RETURN(u.upload_id, r.String("upload_id"));
  CUSTOS_ASSIGN_OR_RETURN(u.name, r.String("name"));
  CUSTOS_ASSIGN_OR_RETURN(u.kind, r.Kind("kind"));
  CUSTOS_ASSIGN_OR_RETURN(u.media_type, r.String("media_type"));
  CUSTOS_ASSIGN_OR_RETURN(u.created_by, r.String("created_by"));
  CUSTOS_ASSIGN_OR_RETURN(u.created, r.Time("created"));
  CUSTOS_ASSIGN_OR_RETURN(const json* blob, r.Find("blob"));
  if (!blob->is_null()) {
    CUSTOS_ASSIGN_OR_RETURN(BlobInfo info, BlobFromJson(r, *blob));
    u.blob = std::move(info);
  }
  if (UploadKey(u.upload_id) != key) return r.Bad("upload_id", "does not match the key");
  return u;
}

std::string ArtifactVersionToJson(const ArtifactVersion& v) {
  json doc{{"ref", FormatArtifactRef(v.ref())},
           {"name", v.name},
           {"version", v.version},
           {"kind", ArtifactKindName(v.kind)},
           {"media_type", v.media_type},
           {"size", v.blob.size},
           {"sha256", common::HexEncode(v.blob.sha256)},
           {"chunk_size", v.blob.chunk_size},
           {"chunks", v.blob.chunks},
           {"created", common::FormatRfc3339(v.created)},
           {"created_by", v.created_by},
           {"environments", EnvironmentsJson(v)},
           {"state", VersionStateName(v.state)},
           {"labels", LabelsJson(v)},
           {"description", v.description},
           {"signatures", SignaturesJson(v)},
           {"audit_index", v.audit_index}};
  if (v.shredded_at) {
    doc["shredded_at"] = common::FormatRfc3339(*v.shredded_at);
    doc["shred_reason"] = v.shred_reason;
  }
  if (v.retention_until) doc["retention_until"] = common::FormatRfc3339(*v.retention_until);
  if (!v.lineage_node.empty()) doc["lineage_node"] = v.lineage_node;
  // Labels and descriptions are user text: never let bad UTF-8 make the answer throw.
  return doc.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace custos::artifacts
