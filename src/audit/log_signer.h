// The audit log's checkpoint signing key: an Ed25519 seed generated once per data
// directory and stored sealed under the keyring DEK of owner "audit-signing-key" (so it
// never touches disk in clear), and the public verifier key exported as a vkey file.
// Thread-safety: free functions; the Kv and Keyring they use are thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "audit/note.h"
#include "common/status.h"
#include "crypto/keyring.h"
#include "storage/kv.h"

namespace custos::audit {

inline constexpr std::string_view kSigningKeyOwner = "audit-signing-key";
// The file, in a data or replica directory, that holds the log's vkey.
inline constexpr std::string_view kPublicKeyFileName = "audit.pub";

// Loads the log's signing key, creating and storing it on first use. The note key name
// is `origin` (the checkpoint origin line), as C2SP logs conventionally name their key.
// NotFound if the signing key's DEK was shredded.
Result<NoteSigner> LoadOrCreateLogSigner(storage::Kv& kv, crypto::Keyring& keyring,
                                         std::string_view origin);

// Writes the vkey and a newline to `path` (mode 0644, replaced atomically).
Status WritePublicKeyFile(const NoteVerifier& verifier, const std::string& path);
// Reads a vkey file written by WritePublicKeyFile (surrounding whitespace ignored).
Result<NoteVerifier> ReadPublicKeyFile(const std::string& path);

}  // namespace custos::audit
