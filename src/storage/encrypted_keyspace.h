// EncryptedKeyspace: a view of one keyspace in which every value is sealed with
// AES-256-GCM under one owner's data key. Associated data = keyspace | key | DEK id,
// so a ciphertext copied to another key, keyspace or owner fails to open.
//
// Stored value: format byte (1) | nonce | ciphertext | tag. Keys are stored as given
// (they must stay ordered for range scans); callers keep secrets out of keys.
// Thread-safety: safe for concurrent use.
#pragma once

#include <memory>
#include <string>

#include "crypto/keyring.h"
#include "storage/kv.h"

namespace custos::storage {

class EncryptedKeyspace {
 public:
  // Uses (creating on first use) the owner's data key from `keyring`. NotFound when
  // the owner's key was shredded. `kv` and `keyring` must outlive the keyspace.
  static Result<EncryptedKeyspace> Open(Kv& kv, Keyspace keyspace, crypto::Keyring& keyring,
                                        std::string_view owner);

  Status Put(std::string_view key, std::string_view plaintext, const WriteOptions& options = {});
  // Adds a sealed put to `batch` (for atomic multi-record writes).
  void PutTo(WriteBatch& batch, std::string_view key, std::string_view plaintext) const;
  // nullopt when absent; DataLoss when the stored value does not authenticate.
  Result<std::optional<std::string>> Get(std::string_view key, const ReadOptions& options = {});
  Status Delete(std::string_view key, const WriteOptions& options = {});
  // Decrypts each entry under `prefix` in key order.
  Status ScanPrefix(
      std::string_view prefix,
      const std::function<Status(std::string_view key, std::string_view plaintext)>& visit,
      const ReadOptions& options = {});

  // Opens a raw stored value read from this keyspace at `key`.
  Result<std::string> Decrypt(std::string_view key, std::string_view stored) const;

  Keyspace keyspace() const { return keyspace_; }
  const std::string& owner() const { return key_->owner(); }
  const std::string& dek_id() const { return key_->id(); }

 private:
  EncryptedKeyspace(Kv& kv, Keyspace keyspace, std::shared_ptr<const crypto::DataKey> key)
      : kv_(&kv), keyspace_(keyspace), key_(std::move(key)) {}
  std::string Seal(std::string_view key, std::string_view plaintext) const;

  Kv* kv_;
  Keyspace keyspace_;
  std::shared_ptr<const crypto::DataKey> key_;
};

}  // namespace custos::storage
