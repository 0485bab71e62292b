// Real TLS 1.3 handshakes over a socketpair between an OpenSSL server set up with
// RequireClientCertificates and an OpenSSL client, with certificates from the data
// directory's CA: a valid client certificate maps to its ServiceAccount; one from another
// CA, an expired one, a revoked one and none at all fail the handshake, each refusal with
// its reason in the audit log.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "identity/ca.h"
#include "identity/mtls.h"
#include "identity/openssl_handles.h"
#include "identity_test_util.h"

namespace custos::identity {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

using SslCtxPtr = detail::OpenSslPtr<SSL_CTX, SSL_CTX_free>;

// What each side saw of one connection.
struct Outcome {
  bool server_handshake_ok = false;
  int server_reason = 0;  // ERR_GET_REASON of the server's first error
  long server_verify_result = X509_V_OK;
  Result<PrincipalId> peer = UnauthenticatedError("no handshake");
  bool client_handshake_ok = false;
  std::string client_received;  // what the server sent after a handshake
};

SslCtxPtr NewContext(const SSL_METHOD* method) {
  SslCtxPtr ctx(SSL_CTX_new(method));
  EXPECT_NE(ctx, nullptr);
  EXPECT_EQ(SSL_CTX_set_min_proto_version(ctx.get(), TLS1_3_VERSION), 1);
  return ctx;
}

class MtlsHandshakeTest : public testing::IdentityTest {
 protected:
  // The clock starts at the real now: the client checks the server's certificate
  // against OpenSSL's own clock.
  MtlsHandshakeTest() : IdentityTest(common::SystemClock().Now()) {}

  void SetUp() override {
    ::signal(SIGPIPE, SIG_IGN);  // a side that gave up may be written to
    IdentityTest::SetUp();
    auto ca = CertificateAuthority::Create(kv(), keyring(), *log_, salt_, clock_);
    ASSERT_TRUE(ca.ok()) << ca.status().ToString();
    ca_ = std::move(*ca);
    MustCreatePrincipal(PrincipalId::ServiceAccount("fraud-scorer"));
    auto server_cert = ca_->IssueServerCertificate({});
    ASSERT_TRUE(server_cert.ok()) << server_cert.status().ToString();
    server_ctx_ = NewContext(TLS_server_method());
    ASSERT_TRUE(UseCertificateAndKey(server_ctx_.get(), server_cert->certificate_pem,
                                     server_cert->private_key_pem)
                    .ok());
    ASSERT_TRUE(RequireClientCertificates(server_ctx_.get(), *ca_).ok());
  }

  // A client that trusts this CA for the server and presents `cert` (if any).
  SslCtxPtr ClientContext(const IssuedCertificate* cert) {
    SslCtxPtr ctx = NewContext(TLS_client_method());
    EXPECT_TRUE(TrustOnly(ctx.get(), ca_->certificate_pem()).ok());
    if (cert) {
      Status used = UseCertificateAndKey(ctx.get(), cert->certificate_pem, cert->private_key_pem);
      EXPECT_TRUE(used.ok()) << used.ToString();
    }
    return ctx;
  }

  IssuedCertificate MustIssueClient(std::chrono::hours validity = kDefaultClientCertValidity) {
    auto issued =
        ca_->IssueClientCertificate({.service_account_id = "fraud-scorer", .validity = validity});
    EXPECT_TRUE(issued.ok()) << issued.status().ToString();
    return issued.ok() ? std::move(*issued) : IssuedCertificate{};
  }

  // One connection: the server accepts, runs `after_accept`, maps its peer and answers
  // "hello"; the client connects (checking the server's name) and reads the answer.
  Outcome Connect(SSL_CTX* client_ctx, const std::function<void()>& after_accept = {}) {
    Outcome out;
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    timeval timeout{.tv_sec = 20, .tv_usec = 0};  // no hang if a side misbehaves
    for (int fd : fds) ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);

    std::thread server([&] {
      SSL* ssl = SSL_new(server_ctx_.get());
      SSL_set_fd(ssl, fds[0]);
      if (SSL_accept(ssl) == 1) {
        out.server_handshake_ok = true;
        if (after_accept) after_accept();
        out.peer = PeerServiceAccount(ssl, *ca_);
        SSL_write(ssl, "hello", 5);
        SSL_shutdown(ssl);
      } else {
        out.server_reason = ERR_GET_REASON(ERR_peek_error());
        out.server_verify_result = SSL_get_verify_result(ssl);
      }
      ERR_clear_error();
      SSL_free(ssl);
      ::close(fds[0]);
    });

    SSL* ssl = SSL_new(client_ctx);
    SSL_set_fd(ssl, fds[1]);
    SSL_set_tlsext_host_name(ssl, "localhost");
    SSL_set1_host(ssl, "localhost");
    if (SSL_connect(ssl) == 1) {
      out.client_handshake_ok = true;
      char buf[16];
      // In TLS 1.3 the server checks the client's certificate after the client's
      // handshake is done, so a refusal shows here, as an alert instead of data.
      const int n = SSL_read(ssl, buf, sizeof buf);
      if (n > 0) out.client_received.assign(buf, static_cast<size_t>(n));
    }
    ERR_clear_error();
    SSL_free(ssl);
    ::close(fds[1]);
    server.join();
    return out;
  }

  // The detail of the last "identity.cert.verify" refusal.
  std::string LastRefusal() {
    std::string detail;
    for (const audit::AuditEvent& e : Events()) {
      if (e.action == "identity.cert.verify") detail = e.outcome_detail;
    }
    return detail;
  }

  void ExpectRefusedByCa(const Outcome& out) {
    EXPECT_FALSE(out.server_handshake_ok);
    EXPECT_EQ(out.server_reason, SSL_R_CERTIFICATE_VERIFY_FAILED);
    EXPECT_EQ(out.server_verify_result, X509_V_ERR_APPLICATION_VERIFICATION);
    EXPECT_EQ(out.client_received, "");
  }

  std::unique_ptr<CertificateAuthority> ca_;
  SslCtxPtr server_ctx_;
};

TEST_F(MtlsHandshakeTest, ValidClientCertificateMapsToItsServiceAccount) {
  IssuedCertificate cert = MustIssueClient();
  SslCtxPtr client = ClientContext(&cert);
  Outcome out = Connect(client.get());
  ASSERT_TRUE(out.server_handshake_ok);
  EXPECT_TRUE(out.client_handshake_ok);
  EXPECT_EQ(out.client_received, "hello");
  ASSERT_TRUE(out.peer.ok()) << out.peer.status().ToString();
  EXPECT_EQ(*out.peer, PrincipalId::ServiceAccount("fraud-scorer"));
  EXPECT_EQ(out.peer->ToString(), "ServiceAccount::\"fraud-scorer\"");
  EXPECT_TRUE(dir_->CheckActive(*out.peer).ok());
  EXPECT_EQ(LastRefusal(), "");
}

TEST_F(MtlsHandshakeTest, ClientCertificateOfAnotherCaFailsTheHandshake) {
  ForeignCertificate foreign = MustIssueFromAnotherCa("fraud-scorer");
  SslCtxPtr client = ClientContext(&foreign.certificate);
  Outcome out = Connect(client.get());
  ExpectRefusedByCa(out);
  EXPECT_THAT(LastRefusal(), HasSubstr("refused: it was not issued by this custos CA"));
}

TEST_F(MtlsHandshakeTest, ExpiredClientCertificateFailsTheHandshake) {
  const common::TimePoint now = clock_.Now();
  clock_.Set(now - 2h);
  IssuedCertificate cert = MustIssueClient(1h);
  clock_.Set(now);
  SslCtxPtr client = ClientContext(&cert);
  Outcome out = Connect(client.get());
  ExpectRefusedByCa(out);
  EXPECT_THAT(LastRefusal(), HasSubstr("refused: it expired at "));
}

TEST_F(MtlsHandshakeTest, RevokedClientCertificateFailsTheHandshake) {
  IssuedCertificate cert = MustIssueClient();
  SslCtxPtr client = ClientContext(&cert);
  // Accepted first, refused from the first handshake after the revocation.
  ASSERT_TRUE(Connect(client.get()).server_handshake_ok);
  ASSERT_TRUE(ca_->RevokeCertificate(cert.serial_hex, admin_).ok());
  Outcome out = Connect(client.get());
  ExpectRefusedByCa(out);
  EXPECT_EQ(LastRefusal(),
            "client certificate (serial " + cert.serial_hex + ") refused: it was revoked");
}

TEST_F(MtlsHandshakeTest, NoClientCertificateFailsTheHandshake) {
  SslCtxPtr client = ClientContext(nullptr);
  Outcome out = Connect(client.get());
  EXPECT_FALSE(out.server_handshake_ok);
  EXPECT_EQ(out.server_reason, SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE);
  EXPECT_EQ(out.client_received, "");
  EXPECT_EQ(LastRefusal(), "");  // refused by TLS itself, before the CA is asked
}

TEST_F(MtlsHandshakeTest, PeerServiceAccountRefusesACertificateRevokedAfterTheHandshake) {
  IssuedCertificate cert = MustIssueClient();
  SslCtxPtr client = ClientContext(&cert);
  Outcome out = Connect(client.get(),
                        [&] { ASSERT_TRUE(ca_->RevokeCertificate(cert.serial_hex, admin_).ok()); });
  EXPECT_TRUE(out.server_handshake_ok);
  EXPECT_EQ(out.peer.status(), UnauthenticatedError("client certificate (serial " +
                                                    cert.serial_hex + ") refused: it was revoked"));
}

TEST(MtlsPrincipalTest, ServiceAccountPrincipalNeedsAValidPrincipalId) {
  auto ok = ServiceAccountPrincipal({.service_account_id = "fraud-scorer"});
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, PrincipalId::ServiceAccount("fraud-scorer"));
  // ':' is allowed in a certificate name but not in a principal id.
  auto bad = ServiceAccountPrincipal({.service_account_id = "team:scorer"});
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(),
              HasSubstr("client certificate's service account 'team:scorer' is not a valid "
                        "principal id: "));
}

TEST(MtlsContextTest, UseCertificateAndKeyRefusesBadInput) {
  SslCtxPtr ctx = NewContext(TLS_server_method());
  EXPECT_EQ(UseCertificateAndKey(ctx.get(), "not pem", crypto::SecretBytes(1)).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(TrustOnly(ctx.get(), "not pem").code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace custos::identity
