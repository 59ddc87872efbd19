#include "common/result.h"

#include <gtest/gtest.h>

#include <memory>

namespace qsplit {
namespace {

Result<int> half(int n) {
  if (n % 2 != 0) return fail(ErrorCode::kInvalidArgument, std::to_string(n) + " is odd");
  return n / 2;
}

Result<int> quarter(int n) {
  QSPLIT_ASSIGN_OR_RETURN(int h, half(n));
  return half(h);
}

Result<void> checkEven(int n) {
  QSPLIT_TRY(half(n));
  return ok();
}

TEST(Result, CarriesValueOrError) {
  auto good = half(4);
  ASSERT_TRUE(good.has_value());
  EXPECT_EQ(*good, 2);
  auto bad = half(3);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(bad.error().message(), "3 is odd");
}

TEST(Result, MacrosPropagateTheFirstError) {
  EXPECT_EQ(*quarter(8), 2);
  EXPECT_EQ(quarter(6).error().message(), "3 is odd");
  EXPECT_TRUE(checkEven(2).has_value());
  EXPECT_EQ(checkEven(5).error().message(), "5 is odd");
}

TEST(Result, HoldsMoveOnlyValues) {
  Result<std::unique_ptr<int>> r = std::make_unique<int>(7);
  std::unique_ptr<int> p = std::move(r).value();
  EXPECT_EQ(*p, 7);
}

TEST(Error, WithContextPrefixesTheMessage) {
  Error e(ErrorCode::kNotFound, "no such queue");
  EXPECT_EQ(e.withContext("config.json").message(), "config.json: no such queue");
  EXPECT_EQ(e.withContext("x").code(), ErrorCode::kNotFound);
  EXPECT_STREQ(errorCodeName(ErrorCode::kNotFound), "not_found");
}

}  // namespace
}  // namespace qsplit
