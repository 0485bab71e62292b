// KekBackend: where key-encryption keys (KEKs) live and how DEKs are wrapped by them.
//
// The keyring (crypto/keyring.h) decides *which* KEK version wraps a DEK and keeps the
// metadata; a backend holds the KEK material and performs wrap/unwrap:
// - SoftwareKekBackend: KEKs are random 256-bit keys sealed by the root key (which is
//   itself rebuilt from Shamir shares or derived from a passphrase) and stored sealed.
// - Pkcs11KekBackend: KEKs are non-extractable AES keys inside a PKCS#11 token; wrap
//   and unwrap run in the token, so KEK bytes never enter custos' memory.
// Thread-safety: implementations must be safe for concurrent Wrap/Unwrap calls;
// CreateKek/DestroyKek are called under the keyring's write lock.
#pragma once

#include <cstdint>
#include <string_view>

#include "common/bytes.h"
#include "common/status.h"
#include "crypto/secret.h"

namespace custos::crypto {

class KekBackend {
 public:
  virtual ~KekBackend() = default;

  // "shamir", "passphrase" or "pkcs11": recorded in the data directory.
  virtual std::string_view Kind() const = 0;

  // Creates KEK `version` (1, 2, ...). AlreadyExists if it exists.
  virtual Status CreateKek(uint32_t version) = 0;

  // Seals `dek` under KEK `version`, binding `associated_data` (owner id, KEK version).
  virtual Result<common::Bytes> Wrap(uint32_t version, const SecretBytes& dek,
                                     common::ByteView associated_data) = 0;

  // Opens a wrapped DEK. DataLoss when it does not authenticate; NotFound when the
  // KEK version does not exist (destroyed or never created).
  virtual Result<SecretBytes> Unwrap(uint32_t version, common::ByteView wrapped,
                                     common::ByteView associated_data) = 0;

  // Irreversibly destroys KEK `version`.
  virtual Status DestroyKek(uint32_t version) = 0;
};

}  // namespace custos::crypto
