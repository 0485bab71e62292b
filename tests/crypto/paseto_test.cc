// PASETO v4 and PASERK unit tests: round trips, tampering of every character and every
// byte, wrong key / footer / implicit assertion, local-vs-public confusion, strict parsing.
#include "crypto/paseto.h"

#include <gtest/gtest.h>

#include <string>

#include "common/bytes.h"
#include "crypto/paserk.h"
#include "crypto/random.h"

namespace custos::crypto {
namespace {

using common::AsBytes;
using common::AsChars;

constexpr std::string_view kPayload = R"({"sub":"alice","exp":"2030-01-01T00:00:00+00:00"})";
constexpr std::string_view kFooter = R"({"kid":"k4.pid.test"})";
constexpr std::string_view kAudience = "aud:custos-prod";

PasetoVerifyOptions WithImplicit(std::string_view implicit) {
  PasetoVerifyOptions options;
  options.implicit_assertion = implicit;
  return options;
}

std::string MessageOf(const Status& status) { return status.message(); }

bool Contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

// Re-encodes a token's body after `mutate` edits the decoded bytes, keeping the rest.
template <typename F>
std::string MutateBody(const std::string& token, std::string_view header, F mutate) {
  std::string rest = token.substr(header.size());
  size_t dot = rest.find('.');
  std::string body_text = rest.substr(0, dot);
  std::string tail = dot == std::string::npos ? "" : rest.substr(dot);
  common::Bytes body = *common::Base64UrlDecode(body_text);
  mutate(body);
  return std::string(header) + common::Base64UrlEncode(body) + tail;
}

TEST(PasetoPaeTest, MatchesSpecExamples) {
  // paseto-spec Common.md, PAE examples.
  EXPECT_EQ(common::HexEncode(PasetoPreAuthEncode({})), "0000000000000000");
  EXPECT_EQ(common::HexEncode(PasetoPreAuthEncode({AsBytes("")})),
            "01000000000000000000000000000000");
  EXPECT_EQ(common::HexEncode(PasetoPreAuthEncode({AsBytes("test")})),
            "0100000000000000040000000000000074657374");
}

TEST(PasetoLocalTest, RoundTripWithFooterAndImplicitAssertion) {
  PasetoV4LocalKey key = PasetoV4LocalKey::Generate();
  std::string token = PasetoV4Encrypt(key, AsBytes(kPayload), kFooter, kAudience);
  EXPECT_TRUE(token.starts_with("v4.local."));
  EXPECT_TRUE(token.ends_with("." + common::Base64UrlEncode(AsBytes(kFooter))));
  EXPECT_EQ(token.find(kPayload), std::string::npos);

  auto message = PasetoV4Decrypt(key, token, WithImplicit(kAudience));
  ASSERT_TRUE(message.ok()) << message.status().ToString();
  EXPECT_EQ(AsChars(message->payload), kPayload);
  EXPECT_EQ(message->footer, kFooter);
}

TEST(PasetoLocalTest, FreshNonceEveryTime) {
  PasetoV4LocalKey key = PasetoV4LocalKey::Generate();
  EXPECT_NE(PasetoV4Encrypt(key, AsBytes(kPayload)), PasetoV4Encrypt(key, AsBytes(kPayload)));
}

TEST(PasetoLocalTest, EmptyPayloadRoundTrips) {
  PasetoV4LocalKey key = PasetoV4LocalKey::Generate();
  std::string token = PasetoV4Encrypt(key, {});
  // 32-byte nonce + 32-byte MAC = 64 bytes = 86 base64url characters.
  EXPECT_EQ(token.size(), std::string("v4.local.").size() + 86);
  auto message = PasetoV4Decrypt(key, token);
  ASSERT_TRUE(message.ok()) << message.status().ToString();
  EXPECT_TRUE(message->payload.empty());
  EXPECT_TRUE(message->footer.empty());
}

TEST(PasetoLocalTest, FlippingAnyCharacterFails) {
  PasetoV4LocalKey key = PasetoV4LocalKey::Generate();
  const std::string token = PasetoV4Encrypt(key, AsBytes(kPayload), kFooter, kAudience);
  for (size_t i = 0; i < token.size(); ++i) {
    std::string tampered = token;
    tampered[i] = static_cast<char>(tampered[i] ^ 0x01);
    auto result = PasetoV4Decrypt(key, tampered, WithImplicit(kAudience));
    ASSERT_FALSE(result.ok()) << "character " << i << " of " << token.size();
    EXPECT_EQ(result.status().code(), StatusCode::kUnauthenticated) << "character " << i;
  }
}

TEST(PasetoLocalTest, FlippingAnyBodyByteFailsTheMac) {
  PasetoV4LocalKey key = PasetoV4LocalKey::Generate();
  const std::string token = PasetoV4Encrypt(key, AsBytes(kPayload), kFooter, kAudience);
  const size_t body_size = 32 + kPayload.size() + 32;
  for (size_t i = 0; i < body_size; ++i) {
    std::string tampered =
        MutateBody(token, "v4.local.", [i](common::Bytes& body) { body[i] ^= 0x80; });
    auto result = PasetoV4Decrypt(key, tampered, WithImplicit(kAudience));
    ASSERT_FALSE(result.ok()) << "byte " << i;
    EXPECT_TRUE(Contains(MessageOf(result.status()), "v4.local MAC does not verify"))
        << "byte " << i << ": " << result.status().message();
  }
}

TEST(PasetoLocalTest, WrongKeyFails) {
  PasetoV4LocalKey key = PasetoV4LocalKey::Generate();
  PasetoV4LocalKey other = PasetoV4LocalKey::Generate();
  std::string token = PasetoV4Encrypt(key, AsBytes(kPayload));
  auto result = PasetoV4Decrypt(other, token);
  EXPECT_EQ(result.status().code(), StatusCode::kUnauthenticated);
  EXPECT_TRUE(Contains(MessageOf(result.status()), "MAC does not verify"));
}

TEST(PasetoLocalTest, WrongOrMissingImplicitAssertionFails) {
  PasetoV4LocalKey key = PasetoV4LocalKey::Generate();
  std::string token = PasetoV4Encrypt(key, AsBytes(kPayload), "", kAudience);
  EXPECT_TRUE(PasetoV4Decrypt(key, token, WithImplicit(kAudience)).ok());
  EXPECT_TRUE(Contains(MessageOf(PasetoV4Decrypt(key, token, WithImplicit("aud:other")).status()),
                       "MAC does not verify"));
  EXPECT_FALSE(PasetoV4Decrypt(key, token).ok());
  // And the reverse: issued without, presented with.
  std::string plain = PasetoV4Encrypt(key, AsBytes(kPayload));
  EXPECT_FALSE(PasetoV4Decrypt(key, plain, WithImplicit(kAudience)).ok());
}

TEST(PasetoLocalTest, FooterIsCheckedAndAuthenticated) {
  PasetoV4LocalKey key = PasetoV4LocalKey::Generate();
  std::string token = PasetoV4Encrypt(key, AsBytes(kPayload), kFooter);

  PasetoVerifyOptions expect_other;
  expect_other.expected_footer = R"({"kid":"other"})";
  auto mismatch = PasetoV4Decrypt(key, token, expect_other);
  EXPECT_EQ(mismatch.status().message(),
            "PASETO decrypt: footer does not match the expected footer");

  PasetoVerifyOptions expect_none;
  expect_none.expected_footer = "";
  EXPECT_FALSE(PasetoV4Decrypt(key, token, expect_none).ok());

  // A footer swapped for another one fails the MAC.
  std::string swapped =
      token.substr(0, token.rfind('.') + 1) + common::Base64UrlEncode(AsBytes(R"({"kid":"evil"})"));
  EXPECT_TRUE(Contains(MessageOf(PasetoV4Decrypt(key, swapped).status()), "MAC does not verify"));
  // Dropping the footer fails the MAC too.
  std::string dropped = token.substr(0, token.rfind('.'));
  EXPECT_TRUE(Contains(MessageOf(PasetoV4Decrypt(key, dropped).status()), "MAC does not verify"));
  // A trailing '.' with an empty footer is not canonical.
  EXPECT_EQ(PasetoV4Decrypt(key, dropped + ".").status().message(),
            "PASETO decrypt: token ends with '.' but has no footer; an empty footer must be "
            "omitted together with its '.'");
}

TEST(PasetoLocalTest, StrictParsing) {
  PasetoV4LocalKey key = PasetoV4LocalKey::Generate();
  EXPECT_EQ(PasetoV4Decrypt(key, "").status().message(),
            "PASETO decrypt: token has no recognisable 'version.purpose.' header, expected "
            "'v4.local.' (only PASETO version 4 is accepted)");
  EXPECT_EQ(PasetoV4Decrypt(key, "v2.local.AAAA").status().message(),
            "PASETO decrypt: token has header 'v2.local.', expected 'v4.local.' (only PASETO "
            "version 4 is accepted)");
  EXPECT_FALSE(PasetoV4Decrypt(key, "V4.LOCAL.AAAA").ok());
  EXPECT_EQ(PasetoV4Decrypt(key, "v4.local.").status().message(),
            "PASETO decrypt: v4.local token body is 0 bytes, shorter than the 64-byte minimum "
            "(32-byte nonce and 32-byte MAC)");
  std::string short_body = "v4.local." + common::Base64UrlEncode(common::Bytes(63, 0));
  EXPECT_TRUE(Contains(MessageOf(PasetoV4Decrypt(key, short_body).status()),
                       "token body is 63 bytes, shorter than the 64-byte minimum"));
  std::string token = PasetoV4Encrypt(key, AsBytes(kPayload));
  auto padded = PasetoV4Decrypt(key, token + "=");
  EXPECT_EQ(padded.status().code(), StatusCode::kUnauthenticated);
  EXPECT_TRUE(Contains(MessageOf(padded.status()), "not canonical unpadded base64url"));
  EXPECT_FALSE(PasetoV4Decrypt(key, " " + token).ok());
  EXPECT_FALSE(PasetoV4Decrypt(key, token + "\n").ok());
  EXPECT_FALSE(PasetoV4Decrypt(key, token + ".Zm9v.Zm9v").ok());
}

TEST(PasetoLocalTest, KeyMustBe32Bytes) {
  auto key = PasetoV4LocalKey::FromSecret(SecretBytes(16));
  EXPECT_EQ(key.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(key.status().message(), "PASETO v4.local key must be 32 bytes, got 16");
}

TEST(PasetoPublicTest, RoundTripAndDeterministic) {
  PasetoV4SecretKey key = PasetoV4SecretKey::Generate();
  std::string token = PasetoV4Sign(key, AsBytes(kPayload), kFooter, kAudience);
  EXPECT_EQ(token, PasetoV4Sign(key, AsBytes(kPayload), kFooter, kAudience));
  EXPECT_TRUE(token.starts_with("v4.public."));
  auto message = PasetoV4Verify(key.public_key(), token, WithImplicit(kAudience));
  ASSERT_TRUE(message.ok()) << message.status().ToString();
  EXPECT_EQ(AsChars(message->payload), kPayload);
  EXPECT_EQ(message->footer, kFooter);
}

TEST(PasetoPublicTest, EmptyPayloadRoundTrips) {
  PasetoV4SecretKey key = PasetoV4SecretKey::Generate();
  std::string token = PasetoV4Sign(key, {});
  auto message = PasetoV4Verify(key.public_key(), token);
  ASSERT_TRUE(message.ok()) << message.status().ToString();
  EXPECT_TRUE(message->payload.empty());
}

TEST(PasetoPublicTest, FlippingAnyCharacterFails) {
  PasetoV4SecretKey key = PasetoV4SecretKey::Generate();
  const std::string token = PasetoV4Sign(key, AsBytes(kPayload), kFooter, kAudience);
  for (size_t i = 0; i < token.size(); ++i) {
    std::string tampered = token;
    tampered[i] = static_cast<char>(tampered[i] ^ 0x01);
    auto result = PasetoV4Verify(key.public_key(), tampered, WithImplicit(kAudience));
    ASSERT_FALSE(result.ok()) << "character " << i;
    EXPECT_EQ(result.status().code(), StatusCode::kUnauthenticated);
  }
}

TEST(PasetoPublicTest, FlippingAnyBodyByteFailsTheSignature) {
  PasetoV4SecretKey key = PasetoV4SecretKey::Generate();
  const std::string token = PasetoV4Sign(key, AsBytes(kPayload), kFooter, kAudience);
  for (size_t i = 0; i < kPayload.size() + 64; ++i) {
    std::string tampered =
        MutateBody(token, "v4.public.", [i](common::Bytes& body) { body[i] ^= 0x01; });
    auto result = PasetoV4Verify(key.public_key(), tampered, WithImplicit(kAudience));
    ASSERT_FALSE(result.ok()) << "byte " << i;
    EXPECT_TRUE(Contains(MessageOf(result.status()), "v4.public signature does not verify"))
        << "byte " << i << ": " << result.status().message();
  }
}

TEST(PasetoPublicTest, WrongKeyImplicitAssertionOrFooterFails) {
  PasetoV4SecretKey key = PasetoV4SecretKey::Generate();
  PasetoV4SecretKey other = PasetoV4SecretKey::Generate();
  std::string token = PasetoV4Sign(key, AsBytes(kPayload), kFooter, kAudience);
  EXPECT_TRUE(Contains(
      MessageOf(PasetoV4Verify(other.public_key(), token, WithImplicit(kAudience)).status()),
      "signature does not verify"));
  EXPECT_TRUE(
      Contains(MessageOf(PasetoV4Verify(key.public_key(), token, WithImplicit("aud:dev")).status()),
               "signature does not verify"));
  EXPECT_FALSE(PasetoV4Verify(key.public_key(), token).ok());
  PasetoVerifyOptions options = WithImplicit(kAudience);
  options.expected_footer = "{}";
  EXPECT_EQ(PasetoV4Verify(key.public_key(), token, options).status().message(),
            "PASETO verify: footer does not match the expected footer");
  std::string swapped =
      token.substr(0, token.rfind('.') + 1) + common::Base64UrlEncode(AsBytes("{}"));
  EXPECT_TRUE(Contains(
      MessageOf(PasetoV4Verify(key.public_key(), swapped, WithImplicit(kAudience)).status()),
      "signature does not verify"));
}

TEST(PasetoPublicTest, ShortBodyIsRejected) {
  PasetoV4SecretKey key = PasetoV4SecretKey::Generate();
  std::string token = "v4.public." + common::Base64UrlEncode(common::Bytes(63, 7));
  EXPECT_EQ(PasetoV4Verify(key.public_key(), token).status().message(),
            "PASETO verify: v4.public token body is 63 bytes, shorter than the 64-byte signature");
}

TEST(PasetoPropertyTest, RandomMessagesRoundTripAtEveryLength) {
  // Lengths 0..130 cover every base64 tail (0, 2 or 3 characters) for body and footer.
  PasetoV4LocalKey local = PasetoV4LocalKey::Generate();
  PasetoV4SecretKey secret = PasetoV4SecretKey::Generate();
  for (size_t n = 0; n <= 130; ++n) {
    common::Bytes payload = RandomBytes(n);
    common::Bytes footer_bytes = RandomBytes(n % 7);
    std::string footer(AsChars(footer_bytes));
    std::string implicit(AsChars(RandomBytes(n % 5)));
    PasetoVerifyOptions options = WithImplicit(implicit);
    options.expected_footer = footer;

    auto local_back =
        PasetoV4Decrypt(local, PasetoV4Encrypt(local, payload, footer, implicit), options);
    ASSERT_TRUE(local_back.ok()) << n << ": " << local_back.status().ToString();
    EXPECT_EQ(local_back->payload, payload);
    EXPECT_EQ(local_back->footer, footer);

    auto public_back = PasetoV4Verify(secret.public_key(),
                                      PasetoV4Sign(secret, payload, footer, implicit), options);
    ASSERT_TRUE(public_back.ok()) << n << ": " << public_back.status().ToString();
    EXPECT_EQ(public_back->payload, payload);
    EXPECT_EQ(public_back->footer, footer);
  }
}

TEST(PasetoConfusionTest, LocalTokenToPublicVerifierFails) {
  PasetoV4LocalKey local = PasetoV4LocalKey::Generate();
  PasetoV4SecretKey secret = PasetoV4SecretKey::Generate();
  std::string local_token = PasetoV4Encrypt(local, AsBytes(kPayload));
  auto result = PasetoV4Verify(secret.public_key(), local_token);
  EXPECT_EQ(result.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(result.status().message(),
            "PASETO verify: token is v4.local (encrypted) but a v4.public token was expected; "
            "a local token cannot be verified with a public key");
}

TEST(PasetoConfusionTest, PublicTokenToLocalDecrypterFails) {
  PasetoV4LocalKey local = PasetoV4LocalKey::Generate();
  PasetoV4SecretKey secret = PasetoV4SecretKey::Generate();
  std::string public_token = PasetoV4Sign(secret, AsBytes(kPayload));
  auto result = PasetoV4Decrypt(local, public_token);
  EXPECT_EQ(result.status().code(), StatusCode::kUnauthenticated);
  EXPECT_TRUE(Contains(MessageOf(result.status()), "token is v4.public"));
}

TEST(PasetoConfusionTest, PublicKeyBytesAsLocalKeyStillNeedsTheHeader) {
  // Even if someone builds a local key from a public key's bytes (the classic
  // algorithm-confusion attack), a v4.public token is refused by header before any MAC.
  PasetoV4SecretKey secret = PasetoV4SecretKey::Generate();
  auto pk = secret.public_key().ed25519().bytes();
  auto confused = PasetoV4LocalKey::FromSecret(SecretBytes::CopyOf(pk));
  ASSERT_TRUE(confused.ok());
  std::string public_token = PasetoV4Sign(secret, AsBytes(kPayload));
  EXPECT_TRUE(
      Contains(MessageOf(PasetoV4Decrypt(*confused, public_token).status()), "token is v4.public"));
}

TEST(PasetoFooterTest, UntrustedFooterReadsBothPurposes) {
  PasetoV4LocalKey local = PasetoV4LocalKey::Generate();
  PasetoV4SecretKey secret = PasetoV4SecretKey::Generate();
  EXPECT_EQ(*PasetoV4UntrustedFooter(PasetoV4Encrypt(local, AsBytes(kPayload), kFooter)), kFooter);
  EXPECT_EQ(*PasetoV4UntrustedFooter(PasetoV4Sign(secret, AsBytes(kPayload), kFooter)), kFooter);
  EXPECT_EQ(*PasetoV4UntrustedFooter(PasetoV4Sign(secret, AsBytes(kPayload))), "");
  EXPECT_EQ(PasetoV4UntrustedFooter("v3.public.abc").status().code(), StatusCode::kUnauthenticated);
  EXPECT_FALSE(PasetoV4UntrustedFooter("v4.public.AAAA.!!").ok());
}

TEST(PaserkTest, RoundTripsGeneratedKeys) {
  PasetoV4LocalKey local = PasetoV4LocalKey::Generate();
  SecretBytes local_text = ToPaserk(local);
  auto local_back = PaserkToLocalKey(AsChars(local_text.span()));
  ASSERT_TRUE(local_back.ok());
  EXPECT_EQ(common::HexEncode(local_back->key_material().span()),
            common::HexEncode(local.key_material().span()));

  PasetoV4SecretKey secret = PasetoV4SecretKey::Generate();
  SecretBytes secret_text = ToPaserk(secret);
  auto secret_back = PaserkToSecretKey(AsChars(secret_text.span()));
  ASSERT_TRUE(secret_back.ok()) << secret_back.status().ToString();
  EXPECT_EQ(secret_back->public_key(), secret.public_key());
  auto public_back = PaserkToPublicKey(ToPaserk(secret.public_key()));
  ASSERT_TRUE(public_back.ok());
  EXPECT_EQ(*public_back, secret.public_key());

  // Ids are per type, stable, and 7 + 44 characters (33 bytes of BLAKE2b).
  EXPECT_TRUE(PaserkId(local).starts_with("k4.lid."));
  EXPECT_TRUE(PaserkId(secret).starts_with("k4.sid."));
  EXPECT_TRUE(PaserkId(secret.public_key()).starts_with("k4.pid."));
  EXPECT_EQ(PaserkId(secret.public_key()).size(), 7u + 44u);
  EXPECT_EQ(PaserkId(local), PaserkId(*local_back));
}

TEST(PaserkTest, RejectsWrongTypeAndInconsistentSecret) {
  PasetoV4SecretKey secret = PasetoV4SecretKey::Generate();
  SecretBytes secret_text = ToPaserk(secret);
  auto as_local = PaserkToLocalKey(AsChars(secret_text.span()));
  EXPECT_EQ(as_local.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(as_local.status().message(),
            "PASERK: expected prefix 'k4.local.', got 'k4.secret' (a PASERK of another type: "
            "use the parser for that type)");
  EXPECT_EQ(PaserkToLocalKey("k4.local." + common::Base64UrlEncode(common::Bytes(31, 1)))
                .status()
                .message(),
            "PASERK k4.local.: key is 31 bytes, expected 32");
  EXPECT_FALSE(PaserkToPublicKey("k4.public.AAAA").ok());
  EXPECT_FALSE(PaserkToPublicKey("k4.public.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=").ok());
  EXPECT_TRUE(PaserkToPublicKey("k4.public.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").ok());
  // Non-zero trailing bits in the last character: not canonical.
  EXPECT_FALSE(PaserkToPublicKey("k4.public.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB").ok());

  // A k4.secret whose public half belongs to another seed.
  std::string text(AsChars(secret_text.span()));
  common::Bytes raw = *common::Base64UrlDecode(text.substr(10));
  raw[40] ^= 1;
  auto inconsistent = PaserkToSecretKey("k4.secret." + common::Base64UrlEncode(raw));
  EXPECT_EQ(inconsistent.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(MessageOf(inconsistent.status()), "public half does not match the seed"));
}

}  // namespace
}  // namespace custos::crypto
