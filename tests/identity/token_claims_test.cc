// Access-token claims without crypto: the exact JSON encoding, strict parsing (each
// malformed claim named), structural checks, environments and TokenScope matching.
#include "identity/token_claims.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace custos::identity {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

const common::TimePoint kIat = common::FromUnixSeconds(1'900'000'000) + 250ms;

TokenClaims Sample() {
  TokenClaims c;
  c.issuer = "custos";
  c.subject = "User::\"alice\"";
  c.audience = "custos";
  c.token_id = "tok_0123456789abcdefghijklmnop";
  c.issued_at = kIat;
  c.not_before = kIat;
  c.expires_at = kIat + 15min;
  c.purpose = "fraud-model";
  c.environment = Environment::kStaging;
  c.zone = "eu-west";
  c.scope = TokenScope({"FeatureView::\"driver_stats\""}, {"read"});
  return c;
}

TEST(TokenClaimsTest, EncodesExactlyAndRoundTrips) {
  const std::string json = EncodeTokenClaims(Sample());
  EXPECT_EQ(json,
            "{\"iss\":\"custos\",\"sub\":\"User::\\\"alice\\\"\",\"aud\":\"custos\","
            "\"jti\":\"tok_0123456789abcdefghijklmnop\",\"iat\":\"2030-03-17T17:46:40.250000Z\","
            "\"nbf\":\"2030-03-17T17:46:40.250000Z\",\"exp\":\"2030-03-17T18:01:40.250000Z\","
            "\"purpose\":\"fraud-model\",\"environment\":\"staging\",\"zone\":\"eu-west\","
            "\"resources\":[\"FeatureView::\\\"driver_stats\\\"\"],\"actions\":[\"read\"]}");
  auto parsed = ParseTokenClaims(json);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(*parsed, Sample());
}

TEST(TokenClaimsTest, NamesEachMalformedClaim) {
  struct Case {
    std::string payload;
    std::string message;
  };
  const std::string good = EncodeTokenClaims(Sample());
  auto replace = [&](std::string_view from, std::string_view to) {
    std::string s = good;
    size_t at = s.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return s.replace(at, from.size(), to);
  };
  const Case cases[] = {
      {"", "token payload is not valid JSON"},
      {"\"x\"", "token payload must be a JSON object, got string"},
      {replace("\"iss\":\"custos\",", ""), "token claim 'iss': is missing"},
      {replace("\"zone\":\"eu-west\"", "\"zone\":1"),
       "token claim 'zone': must be a string, got number"},
      {replace("\"zone\":\"eu-west\"", "\"zone\":\"\""), "token claim 'zone': must not be empty"},
      {replace("\"staging\"", "\"qa\""),
       "token claim 'environment': unknown environment 'qa': use one of dev, staging, prod"},
      {replace("\"actions\":[\"read\"]", "\"actions\":\"read\""),
       "token claim 'actions': must be an array of strings, got string"},
      {replace("\"actions\":[\"read\"]", "\"actions\":[]"),
       "token claim 'actions': must list at least one item"},
      {replace("\"actions\":[\"read\"]", "\"actions\":[\"\"]"),
       "token claim 'actions[0]': must not be empty"},
      {replace("{", "{\"role\":\"admin\","),
       "token claim 'role': is not a custos token claim (remove it, or upgrade custos)"},
      {replace("{", "{\"aud\":\"other\","), "token claim 'aud': appears more than once"},
      {replace("\"exp\":\"2030-03-17T18:01:40.250000Z\"", "\"exp\":\"2030-03-17T17:46:40Z\""),
       "token claim 'exp': (2030-03-17T17:46:40Z) is not after iat (2030-03-17T17:46:40.250000Z)"},
      {replace("\"exp\":\"2030-03-17T18:01:40.250000Z\"", "\"exp\":\"2030-03-17T18:46:41Z\""),
       "token claim 'exp': the token lives longer than the maximum of 60 minutes"},
      {replace("\"nbf\":\"2030-03-17T17:46:40.250000Z\"", "\"nbf\":\"2030-03-17T17:46:40Z\""),
       "token claim 'nbf': (2030-03-17T17:46:40Z) is before iat (2030-03-17T17:46:40.250000Z)"},
      {replace("\"nbf\":\"2030-03-17T17:46:40.250000Z\"",
               "\"nbf\":\"2030-03-17T18:01:40.250000Z\""),
       "token claim 'nbf': (2030-03-17T18:01:40.250000Z) is not before exp "
       "(2030-03-17T18:01:40.250000Z)"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.payload);
    auto parsed = ParseTokenClaims(c.payload);
    ASSERT_FALSE(parsed.ok());
    EXPECT_EQ(parsed.status(), InvalidArgumentError(c.message));
  }
  auto bad_time =
      ParseTokenClaims(replace("\"iat\":\"2030-03-17T17:46:40.250000Z\"", "\"iat\":\"soon\""));
  EXPECT_EQ(bad_time.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(bad_time.status().message(), HasSubstr("token claim 'iat': invalid RFC 3339"));
  // A nested "iss" is not a duplicate of the top-level one, but the unknown claim is refused.
  EXPECT_EQ(ParseTokenClaims(replace("{", "{\"x\":{\"iss\":1},")).status().message(),
            "token claim 'x': is not a custos token claim (remove it, or upgrade custos)");
}

TEST(TokenClaimsTest, LengthLimits) {
  TokenClaims c = Sample();
  c.zone = std::string(kMaxClaimString + 1, 'z');
  EXPECT_EQ(ValidateTokenClaims(c),
            InvalidArgumentError("token claim 'zone': is 513 bytes, more than the 512 allowed"));
  c = Sample();
  c.scope = TokenScope(std::vector<std::string>(kMaxScopeItems + 1, "r"), {"read"});
  EXPECT_EQ(
      ValidateTokenClaims(c),
      InvalidArgumentError("token claim 'resources': has 257 items, more than the 256 allowed"));
}

TEST(TokenClaimsTest, Environments) {
  for (Environment e : {Environment::kDev, Environment::kStaging, Environment::kProd}) {
    EXPECT_EQ(*ParseEnvironment(EnvironmentName(e)), e);
  }
  EXPECT_EQ(ParseEnvironment("Prod").status(),
            InvalidArgumentError("unknown environment 'Prod': use one of dev, staging, prod"));
}

TEST(TokenScopeTest, NarrowsToListedActionsAndResources) {
  TokenScope scope({"FeatureView::\"driver_stats\"", "Feature::\"driver_stats.*"},
                   {"read", "read_masked"});
  EXPECT_TRUE(scope.Allows("read", "FeatureView::\"driver_stats\""));
  EXPECT_FALSE(scope.Allows("read", "FeatureView::\"driver_stats2\""));
  EXPECT_TRUE(scope.Allows("read_masked", "Feature::\"driver_stats.trips\""));
  EXPECT_FALSE(scope.Allows("read_masked", "Feature::\"payments.amount\""));
  EXPECT_FALSE(scope.Allows("export", "FeatureView::\"driver_stats\""));
  EXPECT_FALSE(scope.Allows("rea", "FeatureView::\"driver_stats\""));
  EXPECT_FALSE(TokenScope().Allows("read", "FeatureView::\"driver_stats\""));
  TokenScope everything({"*"}, {"read"});
  EXPECT_TRUE(everything.Allows("read", "Dataset::\"x\""));
  EXPECT_FALSE(everything.Allows("write", "Dataset::\"x\""));
}

}  // namespace
}  // namespace custos::identity

namespace custos::identity {
namespace {

TEST(TokenClaimsTest, FastReaderAgreesWithTheGenericParser) {
  const std::string json = EncodeTokenClaims(Sample());
  std::optional<TokenClaims> fast = detail::ParseTokenClaimsFast(json);
  ASSERT_TRUE(fast.has_value());
  EXPECT_EQ(*fast, Sample());
  EXPECT_EQ(*detail::ParseTokenClaimsGeneric(json), Sample());
  // Whitespace and simple escapes stay on the fast path.
  std::string spaced = json;
  spaced.replace(spaced.find("\"zone\":\"eu-west\""), 16, "\"zone\" :\t\"eu\\/west\\n\"");
  fast = detail::ParseTokenClaimsFast(" " + spaced + "\r\n");
  ASSERT_TRUE(fast.has_value());
  EXPECT_EQ(fast->zone, "eu/west\n");
  // \u escapes and non-ASCII text go to the generic parser, with the same result.
  std::string unicode = json;
  unicode.replace(unicode.find("\"eu-west\""), 9, "\"\\u00e9u-w\xc3\xa9st\"");
  EXPECT_FALSE(detail::ParseTokenClaimsFast(unicode).has_value());
  auto parsed = ParseTokenClaims(unicode);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->zone, "\xc3\xa9u-w\xc3\xa9st");
  // Malformed input: the fast reader gives up and the generic parser explains.
  EXPECT_FALSE(detail::ParseTokenClaimsFast(json + "x").has_value());
  EXPECT_EQ(ParseTokenClaims(json + "x").status(),
            InvalidArgumentError("token payload is not valid JSON"));
}

}  // namespace
}  // namespace custos::identity
