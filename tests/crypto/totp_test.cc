// TOTP unit tests: skew window, reuse refusal via the returned step, input checks,
// base32 (RFC 4648 section 10 vectors) and the otpauth:// URI.
#include "crypto/totp.h"

#include <gtest/gtest.h>

#include <string>

#include "common/bytes.h"

namespace custos::crypto {
namespace {

using common::AsBytes;

SecretBytes RfcSecret() { return SecretBytes::CopyOf(AsBytes("12345678901234567890")); }

constexpr int64_t kNow = 1'700'000'015;  // step 56666667, 5 s into it
constexpr uint64_t kStep = 56'666'667;

TEST(TotpTest, SixDigitDefaultIsTheTailOfTheEightDigitValue) {
  // RFC 6238 gives 94287082 for SHA-1 at t=59 with 8 digits.
  EXPECT_EQ(*Totp::Generate(RfcSecret(), 59), "287082");
  EXPECT_EQ(*Totp::TimeStep(kNow), kStep);
}

TEST(TotpTest, SkewWindowOfOneStep) {
  SecretBytes secret = RfcSecret();
  std::string previous = *Totp::Generate(secret, kNow - 30);
  std::string next = *Totp::Generate(secret, kNow + 30);
  std::string too_old = *Totp::Generate(secret, kNow - 60);
  std::string too_new = *Totp::Generate(secret, kNow + 60);

  EXPECT_EQ(*Totp::Verify(secret, previous, kNow), kStep - 1);
  EXPECT_EQ(*Totp::Verify(secret, next, kNow), kStep + 1);
  auto old_result = Totp::Verify(secret, too_old, kNow);
  EXPECT_EQ(old_result.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(old_result.status().message(),
            "TOTP: code does not match time steps 56666666 to 56666668 (wrong code, wrong "
            "secret, or the device clock is off)");
  EXPECT_FALSE(Totp::Verify(secret, too_new, kNow).ok());

  TotpOptions strict;
  strict.allowed_skew_steps = 0;
  EXPECT_FALSE(Totp::Verify(secret, previous, kNow, strict).ok());
  EXPECT_EQ(*Totp::Verify(secret, *Totp::Generate(secret, kNow), kNow, strict), kStep);

  TotpOptions wide;
  wide.allowed_skew_steps = 2;
  EXPECT_EQ(*Totp::Verify(secret, too_old, kNow, wide), kStep - 2);
}

TEST(TotpTest, ReuseIsRefusedThroughTheReturnedStep) {
  SecretBytes secret = RfcSecret();
  std::string code = *Totp::Generate(secret, kNow);
  auto first = Totp::Verify(secret, code, kNow);
  ASSERT_TRUE(first.ok());
  const uint64_t last_accepted = *first;  // what the caller persists

  // The same code again, even a few seconds later, is refused.
  auto replay = Totp::Verify(secret, code, kNow + 5, {}, last_accepted);
  EXPECT_EQ(replay.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(replay.status().message(),
            "TOTP: code was already used (time step 56666667, last accepted step 56666667); "
            "wait for the next code");
  // An older code still inside the skew window is refused as well.
  std::string older = *Totp::Generate(secret, kNow - 30);
  EXPECT_TRUE(Totp::Verify(secret, older, kNow, {}, last_accepted)
                  .status()
                  .message()
                  .starts_with("TOTP: code was already used (time step 56666666"));
  // The next period's code is fresh.
  std::string fresh = *Totp::Generate(secret, kNow + 30);
  EXPECT_EQ(*Totp::Verify(secret, fresh, kNow + 30, {}, last_accepted), kStep + 1);
}

TEST(TotpTest, RejectsMalformedCodes) {
  SecretBytes secret = RfcSecret();
  auto short_code = Totp::Verify(secret, "12345", kNow);
  EXPECT_EQ(short_code.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(short_code.status().message(), "TOTP: code has 5 characters, expected 6 digits");
  auto letters = Totp::Verify(secret, "12a456", kNow);
  EXPECT_EQ(letters.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(letters.status().message(), "TOTP: code character 3 is not a digit");
  EXPECT_FALSE(Totp::Verify(secret, "", kNow).ok());
  EXPECT_FALSE(Totp::Verify(secret, std::string("12345\0", 6), kNow).ok());
}

TEST(TotpTest, RejectsWeakSecretsAndBadOptions) {
  auto weak = Totp::Generate(SecretBytes::CopyOf(AsBytes("short")), kNow);
  EXPECT_EQ(weak.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(weak.status().message(),
            "TOTP: secret is 5 bytes; RFC 4226 requires at least 16 (use Totp::GenerateSecret)");

  TotpOptions options;
  options.digits = 5;
  EXPECT_EQ(Totp::Generate(RfcSecret(), kNow, options).status().message(),
            "TOTP: digits must be 6 to 8, got 5");
  options = {};
  options.digits = 9;
  EXPECT_FALSE(Totp::Generate(RfcSecret(), kNow, options).ok());
  options = {};
  options.period_seconds = 0;
  EXPECT_EQ(Totp::Generate(RfcSecret(), kNow, options).status().message(),
            "TOTP: period_seconds must be 1 to 3600, got 0");
  options = {};
  options.allowed_skew_steps = 11;
  EXPECT_FALSE(Totp::Verify(RfcSecret(), "123456", kNow, options).ok());
  EXPECT_EQ(Totp::Generate(RfcSecret(), -1).status().message(),
            "TOTP: time -1 is before the Unix epoch (T0)");
}

TEST(TotpTest, SkewWindowAtTheEpochDoesNotUnderflow) {
  SecretBytes secret = RfcSecret();
  EXPECT_EQ(*Totp::Verify(secret, *Totp::Generate(secret, 0), 0), 0u);
  EXPECT_EQ(*Totp::Verify(secret, *Totp::Generate(secret, 30), 0), 1u);
}

TEST(TotpTest, GeneratedSecretsHaveTheHashSize) {
  EXPECT_EQ(Totp::GenerateSecret().size(), 20u);
  EXPECT_EQ(Totp::GenerateSecret(TotpAlgorithm::kSha256).size(), 32u);
  EXPECT_EQ(Totp::GenerateSecret(TotpAlgorithm::kSha512).size(), 64u);
  SecretBytes a = Totp::GenerateSecret();
  SecretBytes b = Totp::GenerateSecret();
  EXPECT_FALSE(ConstantTimeEquals(a.span(), b.span()));
}

TEST(Base32Test, Rfc4648Vectors) {
  const std::pair<const char*, const char*> cases[] = {{"", ""},
                                                       {"f", "MY"},
                                                       {"fo", "MZXQ"},
                                                       {"foo", "MZXW6"},
                                                       {"foob", "MZXW6YQ"},
                                                       {"fooba", "MZXW6YTB"},
                                                       {"foobar", "MZXW6YTBOI"}};
  for (auto [plain, encoded] : cases) {
    EXPECT_EQ(Base32Encode(AsBytes(plain)), encoded);
    auto decoded = Base32Decode(encoded);
    ASSERT_TRUE(decoded.ok()) << encoded;
    EXPECT_EQ(common::AsChars(decoded->span()), plain);
  }
  EXPECT_EQ(Base32Encode(AsBytes("12345678901234567890")), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
}

TEST(Base32Test, StrictDecoding) {
  EXPECT_EQ(Base32Decode("MY======").status().message(),
            "base32: invalid character at offset 2 (only A-Z and 2-7, no padding or lower case)");
  EXPECT_FALSE(Base32Decode("my").ok());
  EXPECT_FALSE(Base32Decode("M1").ok());
  EXPECT_EQ(Base32Decode("MZX").status().message(),
            "base32: length 3 cannot encode whole bytes (is it truncated or padded?)");
  EXPECT_FALSE(Base32Decode("M").ok());
  EXPECT_EQ(Base32Decode("MZ").status().message(),
            "base32: non-zero trailing bits in the last character (not the canonical encoding)");
}

TEST(OtpauthUriTest, BuildsKeyUriFormat) {
  auto uri = BuildOtpauthUri(RfcSecret(), "custos", "alice@example.com");
  ASSERT_TRUE(uri.ok());
  EXPECT_EQ(*uri,
            "otpauth://totp/custos:alice%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
            "&issuer=custos&algorithm=SHA1&digits=6&period=30");

  TotpOptions options;
  options.algorithm = TotpAlgorithm::kSha256;
  options.digits = 8;
  options.period_seconds = 60;
  auto custom = BuildOtpauthUri(RfcSecret(), "Acme Co", "bob", options);
  ASSERT_TRUE(custom.ok());
  EXPECT_EQ(*custom,
            "otpauth://totp/Acme%20Co:bob?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
            "&issuer=Acme%20Co&algorithm=SHA256&digits=8&period=60");
}

TEST(OtpauthUriTest, RejectsColonsAndEmptyNames) {
  EXPECT_EQ(BuildOtpauthUri(RfcSecret(), "a:b", "alice").status().message(),
            "otpauth URI: issuer and account name must not contain ':' (it separates them in "
            "the label)");
  EXPECT_FALSE(BuildOtpauthUri(RfcSecret(), "custos", "x:y").ok());
  EXPECT_EQ(BuildOtpauthUri(RfcSecret(), "", "alice").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_FALSE(BuildOtpauthUri(SecretBytes(8), "custos", "alice").ok());
}

}  // namespace
}  // namespace custos::crypto
