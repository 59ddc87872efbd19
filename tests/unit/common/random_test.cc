#include "common/random.h"

#include <gtest/gtest.h>

#include <set>

namespace qsplit {
namespace {

TEST(SecureRandom, GivesTheRequestedNumberOfDigits) {
  std::string d = SecureRandom::instance().digits(10);
  ASSERT_EQ(d.size(), 10u);
  for (char c : d) EXPECT_TRUE(c >= '0' && c <= '9') << d;
}

TEST(SecureRandom, DigitsAreSpreadAndNotRepeated) {
  std::set<std::string> seen;
  int counts[10] = {};
  for (int i = 0; i < 1000; ++i) {
    std::string d = SecureRandom::instance().digits(10);
    seen.insert(d);
    for (char c : d) ++counts[c - '0'];
  }
  EXPECT_EQ(seen.size(), 1000u);
  // 10,000 digits: each should appear about 1,000 times; 800 is over 6 sigma away.
  for (int c : counts) EXPECT_GT(c, 800);
}

}  // namespace
}  // namespace qsplit
