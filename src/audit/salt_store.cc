// Persisting the audit salt (see salt_store.h).
#include "audit/salt_store.h"

#include "common/key_encoding.h"
#include "crypto/secret.h"
#include "storage/encrypted_keyspace.h"

namespace custos::audit {
namespace {

constexpr size_t kSaltBytes = 32;

std::string SaltKey() {
  return common::KeyBuilder().AddString("k").AddString("audit-salt").Release();
}

}  // namespace

Result<AuditSalt> LoadOrCreateAuditSalt(storage::Kv& kv, crypto::Keyring& keyring) {
  CUSTOS_ASSIGN_OR_RETURN(auto space, storage::EncryptedKeyspace::Open(
                                          kv, storage::Keyspace::kAudit, keyring, kAuditSaltOwner));
  CUSTOS_ASSIGN_OR_RETURN(std::optional<std::string> stored, space.Get(SaltKey()));
  if (stored) {
    crypto::SecretBytes salt = crypto::SecretBytes::CopyOf(common::AsBytes(*stored));
    crypto::ZeroizeString(*stored);
    if (salt.size() != kSaltBytes) {
      return DataLossError("the stored audit salt has " + std::to_string(salt.size()) +
                           " bytes, expected 32; restore the data directory from a backup");
    }
    return AuditSalt::Create(std::move(salt));
  }
  crypto::SecretBytes salt = crypto::SecretBytes::Random(kSaltBytes);
  CUSTOS_RETURN_IF_ERROR(space.Put(SaltKey(), common::AsChars(salt.span())));  // sync by default
  return AuditSalt::Create(std::move(salt));
}

}  // namespace custos::audit
