// KEKs sealed by the root key, stored through KeyRecordStore.
#include "crypto/software_kek_backend.h"

#include "common/key_encoding.h"

namespace custos::crypto {
namespace {

std::string KekRecordKey(uint32_t version) {
  return common::KeyBuilder().AddRaw("swkek/").AddUint32(version).Release();
}

std::string KekSealAd(uint32_t version) { return "custos/kek/v" + std::to_string(version); }

}  // namespace

Result<std::unique_ptr<SoftwareKekBackend>> SoftwareKekBackend::Create(SecretBytes root_key,
                                                                       KeyRecordStore& store,
                                                                       std::string_view kind) {
  CUSTOS_ASSIGN_OR_RETURN(Aead root, Aead::Create(root_key));
  return std::unique_ptr<SoftwareKekBackend>(
      new SoftwareKekBackend(std::move(root), store, std::string(kind)));
}

Status SoftwareKekBackend::CreateKek(uint32_t version) {
  std::unique_lock lock(mu_);
  const std::string key = KekRecordKey(version);
  CUSTOS_ASSIGN_OR_RETURN(std::optional<common::Bytes> existing, store_.Get(key));
  if (existing) return AlreadyExistsError("KEK version " + std::to_string(version) + " exists");
  SecretBytes kek = SecretBytes::Random(Aead::kKeySize);
  common::Bytes sealed = root_.Seal(kek.span(), common::AsBytes(KekSealAd(version)));
  CUSTOS_RETURN_IF_ERROR(store_.Apply({{key, sealed}}));
  CUSTOS_ASSIGN_OR_RETURN(Aead aead, Aead::Create(kek));
  keks_[version] = std::make_shared<const Aead>(std::move(aead));
  return Status::Ok();
}

Result<std::shared_ptr<const Aead>> SoftwareKekBackend::Kek(uint32_t version) {
  {
    std::shared_lock lock(mu_);
    auto it = keks_.find(version);
    if (it != keks_.end()) return it->second;
  }
  std::unique_lock lock(mu_);
  auto it = keks_.find(version);
  if (it != keks_.end()) return it->second;
  CUSTOS_ASSIGN_OR_RETURN(std::optional<common::Bytes> sealed, store_.Get(KekRecordKey(version)));
  if (!sealed) {
    return NotFoundError("KEK version " + std::to_string(version) +
                         " does not exist (never created, or destroyed)");
  }
  Result<common::Bytes> kek = root_.Open(*sealed, common::AsBytes(KekSealAd(version)));
  if (!kek.ok()) {
    return DataLossError("KEK version " + std::to_string(version) +
                         " does not open under the root key: its record was tampered with");
  }
  SecretBytes kek_secret = SecretBytes::CopyOf(*kek);
  Zeroize(*kek);
  CUSTOS_ASSIGN_OR_RETURN(Aead aead, Aead::Create(kek_secret));
  auto shared = std::make_shared<const Aead>(std::move(aead));
  keks_[version] = shared;
  return shared;
}

Result<common::Bytes> SoftwareKekBackend::Wrap(uint32_t version, const SecretBytes& dek,
                                               common::ByteView associated_data) {
  CUSTOS_ASSIGN_OR_RETURN(std::shared_ptr<const Aead> kek, Kek(version));
  return kek->Seal(dek.span(), associated_data);
}

Result<SecretBytes> SoftwareKekBackend::Unwrap(uint32_t version, common::ByteView wrapped,
                                               common::ByteView associated_data) {
  CUSTOS_ASSIGN_OR_RETURN(std::shared_ptr<const Aead> kek, Kek(version));
  common::Bytes plain;
  CUSTOS_RETURN_IF_ERROR(kek->OpenTo(wrapped, associated_data, plain));
  SecretBytes dek = SecretBytes::CopyOf(plain);
  Zeroize(plain);
  return dek;
}

Status SoftwareKekBackend::DestroyKek(uint32_t version) {
  std::unique_lock lock(mu_);
  keks_.erase(version);
  CUSTOS_RETURN_IF_ERROR(store_.Apply({{KekRecordKey(version), std::nullopt}}));
  return store_.PurgeDeleted();
}

}  // namespace custos::crypto
