#include "core/filter.h"

#include <gtest/gtest.h>

#include "support/messages.h"

namespace qsplit::core {
namespace {

using testing::filter;
using testing::message;

TEST(Filter, MatchesWhenEveryRuleFindsItsAttribute) {
  Filter f = filter({{"author", "^me$"}, {"level", "^(beginner|intermediate)$"}});
  EXPECT_TRUE(f.matches(message({{"author", "me"}, {"level", "beginner"}})));
  EXPECT_FALSE(f.matches(message({{"author", "me"}, {"level", "expert"}})));
  EXPECT_FALSE(f.matches(message({{"author", "me"}})));  // a named attribute is missing
  EXPECT_FALSE(f.matches(message({})));
}

TEST(Filter, ExtraAttributesDoNotMatter) {
  Filter f = filter({{"author", "^me$"}});
  EXPECT_TRUE(f.matches(message({{"x", "1"}, {"author", "me"}, {"y", "2"}})));
}

TEST(Filter, RegexIsASearchNotAFullMatch) {
  Filter f = filter({{"source", "my-session-"}});
  EXPECT_TRUE(f.matches(message({{"source", "prefix my-session-844cb78789-2fmsw"}})));
  EXPECT_FALSE(f.matches(message({{"source", "my-other-session"}})));
}

TEST(Filter, NamesAndValuesAreCaseInsensitive) {
  Filter f = filter({{"client", "^a$"}});
  EXPECT_TRUE(f.matches(message({{"cliENT", "a"}})));
  EXPECT_TRUE(f.matches(message({{"CLIent", "A"}})));
  EXPECT_FALSE(f.matches(message({{"clients", "a"}})));
}

TEST(Filter, EmptyFilterMatchesNothing) {
  Filter f = filter({});
  EXPECT_TRUE(f.matchesNothing());
  EXPECT_FALSE(f.matches(message({{"author", "me"}})));
  EXPECT_FALSE(Filter().matches(message({{"author", "me"}})));
}

TEST(Filter, RepeatedHeaderMatchesIfAnyValueMatches) {
  Filter f = filter({{"tenant", "^b$"}});
  EXPECT_TRUE(f.matches(message({{"tenant", "a"}, {"tenant", "b"}})));
  EXPECT_FALSE(f.matches(message({{"tenant", "a"}, {"tenant", "c"}})));
}

TEST(Filter, RejectsLookAroundNamingTheAttribute) {
  auto f = Filter::compile({{"author", "(?=me)"}});
  ASSERT_FALSE(f.has_value());
  EXPECT_EQ(f.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(f.error().message().find("message_filter.author: RE2 cannot compile"),
            std::string::npos)
      << f.error().message();
  EXPECT_NE(f.error().message().find("look-around and back-references are not supported"),
            std::string::npos);
}

TEST(Filter, RejectsBackReferences) {
  auto f = Filter::compile({{"id", "(a)\\1"}});
  ASSERT_FALSE(f.has_value());
  EXPECT_NE(f.error().message().find("message_filter.id"), std::string::npos);
  EXPECT_NE(f.error().message().find("(a)\\1"), std::string::npos);
}

TEST(Filter, RejectsMalformedRegex) {
  auto f = Filter::compile({{"level", "(beginner"}});
  ASSERT_FALSE(f.has_value());
  EXPECT_NE(f.error().message().find("missing )"), std::string::npos) << f.error().message();
}

}  // namespace
}  // namespace qsplit::core
