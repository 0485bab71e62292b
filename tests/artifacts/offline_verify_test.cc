// Offline verification on real files: the good case, a changed byte, a truncated file,
// the wrong reference, missing or untrusted signatures, unreadable paths, and the report's
// JSON form.
#include "artifacts/offline_verify.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "../testing/temp_dir.h"
#include "common/bytes.h"
#include "crypto/hash.h"

namespace custos::artifacts {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good());
}

class OfflineVerifyTest : public ::testing::Test {
 protected:
  OfflineVerifyTest() {
    // Larger than the verifier's read buffer, so the digest spans several reads.
    content_.resize(200'003);
    for (size_t i = 0; i < content_.size(); ++i) content_[i] = static_cast<char>((i * 31) % 251);
    path_ = tmp_.Sub("scorer.bin");
    WriteFile(path_, content_);
    bundle_.statement.name = "fraud/scorer";
    bundle_.statement.version = 2;
    bundle_.statement.kind = ArtifactKind::kModel;
    bundle_.statement.sha256 = crypto::Sha256Of(common::AsBytes(content_));
    bundle_.statement.size = content_.size();
    bundle_.statement.media_type = "application/octet-stream";
    bundle_.signatures.push_back(SignStatement(bundle_.statement, "custos-server", server_));
    trusted_.push_back({"custos-server", KeyIdOf(server_.public_key()), server_.public_key()});
  }

  OfflineVerifyReport Verify(const ArtifactRef& ref) {
    auto report = VerifyArtifactFile(ref, path_, bundle_, trusted_);
    EXPECT_TRUE(report.ok()) << report.status().ToString();
    return report.ok() ? *report : OfflineVerifyReport{};
  }

  custos::testing::TempDir tmp_;
  std::string content_;
  std::string path_;
  crypto::Ed25519PrivateKey server_ = crypto::Ed25519PrivateKey::Generate();
  SignatureBundle bundle_;
  std::vector<TrustedKey> trusted_;
  const ArtifactRef ref_{"fraud/scorer", 2};
};

TEST_F(OfflineVerifyTest, GoodFileVerifies) {
  OfflineVerifyReport report = Verify(ref_);
  EXPECT_TRUE(report.ok);
  EXPECT_TRUE(report.ref_matches);
  EXPECT_TRUE(report.size_matches);
  EXPECT_TRUE(report.digest_matches);
  EXPECT_THAT(report.trusted_signers, ElementsAre("custos-server"));
  EXPECT_THAT(report.problems, IsEmpty());

  auto json = nlohmann::json::parse(OfflineVerifyReportToJson(report));
  EXPECT_EQ(json["ok"], true);
  EXPECT_EQ(json["digest_matches"], true);
  EXPECT_EQ(json["trusted_signers"], nlohmann::json::array({"custos-server"}));
  EXPECT_EQ(json["problems"], nlohmann::json::array());
}

TEST_F(OfflineVerifyTest, OneChangedByteFailsTheDigest) {
  std::string changed = content_;
  changed[123'456] ^= 0x01;
  WriteFile(path_, changed);
  OfflineVerifyReport report = Verify(ref_);
  EXPECT_FALSE(report.ok);
  EXPECT_TRUE(report.size_matches);
  EXPECT_FALSE(report.digest_matches);
  EXPECT_TRUE(report.ref_matches);
  // The signature itself is still good: the statement was signed, the file is not it.
  EXPECT_THAT(report.trusted_signers, ElementsAre("custos-server"));
  ASSERT_EQ(report.problems.size(), 1u);
  EXPECT_THAT(
      report.problems[0],
      HasSubstr("SHA-256 " + common::HexEncode(crypto::Sha256Of(common::AsBytes(changed)))));
  EXPECT_THAT(report.problems[0], HasSubstr("download it again"));
  auto json = nlohmann::json::parse(OfflineVerifyReportToJson(report));
  EXPECT_EQ(json["ok"], false);
  EXPECT_EQ(json["problems"].size(), 1u);
}

TEST_F(OfflineVerifyTest, TruncatedFileFailsSizeAndDigest) {
  WriteFile(path_, content_.substr(0, content_.size() - 1));
  OfflineVerifyReport report = Verify(ref_);
  EXPECT_FALSE(report.ok);
  EXPECT_FALSE(report.size_matches);
  EXPECT_FALSE(report.digest_matches);
  ASSERT_EQ(report.problems.size(), 2u);
  EXPECT_THAT(report.problems[0], HasSubstr("has 200002 bytes, the statement says 200003"));
}

TEST_F(OfflineVerifyTest, WrongRefFails) {
  OfflineVerifyReport other_version = Verify({"fraud/scorer", 3});
  EXPECT_FALSE(other_version.ok);
  EXPECT_FALSE(other_version.ref_matches);
  EXPECT_TRUE(other_version.digest_matches);
  ASSERT_EQ(other_version.problems.size(), 1u);
  EXPECT_THAT(other_version.problems[0],
              HasSubstr("the bundle is for fraud/scorer@2, not fraud/scorer@3"));
  OfflineVerifyReport other_name = Verify({"fraud/ranker", 2});
  EXPECT_FALSE(other_name.ok);
  EXPECT_FALSE(other_name.ref_matches);
}

TEST_F(OfflineVerifyTest, NoTrustedSignatureFails) {
  // Signed by a key the verifier does not trust.
  crypto::Ed25519PrivateKey stranger = crypto::Ed25519PrivateKey::Generate();
  bundle_.signatures = {SignStatement(bundle_.statement, "custos-server", stranger)};
  OfflineVerifyReport report = Verify(ref_);
  EXPECT_FALSE(report.ok);
  EXPECT_TRUE(report.digest_matches);
  EXPECT_THAT(report.trusted_signers, IsEmpty());
  ASSERT_EQ(report.problems.size(), 2u);
  EXPECT_THAT(report.problems[0], HasSubstr("signature 0 by 'custos-server'"));
  EXPECT_THAT(report.problems[0], HasSubstr("not in the trusted keys"));
  EXPECT_THAT(report.problems[1], HasSubstr("no signature verified with a trusted key"));

  // A trusted key used under another signer's name.
  bundle_.signatures = {SignStatement(bundle_.statement, "ServiceAccount::\"x\"", server_)};
  report = Verify(ref_);
  EXPECT_FALSE(report.ok);
  EXPECT_THAT(report.problems[0], HasSubstr("trusted for 'custos-server', not"));

  // A signature altered in the bundle.
  bundle_.signatures = {SignStatement(bundle_.statement, "custos-server", server_)};
  bundle_.signatures[0].signature[0] ^= 0x40;
  report = Verify(ref_);
  EXPECT_FALSE(report.ok);
  EXPECT_THAT(report.problems[0], HasSubstr("does not verify"));

  // No signature at all.
  bundle_.signatures.clear();
  report = Verify(ref_);
  EXPECT_FALSE(report.ok);
  EXPECT_THAT(report.problems, ElementsAre(HasSubstr("carries no signature")));
}

TEST_F(OfflineVerifyTest, OneBadSignatureAmongGoodOnesFails) {
  // A second signer whose signature was altered in the bundle: the good server signature
  // does not carry the bundle.
  crypto::Ed25519PrivateKey trainer = crypto::Ed25519PrivateKey::Generate();
  const std::string signer = "ServiceAccount::\"trainer\"";
  trusted_.push_back({signer, KeyIdOf(trainer.public_key()), trainer.public_key()});
  bundle_.signatures.push_back(SignStatement(bundle_.statement, signer, trainer));
  ASSERT_TRUE(Verify(ref_).ok);

  bundle_.signatures[1].signature[10] ^= 0x01;
  OfflineVerifyReport report = Verify(ref_);
  EXPECT_FALSE(report.ok);
  EXPECT_TRUE(report.digest_matches);
  EXPECT_THAT(report.trusted_signers, ElementsAre("custos-server"));
  ASSERT_EQ(report.problems.size(), 1u);
  EXPECT_THAT(report.problems[0], HasSubstr("signature 1"));
}

TEST_F(OfflineVerifyTest, StatementChangedToMatchAnotherFileFails) {
  // Someone swaps the file and rewrites the statement to match it: the integrity checks
  // pass, the signature does not.
  std::string other = "a different model";
  WriteFile(path_, other);
  bundle_.statement.sha256 = crypto::Sha256Of(common::AsBytes(other));
  bundle_.statement.size = other.size();
  OfflineVerifyReport report = Verify(ref_);
  EXPECT_TRUE(report.size_matches);
  EXPECT_TRUE(report.digest_matches);
  EXPECT_FALSE(report.ok);
  EXPECT_THAT(report.trusted_signers, IsEmpty());
}

TEST_F(OfflineVerifyTest, UnreadablePathsAreErrors) {
  auto missing = VerifyArtifactFile(ref_, tmp_.Sub("nope.bin"), bundle_, trusted_);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr("nope.bin: cannot open"));
  auto dir = VerifyArtifactFile(ref_, tmp_.path(), bundle_, trusted_);
  ASSERT_FALSE(dir.ok());
  EXPECT_EQ(dir.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(dir.status().message(), HasSubstr("not a regular file"));
}

TEST_F(OfflineVerifyTest, EmptyFile) {
  WriteFile(path_, "");
  bundle_.statement.sha256 = crypto::Sha256Of({});
  bundle_.statement.size = 0;
  bundle_.signatures = {SignStatement(bundle_.statement, "custos-server", server_)};
  OfflineVerifyReport report = Verify(ref_);
  EXPECT_TRUE(report.ok);
}

}  // namespace
}  // namespace custos::artifacts
