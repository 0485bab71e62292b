// Pkcs11KekBackend: KEKs as non-extractable AES-256 keys inside a PKCS#11 token (an HSM, or
// SoftHSM2 in tests). DEKs are wrapped and unwrapped by the token with AES-GCM, so KEK bytes
// never enter custos' memory; only the DEK being wrapped or unwrapped does.
//
// KEK version v is the secret-key object labelled `key_label_prefix + v` ("custos-kek-v3"),
// generated in the token with CKA_SENSITIVE true and CKA_EXTRACTABLE false.
// Wrapped form: iv (12 random bytes) | ciphertext | tag (16 bytes); the associated data is the
// GCM AAD.
//
// Thread-safety: safe for concurrent use. A PKCS#11 session serves one call at a time, so the
// backend keeps a pool of up to `max_sessions` sessions; a call borrows one for its duration and
// waits when all are busy. The token login is shared with every other backend in the process
// on the same token (PKCS#11 logs in per process, not per session).
// Invariant the caller keeps: one owner (one keyring, one process) creates and destroys the
// KEKs of a label prefix. Object handles are cached; a KEK destroyed behind the owner's back is
// noticed when the token rejects the stale handle, but a token that reused that handle for a
// new object would be used silently, so key sets of different owners need different prefixes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/bytes.h"
#include "common/status.h"
#include "crypto/kek_backend.h"
#include "crypto/secret.h"

namespace custos::crypto {

struct Pkcs11Options {
  // The PKCS#11 module (shared library) to dlopen. Default: SoftHSM2 as Debian installs it.
  std::string module_path = "/usr/lib/softhsm/libsofthsm2.so";
  // Label of the token that holds the KEKs (at most 32 bytes, as CK_TOKEN_INFO stores it).
  // Required: no default.
  std::string token_label;
  // The token's user PIN. Required. Never logged; zeroized when the options are destroyed.
  SecretBytes pin;
  // KEK version v is the secret key labelled key_label_prefix + decimal(v). Default
  // "custos-kek-v". Distinct prefixes let several data directories share one token.
  std::string key_label_prefix = "custos-kek-v";
  // How many sessions, hence concurrent token operations, the backend uses at most. Default 4.
  size_t max_sessions = 4;
};

// What the token reports about a KEK object: the evidence that the key cannot leave it.
struct Pkcs11KekInfo {
  std::string label;
  uint64_t value_len = 0;          // CKA_VALUE_LEN: 32 for AES-256
  bool token_object = false;       // CKA_TOKEN: persists in the token
  bool private_object = false;     // CKA_PRIVATE: visible only after login
  bool sensitive = false;          // CKA_SENSITIVE
  bool extractable = true;         // CKA_EXTRACTABLE
  bool always_sensitive = false;   // CKA_ALWAYS_SENSITIVE: sensitive since generation
  bool never_extractable = false;  // CKA_NEVER_EXTRACTABLE: never was extractable
  // What C_GetAttributeValue(CKA_VALUE) answered, e.g. "CKR_ATTRIBUTE_SENSITIVE"; "CKR_OK"
  // would mean the token handed out the key bytes (they are discarded at once).
  std::string value_read_result;
};

class Pkcs11KekBackend final : public KekBackend {
 public:
  // Loads the module, finds the token by label and logs in. Errors: NotFound when the module
  // file or the token is missing (the message lists the tokens that exist), InvalidArgument for
  // a file that is not a PKCS#11 module or bad options, Unauthenticated "wrong PIN for token
  // 'X'", FailedPrecondition for a locked or unset PIN or a module that fails to initialize.
  static Result<std::unique_ptr<Pkcs11KekBackend>> Open(const Pkcs11Options& options);

  ~Pkcs11KekBackend() override;
  Pkcs11KekBackend(const Pkcs11KekBackend&) = delete;
  Pkcs11KekBackend& operator=(const Pkcs11KekBackend&) = delete;

  std::string_view Kind() const override { return "pkcs11"; }

  // Generates KEK `version` inside the token. AlreadyExists if its label is taken.
  Status CreateKek(uint32_t version) override;

  // AES-256-GCM in the token; `dek` must not be empty. NotFound when the KEK is absent.
  Result<common::Bytes> Wrap(uint32_t version, const SecretBytes& dek,
                             common::ByteView associated_data) override;

  // DataLoss when the wrapped bytes or the associated data do not authenticate (or are too
  // short to be a wrapped DEK); NotFound when the KEK is absent.
  Result<SecretBytes> Unwrap(uint32_t version, common::ByteView wrapped,
                             common::ByteView associated_data) override;

  // C_DestroyObject on the KEK: every DEK it wrapped becomes unrecoverable. NotFound if absent.
  Status DestroyKek(uint32_t version) override;

  // Reads the KEK object's attributes from the token (operators' `keys describe`, and tests
  // proving the key is sensitive and non-extractable). NotFound when the KEK is absent.
  Result<Pkcs11KekInfo> DescribeKek(uint32_t version);

  const std::string& token_label() const;
  std::string KeyLabel(uint32_t version) const;

 private:
  struct Impl;
  explicit Pkcs11KekBackend(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace custos::crypto
