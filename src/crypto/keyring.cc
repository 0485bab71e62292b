// Keyring: KEK versions, DEK wrapping, rotation, minimum decryption version, shredding.
//
// Records in the KeyRecordStore:
//   "meta"             format | current KEK version | min decryption version
//   "kek/"  be32(v)    format | version | created | state | destroyed
//   "dek/"  owner      format | DEK id | KEK version | created | wrapped DEK
//   "shred/" owner     shredded-at
#include "crypto/keyring.h"

#include <cstdio>

#include "common/binary_io.h"
#include "common/ids.h"
#include "common/key_encoding.h"

namespace custos::crypto {
namespace {

constexpr uint8_t kRecordFormat = 1;
constexpr std::string_view kMetaKey = "meta";
constexpr std::string_view kKekPrefix = "kek/";
constexpr std::string_view kDekPrefix = "dek/";
constexpr std::string_view kShredPrefix = "shred/";

std::string KekKey(uint32_t version) {
  return common::KeyBuilder().AddRaw(kKekPrefix).AddUint32(version).Release();
}
std::string DekKey(std::string_view owner) { return std::string(kDekPrefix) + std::string(owner); }
std::string ShredKey(std::string_view owner) {
  return std::string(kShredPrefix) + std::string(owner);
}

// Binds a wrapped DEK to its owner, id and KEK version.
common::Bytes DekWrapAd(std::string_view owner, std::string_view dek_id, uint32_t version) {
  common::ByteWriter w;
  w.Str("custos/dek/v1").Str(owner).Str(dek_id).U32(version);
  return common::ToBytes(w.data());
}

common::Bytes EncodeKekInfo(const KekInfo& k) {
  common::ByteWriter w;
  w.U8(kRecordFormat)
      .U32(k.version)
      .I64(common::ToUnixMicros(k.created_at))
      .U8(static_cast<uint8_t>(k.state))
      .I64(common::ToUnixMicros(k.destroyed_at));
  return common::ToBytes(w.data());
}

Result<KekInfo> DecodeKekInfo(common::ByteView bytes) {
  common::ByteReader r(common::AsChars(bytes), "KEK record");
  KekInfo k;
  CUSTOS_ASSIGN_OR_RETURN(uint8_t format, r.U8());
  if (format != kRecordFormat) return DataLossError("KEK record has unknown format");
  CUSTOS_ASSIGN_OR_RETURN(k.version, r.U32());
  CUSTOS_ASSIGN_OR_RETURN(int64_t created, r.I64());
  CUSTOS_ASSIGN_OR_RETURN(uint8_t state, r.U8());
  CUSTOS_ASSIGN_OR_RETURN(int64_t destroyed, r.I64());
  CUSTOS_RETURN_IF_ERROR(r.ExpectEnd());
  if (state > static_cast<uint8_t>(KekState::kDestroyed)) {
    return DataLossError("KEK record has unknown state " + std::to_string(state));
  }
  k.created_at = common::FromUnixMicros(created);
  k.state = static_cast<KekState>(state);
  k.destroyed_at = common::FromUnixMicros(destroyed);
  return k;
}

}  // namespace

struct Keyring::DekRecord {
  std::string id;
  uint32_t kek_version = 0;
  int64_t created_us = 0;
  common::Bytes wrapped;

  common::Bytes Encode() const {
    common::ByteWriter w;
    w.U8(kRecordFormat).Str(id).U32(kek_version).I64(created_us).Blob(wrapped);
    return common::ToBytes(w.data());
  }
  static Result<DekRecord> Decode(std::string_view owner, common::ByteView bytes) {
    common::ByteReader r(common::AsChars(bytes),
                         "data key record for '" + std::string(owner) + "'");
    DekRecord d;
    CUSTOS_ASSIGN_OR_RETURN(uint8_t format, r.U8());
    if (format != kRecordFormat) {
      return DataLossError("data key record for '" + std::string(owner) + "' has unknown format");
    }
    CUSTOS_ASSIGN_OR_RETURN(std::string_view id, r.Str());
    d.id = std::string(id);
    CUSTOS_ASSIGN_OR_RETURN(d.kek_version, r.U32());
    CUSTOS_ASSIGN_OR_RETURN(d.created_us, r.I64());
    CUSTOS_ASSIGN_OR_RETURN(std::string_view wrapped, r.Str());
    d.wrapped = common::ToBytes(wrapped);
    CUSTOS_RETURN_IF_ERROR(r.ExpectEnd());
    return d;
  }
};

std::string_view KekStateName(KekState state) {
  switch (state) {
    case KekState::kActive:
      return "active";
    case KekState::kRetired:
      return "retired";
    case KekState::kDestroyed:
      return "destroyed";
  }
  return "unknown";
}

Keyring::Keyring(std::unique_ptr<KekBackend> backend, KeyRecordStore& store,
                 const common::Clock& clock, KeyringOptions options)
    : backend_(std::move(backend)), store_(store), clock_(clock), options_(options) {}

Result<std::unique_ptr<Keyring>> Keyring::Open(std::unique_ptr<KekBackend> backend,
                                               KeyRecordStore& store, const common::Clock& clock,
                                               KeyringOptions options) {
  if (options.rewrap_batch_size == 0) options.rewrap_batch_size = 1;
  std::unique_ptr<Keyring> keyring(new Keyring(std::move(backend), store, clock, options));
  CUSTOS_RETURN_IF_ERROR(keyring->Load());
  return keyring;
}

Status Keyring::SaveMeta(std::vector<KeyRecordWrite>& writes) const {
  common::ByteWriter w;
  w.U8(kRecordFormat).U32(current_version_).U32(min_decryption_version_);
  writes.push_back({std::string(kMetaKey), common::ToBytes(w.data())});
  return Status::Ok();
}

Status Keyring::Load() {
  std::lock_guard admin(admin_mu_);
  std::unique_lock lock(state_mu_);
  CUSTOS_ASSIGN_OR_RETURN(std::optional<common::Bytes> meta, store_.Get(kMetaKey));
  if (!meta) {
    // A new keyring: KEK version 1.
    Status created = backend_->CreateKek(1);
    if (!created.ok() && created.code() != StatusCode::kAlreadyExists) return created;
    KekInfo first{1, clock_.Now(), KekState::kActive, {}};
    keks_[1] = first;
    current_version_ = 1;
    min_decryption_version_ = 1;
    std::vector<KeyRecordWrite> writes = {{KekKey(1), EncodeKekInfo(first)}};
    CUSTOS_RETURN_IF_ERROR(SaveMeta(writes));
    return store_.Apply(writes);
  }
  common::ByteReader r(common::AsChars(*meta), "keyring metadata");
  CUSTOS_ASSIGN_OR_RETURN(uint8_t format, r.U8());
  if (format != kRecordFormat) {
    return FailedPreconditionError("keyring metadata format " + std::to_string(format) +
                                   " is not known to this custos version");
  }
  CUSTOS_ASSIGN_OR_RETURN(current_version_, r.U32());
  CUSTOS_ASSIGN_OR_RETURN(min_decryption_version_, r.U32());
  CUSTOS_RETURN_IF_ERROR(r.ExpectEnd());
  CUSTOS_RETURN_IF_ERROR(store_.Scan(kKekPrefix, [&](std::string_view, common::ByteView value) {
    CUSTOS_ASSIGN_OR_RETURN(KekInfo info, DecodeKekInfo(value));
    keks_[info.version] = info;
    return Status::Ok();
  }));
  if (!keks_.contains(current_version_)) {
    return DataLossError("keyring metadata names KEK version " + std::to_string(current_version_) +
                         " but no such KEK record exists");
  }
  return Status::Ok();
}

Result<std::shared_ptr<const DataKey>> Keyring::GetOrCreateDataKey(std::string_view owner) {
  {
    std::shared_lock lock(state_mu_);
    auto it = cache_.find(std::string(owner));
    if (it != cache_.end()) return it->second;
  }
  return LoadDataKey(owner, /*create=*/true);
}

Result<std::shared_ptr<const DataKey>> Keyring::GetDataKey(std::string_view owner) {
  {
    std::shared_lock lock(state_mu_);
    auto it = cache_.find(std::string(owner));
    if (it != cache_.end()) return it->second;
  }
  return LoadDataKey(owner, /*create=*/false);
}

Result<std::shared_ptr<const DataKey>> Keyring::LoadDataKey(std::string_view owner, bool create) {
  if (owner.empty()) return InvalidArgumentError("data key owner must not be empty");
  std::lock_guard admin(admin_mu_);
  {
    std::shared_lock lock(state_mu_);
    auto it = cache_.find(std::string(owner));
    if (it != cache_.end()) return it->second;
  }
  CUSTOS_ASSIGN_OR_RETURN(std::optional<common::Bytes> shredded, store_.Get(ShredKey(owner)));
  if (shredded) {
    return NotFoundError("the data key of '" + std::string(owner) +
                         "' was shredded; its data can no longer be decrypted");
  }
  CUSTOS_ASSIGN_OR_RETURN(std::optional<common::Bytes> stored, store_.Get(DekKey(owner)));
  if (stored) {
    CUSTOS_ASSIGN_OR_RETURN(DekRecord rec, DekRecord::Decode(owner, *stored));
    return Unwrap(owner, rec);
  }
  if (!create) return NotFoundError("no data key exists for '" + std::string(owner) + "'");

  DekRecord rec;
  rec.id = common::NewId("dek");
  rec.created_us = common::ToUnixMicros(clock_.Now());
  rec.kek_version = current_kek_version();
  SecretBytes dek = SecretBytes::Random(Aead::kKeySize);
  CUSTOS_ASSIGN_OR_RETURN(
      rec.wrapped, backend_->Wrap(rec.kek_version, dek, DekWrapAd(owner, rec.id, rec.kek_version)));
  CUSTOS_RETURN_IF_ERROR(store_.Apply({{DekKey(owner), rec.Encode()}}));
  CUSTOS_ASSIGN_OR_RETURN(Aead aead, Aead::Create(dek));
  auto key = std::make_shared<const DataKey>(std::string(owner), rec.id, std::move(aead));
  std::unique_lock lock(state_mu_);
  cache_[std::string(owner)] = key;
  return key;
}

Result<std::shared_ptr<const DataKey>> Keyring::Unwrap(std::string_view owner,
                                                       const DekRecord& rec) {
  if (rec.kek_version < min_decryption_version()) {
    return FailedPreconditionError(
        "the data key of '" + std::string(owner) + "' is wrapped by KEK version " +
        std::to_string(rec.kek_version) + ", below the minimum decryption version " +
        std::to_string(min_decryption_version()) +
        "; finish a rotation or lower the minimum decryption version");
  }
  Result<SecretBytes> dek =
      backend_->Unwrap(rec.kek_version, rec.wrapped, DekWrapAd(owner, rec.id, rec.kek_version));
  if (!dek.ok()) {
    return dek.status().WithContext("unwrapping the data key of '" + std::string(owner) + "'");
  }
  CUSTOS_ASSIGN_OR_RETURN(Aead aead, Aead::Create(*dek));
  auto key = std::make_shared<const DataKey>(std::string(owner), rec.id, std::move(aead));
  std::unique_lock lock(state_mu_);
  cache_[std::string(owner)] = key;
  return key;
}

Result<RotationResult> Keyring::Rotate() {
  const auto start = std::chrono::steady_clock::now();
  std::lock_guard admin(admin_mu_);
  const uint32_t old_version = current_kek_version();
  const uint32_t new_version = old_version + 1;
  // AlreadyExists means an earlier rotation created the KEK and stopped before
  // recording it; nothing is wrapped by it yet, so it is safe to adopt.
  Status created = backend_->CreateKek(new_version);
  if (!created.ok() && created.code() != StatusCode::kAlreadyExists) return created;

  std::vector<KeyRecordWrite> writes;
  {
    std::unique_lock lock(state_mu_);
    KekInfo fresh{new_version, clock_.Now(), KekState::kActive, {}};
    keks_[new_version] = fresh;
    writes.push_back({KekKey(new_version), EncodeKekInfo(fresh)});
    if (keks_.contains(old_version)) {
      keks_[old_version].state = KekState::kRetired;
      writes.push_back({KekKey(old_version), EncodeKekInfo(keks_[old_version])});
    }
    current_version_ = new_version;
    CUSTOS_RETURN_IF_ERROR(SaveMeta(writes));
  }
  // New DEKs use the new KEK from here on, even if the rewrap below is interrupted;
  // a later Rotate() or Compliance() will find the leftovers.
  CUSTOS_RETURN_IF_ERROR(store_.Apply(writes));

  RotationResult result;
  result.new_version = new_version;
  std::vector<KeyRecordWrite> batch;
  batch.reserve(options_.rewrap_batch_size);
  CUSTOS_RETURN_IF_ERROR(
      store_.Scan(kDekPrefix, [&](std::string_view key, common::ByteView value) -> Status {
        std::string_view owner = key.substr(kDekPrefix.size());
        CUSTOS_ASSIGN_OR_RETURN(DekRecord rec, DekRecord::Decode(owner, value));
        if (rec.kek_version == new_version) return Status::Ok();
        Result<SecretBytes> dek = backend_->Unwrap(rec.kek_version, rec.wrapped,
                                                   DekWrapAd(owner, rec.id, rec.kek_version));
        if (!dek.ok()) {
          return dek.status().WithContext("rewrapping the data key of '" + std::string(owner) +
                                          "'");
        }
        CUSTOS_ASSIGN_OR_RETURN(
            rec.wrapped, backend_->Wrap(new_version, *dek, DekWrapAd(owner, rec.id, new_version)));
        rec.kek_version = new_version;
        batch.push_back({std::string(key), rec.Encode()});
        if (batch.size() >= options_.rewrap_batch_size) {
          CUSTOS_RETURN_IF_ERROR(store_.ApplyUnsynced(batch));
          result.deks_rewrapped += batch.size();
          batch.clear();
        }
        return Status::Ok();
      }));
  // One synced write makes every earlier unsynced batch durable too (the WAL is
  // ordered). Losing unsynced batches in a crash is harmless: those DEKs stay wrapped
  // by the retired KEK, which still opens them, and Compliance() reports them.
  CUSTOS_RETURN_IF_ERROR(store_.Apply(batch));
  result.deks_rewrapped += batch.size();
  result.elapsed = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - start);
  return result;
}

Status Keyring::SetMinDecryptionVersion(uint32_t version) {
  std::lock_guard admin(admin_mu_);
  const uint32_t current = current_kek_version();
  if (version < 1 || version > current) {
    return InvalidArgumentError(
        "minimum decryption version must be between 1 and the current "
        "KEK version " +
        std::to_string(current) + ", got " + std::to_string(version));
  }
  if (version < min_decryption_version()) {
    return InvalidArgumentError("minimum decryption version can only increase (it is " +
                                std::to_string(min_decryption_version()) + ")");
  }
  size_t below = 0;
  CUSTOS_RETURN_IF_ERROR(store_.Scan(kDekPrefix, [&](std::string_view key, common::ByteView v) {
    CUSTOS_ASSIGN_OR_RETURN(DekRecord rec, DekRecord::Decode(key.substr(kDekPrefix.size()), v));
    if (rec.kek_version < version) ++below;
    return Status::Ok();
  }));
  if (below > 0) {
    return FailedPreconditionError(std::to_string(below) +
                                   " data keys are still wrapped by KEKs below version " +
                                   std::to_string(version) + "; run 'custos keys rotate' first");
  }
  std::vector<KeyRecordWrite> writes;
  {
    std::unique_lock lock(state_mu_);
    min_decryption_version_ = version;
    CUSTOS_RETURN_IF_ERROR(SaveMeta(writes));
  }
  return store_.Apply(writes);
}

Result<std::vector<uint32_t>> Keyring::DestroyRetiredKeks() {
  std::lock_guard admin(admin_mu_);
  std::vector<uint32_t> destroyed;
  const uint32_t min = min_decryption_version();
  for (uint32_t v = 1; v < min; ++v) {
    KekInfo info;
    {
      std::shared_lock lock(state_mu_);
      auto it = keks_.find(v);
      if (it == keks_.end() || it->second.state == KekState::kDestroyed) continue;
      info = it->second;
    }
    Status s = backend_->DestroyKek(v);
    if (!s.ok() && s.code() != StatusCode::kNotFound) return s;
    info.state = KekState::kDestroyed;
    info.destroyed_at = clock_.Now();
    CUSTOS_RETURN_IF_ERROR(store_.Apply({{KekKey(v), EncodeKekInfo(info)}}));
    std::unique_lock lock(state_mu_);
    keks_[v] = info;
    destroyed.push_back(v);
  }
  return destroyed;
}

Status Keyring::ShredDataKey(std::string_view owner) {
  std::lock_guard admin(admin_mu_);
  CUSTOS_ASSIGN_OR_RETURN(std::optional<common::Bytes> stored, store_.Get(DekKey(owner)));
  if (!stored) {
    CUSTOS_ASSIGN_OR_RETURN(std::optional<common::Bytes> shredded, store_.Get(ShredKey(owner)));
    if (shredded) return Status::Ok();  // shredding is idempotent
    return NotFoundError("no data key exists for '" + std::string(owner) + "'");
  }
  common::ByteWriter when;
  when.I64(common::ToUnixMicros(clock_.Now()));
  CUSTOS_RETURN_IF_ERROR(store_.Apply(
      {{DekKey(owner), std::nullopt}, {ShredKey(owner), common::ToBytes(when.data())}}));
  {
    std::unique_lock lock(state_mu_);
    cache_.erase(std::string(owner));
  }
  shred_epoch_.fetch_add(1, std::memory_order_acq_rel);
  return store_.PurgeDeleted();
}

bool Keyring::IsShredded(std::string_view owner) {
  Result<std::optional<common::Bytes>> r = store_.Get(ShredKey(owner));
  return r.ok() && r->has_value();
}

Result<ComplianceReport> Keyring::Compliance() {
  ComplianceReport report;
  std::map<uint32_t, size_t> per_version;
  CUSTOS_RETURN_IF_ERROR(store_.Scan(kDekPrefix, [&](std::string_view key, common::ByteView v) {
    CUSTOS_ASSIGN_OR_RETURN(DekRecord rec, DekRecord::Decode(key.substr(kDekPrefix.size()), v));
    ++per_version[rec.kek_version];
    ++report.deks_total;
    return Status::Ok();
  }));
  CUSTOS_RETURN_IF_ERROR(store_.Scan(kShredPrefix, [&](std::string_view, common::ByteView) {
    ++report.deks_shredded;
    return Status::Ok();
  }));
  const common::TimePoint now = clock_.Now();
  std::shared_lock lock(state_mu_);
  report.current_version = current_version_;
  report.min_decryption_version = min_decryption_version_;
  report.rotation_period = options_.kek_rotation_period;
  for (const auto& [version, info] : keks_) {
    ComplianceReport::Kek k;
    k.info = info;
    k.age = std::chrono::duration_cast<std::chrono::hours>(now - info.created_at);
    k.deks_wrapped = per_version.contains(version) ? per_version[version] : 0;
    if (version != current_version_ && k.deks_wrapped > 0) report.stale_wrapping = true;
    if (version == current_version_ && now - info.created_at > options_.kek_rotation_period) {
      report.rotation_due = true;
    }
    report.keks.push_back(k);
  }
  return report;
}

std::string ComplianceReport::ToText() const {
  std::string out;
  char line[160];
  std::snprintf(line, sizeof line, "%-8s %-10s %-22s %8s %10s\n", "KEK", "state", "created",
                "age(d)", "DEKs");
  out += line;
  for (const Kek& k : keks) {
    std::snprintf(
        line, sizeof line, "v%-7u %-10s %-22s %8lld %10zu\n", k.info.version,
        std::string(KekStateName(k.info.state)).c_str(),
        common::FormatRfc3339(common::FromUnixSeconds(common::ToUnixSeconds(k.info.created_at)))
            .c_str(),
        static_cast<long long>(k.age.count() / 24), k.deks_wrapped);
    out += line;
  }
  std::snprintf(line, sizeof line,
                "current KEK v%u, minimum decryption version v%u, rotation period %lld days\n"
                "data keys: %zu live, %zu shredded\n",
                current_version, min_decryption_version,
                static_cast<long long>(rotation_period.count() / 24), deks_total, deks_shredded);
  out += line;
  if (compliant()) {
    out += "compliant: yes\n";
  } else {
    out += "compliant: no";
    if (rotation_due) out += " (current KEK is older than the rotation period: rotate)";
    if (stale_wrapping) out += " (some data keys are wrapped by an old KEK: rotate)";
    out += "\n";
  }
  return out;
}

uint32_t Keyring::current_kek_version() const {
  std::shared_lock lock(state_mu_);
  return current_version_;
}

uint32_t Keyring::min_decryption_version() const {
  std::shared_lock lock(state_mu_);
  return min_decryption_version_;
}

std::vector<KekInfo> Keyring::Keks() const {
  std::shared_lock lock(state_mu_);
  std::vector<KekInfo> out;
  for (const auto& [v, info] : keks_) out.push_back(info);
  return out;
}

}  // namespace custos::crypto
