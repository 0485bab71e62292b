// mTLS identities: how a service account is named in a client certificate, and what a
// verified client certificate yields. The CA that issues and verifies them is ca.h.
//
// A custos client certificate carries exactly one SAN URI
// `custos://service-account/<id>` (the identity) and a subject CN (informational), and
// the clientAuth extended key usage.
//
// The TLS side (OpenSSL 3 libssl): RequireClientCertificates makes a server context ask
// every client for a certificate and fail the handshake unless the CA accepts it (issued
// by it, valid now, not revoked, clientAuth, one service-account URI), so a refused
// client never gets to send a request; PeerServiceAccount then names the principal.
// Thread-safety: free functions; safe from any thread. A configured SSL_CTX may be shared
// by concurrent handshakes (the CA is safe for concurrent use).
#pragma once

#include <openssl/types.h>

#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/status.h"
#include "crypto/secret.h"
#include "identity/directory.h"

namespace custos::identity {

class CertificateAuthority;

inline constexpr std::string_view kServiceAccountUriPrefix = "custos://service-account/";
inline constexpr size_t kMaxServiceAccountIdLength = 128;

// InvalidArgument unless `id` is 1..128 characters of [A-Za-z0-9._:@-] (so it is safe in a
// URI path and a certificate subject without escaping).
Status ValidateServiceAccountId(std::string_view id);
// "custos://service-account/<id>". Precondition: ValidateServiceAccountId(id) is OK.
std::string ServiceAccountUri(std::string_view id);
// The id in a service-account URI; InvalidArgument naming the problem otherwise.
Result<std::string> ParseServiceAccountUri(std::string_view uri);

// What VerifyClientCertificate returns for a certificate it accepts.
struct ClientIdentity {
  std::string service_account_id;  // from the SAN URI
  std::string serial_hex;          // lower-case hex, no leading zeros
  std::string common_name;
  common::TimePoint not_after;
};

// The principal a verified client certificate authenticates: `ServiceAccount::"<id>"`.
// InvalidArgument when the id is a valid certificate name but not a valid principal id
// (e.g. it contains ':'), so it cannot name a directory entry.
Result<PrincipalId> ServiceAccountPrincipal(const ClientIdentity& identity);

// Loads a certificate (PEM, optionally followed by its chain) and its private key (PEM)
// into `ctx`, checking that they match. InvalidArgument saying which part is bad.
Status UseCertificateAndKey(SSL_CTX* ctx, std::string_view certificate_pem,
                            const crypto::SecretBytes& private_key_pem);

// Makes `ctx` trust only the CA in `ca_certificate_pem` for the peer's certificate, and
// verify it (a client context checking the server; the server side uses
// RequireClientCertificates instead).
Status TrustOnly(SSL_CTX* ctx, std::string_view ca_certificate_pem);

// Server side: every handshake on `ctx` requires a client certificate, which `ca` must
// accept (CertificateAuthority::VerifyClientCertificate, audited on refusal); without
// one, or with one it refuses, the handshake fails. Also names the CA to clients, so
// they choose the right certificate. `ca` must outlive `ctx`.
Status RequireClientCertificates(SSL_CTX* ctx, CertificateAuthority& ca);

// After a handshake on a context set up by RequireClientCertificates: the client's
// service account, checked again against `ca` at its clock's now (a certificate revoked
// since the handshake is refused). Unauthenticated when there is no verified peer
// certificate.
Result<PrincipalId> PeerServiceAccount(SSL* ssl, CertificateAuthority& ca);

}  // namespace custos::identity
