#include "common/base64.h"

#include <gtest/gtest.h>

namespace qsplit {
namespace {

TEST(Base64, RoundTripsEveryLength) {
  std::string bytes;
  for (int i = 0; i < 40; ++i) {
    EXPECT_EQ(base64Decode(base64Encode(bytes)), bytes);
    bytes.push_back(static_cast<char>(i * 37));
  }
  EXPECT_EQ(base64Encode("from-parent-secret"), "ZnJvbS1wYXJlbnQtc2VjcmV0");
}

TEST(Base64, RejectsInvalidText) {
  EXPECT_FALSE(base64Decode("@@@@").has_value());
  EXPECT_FALSE(base64Decode("abc").has_value());
  EXPECT_FALSE(base64Decode("ab=c").has_value());
  EXPECT_EQ(base64Decode("YWJj\nZA=="), "abcd");
}

}  // namespace
}  // namespace qsplit
