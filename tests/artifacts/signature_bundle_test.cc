// Artifact signatures, key ids, bundles and trusted keys: signing and verifying, every
// way a signature must fail, and strict JSON parsing whose errors name the JSON path.
#include "artifacts/signature_bundle.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "common/bytes.h"
#include "crypto/hash.h"

namespace custos::artifacts {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

ArtifactStatement Sample() {
  ArtifactStatement s;
  s.name = "fraud/scorer";
  s.version = 3;
  s.kind = ArtifactKind::kModel;
  s.sha256 = crypto::Sha256Of(common::AsBytes("model bytes"));
  s.size = 11;
  s.media_type = "application/octet-stream";
  return s;
}

class SignatureTest : public ::testing::Test {
 protected:
  crypto::Ed25519PrivateKey server_ = crypto::Ed25519PrivateKey::Generate();
  crypto::Ed25519PrivateKey trainer_ = crypto::Ed25519PrivateKey::Generate();
  const std::string trainer_name_ = "ServiceAccount::\"trainer\"";
  std::vector<TrustedKey> trusted_ = {
      {"custos-server", KeyIdOf(server_.public_key()), server_.public_key()},
      {trainer_name_, KeyIdOf(trainer_.public_key()), trainer_.public_key()},
  };
};

TEST_F(SignatureTest, KeyIdIsPrefixAndFirstEightDigestBytes) {
  crypto::Digest d = crypto::Sha256Of(server_.public_key().bytes());
  std::string expected = "ed25519:" + common::HexEncode(common::ByteView(d.data(), 8));
  EXPECT_EQ(KeyIdOf(server_.public_key()), expected);
  EXPECT_EQ(KeyIdOf(server_.public_key()).size(), 8u + 16u);
  EXPECT_NE(KeyIdOf(server_.public_key()), KeyIdOf(trainer_.public_key()));
}

TEST_F(SignatureTest, SignAndVerify) {
  ArtifactSignature sig = SignStatement(Sample(), trainer_name_, trainer_);
  EXPECT_EQ(sig.signer, trainer_name_);
  EXPECT_EQ(sig.key_id, KeyIdOf(trainer_.public_key()));
  // The signature is over exactly the canonical statement.
  EXPECT_TRUE(
      trainer_.public_key().Verify(common::AsBytes(CanonicalStatement(Sample())), sig.signature));
  EXPECT_TRUE(VerifySignature(Sample(), sig, trusted_));
  EXPECT_TRUE(
      VerifySignature(Sample(), SignStatement(Sample(), "custos-server", server_), trusted_));
}

TEST_F(SignatureTest, WrongSignatureFails) {
  ArtifactSignature sig = SignStatement(Sample(), trainer_name_, trainer_);
  sig.signature[10] ^= 0x01;
  EXPECT_FALSE(VerifySignature(Sample(), sig, trusted_));
  sig.signature = {};
  EXPECT_FALSE(VerifySignature(Sample(), sig, trusted_));
}

TEST_F(SignatureTest, UntrustedKeyFails) {
  crypto::Ed25519PrivateKey stranger = crypto::Ed25519PrivateKey::Generate();
  EXPECT_FALSE(
      VerifySignature(Sample(), SignStatement(Sample(), trainer_name_, stranger), trusted_));
  // Claiming a trusted key id does not help a signature made with another key.
  ArtifactSignature forged = SignStatement(Sample(), trainer_name_, stranger);
  forged.key_id = KeyIdOf(trainer_.public_key());
  EXPECT_FALSE(VerifySignature(Sample(), forged, trusted_));
  EXPECT_FALSE(VerifySignature(Sample(), SignStatement(Sample(), trainer_name_, trainer_), {}));
}

TEST_F(SignatureTest, KeyIdOrSignerMismatchFails) {
  // The trainer's key is trusted only for the trainer.
  EXPECT_FALSE(
      VerifySignature(Sample(), SignStatement(Sample(), "custos-server", trainer_), trusted_));
  ArtifactSignature sig = SignStatement(Sample(), trainer_name_, trainer_);
  sig.key_id = KeyIdOf(server_.public_key());
  EXPECT_FALSE(VerifySignature(Sample(), sig, trusted_));
  // A hand-built trusted entry whose key id is not its key's is ignored.
  std::vector<TrustedKey> wrong_id = {
      {trainer_name_, "ed25519:0000000000000000", trainer_.public_key()}};
  ArtifactSignature with_fake_id = SignStatement(Sample(), trainer_name_, trainer_);
  with_fake_id.key_id = "ed25519:0000000000000000";
  EXPECT_FALSE(VerifySignature(Sample(), with_fake_id, wrong_id));
}

TEST_F(SignatureTest, EveryStatementFieldIsCovered) {
  ArtifactSignature sig = SignStatement(Sample(), trainer_name_, trainer_);
  std::vector<ArtifactStatement> changed(6, Sample());
  changed[0].name = "fraud/scorer2";
  changed[1].version = 4;
  changed[2].kind = ArtifactKind::kDataset;
  changed[3].sha256[31] ^= 0x80;
  changed[4].size = 12;
  changed[5].media_type = "application/x-onnx";
  for (size_t i = 0; i < changed.size(); ++i) {
    EXPECT_FALSE(VerifySignature(changed[i], sig, trusted_)) << "field " << i;
  }
  ArtifactStatement invalid = Sample();
  invalid.version = 0;
  EXPECT_FALSE(VerifySignature(invalid, SignStatement(invalid, trainer_name_, trainer_), trusted_));
}

TEST_F(SignatureTest, BundleJsonRoundTrips) {
  SignatureBundle bundle;
  bundle.statement = Sample();
  bundle.signatures.push_back(SignStatement(Sample(), "custos-server", server_));
  bundle.signatures.push_back(SignStatement(Sample(), trainer_name_, trainer_));
  std::string text = BundleToJson(bundle);
  auto doc = nlohmann::json::parse(text);
  EXPECT_EQ(doc["format"], "custos-artifact-bundle/v1");
  EXPECT_EQ(doc["statement"]["sha256"], common::HexEncode(Sample().sha256));
  EXPECT_EQ(doc["statement"]["media_type"], "application/octet-stream");
  EXPECT_EQ(doc["signatures"][1]["signature"],
            common::Base64UrlEncode(bundle.signatures[1].signature));
  auto parsed = ParseBundle(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(*parsed, bundle);
  EXPECT_TRUE(VerifySignature(parsed->statement, parsed->signatures[1], trusted_));
}

// A valid bundle as a JSON tree, for tests to break one piece at a time.
nlohmann::json GoodBundle(const crypto::Ed25519PrivateKey& key) {
  SignatureBundle bundle;
  bundle.statement = Sample();
  bundle.signatures.push_back(SignStatement(Sample(), "custos-server", key));
  return nlohmann::json::parse(BundleToJson(bundle));
}

TEST_F(SignatureTest, ParseBundleErrorsNameThePath) {
  struct Case {
    std::function<void(nlohmann::json&)> change;
    std::string expected_prefix;
    std::string expected;
  };
  const std::string sig_b64 = GoodBundle(server_)["signatures"][0]["signature"];
  const Case cases[] = {
      {[](auto& j) { j["extra"] = 1; }, "extra: ", "unknown member"},
      {[](auto& j) { j.erase("signatures"); }, "signatures: ", "missing"},
      {[](auto& j) { j["format"] = "custos-artifact-bundle/v2"; }, "format: ", "only format"},
      {[](auto& j) { j["format"] = 1; }, "format: ", "must be a string"},
      {[](auto& j) { j["statement"] = "x"; }, "statement: ", "must be an object"},
      {[](auto& j) { j["statement"]["version"] = -1; }, "statement.version: ", "non-negative"},
      {[](auto& j) { j["statement"]["version"] = 1.5; }, "statement.version: ", "non-negative"},
      {[](auto& j) { j["statement"]["version"] = 0; }, "statement.version: ", "start at 1"},
      {[](auto& j) { j["statement"]["size"] = "11"; }, "statement.size: ", "got string"},
      {[](auto& j) { j["statement"]["kind"] = "weights"; }, "statement.kind: ", "model or dataset"},
      {[](auto& j) { j["statement"]["name"] = "Fraud"; }, "statement.name: ", "cannot start"},
      {[](auto& j) { j["statement"]["media_type"] = "bin"; }, "statement.media_type: ", "no '/'"},
      {[](auto& j) { j["statement"]["sha256"] = "abc"; }, "statement.sha256: ", "64 lowercase hex"},
      {[](auto& j) {
         std::string h = j["statement"]["sha256"];
         for (char& c : h) c = static_cast<char>(std::toupper(c));
         j["statement"]["sha256"] = h;
       },
       "statement.sha256: ", "lowercase"},
      {[](auto& j) { j["statement"]["owner"] = "x"; }, "statement.owner: ", "unknown member"},
      {[](auto& j) { j["signatures"] = nlohmann::json::object(); }, "signatures: ", "array"},
      {[](auto& j) { j["signatures"].push_back(3); }, "signatures[1]: ", "must be an object"},
      {[](auto& j) { j["signatures"][0]["key_id"] = "ed25519:XYZ"; },
       "signatures[0].key_id: ", "not a key id"},
      {[](auto& j) { j["signatures"][0]["key_id"] = 5; },
       "signatures[0].key_id: ", "must be a string"},
      {[](auto& j) { j["signatures"][0]["signer"] = ""; }, "signatures[0].signer: ", "empty"},
      {[](auto& j) { j["signatures"][0]["signer"] = "a\nb"; },
       "signatures[0].signer: ", "control character"},
      {[](auto& j) { j["signatures"][0]["signature"] = "!!!!"; },
       "signatures[0].signature: ", "not unpadded base64url"},
      {[&](auto& j) { j["signatures"][0]["signature"] = sig_b64 + "=="; },
       "signatures[0].signature: ", "not unpadded base64url"},
      {[](auto& j) { j["signatures"][0]["signature"] = "AAAA"; },
       "signatures[0].signature: ", "must be 64 bytes, this decodes to 3"},
      {[](auto& j) { j["signatures"][0].erase("signer"); }, "signatures[0].signer: ", "missing"},
  };
  for (size_t i = 0; i < std::size(cases); ++i) {
    nlohmann::json j = GoodBundle(server_);
    cases[i].change(j);
    auto r = ParseBundle(j.dump());
    ASSERT_FALSE(r.ok()) << "case " << i;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << "case " << i;
    EXPECT_THAT(r.status().message(), StartsWith(cases[i].expected_prefix)) << "case " << i;
    EXPECT_THAT(r.status().message(), HasSubstr(cases[i].expected)) << "case " << i;
  }
}

TEST_F(SignatureTest, ParseBundleRefusesDuplicatesSyntaxAndSize) {
  std::string text = GoodBundle(server_).dump();
  // A duplicated member anywhere, reported at its path.
  std::string dup_top = text;
  dup_top.insert(1, "\"format\":\"custos-artifact-bundle/v1\",");
  EXPECT_THAT(ParseBundle(dup_top).status().message(),
              StartsWith("format: member appears more than once"));
  std::string dup_sig = text;
  size_t at = dup_sig.find("\"key_id\"");
  dup_sig.insert(at, "\"key_id\":\"ed25519:0000000000000000\",");
  auto r = ParseBundle(dup_sig);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), StartsWith("signatures[0].key_id: member appears more"));
  std::string dup_statement = text;
  dup_statement.insert(dup_statement.find("\"name\""), "\"name\":\"other\",");
  EXPECT_THAT(ParseBundle(dup_statement).status().message(),
              StartsWith("statement.name: member appears more than once"));

  EXPECT_THAT(ParseBundle(text.substr(0, text.size() - 1)).status().message(),
              HasSubstr("not valid JSON at byte"));
  EXPECT_THAT(ParseBundle("[]").status().message(), StartsWith("(root): "));
  EXPECT_THAT(ParseBundle("").status().message(), HasSubstr("not valid JSON"));
  EXPECT_THAT(ParseBundle(std::string(70000, ' ')).status().message(),
              HasSubstr("larger than the 65536-byte limit"));
  EXPECT_THAT(ParseBundle(std::string(50, '[') + std::string(50, ']')).status().message(),
              HasSubstr("nested deeper than"));
  // Whitespace and member order are free on input.
  nlohmann::json j = GoodBundle(server_);
  EXPECT_TRUE(ParseBundle(j.dump(4)).ok());
}

TEST_F(SignatureTest, TrustedKeysRoundTripAndChecks) {
  std::string text = TrustedKeysToJson(trusted_);
  auto parsed = ParseTrustedKeys(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(*parsed, trusted_);
  EXPECT_TRUE(ParseTrustedKeys(TrustedKeysToJson({}))->empty());

  auto doc = nlohmann::json::parse(text);
  EXPECT_EQ(doc["format"], "custos-artifact-keys/v1");
  EXPECT_EQ(doc["keys"][0]["public_key"], common::Base64UrlEncode(server_.public_key().bytes()));

  // A key id that is not the key's.
  auto wrong = doc;
  wrong["keys"][1]["key_id"] = KeyIdOf(server_.public_key());
  auto r = ParseTrustedKeys(wrong.dump());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), StartsWith("keys[1].key_id: "));
  EXPECT_THAT(r.status().message(), HasSubstr("is not the id of this public key"));
  // The same key twice.
  auto twice = doc;
  twice["keys"].push_back(doc["keys"][0]);
  EXPECT_THAT(ParseTrustedKeys(twice.dump()).status().message(),
              HasSubstr("keys[2].key_id: '" + KeyIdOf(server_.public_key()) +
                        "' is already listed at keys[0]"));
  auto short_key = doc;
  short_key["keys"][0]["public_key"] = "AAAA";
  EXPECT_THAT(ParseTrustedKeys(short_key.dump()).status().message(),
              StartsWith("keys[0].public_key: an Ed25519 public key must be 32 bytes"));
  auto extra = doc;
  extra["keys"][0]["comment"] = "x";
  EXPECT_THAT(ParseTrustedKeys(extra.dump()).status().message(),
              StartsWith("keys[0].comment: unknown member"));
  auto bad_format = doc;
  bad_format["format"] = "custos-artifact-bundle/v1";
  EXPECT_THAT(ParseTrustedKeys(bad_format.dump()).status().message(), StartsWith("format: "));
  // A bundle is not a trusted-keys document.
  EXPECT_FALSE(ParseTrustedKeys(GoodBundle(server_).dump()).ok());
}

}  // namespace
}  // namespace custos::artifacts
