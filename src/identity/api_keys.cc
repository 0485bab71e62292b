// API keys (see api_keys.h): the text format, peppered MACs, sealed records, and the
// audited authentication that the token exchange calls.
#include "identity/api_keys.h"

#include <algorithm>

#include "common/binary_io.h"
#include "common/bytes.h"
#include "common/ids.h"
#include "common/key_encoding.h"
#include "crypto/hash.h"
#include "crypto/random.h"

namespace custos::identity {
namespace {

constexpr uint8_t kRecordVersion = 1;
constexpr size_t kPepperBytes = 32;
// Domain separation: this MAC is an API key's, for this format version only.
constexpr std::string_view kMacDomain = "custos api key v1";

std::string RecordKey(std::string_view key_id) {
  return common::KeyBuilder().AddString("api_key").AddString(key_id).Release();
}
std::string LastUsedKey(std::string_view key_id) {
  return common::KeyBuilder().AddString("api_key_used").AddString(key_id).Release();
}
std::string PepperKey() { return common::KeyBuilder().AddString("api_key_pepper").Release(); }

audit::ResourceRef Ref(const PrincipalId& id) { return id.ToAuditRef(); }

}  // namespace

struct ApiKeys::Record {
  PrincipalId principal;
  std::string description;
  common::TimePoint created;
  common::TimePoint expires;
  bool revoked = false;
  common::TimePoint revoked_at;
  crypto::Digest mac{};

  std::string Encode() const {
    common::ByteWriter w;
    w.U8(kRecordVersion).U8(static_cast<uint8_t>(principal.type)).Str(principal.id);
    w.Str(description).I64(common::ToUnixMicros(created)).I64(common::ToUnixMicros(expires));
    w.U8(revoked ? 1 : 0).I64(common::ToUnixMicros(revoked_at));
    w.Blob(mac);
    return w.Release();
  }

  static Result<Record> Decode(std::string_view data, std::string_view key_id) {
    const std::string what = "API key record " + std::string(key_id);
    common::ByteReader r(data, what);
    CUSTOS_ASSIGN_OR_RETURN(uint8_t version, r.U8());
    if (version != kRecordVersion) {
      return DataLossError(what + ": unknown record version " + std::to_string(version));
    }
    Record rec;
    CUSTOS_ASSIGN_OR_RETURN(uint8_t type, r.U8());
    CUSTOS_ASSIGN_OR_RETURN(std::string_view id, r.Str());
    if (type > static_cast<uint8_t>(PrincipalType::kGroup)) {
      return DataLossError(what + ": unknown principal type " + std::to_string(type));
    }
    rec.principal = {static_cast<PrincipalType>(type), std::string(id)};
    CUSTOS_ASSIGN_OR_RETURN(std::string_view description, r.Str());
    rec.description = std::string(description);
    CUSTOS_ASSIGN_OR_RETURN(int64_t created, r.I64());
    CUSTOS_ASSIGN_OR_RETURN(int64_t expires, r.I64());
    CUSTOS_ASSIGN_OR_RETURN(uint8_t revoked, r.U8());
    CUSTOS_ASSIGN_OR_RETURN(int64_t revoked_at, r.I64());
    CUSTOS_ASSIGN_OR_RETURN(std::string_view mac, r.Str());
    CUSTOS_RETURN_IF_ERROR(r.ExpectEnd());
    if (mac.size() != rec.mac.size()) {
      return DataLossError(what + ": MAC has " + std::to_string(mac.size()) + " bytes, not 32");
    }
    std::copy(mac.begin(), mac.end(), rec.mac.begin());
    rec.created = common::FromUnixMicros(created);
    rec.expires = common::FromUnixMicros(expires);
    rec.revoked = revoked != 0;
    rec.revoked_at = common::FromUnixMicros(revoked_at);
    return rec;
  }
};

Result<std::unique_ptr<ApiKeys>> ApiKeys::Open(storage::Kv& kv, crypto::Keyring& keyring,
                                               const Directory& directory, IdentityAuditor& auditor,
                                               ApiKeyOptions options) {
  if (options.default_ttl <= std::chrono::seconds(0) || options.max_ttl < options.default_ttl) {
    return InvalidArgumentError(
        "API key options: default_ttl must be positive and not above max_ttl");
  }
  CUSTOS_ASSIGN_OR_RETURN(
      auto space, storage::EncryptedKeyspace::Open(kv, storage::Keyspace::kIdentity, keyring,
                                                   options.key_owner));
  // The pepper is sealed like the audit signing seed (audit/log_signer.cc): it exists in
  // clear only in memory, in a zeroizing buffer.
  crypto::SecretBytes pepper;
  CUSTOS_ASSIGN_OR_RETURN(auto stored, space.Get(PepperKey()));
  if (stored) {
    if (stored->size() != kPepperBytes) {
      crypto::ZeroizeString(*stored);
      return DataLossError(
          "the API key pepper record has the wrong size; restore the identity "
          "keyspace from a backup");
    }
    pepper = crypto::SecretBytes::CopyOf(common::AsBytes(*stored));
    crypto::ZeroizeString(*stored);
  } else {
    pepper = crypto::SecretBytes::Random(kPepperBytes);
    CUSTOS_RETURN_IF_ERROR(space.Put(PepperKey(), common::AsChars(pepper.span())));
  }
  return std::unique_ptr<ApiKeys>(
      new ApiKeys(kv, std::move(space), directory, auditor, std::move(options), std::move(pepper)));
}

crypto::Digest ApiKeys::Mac(std::string_view key_id, const crypto::SecretBytes& secret) const {
  // domain | 0 | key id | 0 | secret: binding the id means a record's MAC cannot vouch
  // for a secret presented under another key id.
  common::Bytes message;
  message.reserve(kMacDomain.size() + key_id.size() + secret.size() + 2);
  message.insert(message.end(), kMacDomain.begin(), kMacDomain.end());
  message.push_back(0);
  message.insert(message.end(), key_id.begin(), key_id.end());
  message.push_back(0);
  message.insert(message.end(), secret.span().begin(), secret.span().end());
  crypto::Digest mac = crypto::HmacSha256(pepper_.span(), message);
  crypto::Zeroize(message);
  return mac;
}

Result<std::optional<ApiKeys::Record>> ApiKeys::Load(std::string_view key_id) {
  CUSTOS_ASSIGN_OR_RETURN(auto stored, space_.Get(RecordKey(key_id)));
  if (!stored) return std::optional<Record>();
  CUSTOS_ASSIGN_OR_RETURN(Record rec, Record::Decode(*stored, key_id));
  return std::optional<Record>(std::move(rec));
}

Result<ApiKeyInfo> ApiKeys::ToInfo(std::string_view key_id, const Record& rec) {
  ApiKeyInfo info;
  info.key_id = std::string(key_id);
  info.principal = rec.principal;
  info.description = rec.description;
  info.created = rec.created;
  info.expires = rec.expires;
  info.revoked = rec.revoked;
  if (rec.revoked) info.revoked_at = rec.revoked_at;
  CUSTOS_ASSIGN_OR_RETURN(auto used, space_.Get(LastUsedKey(key_id)));
  if (used) {
    common::ByteReader r(*used, "API key last-use record " + std::string(key_id));
    CUSTOS_ASSIGN_OR_RETURN(int64_t micros, r.I64());
    CUSTOS_RETURN_IF_ERROR(r.ExpectEnd());
    info.last_used = common::FromUnixMicros(micros);
  }
  return info;
}

Result<NewApiKey> ApiKeys::Create(const Caller& caller, const PrincipalId& principal,
                                  std::string_view description,
                                  std::optional<std::chrono::seconds> ttl) {
  const std::chrono::seconds lifetime = ttl.value_or(options_.default_ttl);
  if (lifetime <= std::chrono::seconds(0)) {
    return InvalidArgumentError("API key lifetime must be positive, got " +
                                std::to_string(lifetime.count()) + " s");
  }
  if (lifetime > options_.max_ttl) {
    return InvalidArgumentError(
        "API key lifetime of " + std::to_string(lifetime.count()) + " s exceeds the maximum of " +
        std::to_string(options_.max_ttl.count()) + " s; ask for a shorter one");
  }
  if (description.size() > options_.max_description_bytes) {
    return InvalidArgumentError("API key description has " + std::to_string(description.size()) +
                                " bytes; the limit is " +
                                std::to_string(options_.max_description_bytes));
  }
  if (principal.type == PrincipalType::kGroup) {
    return InvalidArgumentError(principal.ToString() +
                                " is a group; API keys belong to users and service accounts");
  }
  CUSTOS_ASSIGN_OR_RETURN(Principal owner, directory_.Get(principal));
  if (owner.disabled) {
    return FailedPreconditionError(principal.ToString() +
                                   " is disabled; enable it before creating an API key");
  }

  const std::string key_id = common::NewId("ak");
  crypto::SecretBytes secret = crypto::SecretBytes::Random(kApiKeySecretBytes);
  Record rec;
  rec.principal = principal;
  rec.description = std::string(description);
  rec.created = auditor_.clock().Now();
  rec.expires = rec.created + std::chrono::duration_cast<std::chrono::microseconds>(lifetime);
  rec.mac = Mac(key_id, secret);

  // Audited before the key exists: if the event cannot be appended, no key is written.
  CUSTOS_RETURN_IF_ERROR(
      auditor_.Record(caller, {.action = "identity.api_key.create",
                               .targets = {Ref(principal)},
                               .detail = "expires " + common::FormatRfc3339(rec.expires),
                               .hashed = {{"api_key_id", key_id}}}));
  CUSTOS_RETURN_IF_ERROR(space_.Put(RecordKey(key_id), rec.Encode()));

  std::string encoded = common::Base64UrlEncode(secret.span());
  std::string text = std::string(kApiKeyPrefix) + key_id.substr(3) + "_" + encoded;
  NewApiKey out;
  out.text = crypto::SecretBytes::CopyOf(common::AsBytes(text));
  crypto::ZeroizeString(encoded);
  crypto::ZeroizeString(text);
  CUSTOS_ASSIGN_OR_RETURN(out.info, ToInfo(key_id, rec));
  return out;
}

Status ApiKeys::Refuse(const Caller& caller, std::string_view key_id, const std::string& principal,
                       std::string_view detail, Status reason) {
  IdentityStep step{.action = "identity.api_key.authenticate",
                    .outcome = audit::Outcome::kDenied,
                    .detail = std::string(detail)};
  if (!key_id.empty()) step.hashed.emplace_back("api_key_id", std::string(key_id));
  if (!principal.empty()) {
    auto id = PrincipalId::Parse(principal);
    if (id.ok()) step.targets.push_back(Ref(*id));
  }
  CUSTOS_RETURN_IF_ERROR(auditor_.Record(caller, step));
  return reason;
}

Result<PrincipalId> ApiKeys::Authenticate(const Caller& caller, std::string_view text) {
  auto parsed = ParseApiKey(text);
  if (!parsed.ok()) {
    return Refuse(caller, "", "", "malformed", UnauthenticatedError(parsed.status().message()));
  }
  const std::string& key_id = parsed->key_id;
  CUSTOS_ASSIGN_OR_RETURN(auto rec, Load(key_id));
  if (!rec) {
    return Refuse(caller, key_id, "", "unknown key id",
                  UnauthenticatedError("API key " + key_id +
                                       " is unknown (it may have been deleted); create a new "
                                       "one"));
  }
  const std::string principal_text = rec->principal.ToString();
  const crypto::Digest mac = Mac(key_id, parsed->secret);
  if (!crypto::ConstantTimeEquals(mac, rec->mac)) {
    return Refuse(caller, key_id, principal_text, "wrong secret",
                  UnauthenticatedError("API key " + key_id +
                                       ": the secret does not match; present the key exactly "
                                       "as it was shown at creation"));
  }
  // Only a holder of the right secret learns the key's state.
  const common::TimePoint now = auditor_.clock().Now();
  if (rec->revoked) {
    return Refuse(
        caller, key_id, principal_text, "revoked",
        UnauthenticatedError("API key " + key_id + " was revoked at " +
                             common::FormatRfc3339(rec->revoked_at) + "; create a new one"));
  }
  if (now >= rec->expires) {
    return Refuse(caller, key_id, principal_text, "expired",
                  UnauthenticatedError("API key " + key_id + " expired at " +
                                       common::FormatRfc3339(rec->expires) + "; create a new one"));
  }
  auto owner = directory_.Get(rec->principal);
  if (!owner.ok()) {
    if (owner.status().code() != StatusCode::kNotFound) return owner.status();
    return Refuse(caller, key_id, principal_text, "principal deleted",
                  UnauthenticatedError("API key " + key_id + ": principal " + principal_text +
                                       " no longer exists"));
  }
  if (owner->created > rec->created) {
    // Deleted and created again under the same id: the key was for the earlier principal.
    return Refuse(caller, key_id, principal_text, "principal re-created",
                  UnauthenticatedError("API key " + key_id + " was issued before principal " +
                                       principal_text +
                                       " was last created (to an earlier principal with that "
                                       "id); create a new one"));
  }
  if (owner->disabled) {
    return Refuse(caller, key_id, principal_text, "principal disabled",
                  UnauthenticatedError("API key " + key_id + ": principal " + principal_text +
                                       " is disabled; an administrator must enable it"));
  }
  Caller who = caller;
  who.principal_id = principal_text;
  CUSTOS_RETURN_IF_ERROR(auditor_.Record(who, {.action = "identity.api_key.authenticate",
                                               .targets = {Ref(rec->principal)},
                                               .hashed = {{"api_key_id", key_id}}}));
  // Last use feeds access reviews; it need not survive a power cut, so no fsync.
  common::ByteWriter used;
  used.I64(common::ToUnixMicros(now));
  CUSTOS_RETURN_IF_ERROR(
      space_.Put(LastUsedKey(key_id), used.data(), storage::WriteOptions{.sync = false}));
  return rec->principal;
}

Status ApiKeys::Revoke(const Caller& caller, std::string_view key_id) {
  CUSTOS_RETURN_IF_ERROR(common::ValidateId(key_id, "ak"));
  std::lock_guard lock(revoke_mu_);
  CUSTOS_ASSIGN_OR_RETURN(auto rec, Load(key_id));
  if (!rec) return NotFoundError("API key " + std::string(key_id) + " does not exist");
  if (rec->revoked) {
    return FailedPreconditionError("API key " + std::string(key_id) + " was already revoked at " +
                                   common::FormatRfc3339(rec->revoked_at));
  }
  rec->revoked = true;
  rec->revoked_at = auditor_.clock().Now();
  CUSTOS_RETURN_IF_ERROR(
      auditor_.Record(caller, {.action = "identity.api_key.revoke",
                               .targets = {Ref(rec->principal)},
                               .hashed = {{"api_key_id", std::string(key_id)}}}));
  return space_.Put(RecordKey(key_id), rec->Encode());
}

Result<size_t> ApiKeys::RevokeAllFor(const Caller& caller, const PrincipalId& principal) {
  CUSTOS_ASSIGN_OR_RETURN(auto keys, List(principal));
  size_t revoked = 0;
  for (const auto& key : keys) {
    if (key.revoked) continue;
    Status s = Revoke(caller, key.key_id);
    // A concurrent Revoke of the same key is not a failure here.
    if (!s.ok() && s.code() != StatusCode::kFailedPrecondition) return s;
    if (s.ok()) ++revoked;
  }
  return revoked;
}

Result<ApiKeyInfo> ApiKeys::Get(std::string_view key_id) {
  CUSTOS_RETURN_IF_ERROR(common::ValidateId(key_id, "ak"));
  CUSTOS_ASSIGN_OR_RETURN(auto rec, Load(key_id));
  if (!rec) return NotFoundError("API key " + std::string(key_id) + " does not exist");
  return ToInfo(key_id, *rec);
}

Result<std::vector<ApiKeyInfo>> ApiKeys::List(const std::optional<PrincipalId>& principal) {
  std::vector<std::pair<std::string, Record>> records;
  CUSTOS_RETURN_IF_ERROR(
      space_.ScanPrefix(common::KeyBuilder().AddString("api_key").Release(),
                        [&](std::string_view key, std::string_view value) -> Status {
                          common::KeyReader reader(key);
                          CUSTOS_RETURN_IF_ERROR(reader.ReadString().status());
                          CUSTOS_ASSIGN_OR_RETURN(std::string key_id, reader.ReadString());
                          CUSTOS_ASSIGN_OR_RETURN(Record rec, Record::Decode(value, key_id));
                          if (!principal || rec.principal == *principal) {
                            records.emplace_back(std::move(key_id), std::move(rec));
                          }
                          return Status::Ok();
                        }));
  std::vector<ApiKeyInfo> out;
  out.reserve(records.size());
  for (const auto& [key_id, rec] : records) {
    CUSTOS_ASSIGN_OR_RETURN(ApiKeyInfo info, ToInfo(key_id, rec));
    out.push_back(std::move(info));
  }
  return out;
}

}  // namespace custos::identity
