#include "jq/comparison.h"

#include <gtest/gtest.h>

namespace qsplit::jq {
namespace {

TEST(SplitComparison, SplitsTheLastStagesComparisonWithAConstant) {
  auto c = splitComparison(".payload | fromjson | .tenant == \"t1\"");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->left, ".payload | fromjson | .tenant");
  EXPECT_TRUE(c->equal);
  EXPECT_EQ(c->literal, "\"t1\"");

  c = splitComparison("  .headers.user!=\"a|b, c\"  ");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->left, ".headers.user");
  EXPECT_FALSE(c->equal);
  EXPECT_EQ(c->literal, "\"a|b, c\"");

  for (const char* program :
       {".a as $x | $x.b == 2", "def f: .a, .b; . | f == 1", "[.a, .b] | length == 2", "(.a // 1) == 1",
        ".end == 1", "select(.a == 1) | .b == true", ".x | .a |= 1 | .a == 1"})
    EXPECT_TRUE(splitComparison(program)) << program;
}

TEST(SplitComparison, LeavesWholeWhatItIsNotSureOf) {
  for (const char* program : {
           ".a == 1 | not",                // the comparison is not the last stage
           ".a, .b == 1",                  // `,` binds looser than `==`
           ".a // .b == 1",                // so does `//`
           ".a and .b == 1", ".a or .b == 1",
           ".a |= 1 == 1",                 // an assignment
           "def f: .a | .b; f == 1",       // `;` in the last stage
           "if .a then 1 else 2 end == 1", // keywords
           "try .a == 1", "reduce .[] as $x (0; . + $x) == 1",
           ".a == .b == 1",                // two comparisons
           ".a < 1", ".a >= 1",            // orderings
           "\"\\(.a)\" == \"1\"",          // an interpolation
           ".a == 1 # comment",            // a comment
           "== 1", ".a ==", ".a == \"unterminated", "(.a == 1", ".a) == 1", ".a"})
    EXPECT_FALSE(splitComparison(program)) << program;
}

}  // namespace
}  // namespace qsplit::jq
