// libFuzzer target for crypto/paseto.h, crypto/paserk.h and the TOTP/base32 parsers:
// arbitrary bytes as tokens, PASERKs and codes must be refused cleanly (never crash,
// never accept a forgery), and arbitrary bytes as payload/footer must round-trip.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/bytes.h"
#include "crypto/paserk.h"
#include "crypto/paseto.h"
#include "crypto/totp.h"

namespace {

using custos::crypto::PasetoV4LocalKey;
using custos::crypto::PasetoV4SecretKey;

struct Keys {
  PasetoV4LocalKey local;
  PasetoV4SecretKey secret;
};

// Fixed keys, built once (and deliberately never freed).
const Keys& FuzzKeys() {
  static const Keys* keys = [] {
    custos::crypto::SecretBytes local(32);
    custos::crypto::SecretBytes seed(32);
    for (size_t i = 0; i < 32; ++i) {
      local.span()[i] = static_cast<uint8_t>(0x70 + i);
      seed.span()[i] = static_cast<uint8_t>(0xa0 + i);
    }
    return new Keys{*PasetoV4LocalKey::FromSecret(std::move(local)),
                    PasetoV4SecretKey(*custos::crypto::Ed25519PrivateKey::FromSeed(seed))};
  }();
  return *keys;
}

void Check(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Keys& keys = FuzzKeys();
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  // 1. Parsers on untrusted text.
  auto decrypted = custos::crypto::PasetoV4Decrypt(keys.local, input);
  auto verified = custos::crypto::PasetoV4Verify(keys.secret.public_key(), input);
  // Acceptance needs a valid MAC or signature under the fixed keys, which only a seeded
  // corpus can supply; whatever is accepted must at least carry the matching header.
  Check(!decrypted.ok() || input.starts_with("v4.local."));
  Check(!verified.ok() || input.starts_with("v4.public."));
  if (!decrypted.ok()) {
    Check(decrypted.status().code() == custos::StatusCode::kUnauthenticated);
  }
  if (!verified.ok()) {
    Check(verified.status().code() == custos::StatusCode::kUnauthenticated);
  }
  (void)custos::crypto::PasetoV4UntrustedFooter(input);
  (void)custos::crypto::PaserkToLocalKey(input);
  (void)custos::crypto::PaserkToPublicKey(input);
  (void)custos::crypto::PaserkToSecretKey(input);
  (void)custos::crypto::Base32Decode(input);

  // 2. Round trips with the input split into payload | footer | implicit assertion.
  const size_t third = size / 3;
  const custos::common::ByteView payload(data, third);
  const std::string_view footer = input.substr(third, third);
  const std::string_view implicit = input.substr(2 * third);
  custos::crypto::PasetoVerifyOptions options;
  options.implicit_assertion = implicit;

  std::string local_token = custos::crypto::PasetoV4Encrypt(keys.local, payload, footer, implicit);
  auto local_back = custos::crypto::PasetoV4Decrypt(keys.local, local_token, options);
  Check(local_back.ok());
  Check(custos::common::AsChars(local_back->payload) == custos::common::AsChars(payload));
  Check(local_back->footer == footer);

  std::string public_token = custos::crypto::PasetoV4Sign(keys.secret, payload, footer, implicit);
  auto public_back =
      custos::crypto::PasetoV4Verify(keys.secret.public_key(), public_token, options);
  Check(public_back.ok());
  Check(custos::common::AsChars(public_back->payload) == custos::common::AsChars(payload));
  Check(public_back->footer == footer);

  // 3. Base32 round trip of arbitrary bytes.
  auto base32_back = custos::crypto::Base32Decode(
      custos::crypto::Base32Encode(custos::common::ByteView(data, size)));
  Check(base32_back.ok());
  Check(custos::common::AsChars(base32_back->span()) == input);
  return 0;
}
