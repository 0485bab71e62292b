// PASERK (paseto-standard/paserk) for version 4 keys: the plain key serializations
// k4.local, k4.public, k4.secret and the key ids k4.lid, k4.pid, k4.sid (what a token's
// footer `kid` carries). Wrapped, password-protected and sealed forms (k4.local-wrap,
// k4.local-pw, k4.seal, ...) are not implemented: custos wraps keys with its keyring.
//
// The text of k4.local and k4.secret IS the key, so it is returned in a zeroizing
// SecretBytes buffer (ASCII bytes), never in a std::string. Parsing checks the exact
// prefix (version and type), canonical unpadded base64url and the exact length; a bad
// PASERK is InvalidArgument with a message naming the failed check.
// Thread-safety: free functions over values; safe from any thread.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "crypto/paseto.h"
#include "crypto/secret.h"

namespace custos::crypto {

// "k4.local." + base64url(key), in a zeroizing buffer.
SecretBytes ToPaserk(const PasetoV4LocalKey& key);
// "k4.public." + base64url(public key).
std::string ToPaserk(const PasetoV4PublicKey& key);
// "k4.secret." + base64url(seed || public key), in a zeroizing buffer.
SecretBytes ToPaserk(const PasetoV4SecretKey& key);

Result<PasetoV4LocalKey> PaserkToLocalKey(std::string_view paserk);
Result<PasetoV4PublicKey> PaserkToPublicKey(std::string_view paserk);
// Also checks that the public half matches the seed.
Result<PasetoV4SecretKey> PaserkToSecretKey(std::string_view paserk);

// Key ids: h || base64url(BLAKE2b-264(h || PASERK of the key)), h = "k4.lid." etc. An id
// names a key without revealing it, so it may go in a token footer and in logs.
std::string PaserkId(const PasetoV4LocalKey& key);   // k4.lid.
std::string PaserkId(const PasetoV4PublicKey& key);  // k4.pid.
std::string PaserkId(const PasetoV4SecretKey& key);  // k4.sid.

}  // namespace custos::crypto
