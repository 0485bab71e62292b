// Hex and base64 codecs: RFC 4648 section 10 vectors and strict rejection.
#include "common/bytes.h"

#include <gtest/gtest.h>

namespace custos::common {
namespace {

TEST(HexTest, RoundTrip) {
  Bytes b = {0x00, 0x7f, 0xff, 0xa5};
  EXPECT_EQ(HexEncode(b), "007fffa5");
  EXPECT_EQ(*HexDecode("007FfFa5"), b);
}

TEST(HexTest, RejectsOddAndNonHex) {
  EXPECT_EQ(HexDecode("abc").status().message(), "hex string has odd length 3");
  EXPECT_EQ(HexDecode("zz").status().message(), "invalid hex character at offset 0");
  EXPECT_EQ(HexDecode("0g").status().message(), "invalid hex character at offset 1");
}

TEST(Base64Test, Rfc4648Vectors) {
  const std::pair<const char*, const char*> cases[] = {{"", ""},
                                                       {"f", "Zg=="},
                                                       {"fo", "Zm8="},
                                                       {"foo", "Zm9v"},
                                                       {"foob", "Zm9vYg=="},
                                                       {"fooba", "Zm9vYmE="},
                                                       {"foobar", "Zm9vYmFy"}};
  for (auto [plain, encoded] : cases) {
    EXPECT_EQ(Base64Encode(AsBytes(plain)), encoded);
    EXPECT_EQ(*Base64Decode(encoded), ToBytes(plain));
  }
}

TEST(Base64Test, UrlVariantHasNoPadding) {
  Bytes b = {0xfb, 0xff};
  EXPECT_EQ(Base64UrlEncode(b), "-_8");
  EXPECT_EQ(*Base64UrlDecode("-_8"), b);
  EXPECT_FALSE(Base64UrlDecode("-_8=").ok());
}

TEST(Base64Test, RejectsNonCanonicalAndGarbage) {
  EXPECT_FALSE(Base64Decode("Zh==").ok());  // non-zero trailing bits
  EXPECT_FALSE(Base64Decode("Zg=").ok());   // bad padding
  EXPECT_FALSE(Base64Decode("Z m9v").ok());
  EXPECT_FALSE(Base64UrlDecode("Zm9v+").ok());
}

// libsodium 1.0.18 reads these bytes as signed chars and would take 0x8b for '_'.
TEST(Base64Test, RejectsBytesAboveAsciiWithTheirOffset) {
  for (int byte = 0x80; byte <= 0xff; ++byte) {
    std::string text = "Zm9v";
    text[2] = static_cast<char>(byte);
    auto url = Base64UrlDecode(text);
    ASSERT_FALSE(url.ok()) << "byte " << byte;
    EXPECT_NE(url.status().message().find("at offset 2"), std::string::npos)
        << url.status().ToString();
    EXPECT_FALSE(Base64Decode(text).ok()) << "byte " << byte;
  }
}

}  // namespace
}  // namespace custos::common
