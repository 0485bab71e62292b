// Conformance: every PASETO v4 vector of paseto-standard/test-vectors (v4.json) and the
// PASERK k4 vectors for the formats crypto/paserk.h implements: k4.local, k4.public,
// k4.secret, k4.lid, k4.pid, k4.sid. Not covered (not implemented, keys are wrapped by
// the keyring instead): k4.local-pw, k4.secret-pw, k4.local-wrap.pie,
// k4.secret-wrap.pie, k4.seal.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "crypto/paserk.h"
#include "crypto/paseto.h"

namespace custos::crypto {
namespace {

using nlohmann::json;

const std::string kVectorDir = std::string(CUSTOS_SHARED_DIR) + "/vectors/paseto";

json LoadJson(const std::string& path) {
  std::ifstream in(path);
  if (!in) return json();
  return json::parse(in, nullptr, /*allow_exceptions=*/false);
}

common::Bytes Hex(const json& value) { return *common::HexDecode(value.get<std::string>()); }

std::string StringOr(const json& test, const char* field) {
  return test.contains(field) && test[field].is_string() ? test[field].get<std::string>() : "";
}

std::vector<json> V4Tests() {
  json file = LoadJson(kVectorDir + "/v4.json");
  if (!file.is_object() || !file.contains("tests")) return {};
  return file["tests"].get<std::vector<json>>();
}

std::string TestName(const testing::TestParamInfo<json>& info) {
  std::string name = info.param.value("name", "unnamed");
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

TEST(PasetoV4VectorFileTest, HasAllSeventeenVectors) {
  std::vector<json> tests = V4Tests();
  ASSERT_EQ(tests.size(), 17u) << "cannot read " << kVectorDir << "/v4.json";
  int local = 0, pub = 0, fail = 0;
  for (const json& t : tests) {
    std::string name = t["name"];
    if (name.starts_with("4-E-")) ++local;
    if (name.starts_with("4-S-")) ++pub;
    if (name.starts_with("4-F-")) ++fail;
  }
  EXPECT_EQ(local, 9);
  EXPECT_EQ(pub, 3);
  EXPECT_EQ(fail, 5);
}

class PasetoV4VectorTest : public testing::TestWithParam<json> {};

TEST_P(PasetoV4VectorTest, Conforms) {
  const json& t = GetParam();
  const std::string name = t["name"];
  const std::string token = t["token"];
  const std::string footer = StringOr(t, "footer");
  const std::string implicit = StringOr(t, "implicit-assertion");
  PasetoVerifyOptions options;
  options.implicit_assertion = implicit;

  if (!t["expect-fail"].get<bool>()) {
    const std::string payload = t["payload"];
    if (t.contains("nonce") && t.contains("key")) {  // v4.local
      ASSERT_TRUE(token.starts_with("v4.local."));
      auto key = PasetoV4LocalKey::FromSecret(SecretBytes::CopyOf(Hex(t["key"])));
      ASSERT_TRUE(key.ok()) << key.status().ToString();
      common::Bytes nonce_bytes = Hex(t["nonce"]);
      ASSERT_EQ(nonce_bytes.size(), 32u);
      std::array<uint8_t, 32> nonce{};
      std::copy(nonce_bytes.begin(), nonce_bytes.end(), nonce.begin());
      EXPECT_EQ(testing_only::PasetoV4EncryptWithNonceForTesting(*key, common::AsBytes(payload),
                                                                 footer, implicit, nonce),
                token);
      auto message = PasetoV4Decrypt(*key, token, options);
      ASSERT_TRUE(message.ok()) << message.status().ToString();
      EXPECT_EQ(common::AsChars(message->payload), payload);
      EXPECT_EQ(message->footer, footer);
      options.expected_footer = footer;
      EXPECT_TRUE(PasetoV4Decrypt(*key, token, options).ok());
    } else {  // v4.public
      ASSERT_TRUE(token.starts_with("v4.public."));
      auto secret = Ed25519PrivateKey::FromSecretKey(Hex(t["secret-key"]));
      ASSERT_TRUE(secret.ok()) << secret.status().ToString();
      auto from_seed = Ed25519PrivateKey::FromSeed(SecretBytes::CopyOf(Hex(t["secret-key-seed"])));
      ASSERT_TRUE(from_seed.ok());
      EXPECT_EQ(from_seed->public_key(), secret->public_key());
      PasetoV4SecretKey secret_key(std::move(secret).value());
      EXPECT_EQ(PasetoV4Sign(secret_key, common::AsBytes(payload), footer, implicit), token);

      auto public_key = PasetoV4PublicKey::FromBytes(Hex(t["public-key"]));
      ASSERT_TRUE(public_key.ok());
      EXPECT_EQ(*public_key, secret_key.public_key());
      auto message = PasetoV4Verify(*public_key, token, options);
      ASSERT_TRUE(message.ok()) << message.status().ToString();
      EXPECT_EQ(common::AsChars(message->payload), payload);
      EXPECT_EQ(message->footer, footer);
      options.expected_footer = footer;
      EXPECT_TRUE(PasetoV4Verify(*public_key, token, options).ok());
    }
    return;
  }

  // Must-fail vectors: the key the vector gives decides the operation; the reason is
  // pinned so that a failure for the wrong reason (e.g. a parse slip) is caught.
  EXPECT_TRUE(t["payload"].is_null());
  static const std::map<std::string, std::string> kReasons = {
      {"4-F-1", "token is v4.local (encrypted) but a v4.public token was expected"},
      {"4-F-2", "token is v4.public (signed, not encrypted) but a v4.local token was expected"},
      {"4-F-3", "token has header 'v3.local.', expected 'v4.local.'"},
      // The changed last character differs only in bits that a canonical encoding must
      // leave zero, so strict base64url refuses it before the MAC is computed.
      {"4-F-4", "token body is not canonical unpadded base64url"},
      {"4-F-5", "token body is not canonical unpadded base64url"},
  };
  Result<PasetoMessage> result = UnauthenticatedError("no operation ran");
  if (t.contains("key")) {
    auto key = PasetoV4LocalKey::FromSecret(SecretBytes::CopyOf(Hex(t["key"])));
    ASSERT_TRUE(key.ok());
    result = PasetoV4Decrypt(*key, token, options);
  } else {
    auto public_key = PasetoV4PublicKey::FromBytes(Hex(t["public-key"]));
    ASSERT_TRUE(public_key.ok());
    result = PasetoV4Verify(*public_key, token, options);
  }
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kUnauthenticated);
  auto reason = kReasons.find(name);
  ASSERT_NE(reason, kReasons.end())
      << "new must-fail vector " << name << ": pin its reason; got " << result.status().message();
  EXPECT_NE(result.status().message().find(reason->second), std::string::npos)
      << result.status().message();
}

INSTANTIATE_TEST_SUITE_P(V4, PasetoV4VectorTest, testing::ValuesIn(V4Tests()), TestName);

// ---- PASERK -------------------------------------------------------------------------

std::vector<json> PaserkTests(const std::string& type) {
  json file = LoadJson(kVectorDir + "/PASERK/" + type + ".json");
  if (!file.is_object() || !file.contains("tests")) return {};
  return file["tests"].get<std::vector<json>>();
}

std::string PaserkOf(const json& t) {
  return t["paserk"].is_string() ? t["paserk"].get<std::string>() : "";
}

TEST(PaserkVectorTest, K4Local) {
  std::vector<json> tests = PaserkTests("k4.local");
  ASSERT_EQ(tests.size(), 5u);
  for (const json& t : tests) {
    SCOPED_TRACE(t["name"].get<std::string>());
    const std::string paserk = PaserkOf(t);
    if (t["expect-fail"].get<bool>()) {
      auto parsed = PaserkToLocalKey(paserk);
      ASSERT_FALSE(parsed.ok());
      EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
      continue;
    }
    auto key = PasetoV4LocalKey::FromSecret(SecretBytes::CopyOf(Hex(t["key"])));
    ASSERT_TRUE(key.ok());
    EXPECT_EQ(common::AsChars(ToPaserk(*key).span()), paserk);
    auto parsed = PaserkToLocalKey(paserk);
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    EXPECT_EQ(common::HexEncode(parsed->key_material().span()), t["key"].get<std::string>());
  }
  EXPECT_EQ(
      PaserkToLocalKey("k4.local.HFyc3R1dnd4eXp7fH1-f4CBgoOEhYaHiImKi4yNjo8").status().message(),
      "PASERK k4.local.: not canonical unpadded base64url near offset 51");
  EXPECT_EQ(
      PaserkToLocalKey("k3.local.cHFyc3R1dnd4eXp7fH1-f4CBgoOEhYaHiImKi4yNjo8").status().message(),
      "PASERK: expected prefix 'k4.local.', got 'k3.local.' (only version 4 PASERKs "
      "are accepted)");
}

TEST(PaserkVectorTest, K4Public) {
  std::vector<json> tests = PaserkTests("k4.public");
  ASSERT_EQ(tests.size(), 4u);
  for (const json& t : tests) {
    SCOPED_TRACE(t["name"].get<std::string>());
    if (t["expect-fail"].get<bool>()) {
      // The only failing vector is a 49-byte (P-384, version 3) key: no v4 key holds it.
      auto key = PasetoV4PublicKey::FromBytes(Hex(t["key"]));
      ASSERT_FALSE(key.ok());
      EXPECT_EQ(key.status().code(), StatusCode::kInvalidArgument);
      continue;
    }
    auto key = PasetoV4PublicKey::FromBytes(Hex(t["key"]));
    ASSERT_TRUE(key.ok());
    EXPECT_EQ(ToPaserk(*key), PaserkOf(t));
    auto parsed = PaserkToPublicKey(PaserkOf(t));
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    EXPECT_EQ(*parsed, *key);
  }
}

TEST(PaserkVectorTest, K4Secret) {
  std::vector<json> tests = PaserkTests("k4.secret");
  ASSERT_EQ(tests.size(), 5u);
  for (const json& t : tests) {
    SCOPED_TRACE(t["name"].get<std::string>());
    auto ed = Ed25519PrivateKey::FromSecretKey(Hex(t["key"]));
    if (t["expect-fail"].get<bool>()) {
      // Short (63-byte) and version-3 (48-byte) keys cannot become a v4 secret key.
      ASSERT_FALSE(ed.ok());
      EXPECT_EQ(ed.status().code(), StatusCode::kInvalidArgument);
      continue;
    }
    ASSERT_TRUE(ed.ok());
    PasetoV4SecretKey key(std::move(ed).value());
    EXPECT_EQ(common::HexEncode(key.public_key().ed25519().bytes()),
              t["public-key"].get<std::string>());
    EXPECT_EQ(common::AsChars(ToPaserk(key).span()), PaserkOf(t));
    auto parsed = PaserkToSecretKey(PaserkOf(t));
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    EXPECT_EQ(common::HexEncode(parsed->ed25519().Seed().span()),
              t["secret-key-seed"].get<std::string>());
  }
}

TEST(PaserkVectorTest, K4LocalId) {
  std::vector<json> tests = PaserkTests("k4.lid");
  ASSERT_EQ(tests.size(), 4u);
  for (const json& t : tests) {
    SCOPED_TRACE(t["name"].get<std::string>());
    auto key = PasetoV4LocalKey::FromSecret(SecretBytes::CopyOf(Hex(t["key"])));
    if (t["expect-fail"].get<bool>()) {
      ASSERT_FALSE(key.ok());
      EXPECT_EQ(key.status().message(), "PASETO v4.local key must be 32 bytes, got 31");
      continue;
    }
    ASSERT_TRUE(key.ok());
    EXPECT_EQ(PaserkId(*key), PaserkOf(t));
  }
}

TEST(PaserkVectorTest, K4PublicId) {
  std::vector<json> tests = PaserkTests("k4.pid");
  ASSERT_EQ(tests.size(), 5u);
  for (const json& t : tests) {
    SCOPED_TRACE(t["name"].get<std::string>());
    auto key = PasetoV4PublicKey::FromBytes(Hex(t["key"]));
    if (t["expect-fail"].get<bool>()) {
      ASSERT_FALSE(key.ok());
      EXPECT_EQ(key.status().code(), StatusCode::kInvalidArgument);
      continue;
    }
    ASSERT_TRUE(key.ok());
    EXPECT_EQ(PaserkId(*key), PaserkOf(t));
  }
}

TEST(PaserkVectorTest, K4SecretId) {
  std::vector<json> tests = PaserkTests("k4.sid");
  ASSERT_EQ(tests.size(), 4u);
  for (const json& t : tests) {
    SCOPED_TRACE(t["name"].get<std::string>());
    auto ed = Ed25519PrivateKey::FromSecretKey(Hex(t["key"]));
    if (t["expect-fail"].get<bool>()) {
      ASSERT_FALSE(ed.ok());
      EXPECT_EQ(ed.status().code(), StatusCode::kInvalidArgument);
      continue;
    }
    ASSERT_TRUE(ed.ok());
    auto from_seed = Ed25519PrivateKey::FromSeed(SecretBytes::CopyOf(Hex(t["seed"])));
    ASSERT_TRUE(from_seed.ok());
    EXPECT_EQ(from_seed->public_key(), ed->public_key());
    EXPECT_EQ(PaserkId(PasetoV4SecretKey(std::move(ed).value())), PaserkOf(t));
  }
}

}  // namespace
}  // namespace custos::crypto
