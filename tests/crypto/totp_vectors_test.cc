// Conformance: the 18 TOTP values of RFC 6238 Appendix B (SHA-1/256/512, 8 digits, 30 s),
// each generated exactly and accepted by Verify at its own time step.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "crypto/totp.h"

namespace custos::crypto {
namespace {

using nlohmann::json;

std::vector<json> Rfc6238Vectors() {
  std::ifstream in(std::string(CUSTOS_SHARED_DIR) + "/vectors/totp/rfc6238.json");
  if (!in) return {};
  json file = json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (!file.is_object() || !file.contains("vectors")) return {};
  return file["vectors"].get<std::vector<json>>();
}

TotpAlgorithm AlgorithmOf(const std::string& name) {
  if (name == "SHA256") return TotpAlgorithm::kSha256;
  if (name == "SHA512") return TotpAlgorithm::kSha512;
  EXPECT_EQ(name, "SHA1");
  return TotpAlgorithm::kSha1;
}

std::string TestName(const testing::TestParamInfo<json>& info) {
  return info.param["algorithm"].get<std::string>() + "_at_" +
         std::to_string(info.param["time"].get<int64_t>());
}

TEST(TotpVectorFileTest, HasAllEighteenVectors) { EXPECT_EQ(Rfc6238Vectors().size(), 18u); }

class TotpRfc6238Test : public testing::TestWithParam<json> {};

TEST_P(TotpRfc6238Test, GeneratesAndVerifies) {
  const json& v = GetParam();
  const int64_t time = v["time"];
  const std::string expected = v["totp"];
  SecretBytes secret = SecretBytes::CopyOf(common::AsBytes(v["secret_ascii"].get<std::string>()));
  TotpOptions options;
  options.algorithm = AlgorithmOf(v["algorithm"]);
  options.digits = v["digits"];
  options.period_seconds = v["step"];

  auto code = Totp::Generate(secret, time, options);
  ASSERT_TRUE(code.ok()) << code.status().ToString();
  EXPECT_EQ(*code, expected);

  const auto step = static_cast<uint64_t>(time / 30);
  auto matched = Totp::Verify(secret, expected, time, options);
  ASSERT_TRUE(matched.ok()) << matched.status().ToString();
  EXPECT_EQ(*matched, step);
  // The same code a second time, with the step persisted, is refused.
  auto reused = Totp::Verify(secret, expected, time, options, step);
  EXPECT_EQ(reused.status().code(), StatusCode::kUnauthenticated);
}

INSTANTIATE_TEST_SUITE_P(Rfc6238, TotpRfc6238Test, testing::ValuesIn(Rfc6238Vectors()), TestName);

// RFC 4226 Appendix D: HOTP values for the ASCII secret "12345678901234567890".
TEST(HotpRfc4226Test, AppendixDValues) {
  const char* kExpected[] = {"755224", "287082", "359152", "969429", "338314",
                             "254676", "287922", "162583", "399871", "520489"};
  SecretBytes secret = SecretBytes::CopyOf(common::AsBytes("12345678901234567890"));
  for (uint64_t counter = 0; counter < 10; ++counter) {
    auto code = Totp::Hotp(secret, counter);
    ASSERT_TRUE(code.ok());
    EXPECT_EQ(*code, kExpected[counter]) << "counter " << counter;
  }
}

}  // namespace
}  // namespace custos::crypto
