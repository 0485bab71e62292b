// The data directory's mTLS certificate authority over OpenSSL 3's X509 API.
#include "identity/ca.h"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <ctime>
#include <mutex>

#include "common/key_encoding.h"
#include "crypto/random.h"
#include "identity/openssl_handles.h"
#include "storage/encrypted_keyspace.h"

namespace custos::identity {
namespace {

using detail::BioPtr;
using detail::BnPtr;
using detail::ExtPtr;
using detail::NamesPtr;
using detail::OpenSslError;
using detail::PkeyPtr;
using detail::ReqPtr;
using detail::StoreCtxPtr;
using detail::StorePtr;
using detail::X509Ptr;

constexpr std::string_view kCertRecord = "ca-certificate";
constexpr std::string_view kKeyRecord = "ca-private-key";
constexpr std::string_view kIssuedTag = "ca-issued";
constexpr std::string_view kRevokedTag = "ca-revoked";
constexpr std::chrono::hours kMaxCaValidity{24 * 365 * 30};
// Longest PEM input accepted (a certificate chain or a CSR is a few KiB).
constexpr size_t kMaxPemBytes = 64 * 1024;

std::string RecordKey(std::string_view name) {
  return common::KeyBuilder().AddString(name).Release();
}
std::string SerialKey(std::string_view tag, std::string_view serial) {
  return common::KeyBuilder().AddString(tag).AddString(serial).Release();
}

Status OpenSslFailure(std::string_view what) {
  return InternalError(std::string(what) + " failed: " + OpenSslError());
}

std::string BioToString(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return std::string(data, len > 0 ? static_cast<size_t>(len) : 0);
}

Result<PkeyPtr> GenerateKey(CertKeyType type) {
  EVP_PKEY* key = type == CertKeyType::kEd25519
                      ? EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519")
                      : EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  if (!key) return OpenSslFailure("key generation");
  return PkeyPtr(key);
}

// PKCS#8 PEM in a zeroizing buffer (the BIO is in OpenSSL's secure heap and cleared).
Result<crypto::SecretBytes> PrivateKeyPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_secmem()));
  if (!bio ||
      PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return OpenSslFailure("PEM_write_bio_PrivateKey");
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return crypto::SecretBytes::CopyOf(
      common::ByteView(reinterpret_cast<const uint8_t*>(data), static_cast<size_t>(len)));
}

Result<std::string> CertificatePem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) return OpenSslFailure("PEM_write_bio_X509");
  return BioToString(bio.get());
}

// EdDSA signs without a separate digest; ECDSA and RSA with SHA-256.
const EVP_MD* SigningDigest(EVP_PKEY* key) {
  return EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519 ? nullptr : EVP_sha256();
}

Status AddExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  ExtPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) {
    return OpenSslFailure(std::string("adding extension ") + OBJ_nid2sn(nid) + "=" + value);
  }
  return Status::Ok();
}

// A random positive 128-bit serial (RFC 5280 allows up to 20 octets).
Result<std::string> NewSerial(X509* cert) {
  common::Bytes raw = crypto::RandomBytes(16);
  raw[0] = static_cast<uint8_t>((raw[0] & 0x7f) | 0x40);  // positive, full length
  BnPtr bn(BN_bin2bn(raw.data(), static_cast<int>(raw.size()), nullptr));
  if (!bn || !BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert))) {
    return OpenSslFailure("setting the serial number");
  }
  return common::HexEncode(raw);
}

std::string SerialHex(const X509* cert) {
  BnPtr bn(ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr));
  if (!bn) return "";
  char* text = BN_bn2hex(bn.get());
  std::string hex(text ? text : "");
  OPENSSL_free(text);
  std::transform(hex.begin(), hex.end(), hex.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (!hex.empty() && hex[0] == '-') return "";
  size_t first = hex.find_first_not_of('0');
  return first == std::string::npos ? "0" : hex.substr(first);
}

common::TimePoint AsnTime(const ASN1_TIME* t) {
  std::tm tm{};
  if (!t || ASN1_TIME_to_tm(t, &tm) != 1) return common::TimePoint{};
  return common::FromUnixSeconds(static_cast<int64_t>(timegm(&tm)));
}

Status SetValidity(X509* cert, common::TimePoint not_before, common::TimePoint not_after) {
  if (!ASN1_TIME_set(X509_getm_notBefore(cert),
                     static_cast<time_t>(common::ToUnixSeconds(not_before))) ||
      !ASN1_TIME_set(X509_getm_notAfter(cert),
                     static_cast<time_t>(common::ToUnixSeconds(not_after)))) {
    return OpenSslFailure("setting the validity period");
  }
  return Status::Ok();
}

Status SetName(X509_NAME* name, const std::string& common_name) {
  if (X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>("custos"), -1, -1,
                                 0) != 1 ||
      X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(common_name.c_str()), -1,
                                 -1, 0) != 1) {
    return OpenSslFailure("setting the subject name");
  }
  return Status::Ok();
}

std::string CommonName(X509* cert) {
  X509_NAME* name = X509_get_subject_name(cert);
  int index = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (index < 0) return "";
  ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, index));
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(data)),
                     static_cast<size_t>(ASN1_STRING_length(data)));
}

Status CheckValidity(std::chrono::hours validity, std::chrono::hours max, std::string_view what) {
  if (validity <= std::chrono::hours(0)) {
    return InvalidArgumentError(std::string(what) + " validity must be positive");
  }
  if (validity > max) {
    return InvalidArgumentError(std::string(what) + " validity of " +
                                std::to_string(validity.count() / 24) +
                                " days is longer than "
                                "the maximum of " +
                                std::to_string(max.count() / 24) + " days");
  }
  return Status::Ok();
}

Status CheckDnsName(std::string_view name) {
  std::string_view rest = name.starts_with("*.") ? name.substr(2) : name;
  if (rest.empty() || rest.size() > 253) {
    return InvalidArgumentError("DNS name '" + std::string(name.substr(0, 64)) +
                                "' is empty or longer than 253 characters");
  }
  for (char c : rest) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.') {
      return InvalidArgumentError("DNS name '" + std::string(name.substr(0, 64)) +
                                  "' has a character other than letters, digits, '-' and '.'");
    }
  }
  return Status::Ok();
}

Status CheckIpAddress(const std::string& ip) {
  unsigned char buf[16];
  if (inet_pton(AF_INET, ip.c_str(), buf) != 1 && inet_pton(AF_INET6, ip.c_str(), buf) != 1) {
    return InvalidArgumentError("'" + ip.substr(0, 64) + "' is not an IPv4 or IPv6 address");
  }
  return Status::Ok();
}

// The public key of a CSR whose self-signature verifies (proof of possession).
Result<PkeyPtr> KeyFromCsr(std::string_view csr_pem) {
  if (csr_pem.size() > kMaxPemBytes) {
    return InvalidArgumentError("the certificate signing request is larger than 64 KiB");
  }
  BioPtr bio = detail::MemoryBio(csr_pem);
  ReqPtr req(bio ? PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!req) {
    ERR_clear_error();
    return InvalidArgumentError(
        "the certificate signing request is not a PEM PKCS#10 request (-----BEGIN CERTIFICATE "
        "REQUEST-----)");
  }
  PkeyPtr key(X509_REQ_get_pubkey(req.get()));
  if (!key) return InvalidArgumentError("the certificate signing request has no usable public key");
  if (X509_REQ_verify(req.get(), key.get()) != 1) {
    ERR_clear_error();
    return InvalidArgumentError(
        "the certificate signing request's signature does not verify under its own key "
        "(proof of possession failed)");
  }
  const int type = EVP_PKEY_get_base_id(key.get());
  const int bits = EVP_PKEY_get_bits(key.get());
  if (!(type == EVP_PKEY_ED25519 || (type == EVP_PKEY_EC && bits >= 256) ||
        (type == EVP_PKEY_RSA && bits >= 2048))) {
    return InvalidArgumentError(
        "the certificate signing request's key is not accepted: use ECDSA P-256 or stronger, "
        "Ed25519, or RSA of at least 2048 bits");
  }
  return key;
}

}  // namespace

struct CertificateAuthority::OpenSslState {
  X509Ptr cert;
  PkeyPtr key;
  StorePtr store;  // trusts only this CA
};

CertificateAuthority::CertificateAuthority(storage::Kv& kv, audit::AuditLog& audit,
                                           const audit::AuditSalt& salt, const common::Clock& clock,
                                           std::unique_ptr<OpenSslState> state,
                                           std::string certificate_pem)
    : kv_(kv),
      auditor_(audit, salt, clock),
      clock_(clock),
      state_(std::move(state)),
      certificate_pem_(std::move(certificate_pem)) {}

CertificateAuthority::~CertificateAuthority() = default;

Result<bool> CertificateAuthority::Exists(storage::Kv& kv) {
  CUSTOS_ASSIGN_OR_RETURN(auto cert, kv.Get(storage::Keyspace::kIdentity, RecordKey(kCertRecord)));
  return cert.has_value();
}

Result<std::unique_ptr<CertificateAuthority>> CertificateAuthority::Create(
    storage::Kv& kv, crypto::Keyring& keyring, audit::AuditLog& audit, const audit::AuditSalt& salt,
    const common::Clock& clock, const CaOptions& options, const Caller& caller) {
  CUSTOS_ASSIGN_OR_RETURN(bool exists, Exists(kv));
  if (exists) {
    return AlreadyExistsError(
        "this data directory already has a certificate authority; open it instead (its "
        "certificate is in the identity keyspace)");
  }
  if (options.common_name.empty() || options.common_name.size() > 64) {
    return InvalidArgumentError("CA common name must be 1 to 64 characters");
  }
  CUSTOS_RETURN_IF_ERROR(CheckValidity(options.validity, kMaxCaValidity, "CA"));

  CUSTOS_ASSIGN_OR_RETURN(PkeyPtr key, GenerateKey(options.key_type));
  X509Ptr cert(X509_new());
  if (!cert || X509_set_version(cert.get(), X509_VERSION_3) != 1) return OpenSslFailure("X509_new");
  CUSTOS_ASSIGN_OR_RETURN(std::string serial, NewSerial(cert.get()));
  const common::TimePoint now = clock.Now();
  CUSTOS_RETURN_IF_ERROR(SetValidity(cert.get(), now, now + options.validity));
  CUSTOS_RETURN_IF_ERROR(SetName(X509_get_subject_name(cert.get()), options.common_name));
  if (X509_set_issuer_name(cert.get(), X509_get_subject_name(cert.get())) != 1 ||
      X509_set_pubkey(cert.get(), key.get()) != 1) {
    return OpenSslFailure("setting the CA issuer and key");
  }
  CUSTOS_RETURN_IF_ERROR(
      AddExtension(cert.get(), cert.get(), NID_basic_constraints, "critical,CA:TRUE,pathlen:0"));
  CUSTOS_RETURN_IF_ERROR(
      AddExtension(cert.get(), cert.get(), NID_key_usage, "critical,keyCertSign,cRLSign"));
  CUSTOS_RETURN_IF_ERROR(AddExtension(cert.get(), cert.get(), NID_subject_key_identifier, "hash"));
  CUSTOS_RETURN_IF_ERROR(
      AddExtension(cert.get(), cert.get(), NID_authority_key_identifier, "keyid:always"));
  if (X509_sign(cert.get(), key.get(), SigningDigest(key.get())) <= 0) {
    return OpenSslFailure("signing the CA certificate");
  }
  CUSTOS_ASSIGN_OR_RETURN(std::string cert_pem, CertificatePem(cert.get()));
  CUSTOS_ASSIGN_OR_RETURN(crypto::SecretBytes key_pem, PrivateKeyPem(key.get()));

  CUSTOS_ASSIGN_OR_RETURN(auto space, storage::EncryptedKeyspace::Open(
                                          kv, storage::Keyspace::kIdentity, keyring, kCaKeyOwner));
  storage::WriteBatch batch;
  space.PutTo(batch, RecordKey(kKeyRecord), common::AsChars(key_pem.span()));
  batch.Put(storage::Keyspace::kIdentity, RecordKey(kCertRecord), cert_pem);

  auto state = std::make_unique<OpenSslState>();
  state->store.reset(X509_STORE_new());
  if (!state->store || X509_STORE_add_cert(state->store.get(), cert.get()) != 1) {
    return OpenSslFailure("building the trust store");
  }
  state->cert = std::move(cert);
  state->key = std::move(key);
  std::unique_ptr<CertificateAuthority> ca(
      new CertificateAuthority(kv, audit, salt, clock, std::move(state), std::move(cert_pem)));
  // Recorded before the CA is stored (fail closed): no CA exists without its event.
  CUSTOS_RETURN_IF_ERROR(ca->auditor_.Record(
      caller, IdentityStep{.action = "identity.ca.create",
                           .targets = {},
                           .outcome = audit::Outcome::kOk,
                           .detail = "serial=" + serial + " cn=" + options.common_name,
                           .hashed = {}}));
  CUSTOS_RETURN_IF_ERROR(kv.Write(batch));
  return ca;
}

Result<std::unique_ptr<CertificateAuthority>> CertificateAuthority::Open(
    storage::Kv& kv, crypto::Keyring& keyring, audit::AuditLog& audit, const audit::AuditSalt& salt,
    const common::Clock& clock) {
  CUSTOS_ASSIGN_OR_RETURN(auto cert_pem,
                          kv.Get(storage::Keyspace::kIdentity, RecordKey(kCertRecord)));
  if (!cert_pem) {
    return NotFoundError(
        "this data directory has no certificate authority; run `custos init` (or create it "
        "with CertificateAuthority::Create)");
  }
  CUSTOS_ASSIGN_OR_RETURN(auto space, storage::EncryptedKeyspace::Open(
                                          kv, storage::Keyspace::kIdentity, keyring, kCaKeyOwner));
  CUSTOS_ASSIGN_OR_RETURN(auto key_pem, space.Get(RecordKey(kKeyRecord)));
  if (!key_pem) {
    return DataLossError(
        "identity keyspace: the CA certificate is stored but its private key "
        "is missing; restore the data directory from a backup");
  }
  auto state = std::make_unique<OpenSslState>();
  {
    BioPtr bio(BIO_new_mem_buf(key_pem->data(), static_cast<int>(key_pem->size())));
    state->key.reset(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr);
    crypto::Zeroize(
        std::span<uint8_t>(reinterpret_cast<uint8_t*>(key_pem->data()), key_pem->size()));
  }
  BioPtr cert_bio(BIO_new_mem_buf(cert_pem->data(), static_cast<int>(cert_pem->size())));
  state->cert.reset(cert_bio ? PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr)
                             : nullptr);
  if (!state->key || !state->cert ||
      X509_check_private_key(state->cert.get(), state->key.get()) != 1) {
    ERR_clear_error();
    return DataLossError(
        "identity keyspace: the stored CA certificate or key does not parse, "
        "or they do not match; restore the data directory from a backup");
  }
  state->store.reset(X509_STORE_new());
  if (!state->store || X509_STORE_add_cert(state->store.get(), state->cert.get()) != 1) {
    return OpenSslFailure("building the trust store");
  }
  std::unique_ptr<CertificateAuthority> ca(
      new CertificateAuthority(kv, audit, salt, clock, std::move(state), std::move(*cert_pem)));
  CUSTOS_RETURN_IF_ERROR(ca->LoadRevoked());
  return ca;
}

Status CertificateAuthority::LoadRevoked() {
  const std::string prefix = common::KeyBuilder().AddString(kRevokedTag).Release();
  std::unique_lock lock(mu_);
  return kv_.ScanPrefix(storage::Keyspace::kIdentity, prefix,
                        [&](std::string_view key, std::string_view) -> Status {
                          common::KeyReader reader(key);
                          (void)reader.ReadString();
                          CUSTOS_ASSIGN_OR_RETURN(std::string serial, reader.ReadString());
                          revoked_.insert(std::move(serial));
                          return Status::Ok();
                        });
}

Result<IssuedCertificate> CertificateAuthority::IssueClientCertificate(
    const ClientCertificateRequest& request, const Caller& caller) {
  CUSTOS_RETURN_IF_ERROR(ValidateServiceAccountId(request.service_account_id));
  CUSTOS_RETURN_IF_ERROR(CheckValidity(request.validity, kMaxLeafValidity, "client certificate"));
  std::string cn = request.common_name.empty() ? request.service_account_id : request.common_name;
  if (cn.size() > 64) return InvalidArgumentError("common name is longer than 64 characters");
  return Issue(true, cn, "URI:" + ServiceAccountUri(request.service_account_id),
               request.service_account_id, request.validity, request.csr_pem, request.key_type,
               caller);
}

Result<IssuedCertificate> CertificateAuthority::IssueServerCertificate(
    const ServerCertificateRequest& request, const Caller& caller) {
  CUSTOS_RETURN_IF_ERROR(CheckValidity(request.validity, kMaxLeafValidity, "server certificate"));
  std::vector<std::string> dns = {"localhost"};
  for (const std::string& name : request.dns_names) {
    CUSTOS_RETURN_IF_ERROR(CheckDnsName(name));
    if (std::find(dns.begin(), dns.end(), name) == dns.end()) dns.push_back(name);
  }
  std::vector<std::string> ips = {"127.0.0.1", "::1"};
  for (const std::string& ip : request.ip_addresses) {
    CUSTOS_RETURN_IF_ERROR(CheckIpAddress(ip));
    if (std::find(ips.begin(), ips.end(), ip) == ips.end()) ips.push_back(ip);
  }
  std::string san;
  for (const std::string& name : dns) san += (san.empty() ? "DNS:" : ",DNS:") + name;
  for (const std::string& ip : ips) san += ",IP:" + ip;
  const std::string& cn = dns.size() > 1 ? dns[1] : dns[0];
  return Issue(false, cn.substr(0, 64), san, cn, request.validity, request.csr_pem,
               request.key_type, caller);
}

Result<IssuedCertificate> CertificateAuthority::Issue(bool client, const std::string& subject_cn,
                                                      const std::string& san,
                                                      std::string_view record_subject,
                                                      std::chrono::hours validity,
                                                      std::string_view csr_pem,
                                                      CertKeyType key_type, const Caller& caller) {
  IssuedCertificate out;
  PkeyPtr key;
  if (!csr_pem.empty()) {
    CUSTOS_ASSIGN_OR_RETURN(key, KeyFromCsr(csr_pem));
  } else {
    CUSTOS_ASSIGN_OR_RETURN(key, GenerateKey(key_type));
    CUSTOS_ASSIGN_OR_RETURN(out.private_key_pem, PrivateKeyPem(key.get()));
  }
  X509Ptr cert(X509_new());
  if (!cert || X509_set_version(cert.get(), X509_VERSION_3) != 1) return OpenSslFailure("X509_new");
  CUSTOS_RETURN_IF_ERROR(NewSerial(cert.get()).status());
  out.serial_hex = SerialHex(cert.get());
  out.not_before = common::FromUnixSeconds(common::ToUnixSeconds(clock_.Now()));
  out.not_after = out.not_before + validity;
  CUSTOS_RETURN_IF_ERROR(SetValidity(cert.get(), out.not_before, out.not_after));
  CUSTOS_RETURN_IF_ERROR(SetName(X509_get_subject_name(cert.get()), subject_cn));
  X509* ca = state_->cert.get();
  if (X509_set_issuer_name(cert.get(), X509_get_subject_name(ca)) != 1 ||
      X509_set_pubkey(cert.get(), key.get()) != 1) {
    return OpenSslFailure("setting the issuer and key");
  }
  const bool rsa = EVP_PKEY_get_base_id(key.get()) == EVP_PKEY_RSA;
  CUSTOS_RETURN_IF_ERROR(AddExtension(cert.get(), ca, NID_basic_constraints, "critical,CA:FALSE"));
  CUSTOS_RETURN_IF_ERROR(AddExtension(
      cert.get(), ca, NID_key_usage,
      rsa ? "critical,digitalSignature,keyEncipherment" : "critical,digitalSignature"));
  CUSTOS_RETURN_IF_ERROR(
      AddExtension(cert.get(), ca, NID_ext_key_usage, client ? "clientAuth" : "serverAuth"));
  CUSTOS_RETURN_IF_ERROR(AddExtension(cert.get(), ca, NID_subject_alt_name, san));
  CUSTOS_RETURN_IF_ERROR(AddExtension(cert.get(), ca, NID_subject_key_identifier, "hash"));
  CUSTOS_RETURN_IF_ERROR(
      AddExtension(cert.get(), ca, NID_authority_key_identifier, "keyid:always"));
  if (X509_sign(cert.get(), state_->key.get(), SigningDigest(state_->key.get())) <= 0) {
    return OpenSslFailure("signing the certificate");
  }
  CUSTOS_ASSIGN_OR_RETURN(out.certificate_pem, CertificatePem(cert.get()));

  const std::string kind = client ? "client" : "server";
  CUSTOS_RETURN_IF_ERROR(kv_.Put(storage::Keyspace::kIdentity,
                                 SerialKey(kIssuedTag, out.serial_hex),
                                 common::KeyBuilder()
                                     .AddString(kind)
                                     .AddString(record_subject)
                                     .AddInt64(common::ToUnixMicros(out.not_after))
                                     .Release()));
  IdentityStep step{.action = "identity.cert.issue",
                    .targets = {},
                    .outcome = audit::Outcome::kOk,
                    .detail = kind + " serial=" + out.serial_hex +
                              " not_after=" + common::FormatRfc3339(out.not_after) +
                              (csr_pem.empty() ? "" : " from CSR"),
                    .hashed = {}};
  if (client) step.targets.push_back({"ServiceAccount", std::string(record_subject), 0});
  CUSTOS_RETURN_IF_ERROR(auditor_.Record(caller, step));
  return out;
}

Result<ClientIdentity> CertificateAuthority::VerifyClientCertificate(std::string_view pem_chain,
                                                                     const Caller& caller) {
  if (pem_chain.size() > kMaxPemBytes) {
    return Refuse(UnauthenticatedError("client certificate refused: the PEM input is larger "
                                       "than 64 KiB"),
                  caller);
  }
  BioPtr bio = detail::MemoryBio(pem_chain);
  X509Ptr leaf(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!leaf) {
    ERR_clear_error();
    return Refuse(UnauthenticatedError("client certificate refused: no PEM certificate "
                                       "(-----BEGIN CERTIFICATE-----) in the input"),
                  caller);
  }
  // Anything after the leaf may only be this CA's own certificate (we never issue
  // intermediates), so it adds nothing to verification and is ignored.
  ERR_clear_error();
  auto identity = CheckClient(leaf.get());
  if (!identity.ok()) return Refuse(identity.status(), caller);
  return identity;
}

Result<ClientIdentity> CertificateAuthority::VerifyClientCertificate(X509* leaf,
                                                                     const Caller& caller) {
  if (!leaf) {
    return Refuse(UnauthenticatedError("client certificate refused: the client presented none"),
                  caller);
  }
  auto identity = CheckClient(leaf);
  if (!identity.ok()) return Refuse(identity.status(), caller);
  return identity;
}

Result<ClientIdentity> CertificateAuthority::CheckClient(X509* leaf) {
  const std::string serial = SerialHex(leaf);
  auto refuse = [&](std::string what) {
    return UnauthenticatedError("client certificate (serial " + serial + ") refused: " + what);
  };
  StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (!ctx || X509_STORE_CTX_init(ctx.get(), state_->store.get(), leaf, nullptr) != 1) {
    return OpenSslFailure("X509_STORE_CTX_init");
  }
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  X509_VERIFY_PARAM_set_time(param, static_cast<time_t>(common::ToUnixSeconds(clock_.Now())));
  X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_X509_STRICT);
  if (X509_verify_cert(ctx.get()) != 1) {
    const int err = X509_STORE_CTX_get_error(ctx.get());
    ERR_clear_error();
    switch (err) {
      case X509_V_ERR_CERT_HAS_EXPIRED:
        return refuse("it expired at " + common::FormatRfc3339(AsnTime(X509_get0_notAfter(leaf))) +
                      "; issue a new one with `custos ca issue`");
      case X509_V_ERR_CERT_NOT_YET_VALID:
        return refuse("it is not valid before " +
                      common::FormatRfc3339(AsnTime(X509_get0_notBefore(leaf))));
      case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
      case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
      case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
      case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
      case X509_V_ERR_CERT_SIGNATURE_FAILURE:
      case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
        return refuse(std::string("it was not issued by this custos CA (") +
                      X509_verify_cert_error_string(err) + ")");
      default:
        return refuse(std::string("chain verification failed: ") +
                      X509_verify_cert_error_string(err));
    }
  }
  // Only certificates this CA signed directly: leaf + CA.
  if (sk_X509_num(X509_STORE_CTX_get0_chain(ctx.get())) != 2) {
    return refuse("it was not issued directly by this custos CA");
  }
  if (X509_check_ca(leaf) != 0) return refuse("it is a CA certificate, not a client certificate");
  if (!(X509_get_extension_flags(leaf) & EXFLAG_XKUSAGE) ||
      !(X509_get_extended_key_usage(leaf) & XKU_SSL_CLIENT)) {
    return refuse("it lacks the clientAuth extended key usage (a server certificate?)");
  }
  NamesPtr names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(leaf, NID_subject_alt_name, nullptr, nullptr)));
  std::string service_account;
  int found = 0;
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
    if (name->type != GEN_URI) continue;
    const ASN1_IA5STRING* uri = name->d.uniformResourceIdentifier;
    std::string_view text(reinterpret_cast<const char*>(ASN1_STRING_get0_data(uri)),
                          static_cast<size_t>(ASN1_STRING_length(uri)));
    if (!text.starts_with(kServiceAccountUriPrefix)) continue;
    ++found;
    auto id = ParseServiceAccountUri(text);
    if (!id.ok()) return refuse("its service account URI is malformed: " + id.status().message());
    service_account = std::move(*id);
  }
  if (found == 0) {
    return refuse("it has no subject alternative name URI " +
                  std::string(kServiceAccountUriPrefix) + "<id>");
  }
  if (found > 1) return refuse("it names more than one service account");
  if (IsRevoked(serial)) return refuse("it was revoked");
  return ClientIdentity{std::move(service_account), serial, CommonName(leaf),
                        AsnTime(X509_get0_notAfter(leaf))};
}

Status CertificateAuthority::Refuse(Status reason, const Caller& caller) {
  Status audited = auditor_.Record(caller, IdentityStep{.action = "identity.cert.verify",
                                                        .targets = {},
                                                        .outcome = audit::Outcome::kDenied,
                                                        .detail = reason.message(),
                                                        .hashed = {}});
  if (!audited.ok()) {
    return Status(reason.code(), reason.message() + " (and the refusal could not be audited: " +
                                     audited.message() + ")");
  }
  return reason;
}

Status CertificateAuthority::RevokeCertificate(std::string_view serial_hex, const Caller& caller) {
  std::string serial(serial_hex);
  std::transform(serial.begin(), serial.end(), serial.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  CUSTOS_ASSIGN_OR_RETURN(auto issued,
                          kv_.Get(storage::Keyspace::kIdentity, SerialKey(kIssuedTag, serial)));
  if (!issued) {
    return NotFoundError("no certificate with serial " + serial.substr(0, 64) +
                         " was issued by this CA; list them with `custos ca list`");
  }
  {
    std::unique_lock lock(mu_);
    CUSTOS_RETURN_IF_ERROR(
        kv_.Put(storage::Keyspace::kIdentity, SerialKey(kRevokedTag, serial),
                common::KeyBuilder().AddInt64(common::ToUnixMicros(clock_.Now())).Release()));
    revoked_.insert(serial);
  }
  IdentityStep step{.action = "identity.cert.revoke",
                    .targets = {},
                    .outcome = audit::Outcome::kOk,
                    .detail = "serial=" + serial,
                    .hashed = {}};
  common::KeyReader reader(*issued);
  auto kind = reader.ReadString();
  auto subject = reader.ReadString();
  if (kind.ok() && subject.ok() && *kind == "client") {
    step.targets.push_back({"ServiceAccount", *subject, 0});
  }
  return auditor_.Record(caller, step);
}

bool CertificateAuthority::IsRevoked(std::string_view serial_hex) const {
  std::shared_lock lock(mu_);
  return revoked_.contains(std::string(serial_hex));
}

Result<std::vector<IssuedRecord>> CertificateAuthority::ListIssued() {
  std::vector<IssuedRecord> out;
  const std::string prefix = common::KeyBuilder().AddString(kIssuedTag).Release();
  CUSTOS_RETURN_IF_ERROR(
      kv_.ScanPrefix(storage::Keyspace::kIdentity, prefix,
                     [&](std::string_view key, std::string_view value) -> Status {
                       common::KeyReader key_reader(key);
                       (void)key_reader.ReadString();
                       CUSTOS_ASSIGN_OR_RETURN(std::string serial, key_reader.ReadString());
                       common::KeyReader reader(value);
                       IssuedRecord record;
                       CUSTOS_ASSIGN_OR_RETURN(record.kind, reader.ReadString());
                       CUSTOS_ASSIGN_OR_RETURN(record.subject, reader.ReadString());
                       CUSTOS_ASSIGN_OR_RETURN(int64_t not_after, reader.ReadInt64());
                       record.not_after = common::FromUnixMicros(not_after);
                       record.revoked = IsRevoked(serial);
                       record.serial_hex = std::move(serial);
                       out.push_back(std::move(record));
                       return Status::Ok();
                     }));
  return out;
}

}  // namespace custos::identity
