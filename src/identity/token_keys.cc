// Access-token issuer keys: sealed storage, rotation and lookup by key id.
#include "identity/token_keys.h"

#include <mutex>

#include "common/key_encoding.h"
#include "crypto/paserk.h"
#include "identity/token_claims.h"
#include "storage/encrypted_keyspace.h"

namespace custos::identity {
namespace {

// Sealed record: seed (32) | created_at (8, BE µs) | retired_at (8, BE µs; 0 = current).
constexpr size_t kSeedSize = 32;
constexpr size_t kRecordSize = kSeedSize + 16;

std::string KeyPrefix() { return common::KeyBuilder().AddString("token-signing-key").Release(); }
std::string KeyKey(uint32_t version) {
  return common::KeyBuilder().AddString("token-signing-key").AddUint32(version).Release();
}

void PutBe64(std::string& out, int64_t v) {
  for (int i = 7; i >= 0; --i)
    out.push_back(static_cast<char>((static_cast<uint64_t>(v) >> (8 * i)) & 0xff));
}
int64_t GetBe64(std::string_view in) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(in[i]);
  return static_cast<int64_t>(v);
}

Result<std::shared_ptr<TokenSigningKey>> MakeKey(uint32_t version, crypto::Ed25519PrivateKey key,
                                                 common::TimePoint created_at,
                                                 std::optional<common::TimePoint> retired_at) {
  crypto::PasetoV4SecretKey secret(std::move(key));
  crypto::PasetoV4PublicKey public_key = secret.public_key();
  TokenKeyInfo info{version, crypto::PaserkId(public_key), created_at, retired_at};
  return std::make_shared<TokenSigningKey>(
      TokenSigningKey{std::move(info), std::move(secret), public_key});
}

}  // namespace

Result<std::unique_ptr<TokenKeySet>> TokenKeySet::LoadOrCreate(storage::Kv& kv,
                                                               crypto::Keyring& keyring,
                                                               const common::Clock& clock) {
  std::unique_ptr<TokenKeySet> set(new TokenKeySet(kv, keyring, clock));
  CUSTOS_RETURN_IF_ERROR(set->Load());
  if (set->keys_.empty()) {
    CUSTOS_ASSIGN_OR_RETURN(
        auto key, MakeKey(1, crypto::Ed25519PrivateKey::Generate(), clock.Now(), std::nullopt));
    CUSTOS_RETURN_IF_ERROR(set->Store(*key));
    set->keys_.push_back(std::move(key));
  }
  return set;
}

Status TokenKeySet::Load() {
  CUSTOS_ASSIGN_OR_RETURN(
      auto space, storage::EncryptedKeyspace::Open(kv_, storage::Keyspace::kIdentity, keyring_,
                                                   kTokenSigningKeyOwner));
  const std::string prefix = KeyPrefix();
  CUSTOS_RETURN_IF_ERROR(
      space.ScanPrefix(prefix, [&](std::string_view key, std::string_view plaintext) -> Status {
        common::KeyReader reader(key);
        (void)reader.ReadString();
        auto version = reader.ReadUint32();
        if (!version.ok() || !reader.Done() || plaintext.size() != kRecordSize) {
          return DataLossError("identity keyspace: malformed token signing key record (version " +
                               (version.ok() ? std::to_string(*version) : std::string("?")) +
                               "); restore the data directory from a backup");
        }
        crypto::SecretBytes seed =
            crypto::SecretBytes::CopyOf(common::AsBytes(plaintext.substr(0, kSeedSize)));
        CUSTOS_ASSIGN_OR_RETURN(auto private_key, crypto::Ed25519PrivateKey::FromSeed(seed));
        const int64_t created = GetBe64(plaintext.substr(kSeedSize, 8));
        const int64_t retired = GetBe64(plaintext.substr(kSeedSize + 8, 8));
        std::optional<common::TimePoint> retired_at;
        if (retired != 0) retired_at = common::FromUnixMicros(retired);
        CUSTOS_ASSIGN_OR_RETURN(auto loaded, MakeKey(*version, std::move(private_key),
                                                     common::FromUnixMicros(created), retired_at));
        keys_.push_back(std::move(loaded));
        return Status::Ok();
      }));
  // A crash inside Rotate can leave an older key unretired: it retired when its
  // successor was created.
  for (size_t i = 0; i + 1 < keys_.size(); ++i) {
    if (!keys_[i]->info.retired_at) {
      auto fixed = std::make_shared<TokenSigningKey>(
          TokenSigningKey{keys_[i]->info, keys_[i]->secret.Clone(), keys_[i]->public_key});
      fixed->info.retired_at = keys_[i + 1]->info.created_at;
      keys_[i] = std::move(fixed);
    }
  }
  return Status::Ok();
}

Status TokenKeySet::Store(const TokenSigningKey& key) {
  CUSTOS_ASSIGN_OR_RETURN(
      auto space, storage::EncryptedKeyspace::Open(kv_, storage::Keyspace::kIdentity, keyring_,
                                                   kTokenSigningKeyOwner));
  crypto::SecretBytes seed = key.secret.ed25519().Seed();
  std::string record(common::AsChars(seed.span()));
  PutBe64(record, common::ToUnixMicros(key.info.created_at));
  PutBe64(record, key.info.retired_at ? common::ToUnixMicros(*key.info.retired_at) : 0);
  Status status = space.Put(KeyKey(key.info.version), record);
  crypto::Zeroize(std::span<uint8_t>(reinterpret_cast<uint8_t*>(record.data()), record.size()));
  return status;
}

Result<TokenKeyInfo> TokenKeySet::Rotate() {
  std::unique_lock lock(mu_);
  const common::TimePoint now = clock_.Now();
  const auto& current = keys_.back();
  CUSTOS_ASSIGN_OR_RETURN(auto retired,
                          MakeKey(current->info.version, current->secret.ed25519().Clone(),
                                  current->info.created_at, now));
  CUSTOS_ASSIGN_OR_RETURN(
      auto fresh,
      MakeKey(current->info.version + 1, crypto::Ed25519PrivateKey::Generate(), now, std::nullopt));
  // The new key is stored before the old one is marked retired: a crash in between
  // leaves two unretired keys, and Load treats the newest as current.
  CUSTOS_RETURN_IF_ERROR(Store(*fresh));
  CUSTOS_RETURN_IF_ERROR(Store(*retired));
  keys_.back() = std::move(retired);
  keys_.push_back(fresh);
  return fresh->info;
}

std::shared_ptr<const TokenSigningKey> TokenKeySet::Current() const {
  std::shared_lock lock(mu_);
  return keys_.back();
}

std::shared_ptr<const TokenSigningKey> TokenKeySet::FindForVerify(std::string_view key_id,
                                                                  common::TimePoint now,
                                                                  std::chrono::seconds skew) const {
  std::shared_lock lock(mu_);
  for (auto it = keys_.rbegin(); it != keys_.rend(); ++it) {
    const TokenKeyInfo& info = (*it)->info;
    if (info.key_id != key_id) continue;
    if (info.retired_at && now > *info.retired_at + kMaxTokenLifetime + skew) return nullptr;
    return *it;
  }
  return nullptr;
}

std::vector<TokenKeyInfo> TokenKeySet::Keys() const {
  std::shared_lock lock(mu_);
  std::vector<TokenKeyInfo> out;
  for (const auto& key : keys_) out.push_back(key->info);
  return out;
}

}  // namespace custos::identity
