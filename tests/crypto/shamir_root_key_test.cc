// Shamir shares and root-key sealing: any k shares in any order rebuild the key;
// fewer, repeated, mistyped, foreign or wrong shares are refused with a clear reason.
#include <gtest/gtest.h>

#include <algorithm>

#include "crypto/root_key.h"
#include "crypto/shamir.h"

namespace custos::crypto {
namespace {

TEST(ShamirTest, EveryThreeOfFiveRebuildTheSecret) {
  SecretBytes secret = SecretBytes::Random(32);
  auto shares = *SplitSecret(secret, 5, 3, {1, 2, 3, 4});
  ASSERT_EQ(shares.size(), 5u);
  for (int a = 0; a < 5; ++a) {
    for (int b = 0; b < 5; ++b) {
      for (int c = 0; c < 5; ++c) {
        if (a == b || b == c || a == c) continue;
        std::vector<Share> subset;
        subset.push_back({shares[a].tag, shares[a].threshold, shares[a].x, shares[a].y.Clone()});
        subset.push_back({shares[b].tag, shares[b].threshold, shares[b].x, shares[b].y.Clone()});
        subset.push_back({shares[c].tag, shares[c].threshold, shares[c].x, shares[c].y.Clone()});
        SecretBytes rebuilt = *CombineShares(subset);
        EXPECT_TRUE(ConstantTimeEquals(rebuilt.span(), secret.span()));
      }
    }
  }
}

TEST(ShamirTest, TwoSharesRevealNothingUseful) {
  // With k-1 shares libgfshare still returns bytes; they must not be the secret.
  SecretBytes secret = SecretBytes::Random(32);
  auto shares = *SplitSecret(secret, 5, 3, {0, 0, 0, 1});
  std::vector<Share> two;
  two.push_back({shares[0].tag, 2, shares[0].x, shares[0].y.Clone()});  // lie about k
  two.push_back({shares[1].tag, 2, shares[1].x, shares[1].y.Clone()});
  SecretBytes guess = *CombineShares(two);
  EXPECT_FALSE(ConstantTimeEquals(guess.span(), secret.span()));
}

TEST(ShamirTest, RejectsBadParameters) {
  SecretBytes secret = SecretBytes::Random(32);
  EXPECT_EQ(SplitSecret(secret, 5, 1, {}).status().message(),
            "need 2 <= threshold <= shares <= 255, got threshold 1 of 5 shares");
  EXPECT_FALSE(SplitSecret(secret, 3, 4, {}).ok());
}

TEST(ShamirTest, ShareTextRoundTripAndTypoDetection) {
  auto shares = *SplitSecret(SecretBytes::Random(32), 3, 2, {9, 9, 9, 9});
  std::string text = EncodeShare(shares[1]);
  ASSERT_TRUE(text.starts_with("custos-share-v1:"));
  Share back = *DecodeShare(text + "\n", 1);
  EXPECT_EQ(back.x, shares[1].x);
  EXPECT_TRUE(ConstantTimeEquals(back.y.span(), shares[1].y.span()));

  for (size_t i = 16; i < text.size(); ++i) {
    std::string typo = text;
    typo[i] = typo[i] == 'A' ? 'B' : 'A';
    Result<Share> r = DecodeShare(typo, 2);
    EXPECT_FALSE(r.ok()) << "typo at " << i;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  }
  EXPECT_EQ(DecodeShare("hello", 4).status().message(),
            "unseal share 4 does not start with 'custos-share-v1:': paste the whole line "
            "printed by 'custos init'");
  EXPECT_EQ(DecodeShare(text.substr(0, 30), 2).status().message(),
            "unseal share 2 is malformed (truncated or mistyped)");
}

TEST(RootKeyTest, ShamirUnsealAnyOrderAndClearErrors) {
  ShamirInit init = *InitShamir(5, 3);
  std::vector<std::string> s = init.shares;
  SecretBytes a = *UnsealShamir(init.config, {s[4], s[0], s[2]});
  EXPECT_TRUE(ConstantTimeEquals(a.span(), init.root_key.span()));
  SecretBytes b = *UnsealShamir(init.config, {s[1], s[3], s[0], s[2]});  // extra share is fine
  EXPECT_TRUE(ConstantTimeEquals(b.span(), init.root_key.span()));

  EXPECT_EQ(UnsealShamir(init.config, {s[0], s[1]}).status().message(),
            "need 3 of 5 unseal shares, got 2");
  EXPECT_EQ(UnsealShamir(init.config, {s[0], s[1], s[1]}).status().message(),
            "share 3 repeats an earlier share; give 3 different shares");
  ShamirInit other = *InitShamir(5, 3);
  EXPECT_EQ(UnsealShamir(init.config, {s[0], s[1], other.shares[2]}).status().message(),
            "unseal share 3 belongs to another data directory (or an earlier init)");

  // A share with a valid checksum but a wrong value (forged with the right tag):
  // the canary catches it.
  Share forged = *DecodeShare(s[2], 3);
  forged.y.span()[0] ^= 0x55;
  Result<SecretBytes> wrong = UnsealShamir(init.config, {s[0], s[1], EncodeShare(forged)});
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(wrong.status().message(),
            "the unseal shares do not rebuild the root key: at least one share is wrong");
}

TEST(RootKeyTest, PassphraseRightAndWrong) {
  SecretBytes pass = SecretBytes::CopyOf(common::AsBytes("correct horse battery"));
  PassphraseInit init = *InitPassphrase(pass, PassphraseCost::Interactive());
  SecretBytes root = *UnsealPassphrase(init.config, pass);
  EXPECT_TRUE(ConstantTimeEquals(root.span(), init.root_key.span()));
  Result<SecretBytes> wrong =
      UnsealPassphrase(init.config, SecretBytes::CopyOf(common::AsBytes("wrong horse battery")));
  EXPECT_EQ(wrong.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(wrong.status().message(), "wrong passphrase");
  EXPECT_EQ(InitPassphrase(SecretBytes::CopyOf(common::AsBytes("short"))).status().message(),
            "passphrase must be at least 8 characters");
}

TEST(RootKeyTest, SealConfigJsonRoundTripAndDamage) {
  ShamirInit init = *InitShamir(5, 3);
  SealConfig back = *SealConfig::FromJson(init.config.ToJson(), "seal.json");
  EXPECT_EQ(back.threshold, 3);
  EXPECT_EQ(back.shares, 5);
  EXPECT_EQ(back.share_tag, init.config.share_tag);
  EXPECT_EQ(back.canary, init.config.canary);

  std::string json = init.config.ToJson();
  EXPECT_EQ(SealConfig::FromJson(json.substr(0, json.size() / 2), "seal.json").status().message(),
            "seal.json: not valid JSON (the file is truncated or was edited)");
  std::string future = json;
  future.replace(future.find("\"format\": 1"), 11, "\"format\": 7");
  Result<SealConfig> r = SealConfig::FromJson(future, "seal.json");
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(r.status().message(),
            "seal.json: seal format 7 is not known to this custos version; upgrade custos");
  std::string bad_mode = json;
  bad_mode.replace(bad_mode.find("\"shamir\""), 8, "\"magic\"");
  EXPECT_EQ(SealConfig::FromJson(bad_mode, "seal.json").status().message(),
            "seal.json: unknown seal mode 'magic' (expected shamir, passphrase or pkcs11)");
}

}  // namespace
}  // namespace custos::crypto
