// Ed25519 through libsodium: RFC 8032 test 1, typed keys, rejection of bad input.
#include "crypto/ed25519.h"

#include <gtest/gtest.h>

namespace custos::crypto {
namespace {

TEST(Ed25519Test, Rfc8032Test1) {
  auto seed =
      *common::HexDecode("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
  Ed25519PrivateKey key = *Ed25519PrivateKey::FromSeed(SecretBytes::CopyOf(seed));
  EXPECT_EQ(common::HexEncode(key.public_key().bytes()),
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
  Ed25519Signature sig = key.Sign({});
  EXPECT_EQ(common::HexEncode(sig),
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39"
            "701cf9b46bd25bf5f0595bbe24655141438e7a100b");
  EXPECT_TRUE(key.public_key().Verify({}, sig));
  sig[0] ^= 1;
  EXPECT_FALSE(key.public_key().Verify({}, sig));
}

TEST(Ed25519Test, SignVerifyAndBadInput) {
  Ed25519PrivateKey key = Ed25519PrivateKey::Generate();
  auto sig = key.Sign(common::AsBytes("checkpoint"));
  EXPECT_TRUE(key.public_key().Verify(common::AsBytes("checkpoint"), sig));
  EXPECT_FALSE(key.public_key().Verify(common::AsBytes("checkpoinT"), sig));
  EXPECT_FALSE(
      key.public_key().Verify(common::AsBytes("checkpoint"), common::ByteView(sig.data(), 63)));
  EXPECT_EQ(Ed25519PublicKey::FromBytes(common::Bytes(31)).status().message(),
            "Ed25519 public key must be 32 bytes, got 31");
  Ed25519PrivateKey other = Ed25519PrivateKey::Generate();
  common::Bytes mismatched(64);
  auto seed = key.Seed();
  std::copy(seed.span().begin(), seed.span().end(), mismatched.begin());
  std::copy(other.public_key().bytes().begin(), other.public_key().bytes().end(),
            mismatched.begin() + 32);
  EXPECT_EQ(Ed25519PrivateKey::FromSecretKey(mismatched).status().message(),
            "Ed25519 secret key: public half does not match the seed");
}

}  // namespace
}  // namespace custos::crypto
