// The variable-time base64url decoder PASETO uses for token bodies and footers
// (common/public_base64url.h) against the constant-time one (common/bytes.h): the same
// texts accepted, the same bytes out, and the refusals named with their offsets.
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "common/bytes.h"
#include "common/public_base64url.h"

namespace custos::common {
namespace {

// Both decoders on one text: equal verdicts, and equal bytes when accepted.
void ExpectSameVerdict(std::string_view text) {
  Result<Bytes> reference = Base64UrlDecode(text);
  Result<Bytes> fast = PublicBase64UrlDecode(text);
  ASSERT_EQ(reference.ok(), fast.ok())
      << "text '" << text << "': reference " << reference.status().ToString() << ", fast "
      << fast.status().ToString();
  if (reference.ok()) {
    EXPECT_EQ(*reference, *fast) << text;
  }
}

TEST(PublicBase64UrlTest, DecodesRfc4648Vectors) {
  // RFC 4648 section 10, unpadded, in the URL alphabet.
  EXPECT_EQ(*PublicBase64UrlDecode(""), Bytes{});
  EXPECT_EQ(*PublicBase64UrlDecode("Zg"), ToBytes("f"));
  EXPECT_EQ(*PublicBase64UrlDecode("Zm8"), ToBytes("fo"));
  EXPECT_EQ(*PublicBase64UrlDecode("Zm9v"), ToBytes("foo"));
  EXPECT_EQ(*PublicBase64UrlDecode("Zm9vYg"), ToBytes("foob"));
  EXPECT_EQ(*PublicBase64UrlDecode("Zm9vYmE"), ToBytes("fooba"));
  EXPECT_EQ(*PublicBase64UrlDecode("Zm9vYmFy"), ToBytes("foobar"));
  EXPECT_EQ(*PublicBase64UrlDecode("-_-_"), (Bytes{0xfb, 0xff, 0xbf}));
  EXPECT_EQ(*PublicBase64UrlDecodeToString("eyJraWQiOiJ4In0"), "{\"kid\":\"x\"}");
  EXPECT_EQ(PublicBase64UrlDecodeToString("eyJ=").status().code(), StatusCode::kInvalidArgument);
}

TEST(PublicBase64UrlTest, RefusesWhatTheStrictDecoderRefusesWithOffsets) {
  const std::string kNotInAlphabet = " is not a base64url character (A-Z a-z 0-9 - _)";
  const std::string kUnusedBits = ") has non-zero unused bits, so the text is not canonical";
  const struct {
    std::string_view text;
    std::string message;
  } kCases[] = {
      {"Zm9vY",
       "invalid base64url: 5 characters is not a length unpadded base64url can have (4n+1 "
       "characters would end in a partial byte)"},
      {"Zm9v+mFy", "invalid base64url: byte 0x2b at offset 4" + kNotInAlphabet},
      {"Zm8=", "invalid base64url: byte 0x3d at offset 3" + kNotInAlphabet},
      {"Zm9\x8b", "invalid base64url: byte 0x8b at offset 3" + kNotInAlphabet},
      // "Zg" and "Zm8" are canonical; these differ only in unused bits.
      {"Zh", "invalid base64url: the last character (offset 1" + kUnusedBits},
      {"Zm9", "invalid base64url: the last character (offset 2" + kUnusedBits},
  };
  for (const auto& c : kCases) {
    EXPECT_EQ(PublicBase64UrlDecode(c.text).status(), InvalidArgumentError(c.message)) << c.text;
    EXPECT_FALSE(Base64UrlDecode(c.text).ok()) << c.text;
  }
  Bytes wrong_size(2);
  EXPECT_EQ(PublicBase64UrlDecodeInto("Zm9v", wrong_size).code(), StatusCode::kInvalidArgument);
}

TEST(PublicBase64UrlTest, EveryTwoAndThreeCharacterTailAgreesWithTheStrictDecoder) {
  // Every byte value in every position of a short tail, including non-canonical bits,
  // '=', whitespace and bytes above 0x7f.
  for (int a = 0; a < 256; ++a) {
    for (int b = 0; b < 256; ++b) {
      std::string text = "Zm9v";
      text.push_back(static_cast<char>(a));
      text.push_back(static_cast<char>(b));
      ExpectSameVerdict(text);
      text.push_back('A');
      ExpectSameVerdict(text);
      text.back() = 'B';
      ExpectSameVerdict(text);
    }
  }
}

TEST(PublicBase64UrlTest, RandomTextsAgreeWithTheStrictDecoder) {
  std::mt19937 rng(20261123);
  constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  size_t accepted = 0;
  for (int round = 0; round < 5000; ++round) {
    std::string text(rng() % 90, '\0');
    for (char& c : text) c = kAlphabet[rng() % kAlphabet.size()];
    // One in four texts gets one arbitrary byte somewhere.
    if (!text.empty() && rng() % 4 == 0) text[rng() % text.size()] = static_cast<char>(rng());
    ExpectSameVerdict(text);
    accepted += PublicBase64UrlDecode(text).ok() ? 1 : 0;
    // And the encoding of random bytes round-trips.
    Bytes bytes(rng() % 70);
    for (uint8_t& b : bytes) b = static_cast<uint8_t>(rng());
    EXPECT_EQ(*PublicBase64UrlDecode(Base64UrlEncode(bytes)), bytes);
  }
  // Both verdicts occur (the comparison is not vacuous).
  EXPECT_GT(accepted, 500u);
  EXPECT_LT(accepted, 4500u);
}

}  // namespace
}  // namespace custos::common
