// Service-account names in client certificates: id validation and the SAN URI round trip.
#include "identity/mtls.h"

#include <gtest/gtest.h>

namespace custos::identity {
namespace {

TEST(MtlsTest, ServiceAccountUriRoundTrip) {
  EXPECT_EQ(ServiceAccountUri("fraud-scorer"), "custos://service-account/fraud-scorer");
  auto id = ParseServiceAccountUri("custos://service-account/sa_01.x:y@z-1");
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(*id, "sa_01.x:y@z-1");
}

TEST(MtlsTest, RefusesMalformedIdsAndUris) {
  EXPECT_EQ(ValidateServiceAccountId(""), InvalidArgumentError("service account id is empty"));
  EXPECT_EQ(ValidateServiceAccountId("a b"),
            InvalidArgumentError("service account id has a character not allowed at offset 1: "
                                 "use letters, digits and . _ : @ -"));
  EXPECT_EQ(
      ValidateServiceAccountId(std::string(129, 'a')),
      InvalidArgumentError("service account id is 129 characters, more than the 128 allowed"));
  EXPECT_TRUE(ValidateServiceAccountId(std::string(128, 'a')).ok());
  EXPECT_EQ(ParseServiceAccountUri("https://service-account/x").status(),
            InvalidArgumentError("URI is not a custos service account (expected prefix "
                                 "custos://service-account/)"));
  EXPECT_EQ(ParseServiceAccountUri("custos://service-account/").status(),
            InvalidArgumentError("service account id is empty"));
  EXPECT_EQ(ParseServiceAccountUri("custos://service-account/a/b").status().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace custos::identity
