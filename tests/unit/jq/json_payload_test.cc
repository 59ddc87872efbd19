// Filters on a JSON payload (Redis Pub/Sub): message_filter on its top-level fields, jq_filter
// on the parsed payload, and a payload that is not JSON matching neither.
#include "jq/json_payload.h"

#include <gtest/gtest.h>

#include "core/filter.h"
#include "jq/doc_tape.h"
#include "jq/jq_matcher.h"
#include <nlohmann/json.hpp>

namespace qsplit::jq {
namespace {

core::Message payload(const std::string& body) {
  core::Message m;
  m.body = body;
  return m;
}

bool filterMatches(const std::map<std::string, std::string>& regexes, const std::string& body) {
  std::vector<core::Message> batch{payload(body)};
  useJsonPayloadFields(batch);
  auto filter = core::Filter::compile(regexes);
  EXPECT_TRUE(filter.has_value());
  return filter->matches(batch[0]);
}

TEST(JsonPayload, MessageFiltersReadTopLevelFields) {
  EXPECT_TRUE(filterMatches({{"tenant", "^a$"}}, R"({"tenant":"a","n":1})"));
  EXPECT_FALSE(filterMatches({{"tenant", "^a$"}}, R"({"tenant":"b"})"));
  EXPECT_TRUE(filterMatches({{"n", "^42$"}, {"ok", "^true$"}}, R"({"n":42,"ok":true})"));
  EXPECT_TRUE(filterMatches({{"inner", R"(^\{"x":1\}$)"}}, R"({"inner":{"x":1}})"));
  // Not an object, or not JSON: no fields, so no filter matches.
  EXPECT_FALSE(filterMatches({{"tenant", ".*"}}, R"(["tenant","a"])"));
  EXPECT_FALSE(filterMatches({{"tenant", ".*"}}, "tenant=a"));
  // A nested field is not a top-level one.
  EXPECT_FALSE(filterMatches({{"tenant", ".*"}}, R"({"order":{"tenant":"a"}})"));
}

TEST(JsonPayload, TheDocumentIsTheParsedPayload) {
  Document doc;
  jsonPayloadDocument()(payload(R"({"tenant":"a","items":[1,true,null],"n":2.5})"), doc);
  EXPECT_EQ(nlohmann::json::parse(tapeToJson(doc.tape)),
            nlohmann::json::parse(R"({"tenant":"a","items":[1,true,null],"n":2.5})"));
  jsonPayloadDocument()(payload("7"), doc);
  EXPECT_EQ(tapeToJson(doc.tape), "7");
  jsonPayloadDocument()(payload("not json"), doc);
  EXPECT_TRUE(doc.tape.empty()) << "no document: it matches no jq filter";
}

TEST(JsonPayload, JqFiltersRunOnThePayloadAndNotJsonMatchesNone) {
  JqMatcher matcher(JqMatcherOptions{QSPLIT_JQ_WORKER, {}, jsonPayloadDocument(), nullptr, 1});
  auto tenant = matcher.program("alice", {R"(.tenant == "a")"});
  auto always = matcher.program("bob", {"true"});
  ASSERT_TRUE(tenant && always);
  std::vector<core::Message> messages{payload(R"({"tenant":"a"})"), payload(R"({"tenant":"b"})"), payload("tenant a")};
  std::vector<core::ContentQuery> queries(messages.size());
  for (std::size_t i = 0; i < messages.size(); ++i) {
    queries[i].message = &messages[i];
    queries[i].candidates = {{*tenant, false}, {*always, false}};
  }
  matcher.match(queries);
  EXPECT_EQ(queries[0].matched, (std::vector<uint8_t>{1, 1}));
  EXPECT_EQ(queries[1].matched, (std::vector<uint8_t>{0, 1}));
  EXPECT_EQ(queries[2].matched, (std::vector<uint8_t>{0, 0})) << "a payload that is not JSON matches nothing";
}

}  // namespace
}  // namespace qsplit::jq
