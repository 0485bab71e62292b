// SHA-256 over OpenSSL's EVP (the digest is fetched once), HMAC over libsodium.
#include "crypto/hash.h"

#include <openssl/evp.h>
#include <sodium.h>

#include <cstdio>
#include <cstdlib>

namespace custos::crypto {
namespace {

// Explicit fetch once: implicit per-call fetching is a measurable cost in OpenSSL 3.
const EVP_MD* Sha256Md() {
  static EVP_MD* md = [] {
    EVP_MD* m = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    if (m == nullptr) {
      std::fputs("custos: OpenSSL has no SHA256 implementation\n", stderr);
      std::abort();
    }
    return m;
  }();
  return md;
}

}  // namespace

struct Sha256::Ctx {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  ~Ctx() { EVP_MD_CTX_free(ctx); }
};

Sha256::Sha256() : ctx_(std::make_unique<Ctx>()) {
  EVP_DigestInit_ex2(ctx_->ctx, Sha256Md(), nullptr);
}
Sha256::~Sha256() = default;
Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;

Sha256& Sha256::Update(common::ByteView data) {
  EVP_DigestUpdate(ctx_->ctx, data.data(), data.size());
  return *this;
}

Digest Sha256::Finish() {
  Digest out;
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx_->ctx, out.data(), &len);
  EVP_DigestInit_ex2(ctx_->ctx, Sha256Md(), nullptr);
  return out;
}

Digest Sha256Of(common::ByteView data) {
  thread_local Sha256 hasher;
  return hasher.Update(data).Finish();
}

Digest HmacSha256(common::ByteView key, common::ByteView message) {
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, key.data(), key.size());
  crypto_auth_hmacsha256_update(&state, message.data(), message.size());
  Digest out;
  crypto_auth_hmacsha256_final(&state, out.data());
  sodium_memzero(&state, sizeof state);
  return out;
}

bool HmacSha256Verify(common::ByteView key, common::ByteView message, common::ByteView mac) {
  Digest expected = HmacSha256(key, message);
  return ConstantTimeEquals(expected, mac);
}

}  // namespace custos::crypto
