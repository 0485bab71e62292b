// PASETO v4.local and v4.public over libsodium: BLAKE2b (crypto_generichash) for key
// splitting and the MAC, XChaCha20 (crypto_stream_xchacha20_xor), Ed25519 (crypto/ed25519).
#include "crypto/paseto.h"

#include <sodium.h>

#include <algorithm>
#include <cstring>

#include "common/public_base64url.h"
#include "crypto/random.h"

namespace custos::crypto {
namespace {

constexpr std::string_view kLocalHeader = "v4.local.";
constexpr std::string_view kPublicHeader = "v4.public.";
constexpr std::string_view kEncryptionKeyInfo = "paseto-encryption-key";
constexpr std::string_view kAuthKeyInfo = "paseto-auth-key-for-aead";
constexpr size_t kNonceSize = 32;
constexpr size_t kMacSize = 32;
constexpr size_t kSignatureSize = 64;

static_assert(crypto_stream_xchacha20_KEYBYTES == 32);
static_assert(crypto_stream_xchacha20_NONCEBYTES == 24);

void AppendLe64(common::Bytes& out, uint64_t n) {
  // PAE clears the top bit so that the encoding is the same in languages with only
  // signed 64-bit integers.
  n &= ~(uint64_t{1} << 63);
  for (int i = 0; i < 8; ++i) {
    out.push_back(static_cast<uint8_t>(n & 0xff));
    n >>= 8;
  }
}

// LE64 at `out` (8 bytes), as AppendLe64.
void PutLe64(uint8_t* out, uint64_t n) {
  n &= ~(uint64_t{1} << 63);
  for (int i = 0; i < 8; ++i) {
    out[i] = static_cast<uint8_t>(n & 0xff);
    n >>= 8;
  }
}

// Keyed BLAKE2b of info || nonce, `out.size()` bytes long.
void KeyedBlake2b(std::span<uint8_t> out, const SecretBytes& key, std::string_view info,
                  common::ByteView nonce) {
  crypto_generichash_state state;
  crypto_generichash_init(&state, key.span().data(), key.size(), out.size());
  crypto_generichash_update(&state, reinterpret_cast<const uint8_t*>(info.data()), info.size());
  crypto_generichash_update(&state, nonce.data(), nonce.size());
  crypto_generichash_final(&state, out.data(), out.size());
  sodium_memzero(&state, sizeof state);
}

// Ek || n2 and Ak for one token (Version4.md, Encrypt step 4).
struct LocalSubkeys {
  std::array<uint8_t, 56> ek_n2{};  // encryption key (32) || XChaCha20 nonce (24)
  std::array<uint8_t, 32> ak{};     // BLAKE2b-MAC key
  ~LocalSubkeys() {
    sodium_memzero(ek_n2.data(), ek_n2.size());
    sodium_memzero(ak.data(), ak.size());
  }
  const uint8_t* ek() const { return ek_n2.data(); }
  const uint8_t* n2() const { return ek_n2.data() + 32; }
};

void DeriveSubkeys(const SecretBytes& key, common::ByteView nonce, LocalSubkeys& out) {
  KeyedBlake2b(out.ek_n2, key, kEncryptionKeyInfo, nonce);
  KeyedBlake2b(out.ak, key, kAuthKeyInfo, nonce);
}

std::array<uint8_t, kMacSize> LocalMac(const LocalSubkeys& keys, common::ByteView nonce,
                                       common::ByteView ciphertext, std::string_view footer,
                                       std::string_view implicit_assertion) {
  common::Bytes pre_auth =
      PasetoPreAuthEncode({common::AsBytes(kLocalHeader), nonce, ciphertext,
                           common::AsBytes(footer), common::AsBytes(implicit_assertion)});
  std::array<uint8_t, kMacSize> mac{};
  crypto_generichash(mac.data(), mac.size(), pre_auth.data(), pre_auth.size(), keys.ak.data(),
                     keys.ak.size());
  return mac;
}

std::string AssembleToken(std::string_view header, common::ByteView body, std::string_view footer) {
  std::string token(header);
  token += common::Base64UrlEncode(body);
  if (!footer.empty()) {
    token += '.';
    token += common::Base64UrlEncode(common::AsBytes(footer));
  }
  return token;
}

// A short, printable description of what a token starts with, for error messages
// (never echoes more than the version.purpose prefix).
std::string DescribeHeader(std::string_view token) {
  size_t first = token.find('.');
  size_t second = first == std::string_view::npos ? first : token.find('.', first + 1);
  std::string_view prefix = token.substr(0, second == std::string_view::npos ? 0 : second + 1);
  if (prefix.empty() || prefix.size() > 16) return "no recognisable 'version.purpose.' header";
  for (char c : prefix) {
    if (c < 0x21 || c > 0x7e) return "no recognisable 'version.purpose.' header";
  }
  return "header '" + std::string(prefix) + "'";
}

// A token split by its header: the body still in base64url, the footer decoded.
struct TokenText {
  std::string_view body_text;
  std::string footer;
};

// Token bodies and footers are public (a signed payload, or a nonce, ciphertext and MAC),
// so they go through the fast variable-time decoder; keys never do.
Status BodyEncodingError(std::string_view operation, const Status& cause) {
  return UnauthenticatedError("PASETO " + std::string(operation) +
                              ": token body is not canonical unpadded base64url (" +
                              cause.message() + ")");
}

// Checks the header and splits the token; decodes and checks the footer (all of which
// happens before any cryptography, as the spec orders it). The caller decodes the body.
Result<TokenText> SplitToken(std::string_view token, std::string_view header,
                             std::string_view operation,
                             const std::optional<std::string_view>& expected_footer) {
  if (!token.starts_with(header)) {
    if (header == kLocalHeader && token.starts_with(kPublicHeader)) {
      return UnauthenticatedError(
          "PASETO " + std::string(operation) +
          ": token is v4.public (signed, not encrypted) but a v4.local token was expected; "
          "verify it with PasetoV4Verify and a PasetoV4PublicKey");
    }
    if (header == kPublicHeader && token.starts_with(kLocalHeader)) {
      return UnauthenticatedError(
          "PASETO " + std::string(operation) +
          ": token is v4.local (encrypted) but a v4.public token was expected; a local "
          "token cannot be verified with a public key");
    }
    return UnauthenticatedError("PASETO " + std::string(operation) + ": token has " +
                                DescribeHeader(token) + ", expected '" + std::string(header) +
                                "' (only PASETO version 4 is accepted)");
  }
  std::string_view rest = token.substr(header.size());
  TokenText parts;
  parts.body_text = rest;
  if (size_t dot = rest.find('.'); dot != std::string_view::npos) {
    parts.body_text = rest.substr(0, dot);
    std::string_view footer_text = rest.substr(dot + 1);
    if (footer_text.empty()) {
      return UnauthenticatedError("PASETO " + std::string(operation) +
                                  ": token ends with '.' but has no footer; an empty footer "
                                  "must be omitted together with its '.'");
    }
    Result<std::string> footer = common::PublicBase64UrlDecodeToString(footer_text);
    if (!footer.ok()) {
      return UnauthenticatedError("PASETO " + std::string(operation) +
                                  ": footer is not canonical unpadded base64url (" +
                                  footer.status().message() + ")");
    }
    parts.footer = std::move(*footer);
  }
  if (expected_footer &&
      !ConstantTimeEquals(common::AsBytes(parts.footer), common::AsBytes(*expected_footer))) {
    return UnauthenticatedError("PASETO " + std::string(operation) +
                                ": footer does not match the expected footer");
  }
  return parts;
}

}  // namespace

common::Bytes PasetoPreAuthEncode(std::initializer_list<common::ByteView> pieces) {
  size_t total = 8;
  for (common::ByteView piece : pieces) total += 8 + piece.size();
  common::Bytes out;
  out.reserve(total);
  AppendLe64(out, pieces.size());
  for (common::ByteView piece : pieces) {
    AppendLe64(out, piece.size());
    out.insert(out.end(), piece.begin(), piece.end());
  }
  return out;
}

PasetoV4LocalKey PasetoV4LocalKey::Generate() {
  InitCrypto();
  return PasetoV4LocalKey(SecretBytes::Random(kSize));
}

Result<PasetoV4LocalKey> PasetoV4LocalKey::FromSecret(SecretBytes key) {
  if (key.size() != kSize) {
    return InvalidArgumentError("PASETO v4.local key must be 32 bytes, got " +
                                std::to_string(key.size()));
  }
  return PasetoV4LocalKey(std::move(key));
}

Result<PasetoV4PublicKey> PasetoV4PublicKey::FromBytes(common::ByteView bytes) {
  Result<Ed25519PublicKey> key = Ed25519PublicKey::FromBytes(bytes);
  if (!key.ok()) return key.status().WithContext("PASETO v4.public key");
  return PasetoV4PublicKey(*key);
}

namespace testing_only {

std::string PasetoV4EncryptWithNonceForTesting(const PasetoV4LocalKey& key,
                                               common::ByteView payload, std::string_view footer,
                                               std::string_view implicit_assertion,
                                               const std::array<uint8_t, 32>& nonce) {
  InitCrypto();
  LocalSubkeys subkeys;
  DeriveSubkeys(key.key_material(), nonce, subkeys);
  // body = n || c || t, with c written in place.
  common::Bytes body(kNonceSize + payload.size() + kMacSize);
  std::memcpy(body.data(), nonce.data(), kNonceSize);
  uint8_t* ciphertext = body.data() + kNonceSize;
  if (!payload.empty()) {
    crypto_stream_xchacha20_xor(ciphertext, payload.data(), payload.size(), subkeys.n2(),
                                subkeys.ek());
  }
  std::array<uint8_t, kMacSize> mac = LocalMac(
      subkeys, nonce, common::ByteView(ciphertext, payload.size()), footer, implicit_assertion);
  std::memcpy(ciphertext + payload.size(), mac.data(), kMacSize);
  return AssembleToken(kLocalHeader, body, footer);
}

}  // namespace testing_only

std::string PasetoV4Encrypt(const PasetoV4LocalKey& key, common::ByteView payload,
                            std::string_view footer, std::string_view implicit_assertion) {
  std::array<uint8_t, kNonceSize> nonce{};
  RandomFill(nonce);
  return testing_only::PasetoV4EncryptWithNonceForTesting(key, payload, footer, implicit_assertion,
                                                          nonce);
}

Result<PasetoMessage> PasetoV4Decrypt(const PasetoV4LocalKey& key, std::string_view token,
                                      const PasetoVerifyOptions& options) {
  CUSTOS_ASSIGN_OR_RETURN(TokenText parts,
                          SplitToken(token, kLocalHeader, "decrypt", options.expected_footer));
  Result<common::Bytes> decoded = common::PublicBase64UrlDecode(parts.body_text);
  if (!decoded.ok()) return BodyEncodingError("decrypt", decoded.status());
  if (decoded->size() < kNonceSize + kMacSize) {
    return UnauthenticatedError("PASETO decrypt: v4.local token body is " +
                                std::to_string(decoded->size()) +
                                " bytes, shorter than the 64-byte minimum (32-byte nonce and "
                                "32-byte MAC)");
  }
  InitCrypto();
  common::ByteView body(*decoded);
  common::ByteView nonce = body.first(kNonceSize);
  common::ByteView ciphertext = body.subspan(kNonceSize, body.size() - kNonceSize - kMacSize);
  common::ByteView mac = body.last(kMacSize);

  LocalSubkeys subkeys;
  DeriveSubkeys(key.key_material(), nonce, subkeys);
  std::array<uint8_t, kMacSize> expected =
      LocalMac(subkeys, nonce, ciphertext, parts.footer, options.implicit_assertion);
  if (!ConstantTimeEquals(expected, mac)) {
    return UnauthenticatedError(
        "PASETO decrypt: v4.local MAC does not verify (wrong key, tampered token, or a "
        "different footer or implicit assertion than at encryption)");
  }
  PasetoMessage message;
  message.payload.resize(ciphertext.size());
  if (!ciphertext.empty()) {
    crypto_stream_xchacha20_xor(message.payload.data(), ciphertext.data(), ciphertext.size(),
                                subkeys.n2(), subkeys.ek());
  }
  message.footer = std::move(parts.footer);
  return message;
}

std::string PasetoV4Sign(const PasetoV4SecretKey& key, common::ByteView payload,
                         std::string_view footer, std::string_view implicit_assertion) {
  common::Bytes pre_auth =
      PasetoPreAuthEncode({common::AsBytes(kPublicHeader), payload, common::AsBytes(footer),
                           common::AsBytes(implicit_assertion)});
  Ed25519Signature signature = key.ed25519().Sign(pre_auth);
  common::Bytes body;
  body.reserve(payload.size() + signature.size());
  body.insert(body.end(), payload.begin(), payload.end());
  body.insert(body.end(), signature.begin(), signature.end());
  return AssembleToken(kPublicHeader, body, footer);
}

Result<PasetoMessage> PasetoV4Verify(const PasetoV4PublicKey& key, std::string_view token,
                                     const PasetoVerifyOptions& options) {
  CUSTOS_ASSIGN_OR_RETURN(TokenText parts,
                          SplitToken(token, kPublicHeader, "verify", options.expected_footer));
  Result<size_t> body_size = common::PublicBase64UrlDecodedSize(parts.body_text.size());
  if (!body_size.ok()) return BodyEncodingError("verify", body_size.status());
  if (*body_size < kSignatureSize) {
    // An encoding error is reported first, as for longer bodies.
    Result<common::Bytes> body = common::PublicBase64UrlDecode(parts.body_text);
    if (!body.ok()) return BodyEncodingError("verify", body.status());
    return UnauthenticatedError("PASETO verify: v4.public token body is " +
                                std::to_string(*body_size) +
                                " bytes, shorter than the 64-byte signature");
  }
  // The message signed is PAE(header, payload, footer, implicit assertion). It is built in
  // one buffer with the body decoded straight into the payload's place: the signature
  // that lands after it is moved out, then the footer and assertion pieces overwrite it.
  constexpr size_t kPayloadOffset = 8 + 8 + kPublicHeader.size() + 8;
  const size_t payload_size = *body_size - kSignatureSize;
  const std::string_view implicit = options.implicit_assertion;
  const size_t pae_size =
      kPayloadOffset + payload_size + 8 + parts.footer.size() + 8 + implicit.size();
  common::Bytes pae(std::max(pae_size, kPayloadOffset + *body_size));
  uint8_t* p = pae.data();
  if (Status s = common::PublicBase64UrlDecodeInto(
          parts.body_text, std::span<uint8_t>(p + kPayloadOffset, *body_size));
      !s.ok()) {
    return BodyEncodingError("verify", s);
  }
  std::array<uint8_t, kSignatureSize> signature;
  std::memcpy(signature.data(), p + kPayloadOffset + payload_size, kSignatureSize);
  PutLe64(p, 4);
  PutLe64(p + 8, kPublicHeader.size());
  std::memcpy(p + 16, kPublicHeader.data(), kPublicHeader.size());
  PutLe64(p + 16 + kPublicHeader.size(), payload_size);
  uint8_t* tail = p + kPayloadOffset + payload_size;
  PutLe64(tail, parts.footer.size());
  tail += 8;
  if (!parts.footer.empty()) std::memcpy(tail, parts.footer.data(), parts.footer.size());
  tail += parts.footer.size();
  PutLe64(tail, implicit.size());
  tail += 8;
  if (!implicit.empty()) std::memcpy(tail, implicit.data(), implicit.size());
  pae.resize(pae_size);
  if (!key.ed25519().Verify(pae, signature)) {
    return UnauthenticatedError(
        "PASETO verify: v4.public signature does not verify (wrong key, tampered token, or a "
        "different footer or implicit assertion than at signing)");
  }
  // Keep the payload, moved to the front of the same buffer (no second allocation).
  pae.resize(kPayloadOffset + payload_size);
  pae.erase(pae.begin(), pae.begin() + kPayloadOffset);
  PasetoMessage message;
  message.payload = std::move(pae);
  message.footer = std::move(parts.footer);
  return message;
}

Result<std::string> PasetoV4UntrustedFooter(std::string_view token) {
  std::string_view header;
  if (token.starts_with(kLocalHeader)) {
    header = kLocalHeader;
  } else if (token.starts_with(kPublicHeader)) {
    header = kPublicHeader;
  } else {
    return UnauthenticatedError("PASETO footer: token has " + DescribeHeader(token) +
                                ", expected 'v4.local.' or 'v4.public.'");
  }
  CUSTOS_ASSIGN_OR_RETURN(TokenText parts, SplitToken(token, header, "footer", std::nullopt));
  // The body is decoded too, so that a footer is only returned from a well-formed token.
  Result<common::Bytes> body = common::PublicBase64UrlDecode(parts.body_text);
  if (!body.ok()) return BodyEncodingError("footer", body.status());
  return std::move(parts.footer);
}

}  // namespace custos::crypto
