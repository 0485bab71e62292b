// SHA-256 and HMAC-SHA256 against FIPS 180-4 and RFC 4231 vectors.
#include "crypto/hash.h"

#include <gtest/gtest.h>

namespace custos::crypto {
namespace {

TEST(HashTest, Sha256Vectors) {
  EXPECT_EQ(common::HexEncode(Sha256Of(common::AsBytes("abc"))),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(common::HexEncode(Sha256Of({})),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  Sha256 h;
  h.Update(common::AsBytes("ab")).Update(common::AsBytes("c"));
  EXPECT_EQ(h.Finish(), Sha256Of(common::AsBytes("abc")));
  // The object resets after Finish.
  EXPECT_EQ(h.Update(common::AsBytes("abc")).Finish(), Sha256Of(common::AsBytes("abc")));
}

TEST(HashTest, HmacRfc4231Case2) {
  Digest mac = HmacSha256(common::AsBytes("Jefe"), common::AsBytes("what do ya want for nothing?"));
  EXPECT_EQ(common::HexEncode(mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_TRUE(HmacSha256Verify(common::AsBytes("Jefe"),
                               common::AsBytes("what do ya want for nothing?"), mac));
  mac[31] ^= 1;
  EXPECT_FALSE(HmacSha256Verify(common::AsBytes("Jefe"),
                                common::AsBytes("what do ya want for nothing?"), mac));
}

TEST(SecretTest, ConstantTimeEqualsAndZeroize) {
  common::Bytes a = {1, 2, 3}, b = {1, 2, 3}, c = {1, 2, 4};
  EXPECT_TRUE(ConstantTimeEquals(a, b));
  EXPECT_FALSE(ConstantTimeEquals(a, c));
  EXPECT_FALSE(ConstantTimeEquals(a, common::Bytes{1, 2}));
  Zeroize(a);
  EXPECT_EQ(a, (common::Bytes{0, 0, 0}));
  SecretBytes s = SecretBytes::Random(32);
  SecretBytes moved = std::move(s);
  EXPECT_EQ(moved.size(), 32u);
  EXPECT_EQ(s.size(), 0u);  // NOLINT(bugprone-use-after-move): moved-from is empty
}

}  // namespace
}  // namespace custos::crypto
