// The mTLS certificate authority over a real data directory: creation once per directory,
// CA/client/server certificate profiles checked with OpenSSL's own chain verification,
// issuing from a CSR, and every refusal of a client certificate (another CA, expired, not
// yet valid, revoked, wrong EKU, no service-account SAN) with its exact message; audit.
#include "identity/ca.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>

#include "common/key_encoding.h"
#include "identity/openssl_handles.h"
#include "identity_test_util.h"
#include "storage/encrypted_keyspace.h"

namespace custos::identity {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using namespace std::chrono_literals;

const common::TimePoint kStart = common::FromUnixSeconds(1'900'000'000);

using detail::PkeyPtr;
using detail::X509Ptr;

X509Ptr ParseCert(std::string_view pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509Ptr cert(PEM_read_bio_X509(bio, nullptr, nullptr, nullptr));
  BIO_free(bio);
  return cert;
}

PkeyPtr ParseKey(std::string_view pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  PkeyPtr key(PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr));
  BIO_free(bio);
  return key;
}

// OpenSSL's verdict on `leaf` against `ca` for `purpose` at time `at`.
int OpenSslVerify(X509* ca, X509* leaf, int purpose, common::TimePoint at) {
  X509_STORE* store = X509_STORE_new();
  X509_STORE_add_cert(store, ca);
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  X509_STORE_CTX_init(ctx, store, leaf, nullptr);
  X509_STORE_CTX_set_purpose(ctx, purpose);
  X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx), common::ToUnixSeconds(at));
  X509_VERIFY_PARAM_set_flags(X509_STORE_CTX_get0_param(ctx), X509_V_FLAG_X509_STRICT);
  int result = X509_verify_cert(ctx) == 1 ? X509_V_OK : X509_STORE_CTX_get_error(ctx);
  X509_STORE_CTX_free(ctx);
  X509_STORE_free(store);
  return result;
}

std::string SanText(X509* cert) {
  auto* names =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  std::string out;
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names); ++i) {
    GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
    if (name->type == GEN_URI || name->type == GEN_DNS) {
      const ASN1_STRING* s = name->d.ia5;
      out += (name->type == GEN_URI ? "URI:" : "DNS:") +
             std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                         ASN1_STRING_length(s)) +
             ";";
    } else if (name->type == GEN_IPADD) {
      out += "IP(" + std::to_string(ASN1_STRING_length(name->d.iPAddress)) + ");";
    }
  }
  GENERAL_NAMES_free(names);
  return out;
}

class CaTest : public testing::IdentityTest {
 protected:
  CaTest() : IdentityTest(kStart) {}

  void SetUp() override {
    IdentityTest::SetUp();
    auto ca = CertificateAuthority::Create(kv(), keyring(), *log_, salt_, clock_, options_);
    ASSERT_TRUE(ca.ok()) << ca.status().ToString();
    ca_ = std::move(*ca);
  }

  IssuedCertificate MustIssueClient(std::string id = "fraud-scorer") {
    auto issued = ca_->IssueClientCertificate({.service_account_id = std::move(id)});
    EXPECT_TRUE(issued.ok()) << issued.status().ToString();
    return issued.ok() ? std::move(*issued) : IssuedCertificate{};
  }

  void ExpectRefused(std::string_view pem, std::string_view fragment) {
    auto identity = ca_->VerifyClientCertificate(pem);
    ASSERT_FALSE(identity.ok()) << "accepted; expected: " << fragment;
    EXPECT_EQ(identity.status().code(), StatusCode::kUnauthenticated);
    EXPECT_THAT(identity.status().message(), HasSubstr(std::string(fragment)));
  }

  // Signs `cert` with the stored CA key, as only the CA could: for profiles the CA
  // itself never issues (no SAN, no EKU).
  void SignWithCaKey(X509* cert) {
    auto space = storage::EncryptedKeyspace::Open(kv(), storage::Keyspace::kIdentity, keyring(),
                                                  kCaKeyOwner);
    ASSERT_TRUE(space.ok());
    auto pem = space->Get(common::KeyBuilder().AddString("ca-private-key").Release());
    ASSERT_TRUE(pem.ok() && pem->has_value());
    PkeyPtr key = ParseKey(**pem);
    ASSERT_NE(key, nullptr);
    X509Ptr ca = ParseCert(ca_->certificate_pem());
    X509_set_issuer_name(cert, X509_get_subject_name(ca.get()));
    ASSERT_GT(X509_sign(cert, key.get(), EVP_sha256()), 0);
  }

  CaOptions options_;
  std::unique_ptr<CertificateAuthority> ca_;
};

TEST_F(CaTest, CaCertificateProfile) {
  X509Ptr ca = ParseCert(ca_->certificate_pem());
  ASSERT_NE(ca, nullptr);
  EXPECT_EQ(X509_check_ca(ca.get()), 1);
  EXPECT_EQ(X509_get_version(ca.get()), X509_VERSION_3);
  int crit = -1;
  auto* bc = static_cast<BASIC_CONSTRAINTS*>(
      X509_get_ext_d2i(ca.get(), NID_basic_constraints, &crit, nullptr));
  ASSERT_NE(bc, nullptr);
  EXPECT_TRUE(bc->ca);
  EXPECT_EQ(crit, 1);
  BASIC_CONSTRAINTS_free(bc);
  EXPECT_EQ(X509_get_key_usage(ca.get()), static_cast<uint32_t>(KU_KEY_CERT_SIGN | KU_CRL_SIGN));
  auto* ku =
      static_cast<ASN1_BIT_STRING*>(X509_get_ext_d2i(ca.get(), NID_key_usage, &crit, nullptr));
  EXPECT_EQ(crit, 1);
  ASN1_BIT_STRING_free(ku);
  EXPECT_EQ(EVP_PKEY_get_base_id(X509_get0_pubkey(ca.get())), EVP_PKEY_EC);
  EXPECT_EQ(OpenSslVerify(ca.get(), ca.get(), X509_PURPOSE_ANY, kStart), X509_V_OK);
  char* cn = X509_NAME_oneline(X509_get_subject_name(ca.get()), nullptr, 0);
  EXPECT_STREQ(cn, "/O=custos/CN=custos local CA");
  OPENSSL_free(cn);
}

TEST_F(CaTest, CreatedOncePerDataDirectory) {
  auto again = CertificateAuthority::Create(kv(), keyring(), *log_, salt_, clock_);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);
  auto opened = CertificateAuthority::Open(kv(), keyring(), *log_, salt_, clock_);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ((*opened)->certificate_pem(), ca_->certificate_pem());
  // The reopened CA issues certificates the original verifies (same key).
  auto issued = (*opened)->IssueClientCertificate({.service_account_id = "svc"});
  ASSERT_TRUE(issued.ok());
  EXPECT_TRUE(ca_->VerifyClientCertificate(issued->certificate_pem).ok());

  testing::OtherDataDir other;
  auto none = CertificateAuthority::Open(other.kv(), other.keyring(), *log_, salt_, clock_);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(none.status().message(), HasSubstr("run `custos init`"));
  EXPECT_FALSE(*CertificateAuthority::Exists(other.kv()));
  EXPECT_TRUE(*CertificateAuthority::Exists(kv()));
}

TEST_F(CaTest, PrivateKeyIsNotStoredInClear) {
  auto space =
      storage::EncryptedKeyspace::Open(kv(), storage::Keyspace::kIdentity, keyring(), kCaKeyOwner);
  ASSERT_TRUE(space.ok());
  auto raw = kv().Get(storage::Keyspace::kIdentity,
                      common::KeyBuilder().AddString("ca-private-key").Release());
  ASSERT_TRUE(raw.ok() && raw->has_value());
  EXPECT_EQ((*raw)->find("PRIVATE KEY"), std::string::npos);
  auto opened = space->Decrypt(common::KeyBuilder().AddString("ca-private-key").Release(), **raw);
  ASSERT_TRUE(opened.ok());
  EXPECT_THAT(*opened, StartsWith("-----BEGIN PRIVATE KEY-----"));
}

TEST_F(CaTest, ClientCertificateProfileVerifiesWithOpenSsl) {
  IssuedCertificate issued = MustIssueClient();
  X509Ptr ca = ParseCert(ca_->certificate_pem());
  X509Ptr leaf = ParseCert(issued.certificate_pem);
  ASSERT_NE(leaf, nullptr);
  EXPECT_EQ(OpenSslVerify(ca.get(), leaf.get(), X509_PURPOSE_SSL_CLIENT, kStart + 1h), X509_V_OK);
  EXPECT_EQ(OpenSslVerify(ca.get(), leaf.get(), X509_PURPOSE_SSL_SERVER, kStart + 1h),
            X509_V_ERR_INVALID_PURPOSE);
  EXPECT_EQ(OpenSslVerify(ca.get(), leaf.get(), X509_PURPOSE_SSL_CLIENT, kStart + 31 * 24h),
            X509_V_ERR_CERT_HAS_EXPIRED);
  EXPECT_EQ(X509_check_ca(leaf.get()), 0);
  EXPECT_EQ(SanText(leaf.get()), "URI:custos://service-account/fraud-scorer;");
  EXPECT_EQ(issued.not_before, kStart);
  EXPECT_EQ(issued.not_after - issued.not_before, 30 * 24h);
  EXPECT_EQ(issued.serial_hex.size(), 32u);
  PkeyPtr key = ParseKey(common::AsChars(issued.private_key_pem.span()));
  ASSERT_NE(key, nullptr);
  EXPECT_EQ(X509_check_private_key(leaf.get(), key.get()), 1);

  auto identity = ca_->VerifyClientCertificate(issued.certificate_pem);
  ASSERT_TRUE(identity.ok()) << identity.status().ToString();
  EXPECT_EQ(identity->service_account_id, "fraud-scorer");
  EXPECT_EQ(identity->serial_hex, issued.serial_hex);
  EXPECT_EQ(identity->common_name, "fraud-scorer");
  EXPECT_EQ(identity->not_after, issued.not_after);
  // The same through the X509* entry point, and with the CA appended to the PEM.
  EXPECT_EQ(ca_->VerifyClientCertificate(leaf.get())->service_account_id, "fraud-scorer");
  EXPECT_TRUE(ca_->VerifyClientCertificate(issued.certificate_pem + ca_->certificate_pem()).ok());
}

TEST_F(CaTest, ValidityLimits) {
  auto year = ca_->IssueClientCertificate({.service_account_id = "svc", .validity = 397 * 24h});
  ASSERT_TRUE(year.ok());
  auto longer = ca_->IssueClientCertificate({.service_account_id = "svc", .validity = 398 * 24h});
  ASSERT_FALSE(longer.ok());
  EXPECT_EQ(longer.status(), InvalidArgumentError("client certificate validity of 398 days is "
                                                  "longer than the maximum of 397 days"));
  auto bad_id = ca_->IssueClientCertificate({.service_account_id = "a/b"});
  EXPECT_EQ(bad_id.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(bad_id.status().message(), HasSubstr("at offset 1"));
}

TEST_F(CaTest, ExpiredAndNotYetValidRefused) {
  IssuedCertificate issued = MustIssueClient();
  clock_.Advance(30 * 24h + 1s);
  ExpectRefused(issued.certificate_pem, "refused: it expired at " +
                                            common::FormatRfc3339(issued.not_after) +
                                            "; issue a new one with `custos ca issue`");
  clock_.Set(kStart - 1h);
  ExpectRefused(issued.certificate_pem,
                "refused: it is not valid before " + common::FormatRfc3339(kStart));
}

TEST_F(CaTest, CertificateFromAnotherCaRefused) {
  ForeignCertificate foreign = MustIssueFromAnotherCa("fraud-scorer");
  // Same subject names as ours, different key: OpenSSL finds our CA by name and the
  // signature check fails.
  ExpectRefused(foreign.certificate.certificate_pem, "it was not issued by this custos CA");
  ExpectRefused(foreign.ca_certificate_pem, "it was not issued by this custos CA");
  ExpectRefused("not a certificate", "no PEM certificate");
}

TEST_F(CaTest, RevokedCertificateRefusedAndPersisted) {
  IssuedCertificate a = MustIssueClient("svc-a");
  IssuedCertificate b = MustIssueClient("svc-b");
  ASSERT_TRUE(ca_->RevokeCertificate(a.serial_hex, {.principal_id = "User::\"steward\""}).ok());
  ExpectRefused(a.certificate_pem, "(serial " + a.serial_hex + ") refused: it was revoked");
  EXPECT_TRUE(ca_->VerifyClientCertificate(b.certificate_pem).ok());
  EXPECT_EQ(ca_->RevokeCertificate("00ff", {}).code(), StatusCode::kNotFound);

  auto reopened = CertificateAuthority::Open(kv(), keyring(), *log_, salt_, clock_);
  ASSERT_TRUE(reopened.ok());
  EXPECT_TRUE((*reopened)->IsRevoked(a.serial_hex));
  EXPECT_FALSE((*reopened)->IsRevoked(b.serial_hex));
  auto list = (*reopened)->ListIssued();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  int revoked = 0;
  for (const auto& r : *list) {
    EXPECT_EQ(r.kind, "client");
    revoked += r.revoked;
  }
  EXPECT_EQ(revoked, 1);
}

TEST_F(CaTest, ServerCertificateIsNotAClientCertificate) {
  auto server =
      ca_->IssueServerCertificate({.dns_names = {"custos.internal"}, .ip_addresses = {"10.0.0.7"}});
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  X509Ptr ca = ParseCert(ca_->certificate_pem());
  X509Ptr leaf = ParseCert(server->certificate_pem);
  EXPECT_EQ(OpenSslVerify(ca.get(), leaf.get(), X509_PURPOSE_SSL_SERVER, kStart + 1h), X509_V_OK);
  EXPECT_EQ(X509_check_host(leaf.get(), "localhost", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_host(leaf.get(), "custos.internal", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_ip_asc(leaf.get(), "127.0.0.1", 0), 1);
  EXPECT_EQ(X509_check_ip_asc(leaf.get(), "::1", 0), 1);
  EXPECT_EQ(X509_check_ip_asc(leaf.get(), "10.0.0.7", 0), 1);
  EXPECT_EQ(X509_check_host(leaf.get(), "evil.example", 0, 0, nullptr), 0);
  EXPECT_EQ(server->not_after - server->not_before, 397 * 24h);
  ExpectRefused(server->certificate_pem, "it lacks the clientAuth extended key usage");

  EXPECT_EQ(ca_->IssueServerCertificate({.dns_names = {"bad name"}}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ca_->IssueServerCertificate({.ip_addresses = {"300.1.1.1"}}).status(),
            InvalidArgumentError("'300.1.1.1' is not an IPv4 or IPv6 address"));
}

TEST_F(CaTest, CertificateWithoutServiceAccountSanRefused) {
  PkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  X509Ptr cert(X509_new());
  X509_set_version(cert.get(), X509_VERSION_3);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 4242);
  ASN1_TIME_set(X509_getm_notBefore(cert.get()), common::ToUnixSeconds(kStart));
  ASN1_TIME_set(X509_getm_notAfter(cert.get()), common::ToUnixSeconds(kStart + 24h));
  X509_NAME_add_entry_by_txt(X509_get_subject_name(cert.get()), "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>("no-san"), -1, -1, 0);
  X509_set_pubkey(cert.get(), key.get());
  X509Ptr ca = ParseCert(ca_->certificate_pem());
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, ca.get(), cert.get(), nullptr, nullptr, 0);
  for (auto [nid, value] : {std::pair{NID_subject_key_identifier, "hash"},
                            std::pair{NID_authority_key_identifier, "keyid:always"}}) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    ASSERT_NE(ext, nullptr);
    X509_add_ext(cert.get(), ext, -1);
    X509_EXTENSION_free(ext);
  }
  X509_EXTENSION* eku = X509V3_EXT_conf_nid(nullptr, &ctx, NID_ext_key_usage, "clientAuth");
  X509_add_ext(cert.get(), eku, -1);
  X509_EXTENSION_free(eku);
  X509_EXTENSION* san =
      X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, "URI:https://example.com/x");
  X509_add_ext(cert.get(), san, -1);
  X509_EXTENSION_free(san);
  SignWithCaKey(cert.get());
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, cert.get());
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(len));
  BIO_free(bio);
  ExpectRefused(pem,
                "(serial 1092) refused: it has no subject alternative name URI "
                "custos://service-account/<id>");
}

TEST_F(CaTest, IssuesFromACsrWithoutSeeingTheKey) {
  PkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  X509_REQ* req = X509_REQ_new();
  X509_REQ_set_pubkey(req, key.get());
  X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(req), "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>("ignored"), -1, -1, 0);
  ASSERT_GT(X509_REQ_sign(req, key.get(), nullptr), 0);
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509_REQ(bio, req);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string csr(data, static_cast<size_t>(len));
  BIO_free(bio);
  X509_REQ_free(req);

  auto issued = ca_->IssueClientCertificate({.service_account_id = "edge-svc", .csr_pem = csr});
  ASSERT_TRUE(issued.ok()) << issued.status().ToString();
  EXPECT_TRUE(issued->private_key_pem.empty());
  X509Ptr leaf = ParseCert(issued->certificate_pem);
  EXPECT_EQ(X509_check_private_key(leaf.get(), key.get()), 1);
  EXPECT_EQ(ca_->VerifyClientCertificate(issued->certificate_pem)->service_account_id, "edge-svc");

  auto bad = ca_->IssueClientCertificate({.service_account_id = "x", .csr_pem = "junk"});
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), HasSubstr("not a PEM PKCS#10 request"));
}

TEST_F(CaTest, AuditsIssueRevokeAndRefusals) {
  const uint64_t start = log_->size();
  IssuedCertificate a = MustIssueClient("svc-a");
  ASSERT_TRUE(ca_->RevokeCertificate(a.serial_hex, {.principal_id = "User::\"steward\""}).ok());
  ExpectRefused(a.certificate_pem, "revoked");
  ASSERT_EQ(log_->size(), start + 3);
  auto issue = log_->ReadEvent(start);
  ASSERT_TRUE(issue.ok());
  EXPECT_EQ(issue->action, "identity.cert.issue");
  ASSERT_EQ(issue->resources.size(), 1u);
  EXPECT_EQ(issue->resources[0], (audit::ResourceRef{"ServiceAccount", "svc-a", 0}));
  EXPECT_THAT(issue->outcome_detail, HasSubstr("serial=" + a.serial_hex));
  auto revoke = log_->ReadEvent(start + 1);
  EXPECT_EQ(revoke->action, "identity.cert.revoke");
  EXPECT_EQ(revoke->principal_id, "User::\"steward\"");
  auto refusal = log_->ReadEvent(start + 2);
  EXPECT_EQ(refusal->action, "identity.cert.verify");
  EXPECT_EQ(refusal->outcome, audit::Outcome::kDenied);
  EXPECT_THAT(refusal->outcome_detail, HasSubstr("it was revoked"));

  // Fail closed: no certificate leaves the CA unless its issue event is recorded.
  log_->Close();
  auto refused = ca_->IssueClientCertificate({.service_account_id = "svc-b"});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(refused.status().message(), HasSubstr("identity.cert.issue"));
}

class Ed25519CaTest : public CaTest {
 protected:
  void SetUp() override {
    options_.key_type = CertKeyType::kEd25519;
    CaTest::SetUp();
  }
};

TEST_F(Ed25519CaTest, Ed25519CaIssuesVerifiableCertificates) {
  X509Ptr ca = ParseCert(ca_->certificate_pem());
  EXPECT_EQ(EVP_PKEY_get_base_id(X509_get0_pubkey(ca.get())), EVP_PKEY_ED25519);
  auto issued =
      ca_->IssueClientCertificate({.service_account_id = "svc", .key_type = CertKeyType::kEd25519});
  ASSERT_TRUE(issued.ok());
  X509Ptr leaf = ParseCert(issued->certificate_pem);
  EXPECT_EQ(OpenSslVerify(ca.get(), leaf.get(), X509_PURPOSE_SSL_CLIENT, kStart), X509_V_OK);
  EXPECT_EQ(ca_->VerifyClientCertificate(issued->certificate_pem)->service_account_id, "svc");
}

}  // namespace
}  // namespace custos::identity
