// Values sealed under an owner's DEK, bound to their keyspace and key.
#include "storage/encrypted_keyspace.h"

namespace custos::storage {
namespace {

constexpr uint8_t kValueFormat = 1;

// keyspace name | 0x00 | DEK id | 0x00 | key: unambiguous because names and ids
// contain no NUL, and the key comes last.
void BuildAd(std::string& ad, Keyspace keyspace, std::string_view dek_id, std::string_view key) {
  ad.clear();
  ad.append(KeyspaceName(keyspace));
  ad.push_back('\0');
  ad.append(dek_id);
  ad.push_back('\0');
  ad.append(key);
}

}  // namespace

Result<EncryptedKeyspace> EncryptedKeyspace::Open(Kv& kv, Keyspace keyspace,
                                                  crypto::Keyring& keyring,
                                                  std::string_view owner) {
  CUSTOS_ASSIGN_OR_RETURN(std::shared_ptr<const crypto::DataKey> key,
                          keyring.GetOrCreateDataKey(owner));
  return EncryptedKeyspace(kv, keyspace, std::move(key));
}

std::string EncryptedKeyspace::Seal(std::string_view key, std::string_view plaintext) const {
  thread_local std::string ad;
  BuildAd(ad, keyspace_, key_->id(), key);
  std::string sealed;
  sealed.reserve(1 + crypto::Aead::kOverhead + plaintext.size());
  sealed.push_back(static_cast<char>(kValueFormat));
  key_->aead().SealTo(common::AsBytes(plaintext), common::AsBytes(ad), sealed);
  return sealed;
}

Status EncryptedKeyspace::Put(std::string_view key, std::string_view plaintext,
                              const WriteOptions& options) {
  return kv_->Put(keyspace_, key, Seal(key, plaintext), options);
}

void EncryptedKeyspace::PutTo(WriteBatch& batch, std::string_view key,
                              std::string_view plaintext) const {
  batch.Put(keyspace_, key, Seal(key, plaintext));
}

Result<std::string> EncryptedKeyspace::Decrypt(std::string_view key,
                                               std::string_view stored) const {
  if (stored.empty() || static_cast<uint8_t>(stored[0]) != kValueFormat) {
    return DataLossError("value at " + std::string(KeyspaceName(keyspace_)) + " key of " +
                         std::to_string(key.size()) +
                         " bytes has an unknown format byte: it is corrupt or not encrypted");
  }
  thread_local std::string ad;
  BuildAd(ad, keyspace_, key_->id(), key);
  std::string plain;
  Status s = key_->aead().OpenTo(common::AsBytes(stored.substr(1)), common::AsBytes(ad), plain);
  if (!s.ok()) {
    return s.WithContext("decrypting a value in keyspace '" + std::string(KeyspaceName(keyspace_)) +
                         "' of owner '" + key_->owner() + "'");
  }
  return plain;
}

Result<std::optional<std::string>> EncryptedKeyspace::Get(std::string_view key,
                                                          const ReadOptions& options) {
  CUSTOS_ASSIGN_OR_RETURN(std::optional<std::string> stored, kv_->Get(keyspace_, key, options));
  if (!stored) return std::optional<std::string>();
  CUSTOS_ASSIGN_OR_RETURN(std::string plain, Decrypt(key, *stored));
  return std::optional<std::string>(std::move(plain));
}

Status EncryptedKeyspace::Delete(std::string_view key, const WriteOptions& options) {
  return kv_->Delete(keyspace_, key, options);
}

Status EncryptedKeyspace::ScanPrefix(
    std::string_view prefix, const std::function<Status(std::string_view, std::string_view)>& visit,
    const ReadOptions& options) {
  return kv_->ScanPrefix(
      keyspace_, prefix,
      [&](std::string_view k, std::string_view stored) -> Status {
        CUSTOS_ASSIGN_OR_RETURN(std::string plain, Decrypt(k, stored));
        return visit(k, plain);
      },
      options);
}

}  // namespace custos::storage
