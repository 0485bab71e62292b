// ArtifactSigners: who may sign artifacts. The server's own Ed25519 key (signer
// "custos-server", created on first Open) plus public keys registered for principals
// (service accounts), each with its registration and, once revoked, revocation time.
//
// Storage: the `artifacts` keyspace, sealed under keyring owner "artifacts:signers"
// (storage/encrypted_keyspace.h): records under "s|" + key_id, the server key's private
// seed under "server-key". Register and Revoke are audited ("artifact.signer.register" /
// "artifact.signer.revoke") and fail closed: if the event cannot be appended, nothing
// changes.
// Thread-safety: safe for concurrent use; Register and Revoke are serialized.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "artifacts/signature_bundle.h"
#include "artifacts/statement.h"
#include "audit/log.h"
#include "common/clock.h"
#include "common/status.h"
#include "crypto/ed25519.h"
#include "crypto/keyring.h"
#include "storage/encrypted_keyspace.h"
#include "storage/kv.h"

namespace custos::artifacts {

inline constexpr std::string_view kSignersKeyOwner = "artifacts:signers";
inline constexpr std::string_view kSignerRecordPrefix = "s|";
inline constexpr std::string_view kServerKeyRecord = "server-key";

struct SignerRecord {
  std::string signer;
  std::string key_id;
  crypto::Ed25519PublicKey key;
  common::TimePoint registered{};
  std::optional<common::TimePoint> revoked;
  friend bool operator==(const SignerRecord&, const SignerRecord&) = default;
};

class ArtifactSigners {
 public:
  // Loads (or on first use creates) the server key and the registered signers. `kv`,
  // `keyring`, `audit` and `clock` must outlive the object.
  static Result<std::unique_ptr<ArtifactSigners>> Open(storage::Kv& kv, crypto::Keyring& keyring,
                                                       audit::AuditLog& audit,
                                                       const common::Clock& clock);

  // The server's signing key; signer name "custos-server".
  const crypto::Ed25519PrivateKey& server_key() const { return server_key_; }
  ArtifactSignature SignAsServer(const ArtifactStatement& statement) const;

  // Registers `key` for `signer` (a principal uid text, e.g. ServiceAccount::"trainer"),
  // recording `by` (the acting principal) in the audit event. AlreadyExists if the key id
  // is registered (even if revoked: a revoked key stays revoked), InvalidArgument for an
  // empty or over-long signer or the server's own name.
  Result<SignerRecord> Register(const std::string& signer, const crypto::Ed25519PublicKey& key,
                                const std::string& by);
  // NotFound for an unknown key id, FailedPrecondition if already revoked.
  Status Revoke(const std::string& key_id, const std::string& by);
  // Every registered key, revoked ones included, in key id order.
  Result<std::vector<SignerRecord>> List() const;

  // Checks a client-supplied signature: the key must be registered to `signer` and not
  // revoked (PermissionDenied with the reason), and the signature must verify over the
  // canonical statement (PermissionDenied); InvalidArgument for a malformed statement.
  Status CheckSignature(const ArtifactStatement& statement,
                        const ArtifactSignature& signature) const;

  // The trusted-keys document a verifier downloads: the server key + every unrevoked key.
  std::vector<TrustedKey> TrustedKeys() const;

 private:
  ArtifactSigners(storage::EncryptedKeyspace keyspace, audit::AuditLog& audit,
                  const common::Clock& clock, crypto::Ed25519PrivateKey server_key)
      : keyspace_(std::move(keyspace)),
        audit_(audit),
        clock_(clock),
        server_key_(std::move(server_key)) {}

  // Appends the event for a register/revoke: allowed when `refusal` is OK, denied with
  // its text otherwise.
  Status Audit(std::string_view action, const std::string& by, const std::string& key_id,
               const std::string& signer, const Status& refusal);

  mutable storage::EncryptedKeyspace keyspace_;
  audit::AuditLog& audit_;
  const common::Clock& clock_;
  const crypto::Ed25519PrivateKey server_key_;
  // Serializes Register/Revoke (read-check-write) and guards the cache below.
  mutable std::mutex mu_;
  // key_id -> record: mirrors the stored records (loaded at Open, updated after each
  // durable write).
  std::map<std::string, SignerRecord, std::less<>> records_;
};

}  // namespace custos::artifacts
