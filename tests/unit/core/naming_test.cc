#include "core/naming.h"

#include <gtest/gtest.h>

#include <set>

namespace qsplit::core {
namespace {

// Deterministic digits so expected names can be written out.
class FixedRandom : public Random {
 public:
  std::string digits(std::size_t count) override {
    std::string d;
    for (std::size_t i = 0; i < count; ++i) d.push_back(static_cast<char>('0' + (next_++ % 10)));
    return d;
  }

 private:
  int next_ = 1;
};

TEST(NameTemplate, DefaultGivesTheReferenceNames) {
  FixedRandom random;
  NameTemplate t;
  EXPECT_EQ(t.generate("views", true, kafkaNameRules(), random),
            "mirrord-tmp-1234567890-fallback-views");
  EXPECT_EQ(t.generate("views", false, kafkaNameRules(), random),
            "mirrord-tmp-1234567890-views");
}

TEST(NameTemplate, AcceptsTheV1OriginalSpelling) {
  FixedRandom random;
  auto t = NameTemplate::parse("team-{{ORIGINAL}}{{FALLBACK}}{{RANDOM}}");
  ASSERT_TRUE(t.has_value()) << t.error().message();
  EXPECT_EQ(t->generate("q", false, sqsNameRules(), random), "team-q-1234567890");
}

TEST(NameTemplate, RequiresAllThreePlaceholders) {
  auto t = NameTemplate::parse("mirrord-{{RANDOM}}-{{ORIGINAL_TOPIC}}");
  ASSERT_FALSE(t.has_value());
  EXPECT_EQ(t.error().message(),
            "name template 'mirrord-{{RANDOM}}-{{ORIGINAL_TOPIC}}' lacks {{FALLBACK}}; it must "
            "contain {{RANDOM}}, {{FALLBACK}} and {{ORIGINAL_TOPIC}}");
  auto none = NameTemplate::parse("fixed");
  ASSERT_FALSE(none.has_value());
  EXPECT_NE(none.error().message().find("lacks {{RANDOM}}, {{FALLBACK}}, {{ORIGINAL_TOPIC}}"),
            std::string::npos);
}

TEST(NameTemplate, RejectsUnknownAndUnclosedPlaceholders) {
  auto unknown = NameTemplate::parse("{{RANDOM}}{{FALLBACK}}{{ORIGINAL}}{{USER}}");
  ASSERT_FALSE(unknown.has_value());
  EXPECT_NE(unknown.error().message().find("unknown placeholder {{USER}}"), std::string::npos);
  auto unclosed = NameTemplate::parse("{{RANDOM}}{{FALLBACK}}{{ORIGINAL");
  ASSERT_FALSE(unclosed.has_value());
  EXPECT_NE(unclosed.error().message().find("never closed"), std::string::npos);
}

TEST(NameTemplate, SqsKeepsFifoSuffixAndReplacesDisallowedCharacters) {
  FixedRandom random;
  NameTemplate t;
  EXPECT_EQ(t.generate("orders.fifo", true, sqsNameRules(), random),
            "mirrord-tmp-1234567890-fallback-orders.fifo");
  EXPECT_EQ(t.generate("a.b", false, sqsNameRules(), random), "mirrord-tmp-1234567890-a-b");
  EXPECT_EQ(t.generate("a.b", false, kafkaNameRules(), random), "mirrord-tmp-1234567890-a.b");
}

TEST(NameTemplate, LongNamesAreShortenedWithAHashAndStayUnique) {
  NameTemplate t;
  std::string original(200, 'q');
  std::set<std::string> names;
  for (int i = 0; i < 100; ++i) {
    std::string name = t.generate(original + ".fifo", i % 2, sqsNameRules(), SecureRandom::instance());
    EXPECT_EQ(name.size(), 80u) << name;
    EXPECT_TRUE(name.ends_with(".fifo")) << name;
    EXPECT_TRUE(name.starts_with("mirrord-tmp-")) << name;
    names.insert(name);
  }
  EXPECT_EQ(names.size(), 100u);
  std::string kafka = t.generate(std::string(300, 't'), false, kafkaNameRules(), SecureRandom::instance());
  EXPECT_EQ(kafka.size(), 249u);
}

TEST(NameTemplate, ShorteningKeepsUniquenessWhenTheRandomPartIsCutOff) {
  auto t = NameTemplate::parse("{{ORIGINAL_TOPIC}}{{FALLBACK}}{{RANDOM}}");
  ASSERT_TRUE(t.has_value());
  std::set<std::string> names;
  for (int i = 0; i < 100; ++i)
    names.insert(t->generate(std::string(120, 'x'), false, sqsNameRules(), SecureRandom::instance()));
  EXPECT_EQ(names.size(), 100u);
}

TEST(ShortenWithHash, LeavesShortNamesAlone) {
  EXPECT_EQ(shortenWithHash("abc", 80), "abc");
  std::string cut = shortenWithHash(std::string(100, 'a'), 40);
  EXPECT_EQ(cut.size(), 40u);
  EXPECT_EQ(cut.substr(0, 27), std::string(27, 'a'));
  EXPECT_EQ(cut[27], '-');
}

}  // namespace
}  // namespace qsplit::core
