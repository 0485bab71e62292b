// SoftwareKekBackend: KEKs are random 256-bit keys, each sealed by the root key with
// AES-256-GCM (associated data binds the KEK version) and kept in the keyring's
// KeyRecordStore under "swkek/<version>". Unsealed KEKs are held in memory only
// while the process runs, as Aead handles.
// Thread-safety: safe for concurrent use.
#pragma once

#include <map>
#include <memory>
#include <shared_mutex>

#include "crypto/aead.h"
#include "crypto/kek_backend.h"
#include "crypto/key_record_store.h"

namespace custos::crypto {

class SoftwareKekBackend final : public KekBackend {
 public:
  // `store` must outlive the backend.
  static Result<std::unique_ptr<SoftwareKekBackend>> Create(SecretBytes root_key,
                                                            KeyRecordStore& store,
                                                            std::string_view kind);

  std::string_view Kind() const override { return kind_; }
  Status CreateKek(uint32_t version) override;
  Result<common::Bytes> Wrap(uint32_t version, const SecretBytes& dek,
                             common::ByteView associated_data) override;
  Result<SecretBytes> Unwrap(uint32_t version, common::ByteView wrapped,
                             common::ByteView associated_data) override;
  Status DestroyKek(uint32_t version) override;

 private:
  SoftwareKekBackend(Aead root, KeyRecordStore& store, std::string kind)
      : root_(std::move(root)), store_(store), kind_(std::move(kind)) {}
  Result<std::shared_ptr<const Aead>> Kek(uint32_t version);

  Aead root_;
  KeyRecordStore& store_;
  std::string kind_;
  std::shared_mutex mu_;
  std::map<uint32_t, std::shared_ptr<const Aead>> keks_;  // unsealed cache
};

}  // namespace custos::crypto
