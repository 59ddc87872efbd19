// RouteTable with content filters: attribute rules and jq programs together, decided in start
// order, one batch at a time.
#include <gtest/gtest.h>

#include "core/router.h"
#include "jq/documents.h"
#include "jq/jq_matcher.h"

namespace qsplit::jq {
namespace {

core::SessionRoute session(const std::string& id, std::map<std::string, std::string> rules,
                           std::string jq, core::QueueMode mode = core::QueueMode::kSteal) {
  return {id, core::Filter::compile(rules)->withContent(std::move(jq)), mode, "q-" + id};
}

core::Message record(std::string payload, std::string tenant = "") {
  core::Message m;
  m.partition = 0;
  m.offset = 0;
  m.body = std::move(payload);
  if (!tenant.empty()) m.attributes = {{"tenant", tenant, ""}};
  return m;
}

std::vector<std::string> destinations(const core::RouteTable& table, const core::Decision& d) {
  std::vector<std::string> out;
  for (uint32_t i : d.destinations) out.push_back(table.destinations()[i]);
  return out;
}

class RouteContentTest : public ::testing::TestWithParam<int> {};

// With 2 sessions the table matches attributes one session at a time, with 6 through RE2 sets:
// both give the same decisions.
TEST_P(RouteContentTest, AttributeAndContentFiltersAreDecidedInStartOrder) {
  auto content = std::make_shared<JqMatcher>(JqMatcherOptions{QSPLIT_JQ_WORKER, {}, kafkaDocument("t"), {}});
  std::vector<core::SessionRoute> sessions = {
      session("mirror", {{"tenant", "^b$"}}, ".payload | fromjson | .vip == true", core::QueueMode::kMirror),
      session("alice", {}, ".payload | fromjson | .user == \"alice\""),
      session("tenant-a", {{"tenant", "^a$"}}, ""),
  };
  for (int i = 3; i < GetParam(); ++i)
    sessions.push_back(session("other" + std::to_string(i), {{"tenant", "^zz" + std::to_string(i)}}, ""));
  auto table = core::RouteTable::build(sessions, "fallback", 1, content);
  ASSERT_TRUE(table) << table.error().message();
  std::vector<core::Message> batch = {
      record(R"({"user": "alice"})", "a"),             // alice started first: hers
      record(R"({"user": "bob"})", "a"),               // tenant-a's
      record(R"({"user": "bob", "vip": true})", "b"),  // a copy to mirror, then the fallback
      record(R"({"user": "alice", "vip": true})", "b"),
      record("not json", "a"),                         // no content filter matches
      record(R"({"user": "carol"})"),
  };
  std::vector<core::Decision> decisions(batch.size());
  (*table)->route(batch, decisions);
  using V = std::vector<std::string>;
  EXPECT_EQ(destinations(**table, decisions[0]), (V{"q-alice"}));
  EXPECT_EQ(destinations(**table, decisions[1]), (V{"q-tenant-a"}));
  EXPECT_EQ(destinations(**table, decisions[2]), (V{"q-mirror", "fallback"}));
  EXPECT_EQ(destinations(**table, decisions[3]), (V{"q-mirror", "q-alice"}));
  EXPECT_EQ(destinations(**table, decisions[4]), (V{"q-tenant-a"}));
  EXPECT_EQ(destinations(**table, decisions[5]), (V{"fallback"}));
}

INSTANTIATE_TEST_SUITE_P(Sizes, RouteContentTest, ::testing::Values(3, 6));

TEST(RouteContent, AContentFilterNeedsAMatcher) {
  auto table = core::RouteTable::build({session("s", {}, "true")}, "fallback", 1, nullptr);
  ASSERT_FALSE(table);
  EXPECT_NE(table.error().message().find("session s: jq_filter"), std::string::npos);
}

}  // namespace
}  // namespace qsplit::jq
