// PASETO version 4 tokens (paseto-spec Version4.md): v4.local (XChaCha20 with a BLAKE2b
// MAC, encrypt-then-MAC) and v4.public (Ed25519 over the pre-authentication encoding).
// Only the protocol lives here; claims (exp, aud, ...) are the caller's, e.g. identity/.
//
// Keys are distinct types, so a local key cannot verify a public token and a public key
// cannot decrypt: the mistake does not compile. Tokens are also checked by header, so a
// `v4.local.` token handed to PasetoV4Verify is refused with a message naming the cause.
//
// Every rejection of a token is Unauthenticated, with a message saying which check
// failed (header, encoding, length, footer, MAC or signature); a malformed argument
// that is not the token (e.g. a key of the wrong size) is InvalidArgument. No input
// crashes (fuzz/paseto_fuzz.cc).
//
// Thread-safety: key objects are immutable once built and safe to share between
// threads; the free functions are safe from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "common/bytes.h"
#include "common/status.h"
#include "crypto/ed25519.h"
#include "crypto/secret.h"

namespace custos::crypto {

// A symmetric key for v4.local only (256 bits). Move-only; the bytes are zeroized on
// destruction.
class PasetoV4LocalKey {
 public:
  static constexpr size_t kSize = 32;

  static PasetoV4LocalKey Generate();
  // Takes ownership of 32 bytes of key material (from the keyring or a PASERK).
  static Result<PasetoV4LocalKey> FromSecret(SecretBytes key);

  PasetoV4LocalKey(PasetoV4LocalKey&&) noexcept = default;
  PasetoV4LocalKey& operator=(PasetoV4LocalKey&&) noexcept = default;
  PasetoV4LocalKey Clone() const { return PasetoV4LocalKey(key_.Clone()); }

  // The raw key, for sealing into the keyring and for PASERK; not for application code.
  const SecretBytes& key_material() const { return key_; }

 private:
  explicit PasetoV4LocalKey(SecretBytes key) : key_(std::move(key)) {}
  SecretBytes key_;
};

// The verifying half of a v4.public key pair.
class PasetoV4PublicKey {
 public:
  explicit PasetoV4PublicKey(const Ed25519PublicKey& key) : key_(key) {}
  static Result<PasetoV4PublicKey> FromBytes(common::ByteView bytes);

  const Ed25519PublicKey& ed25519() const { return key_; }
  friend bool operator==(const PasetoV4PublicKey&, const PasetoV4PublicKey&) = default;

 private:
  Ed25519PublicKey key_;
};

// The signing half of a v4.public key pair. Move-only; Clone() copies explicitly.
class PasetoV4SecretKey {
 public:
  explicit PasetoV4SecretKey(Ed25519PrivateKey key) : key_(std::move(key)) {}
  static PasetoV4SecretKey Generate() { return PasetoV4SecretKey(Ed25519PrivateKey::Generate()); }

  PasetoV4SecretKey Clone() const { return PasetoV4SecretKey(key_.Clone()); }
  PasetoV4PublicKey public_key() const { return PasetoV4PublicKey(key_.public_key()); }
  const Ed25519PrivateKey& ed25519() const { return key_; }

 private:
  Ed25519PrivateKey key_;
};

// What a verified or decrypted token carried. Both are authenticated.
struct PasetoMessage {
  common::Bytes payload;
  std::string footer;  // empty when the token had none
};

// What Decrypt/Verify check beyond the MAC or signature.
struct PasetoVerifyOptions {
  // Authenticated but not carried in the token (e.g. the audience): must equal what the
  // issuer passed, byte for byte. Default: empty.
  std::string_view implicit_assertion;
  // When set, the token's footer must equal it exactly (checked before any crypto, and
  // an empty value requires the token to have no footer). Default: any footer accepted
  // and returned in PasetoMessage::footer.
  std::optional<std::string_view> expected_footer;
};

// v4.local: encrypts `payload` under a fresh random 256-bit nonce. The footer travels
// in clear (base64url) but is authenticated; the implicit assertion is authenticated
// and not carried.
std::string PasetoV4Encrypt(const PasetoV4LocalKey& key, common::ByteView payload,
                            std::string_view footer = {}, std::string_view implicit_assertion = {});

Result<PasetoMessage> PasetoV4Decrypt(const PasetoV4LocalKey& key, std::string_view token,
                                      const PasetoVerifyOptions& options = {});

// v4.public: signs (Ed25519, deterministic) the pre-authentication encoding of the
// header, payload, footer and implicit assertion. The payload is readable by anyone.
std::string PasetoV4Sign(const PasetoV4SecretKey& key, common::ByteView payload,
                         std::string_view footer = {}, std::string_view implicit_assertion = {});

Result<PasetoMessage> PasetoV4Verify(const PasetoV4PublicKey& key, std::string_view token,
                                     const PasetoVerifyOptions& options = {});

// The footer of a v4 token, decoded but NOT authenticated: only for choosing a key (a
// `kid`) before Decrypt/Verify, never for trusting its content.
Result<std::string> PasetoV4UntrustedFooter(std::string_view token);

// PAE (pre-authentication encoding, paseto-spec Common.md): LE64(count), then
// LE64(length) || piece for each piece. Exposed for tests and for PASERK.
common::Bytes PasetoPreAuthEncode(std::initializer_list<common::ByteView> pieces);

namespace testing_only {
// v4.local with a caller-chosen nonce, so that test vectors (which fix the nonce) can
// be reproduced. A repeated nonce under one key loses confidentiality: never call this
// outside tests.
std::string PasetoV4EncryptWithNonceForTesting(const PasetoV4LocalKey& key,
                                               common::ByteView payload, std::string_view footer,
                                               std::string_view implicit_assertion,
                                               const std::array<uint8_t, 32>& nonce);
}  // namespace testing_only

}  // namespace custos::crypto
