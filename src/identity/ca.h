// CertificateAuthority: the data directory's own CA for mTLS (OpenSSL 3 X509). Created
// once (by `custos init`); issues client certificates that name a service account
// (mtls.h) and server certificates for the HTTPS server, and verifies client
// certificates presented to the server.
//
// Storage (keyspace `identity`): the CA certificate in clear; its private key as PKCS#8
// sealed under the keyring data key of owner "identity-ca-key"; one record per issued
// certificate (serial -> kind, subject, not_after) and per revoked serial.
// Certificates: X.509 v3, 128-bit random serials, not_before = the clock's now.
//   CA:     basicConstraints critical CA:TRUE pathlen:0; keyUsage critical keyCertSign,
//           cRLSign; subject and authority key ids.
//   client: CA:FALSE; keyUsage critical digitalSignature; EKU clientAuth; SAN URI
//           custos://service-account/<id>; default 30 days.
//   server: CA:FALSE; keyUsage critical digitalSignature; EKU serverAuth; SAN DNS
//           localhost, IP 127.0.0.1 and ::1 plus the names asked for; default 397 days.
// Validity is at most kMaxLeafValidity (397 days); longer is refused.
// Every refusal of a presented client certificate is Unauthenticated with the failed
// check, and is audited ("identity.cert.verify"); issuing and revoking are audited
// before they return (fail closed).
// Thread-safety: safe for concurrent use; the revoked-serial set takes a shared lock.
#pragma once

#include <openssl/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "audit/event.h"
#include "audit/log.h"
#include "common/clock.h"
#include "common/status.h"
#include "crypto/keyring.h"
#include "crypto/secret.h"
#include "identity/identity_audit.h"
#include "identity/mtls.h"
#include "storage/kv.h"

namespace custos::identity {

inline constexpr std::string_view kCaKeyOwner = "identity-ca-key";
inline constexpr std::chrono::hours kDefaultClientCertValidity{24 * 30};
inline constexpr std::chrono::hours kDefaultServerCertValidity{24 * 397};
inline constexpr std::chrono::hours kMaxLeafValidity{24 * 397};

enum class CertKeyType : uint8_t {
  kEcdsaP256 = 0,  // the default: every TLS stack accepts it
  kEd25519 = 1,
};

struct CaOptions {
  // The CA's subject CN. Default "custos local CA".
  std::string common_name = "custos local CA";
  // Default ECDSA P-256.
  CertKeyType key_type = CertKeyType::kEcdsaP256;
  // Default 10 years.
  std::chrono::hours validity{24 * 3650};
};

struct ClientCertificateRequest {
  std::string service_account_id;  // see ValidateServiceAccountId
  // Subject CN. Default: the service account id.
  std::string common_name;
  std::chrono::hours validity = kDefaultClientCertValidity;
  // Empty: a key pair of `key_type` is generated and returned. Otherwise a PEM PKCS#10
  // request whose signature must verify; only its public key is used (subject and
  // extensions come from this request, never from the CSR).
  std::string csr_pem;
  CertKeyType key_type = CertKeyType::kEcdsaP256;
};

struct ServerCertificateRequest {
  // DNS names beside "localhost" (letters, digits, '-', '.', a leading "*." allowed).
  std::vector<std::string> dns_names;
  // IP addresses beside 127.0.0.1 and ::1.
  std::vector<std::string> ip_addresses;
  std::chrono::hours validity = kDefaultServerCertValidity;
  std::string csr_pem;  // as in ClientCertificateRequest
  CertKeyType key_type = CertKeyType::kEcdsaP256;
};

struct IssuedCertificate {
  std::string certificate_pem;
  // PKCS#8 PEM of the generated key; empty when issued from a CSR. Hand it to the
  // service once; custos keeps no copy.
  crypto::SecretBytes private_key_pem;
  std::string serial_hex;  // lower-case hex, no leading zeros
  common::TimePoint not_before;
  common::TimePoint not_after;
};

// One certificate this CA issued, as recorded.
struct IssuedRecord {
  std::string serial_hex;
  std::string kind;     // "client" or "server"
  std::string subject;  // the service account id, or the server's first DNS name
  common::TimePoint not_after;
  bool revoked = false;
};

class CertificateAuthority {
 public:
  // Creates the CA (key pair, self-signed certificate) and stores it; AlreadyExists if
  // the data directory has one. Audited as "identity.ca.create".
  static Result<std::unique_ptr<CertificateAuthority>> Create(
      storage::Kv& kv, crypto::Keyring& keyring, audit::AuditLog& audit,
      const audit::AuditSalt& salt, const common::Clock& clock, const CaOptions& options = {},
      const Caller& caller = {});
  // Opens the stored CA; NotFound (saying to run `custos init`) if there is none.
  static Result<std::unique_ptr<CertificateAuthority>> Open(storage::Kv& kv,
                                                            crypto::Keyring& keyring,
                                                            audit::AuditLog& audit,
                                                            const audit::AuditSalt& salt,
                                                            const common::Clock& clock);
  static Result<bool> Exists(storage::Kv& kv);
  ~CertificateAuthority();

  // The CA certificate (PEM), for clients' trust stores and the server's client-CA list.
  const std::string& certificate_pem() const { return certificate_pem_; }

  Result<IssuedCertificate> IssueClientCertificate(const ClientCertificateRequest& request,
                                                   const Caller& caller = {});
  Result<IssuedCertificate> IssueServerCertificate(const ServerCertificateRequest& request,
                                                   const Caller& caller = {});

  // Checks a client certificate (PEM: the leaf, optionally followed by the CA) against
  // this CA at the clock's now: issued by this CA (directly), within validity, not
  // revoked, EKU clientAuth, exactly one custos service-account SAN URI.
  Result<ClientIdentity> VerifyClientCertificate(std::string_view pem_chain,
                                                 const Caller& caller = {});
  // The same for a certificate from a TLS handshake (e.g. SSL_get0_peer_certificate);
  // the caller keeps ownership.
  Result<ClientIdentity> VerifyClientCertificate(X509* leaf, const Caller& caller = {});

  // Revokes a serial this CA issued (NotFound otherwise); effective at once.
  Status RevokeCertificate(std::string_view serial_hex, const Caller& caller = {});
  bool IsRevoked(std::string_view serial_hex) const;
  Result<std::vector<IssuedRecord>> ListIssued();

 private:
  struct OpenSslState;
  CertificateAuthority(storage::Kv& kv, audit::AuditLog& audit, const audit::AuditSalt& salt,
                       const common::Clock& clock, std::unique_ptr<OpenSslState> state,
                       std::string certificate_pem);
  Status LoadRevoked();
  Result<IssuedCertificate> Issue(bool client, const std::string& subject_cn,
                                  const std::string& san, std::string_view record_subject,
                                  std::chrono::hours validity, std::string_view csr_pem,
                                  CertKeyType key_type, const Caller& caller);
  Result<ClientIdentity> CheckClient(X509* leaf);
  Status Refuse(Status reason, const Caller& caller);

  storage::Kv& kv_;
  IdentityAuditor auditor_;
  const common::Clock& clock_;
  std::unique_ptr<OpenSslState> state_;
  const std::string certificate_pem_;
  mutable std::shared_mutex mu_;
  std::unordered_set<std::string> revoked_;
};

}  // namespace custos::identity
