// Service-account names in client certificates, and the OpenSSL TLS context setup that
// requires them.
#include "identity/mtls.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <memory>

#include "identity/ca.h"
#include "identity/openssl_handles.h"

namespace custos::identity {
namespace {

using detail::BioPtr;
using detail::MemoryBio;
using detail::OpenSslError;
using detail::PkeyPtr;
using detail::X509Ptr;

// The first certificate in `pem`, or nullptr.
X509Ptr ReadCertificate(std::string_view pem) {
  BioPtr bio = MemoryBio(pem);
  return X509Ptr(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
}

// SSL_CTX_set_cert_verify_callback: replaces OpenSSL's chain check by the CA's, which
// does the same chain check at the CA's clock and adds revocation, EKU and the SAN.
int VerifyWithCa(X509_STORE_CTX* store_ctx, void* arg) {
  auto* ca = static_cast<CertificateAuthority*>(arg);
  X509* leaf = X509_STORE_CTX_get0_cert(store_ctx);
  Result<ClientIdentity> identity = ca->VerifyClientCertificate(leaf);
  if (identity.ok()) {
    X509_STORE_CTX_set_error(store_ctx, X509_V_OK);
    return 1;
  }
  X509_STORE_CTX_set_error(store_ctx, X509_V_ERR_APPLICATION_VERIFICATION);
  return 0;
}

bool IsIdChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == ':' || c == '@' || c == '-';
}

}  // namespace

Status ValidateServiceAccountId(std::string_view id) {
  if (id.empty()) return InvalidArgumentError("service account id is empty");
  if (id.size() > kMaxServiceAccountIdLength) {
    return InvalidArgumentError("service account id is " + std::to_string(id.size()) +
                                " characters, more than the " +
                                std::to_string(kMaxServiceAccountIdLength) + " allowed");
  }
  for (size_t i = 0; i < id.size(); ++i) {
    if (!IsIdChar(id[i])) {
      return InvalidArgumentError("service account id has a character not allowed at offset " +
                                  std::to_string(i) + ": use letters, digits and . _ : @ -");
    }
  }
  return Status::Ok();
}

std::string ServiceAccountUri(std::string_view id) {
  return std::string(kServiceAccountUriPrefix) + std::string(id);
}

Result<std::string> ParseServiceAccountUri(std::string_view uri) {
  if (!uri.starts_with(kServiceAccountUriPrefix)) {
    return InvalidArgumentError("URI is not a custos service account (expected prefix " +
                                std::string(kServiceAccountUriPrefix) + ")");
  }
  std::string_view id = uri.substr(kServiceAccountUriPrefix.size());
  CUSTOS_RETURN_IF_ERROR(ValidateServiceAccountId(id));
  return std::string(id);
}

Result<PrincipalId> ServiceAccountPrincipal(const ClientIdentity& identity) {
  auto principal = PrincipalId::Make(PrincipalType::kServiceAccount, identity.service_account_id);
  if (!principal.ok()) {
    return InvalidArgumentError("client certificate's service account '" +
                                identity.service_account_id +
                                "' is not a valid principal id: " + principal.status().message());
  }
  return principal;
}

Status UseCertificateAndKey(SSL_CTX* ctx, std::string_view certificate_pem,
                            const crypto::SecretBytes& private_key_pem) {
  BioPtr cert_bio = MemoryBio(certificate_pem);
  X509Ptr cert(cert_bio ? PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!cert) {
    return InvalidArgumentError("TLS certificate: no PEM certificate in the input (" +
                                OpenSslError() + ")");
  }
  if (SSL_CTX_use_certificate(ctx, cert.get()) != 1) {
    return InvalidArgumentError("TLS certificate: OpenSSL refused it (" + OpenSslError() + ")");
  }
  // The rest of the input, if any, is the chain sent with the leaf.
  SSL_CTX_clear_chain_certs(ctx);
  while (X509* extra = PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr)) {
    if (SSL_CTX_add0_chain_cert(ctx, extra) != 1) {
      X509_free(extra);
      return InvalidArgumentError("TLS certificate chain: " + OpenSslError());
    }
  }
  ERR_clear_error();  // the loop ends on a "no start line" error
  const std::string_view key_text = common::AsChars(private_key_pem.span());
  BioPtr key_bio = MemoryBio(key_text);
  PkeyPtr key(key_bio ? PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr)
                      : nullptr);
  if (!key) {
    ERR_clear_error();  // never echo anything about key bytes
    return InvalidArgumentError("TLS private key: not a PEM private key");
  }
  if (SSL_CTX_use_PrivateKey(ctx, key.get()) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
    ERR_clear_error();
    return InvalidArgumentError(
        "TLS private key: it does not match the certificate (pass the key issued with it)");
  }
  return Status::Ok();
}

Status TrustOnly(SSL_CTX* ctx, std::string_view ca_certificate_pem) {
  X509Ptr ca = ReadCertificate(ca_certificate_pem);
  if (!ca) {
    return InvalidArgumentError("TLS trust: no PEM CA certificate in the input (" + OpenSslError() +
                                ")");
  }
  X509_STORE* store = X509_STORE_new();
  if (!store || X509_STORE_add_cert(store, ca.get()) != 1) {
    X509_STORE_free(store);
    return InternalError("TLS trust: cannot build the trust store (" + OpenSslError() + ")");
  }
  SSL_CTX_set_cert_store(ctx, store);  // takes ownership, drops the default paths
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  return Status::Ok();
}

Status RequireClientCertificates(SSL_CTX* ctx, CertificateAuthority& ca) {
  X509Ptr ca_cert = ReadCertificate(ca.certificate_pem());
  if (!ca_cert) {
    return InternalError("mTLS: cannot read this CA's own certificate (" + OpenSslError() + ")");
  }
  // The CertificateRequest names this CA, so a client with several certificates picks
  // the one it issued.
  STACK_OF(X509_NAME)* names = sk_X509_NAME_new_null();
  X509_NAME* name = names ? X509_NAME_dup(X509_get_subject_name(ca_cert.get())) : nullptr;
  if (!name || sk_X509_NAME_push(names, name) <= 0) {
    X509_NAME_free(name);
    sk_X509_NAME_pop_free(names, X509_NAME_free);
    return InternalError("mTLS: cannot build the client CA list (" + OpenSslError() + ")");
  }
  SSL_CTX_set_client_CA_list(ctx, names);  // takes ownership
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  SSL_CTX_set_cert_verify_callback(ctx, VerifyWithCa, &ca);
  return Status::Ok();
}

Result<PrincipalId> PeerServiceAccount(SSL* ssl, CertificateAuthority& ca) {
  if (SSL_get_verify_result(ssl) != X509_V_OK) {
    return UnauthenticatedError(
        "mTLS: the client's certificate was not verified in the "
        "handshake; configure the context with "
        "RequireClientCertificates");
  }
  X509* peer = SSL_get0_peer_certificate(ssl);
  if (!peer) {
    return UnauthenticatedError("mTLS: the client presented no certificate");
  }
  CUSTOS_ASSIGN_OR_RETURN(ClientIdentity identity, ca.VerifyClientCertificate(peer));
  CUSTOS_ASSIGN_OR_RETURN(PrincipalId principal, ServiceAccountPrincipal(identity));
  return principal;
}

}  // namespace custos::identity
