// The audit signing key's storage and the public key file (see log_signer.h).
#include "audit/log_signer.h"

#include <cstdio>
#include <fstream>
#include <sstream>

#include "common/key_encoding.h"
#include "crypto/ed25519.h"
#include "storage/encrypted_keyspace.h"

namespace custos::audit {
namespace {

std::string SigningKeyKey() {
  return common::KeyBuilder().AddString("k").AddString("signing-key").Release();
}

}  // namespace

Result<NoteSigner> LoadOrCreateLogSigner(storage::Kv& kv, crypto::Keyring& keyring,
                                         std::string_view origin) {
  CUSTOS_ASSIGN_OR_RETURN(
      auto space,
      storage::EncryptedKeyspace::Open(kv, storage::Keyspace::kAudit, keyring, kSigningKeyOwner));
  CUSTOS_ASSIGN_OR_RETURN(auto stored, space.Get(SigningKeyKey()));
  if (stored) {
    crypto::SecretBytes seed = crypto::SecretBytes::CopyOf(common::AsBytes(*stored));
    crypto::Zeroize(std::span<uint8_t>(reinterpret_cast<uint8_t*>(stored->data()), stored->size()));
    CUSTOS_ASSIGN_OR_RETURN(auto key, crypto::Ed25519PrivateKey::FromSeed(seed));
    return NoteSigner::Create(std::string(origin), std::move(key));
  }
  crypto::Ed25519PrivateKey key = crypto::Ed25519PrivateKey::Generate();
  crypto::SecretBytes seed = key.Seed();
  CUSTOS_RETURN_IF_ERROR(space.Put(SigningKeyKey(), common::AsChars(seed.span())));
  return NoteSigner::Create(std::string(origin), std::move(key));
}

Status WritePublicKeyFile(const NoteVerifier& verifier, const std::string& path) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << verifier.Vkey() << "\n";
    out.close();
    if (!out)
      return UnavailableError("cannot write " + tmp + ": check the directory's permissions");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    return UnavailableError("cannot rename " + tmp + " to " + path);
  }
  return Status::Ok();
}

Result<NoteVerifier> ReadPublicKeyFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return NotFoundError(path +
                         ": cannot read the audit public key (pass --pubkey FILE, or run "
                         "`custos audit pubkey` on the data directory)");
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string text = buffer.str();
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) {
    text.pop_back();
  }
  auto verifier = NoteVerifier::FromVkey(text);
  if (!verifier.ok()) return verifier.status().WithContext(path);
  return verifier;
}

}  // namespace custos::audit
