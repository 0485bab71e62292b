// Status, Result and the propagation macros.
#include "common/status.h"

#include <gtest/gtest.h>

namespace custos {
namespace {

Result<int> Half(int x) {
  if (x % 2 != 0) return InvalidArgumentError("odd: " + std::to_string(x));
  return x / 2;
}

Result<int> Quarter(int x) {
  CUSTOS_ASSIGN_OR_RETURN(int h, Half(x));
  CUSTOS_ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

Status CheckEven(int x) {
  CUSTOS_RETURN_IF_ERROR(Half(x));
  return Status::Ok();
}

TEST(StatusTest, OkHasNoMessage) {
  Status s(StatusCode::kOk, "ignored");
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.message(), "");
  EXPECT_EQ(s.ToString(), "OK");
}

TEST(StatusTest, ToStringNamesTheCode) {
  EXPECT_EQ(DataLossError("flipped byte at 7").ToString(), "DATA_LOSS: flipped byte at 7");
  EXPECT_EQ(NotFoundError("x").code(), StatusCode::kNotFound);
}

TEST(StatusTest, WithContextPrefixes) {
  EXPECT_EQ(InvalidArgumentError("expected ')'").WithContext("p.cedar:3:7").message(),
            "p.cedar:3:7: expected ')'");
  EXPECT_TRUE(Status::Ok().WithContext("x").ok());
}

TEST(ResultTest, PropagatesFirstError) {
  EXPECT_EQ(*Quarter(8), 2);
  Result<int> r = Quarter(6);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "odd: 3");
  EXPECT_EQ(CheckEven(3).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(CheckEven(4).ok());
}

TEST(ResultTest, OkStatusBecomesInternal) {
  Result<int> r = Status::Ok();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInternal);
}

}  // namespace
}  // namespace custos
