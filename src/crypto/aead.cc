// AES-256-GCM over OpenSSL EVP. Each thread keeps one cipher context and re-keys it
// per call: key setup with AES-NI costs tens of nanoseconds, and it keeps an Aead
// immutable and shareable across threads.
#include "crypto/aead.h"

#include <openssl/evp.h>

#include <climits>
#include <cstdio>
#include <cstdlib>

#include "crypto/random.h"

namespace custos::crypto {
namespace {

const EVP_CIPHER* Aes256Gcm() {
  static EVP_CIPHER* cipher = [] {
    EVP_CIPHER* c = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
    if (c == nullptr) {
      std::fputs("custos: OpenSSL has no AES-256-GCM implementation\n", stderr);
      std::abort();
    }
    return c;
  }();
  return cipher;
}

struct CipherCtxDeleter {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};

EVP_CIPHER_CTX* ThreadCipherCtx() {
  thread_local std::unique_ptr<EVP_CIPHER_CTX, CipherCtxDeleter> ctx(EVP_CIPHER_CTX_new());
  return ctx.get();
}

int ClampLen(size_t n) { return static_cast<int>(n); }

}  // namespace

struct Aead::Impl {
  SecretBytes key;
};

Aead::Aead(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Aead::Aead(Aead&&) noexcept = default;
Aead& Aead::operator=(Aead&&) noexcept = default;
Aead::~Aead() = default;

Result<Aead> Aead::Create(const SecretBytes& key) {
  if (key.size() != kKeySize) {
    return InvalidArgumentError("AES-256-GCM key must be 32 bytes, got " +
                                std::to_string(key.size()));
  }
  auto impl = std::make_unique<Impl>();
  impl->key = key.Clone();
  return Aead(std::move(impl));
}

common::Bytes Aead::Seal(common::ByteView plaintext, common::ByteView ad) const {
  common::Bytes out;
  SealTo(plaintext, ad, out);
  return out;
}

void Aead::SealTo(common::ByteView plaintext, common::ByteView ad, common::Bytes& out) const {
  if (plaintext.size() > static_cast<size_t>(INT_MAX) - kOverhead) {
    std::fputs("custos: AEAD plaintext larger than 2 GiB\n", stderr);
    std::abort();  // callers chunk large blobs; this is a programming error
  }
  const size_t start = out.size();
  out.resize(start + kOverhead + plaintext.size());
  uint8_t* nonce = out.data() + start;
  uint8_t* body = nonce + kNonceSize;
  uint8_t* tag = body + plaintext.size();
  RandomFill({nonce, kNonceSize});

  EVP_CIPHER_CTX* ctx = ThreadCipherCtx();
  int len = 0;
  bool ok = EVP_EncryptInit_ex2(ctx, Aes256Gcm(), impl_->key.span().data(), nonce, nullptr) == 1;
  ok = ok &&
       (ad.empty() || EVP_EncryptUpdate(ctx, nullptr, &len, ad.data(), ClampLen(ad.size())) == 1);
  ok = ok && (plaintext.empty() || EVP_EncryptUpdate(ctx, body, &len, plaintext.data(),
                                                     ClampLen(plaintext.size())) == 1);
  ok = ok && EVP_EncryptFinal_ex(ctx, body + plaintext.size(), &len) == 1;
  ok = ok && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, kTagSize, tag) == 1;
  if (!ok) {
    // Encryption with a valid key cannot fail short of a broken library: refuse to
    // continue rather than return unauthenticated bytes.
    std::fputs("custos: AES-256-GCM encryption failed inside OpenSSL\n", stderr);
    std::abort();
  }
}

Result<common::Bytes> Aead::Open(common::ByteView sealed, common::ByteView ad) const {
  common::Bytes out;
  CUSTOS_RETURN_IF_ERROR(OpenTo(sealed, ad, out));
  return out;
}

Status Aead::OpenTo(common::ByteView sealed, common::ByteView ad, common::Bytes& out) const {
  if (sealed.size() < kOverhead) {
    return InvalidArgumentError("sealed value is " + std::to_string(sealed.size()) +
                                " bytes, shorter than the 28-byte nonce and tag");
  }
  const uint8_t* nonce = sealed.data();
  const uint8_t* body = nonce + kNonceSize;
  const size_t body_len = sealed.size() - kOverhead;
  const uint8_t* tag = body + body_len;
  const size_t start = out.size();
  out.resize(start + body_len);

  EVP_CIPHER_CTX* ctx = ThreadCipherCtx();
  int len = 0;
  bool ok = EVP_DecryptInit_ex2(ctx, Aes256Gcm(), impl_->key.span().data(), nonce, nullptr) == 1;
  ok = ok &&
       (ad.empty() || EVP_DecryptUpdate(ctx, nullptr, &len, ad.data(), ClampLen(ad.size())) == 1);
  ok = ok && (body_len == 0 ||
              EVP_DecryptUpdate(ctx, out.data() + start, &len, body, ClampLen(body_len)) == 1);
  ok = ok &&
       EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, kTagSize, const_cast<uint8_t*>(tag)) == 1;
  ok = ok && EVP_DecryptFinal_ex(ctx, out.data() + start + body_len, &len) == 1;
  if (!ok) {
    Zeroize({out.data() + start, body_len});
    out.resize(start);
    return DataLossError(
        "authentication failed: the value was tampered with, moved to another record, or "
        "sealed under a different key");
  }
  return Status::Ok();
}

}  // namespace custos::crypto
