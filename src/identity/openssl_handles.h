// Owning handles for the OpenSSL objects the CA and the mTLS setup use, and the text of
// OpenSSL's last error for messages. Internal to identity/ (ca.cc, mtls.cc, their tests).
// Thread-safety: the handles are plain unique_ptrs; OpenSslError reads this thread's
// OpenSSL error queue.
#pragma once

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <string>
#include <string_view>

namespace custos::identity::detail {

// A unique_ptr type whose deleter calls `free`.
template <typename T, void (*free)(T*)>
struct OpenSslFree {
  void operator()(T* p) const { free(p); }
};
template <typename T, void (*free)(T*)>
using OpenSslPtr = std::unique_ptr<T, OpenSslFree<T, free>>;

using BioPtr = OpenSslPtr<BIO, BIO_free_all>;
using X509Ptr = OpenSslPtr<X509, X509_free>;
using PkeyPtr = OpenSslPtr<EVP_PKEY, EVP_PKEY_free>;
using ReqPtr = OpenSslPtr<X509_REQ, X509_REQ_free>;
using StorePtr = OpenSslPtr<X509_STORE, X509_STORE_free>;
using StoreCtxPtr = OpenSslPtr<X509_STORE_CTX, X509_STORE_CTX_free>;
using ExtPtr = OpenSslPtr<X509_EXTENSION, X509_EXTENSION_free>;
using BnPtr = OpenSslPtr<BIGNUM, BN_free>;
using NamesPtr = OpenSslPtr<GENERAL_NAMES, GENERAL_NAMES_free>;

// A read-only memory BIO over `text` (which must outlive it).
inline BioPtr MemoryBio(std::string_view text) {
  return BioPtr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

// The first queued OpenSSL error, for messages; clears the queue.
inline std::string OpenSslError() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(code, buf, sizeof buf);
  return buf;
}

}  // namespace custos::identity::detail
