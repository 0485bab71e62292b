// AES-256-GCM over OpenSSL EVP. Key setup (AES key schedule and GHASH tables) costs
// more than sealing a small value, so each thread keeps an encryption and a decryption
// context keyed for the Aead it used last (identified by a random 64-bit id, never by
// address) and, for the same key, only sets the next nonce. Nonces come from a
// per-thread buffer filled by libsodium's CSPRNG 4 KiB at a time (a getrandom(2) call
// per value costs more than sealing a small one); a forked child discards its copy.
#include "crypto/aead.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <sodium.h>

#include <array>
#include <atomic>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

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

[[noreturn]] void Die(const char* what) {
  std::fprintf(stderr, "custos: %s\n", what);
  std::abort();
}

// A thread's cipher context and the id of the key it holds (0: none).
struct KeyedCtx {
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  uint64_t key_id = 0;
  ~KeyedCtx() { EVP_CIPHER_CTX_free(ctx); }
};

KeyedCtx& EncryptCtx() {
  thread_local KeyedCtx ctx;
  return ctx;
}
KeyedCtx& DecryptCtx() {
  thread_local KeyedCtx ctx;
  return ctx;
}

int Len(size_t n) { return static_cast<int>(n); }

// Bumped in every forked child, so that parent and child never serve the same buffered
// random bytes (the one piece of process-wide mutable state here, by necessity).
std::atomic<uint64_t> fork_generation{0};

void FillNonce(uint8_t* nonce) {
  struct Buffer {
    std::array<uint8_t, 4096> bytes;
    size_t used = 4096;
    uint64_t generation = ~uint64_t{0};
    ~Buffer() { sodium_memzero(bytes.data(), bytes.size()); }
  };
  static std::once_flag at_fork_once;
  std::call_once(at_fork_once, [] {
    InitCrypto();
    pthread_atfork(nullptr, nullptr, [] { fork_generation.fetch_add(1); });
  });
  thread_local Buffer buffer;
  const uint64_t generation = fork_generation.load(std::memory_order_relaxed);
  if (buffer.used + Aead::kNonceSize > buffer.bytes.size() || buffer.generation != generation) {
    randombytes_buf(buffer.bytes.data(), buffer.bytes.size());
    buffer.used = 0;
    buffer.generation = generation;
  }
  uint8_t* next = buffer.bytes.data() + buffer.used;
  std::memcpy(nonce, next, Aead::kNonceSize);
  sodium_memzero(next, Aead::kNonceSize);  // a served nonce is not kept around
  buffer.used += Aead::kNonceSize;
}

}  // namespace

struct Aead::Impl {
  SecretBytes key;
  uint64_t id = 0;  // non-zero, random: which key a thread's context holds
};

Aead::Aead(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Aead::Aead(Aead&&) noexcept = default;
Aead& Aead::operator=(Aead&&) noexcept = default;
Aead::~Aead() {
  // Drop this thread's copies of the key schedule (other threads re-key on next use).
  if (!impl_) return;
  for (KeyedCtx* c : {&EncryptCtx(), &DecryptCtx()}) {
    if (c->key_id == impl_->id) {
      EVP_CIPHER_CTX_reset(c->ctx);
      c->key_id = 0;
    }
  }
}

Result<Aead> Aead::Create(const SecretBytes& key) {
  if (key.size() != kKeySize) {
    return InvalidArgumentError("AES-256-GCM key must be 32 bytes, got " +
                                std::to_string(key.size()));
  }
  auto impl = std::make_unique<Impl>();
  impl->key = key.Clone();
  while (impl->id == 0) impl->id = RandomUint64();
  return Aead(std::move(impl));
}

namespace {

// Seals into out[0 .. kOverhead + plaintext.size()).
void SealInto(const SecretBytes& key, uint64_t key_id, common::ByteView plaintext,
              common::ByteView ad, uint8_t* out) {
  if (plaintext.size() > static_cast<size_t>(INT_MAX) - Aead::kOverhead) {
    Die("AEAD plaintext larger than 2 GiB");  // callers chunk large blobs
  }
  uint8_t* nonce = out;
  uint8_t* body = nonce + Aead::kNonceSize;
  uint8_t* tag = body + plaintext.size();
  FillNonce(nonce);

  KeyedCtx& k = EncryptCtx();
  int len = 0;
  bool ok;
  if (k.key_id == key_id) {
    ok = EVP_EncryptInit_ex2(k.ctx, nullptr, nullptr, nonce, nullptr) == 1;
  } else {
    k.key_id = 0;
    ok = EVP_EncryptInit_ex2(k.ctx, Aes256Gcm(), key.span().data(), nonce, nullptr) == 1;
    if (ok) k.key_id = key_id;
  }
  ok =
      ok && (ad.empty() || EVP_EncryptUpdate(k.ctx, nullptr, &len, ad.data(), Len(ad.size())) == 1);
  ok = ok && (plaintext.empty() ||
              EVP_EncryptUpdate(k.ctx, body, &len, plaintext.data(), Len(plaintext.size())) == 1);
  ok = ok && EVP_EncryptFinal_ex(k.ctx, body + plaintext.size(), &len) == 1;
  ok = ok && EVP_CIPHER_CTX_ctrl(k.ctx, EVP_CTRL_GCM_GET_TAG, Aead::kTagSize, tag) == 1;
  // Encryption with a valid key cannot fail short of a broken library: refuse to go on
  // rather than return unauthenticated bytes.
  if (!ok) Die("AES-256-GCM encryption failed inside OpenSSL");
}

// Opens `sealed` into out[0 .. sealed.size() - kOverhead); false if it does not verify.
bool OpenInto(const SecretBytes& key, uint64_t key_id, common::ByteView sealed, common::ByteView ad,
              uint8_t* out) {
  const uint8_t* nonce = sealed.data();
  const uint8_t* body = nonce + Aead::kNonceSize;
  const size_t body_len = sealed.size() - Aead::kOverhead;
  const uint8_t* tag = body + body_len;
  KeyedCtx& k = DecryptCtx();
  int len = 0;
  bool ok;
  if (k.key_id == key_id) {
    ok = EVP_DecryptInit_ex2(k.ctx, nullptr, nullptr, nonce, nullptr) == 1;
  } else {
    k.key_id = 0;
    ok = EVP_DecryptInit_ex2(k.ctx, Aes256Gcm(), key.span().data(), nonce, nullptr) == 1;
    if (ok) k.key_id = key_id;
  }
  ok =
      ok && (ad.empty() || EVP_DecryptUpdate(k.ctx, nullptr, &len, ad.data(), Len(ad.size())) == 1);
  ok = ok && (body_len == 0 || EVP_DecryptUpdate(k.ctx, out, &len, body, Len(body_len)) == 1);
  ok = ok && EVP_CIPHER_CTX_ctrl(k.ctx, EVP_CTRL_GCM_SET_TAG, Aead::kTagSize,
                                 const_cast<uint8_t*>(tag)) == 1;
  ok = ok && EVP_DecryptFinal_ex(k.ctx, out + body_len, &len) == 1;
  return ok;
}

Status ShortInput(size_t size) {
  return InvalidArgumentError("sealed value is " + std::to_string(size) +
                              " bytes, shorter than the 28-byte nonce and tag");
}

Status AuthenticationFailed() {
  return DataLossError(
      "authentication failed: the value was tampered with, moved to another record, or "
      "sealed under a different key");
}

template <typename Buffer>
Status OpenAppending(const SecretBytes& key, uint64_t key_id, common::ByteView sealed,
                     common::ByteView ad, Buffer& out) {
  if (sealed.size() < Aead::kOverhead) return ShortInput(sealed.size());
  const size_t start = out.size();
  const size_t body_len = sealed.size() - Aead::kOverhead;
  out.resize(start + body_len);
  auto* dest = reinterpret_cast<uint8_t*>(out.data()) + start;
  if (!OpenInto(key, key_id, sealed, ad, dest)) {
    Zeroize({dest, body_len});
    out.resize(start);
    return AuthenticationFailed();
  }
  return Status::Ok();
}

}  // namespace

common::Bytes Aead::Seal(common::ByteView plaintext, common::ByteView ad) const {
  common::Bytes out;
  SealTo(plaintext, ad, out);
  return out;
}

void Aead::SealTo(common::ByteView plaintext, common::ByteView ad, common::Bytes& out) const {
  const size_t start = out.size();
  out.resize(start + kOverhead + plaintext.size());
  SealInto(impl_->key, impl_->id, plaintext, ad, out.data() + start);
}

void Aead::SealTo(common::ByteView plaintext, common::ByteView ad, std::string& out) const {
  const size_t start = out.size();
  out.resize(start + kOverhead + plaintext.size());
  SealInto(impl_->key, impl_->id, plaintext, ad, reinterpret_cast<uint8_t*>(out.data()) + start);
}

Result<common::Bytes> Aead::Open(common::ByteView sealed, common::ByteView ad) const {
  common::Bytes out;
  CUSTOS_RETURN_IF_ERROR(OpenTo(sealed, ad, out));
  return out;
}

Status Aead::OpenTo(common::ByteView sealed, common::ByteView ad, common::Bytes& out) const {
  return OpenAppending(impl_->key, impl_->id, sealed, ad, out);
}

Status Aead::OpenTo(common::ByteView sealed, common::ByteView ad, std::string& out) const {
  return OpenAppending(impl_->key, impl_->id, sealed, ad, out);
}

}  // namespace custos::crypto
