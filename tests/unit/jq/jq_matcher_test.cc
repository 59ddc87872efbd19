// JqMatcher with the real jq worker (qsplitd --jq-worker): what programs match, and that no
// program can stall or crash the evaluation of the others.
#include "jq/jq_matcher.h"

#include <gtest/gtest.h>

#include <signal.h>

#include "jq/documents.h"
#include "jq/jq_program.h"

namespace qsplit::jq {
namespace {

struct Off {
  std::string session, reason;
};

class JqMatcherTest : public ::testing::Test {
 protected:
  std::unique_ptr<JqMatcher> make(DocumentBuilder document, JqLimits limits = {}) {
    return std::make_unique<JqMatcher>(JqMatcherOptions{
        QSPLIT_JQ_WORKER, limits, std::move(document),
        [this](const std::string& s, const std::string& r) { off_.push_back({s, r}); }});
  }

  // Whether each program (one session each, all mirror) matches `m`.
  std::vector<uint8_t> ask(JqMatcher& matcher, const core::Message& m,
                           const std::vector<std::string>& programs, bool steal = false) {
    core::ContentQuery q;
    q.message = &m;
    for (std::size_t i = 0; i < programs.size(); ++i) {
      auto id = matcher.program("s" + std::to_string(i), {programs[i]});
      EXPECT_TRUE(id) << id.error().message();
      q.candidates.push_back({id ? *id : 0, steal});
    }
    std::vector<core::ContentQuery> queries{q};
    matcher.match(queries);
    return queries[0].matched;
  }

  bool matches(DocumentBuilder document, const core::Message& m, const std::string& program) {
    auto matcher = make(std::move(document));
    return ask(*matcher, m, {program})[0] == 1;
  }

  std::vector<Off> off_;
};

core::Message sqsMessage(std::string body) {
  core::Message m;
  m.body = std::move(body);
  m.attributes = {{"client", "a", "String"}};
  return m;
}

core::Message kafkaRecord(std::string payload) {
  core::Message m;
  m.partition = 0;
  m.offset = 1;
  m.body = std::move(payload);
  return m;
}

TEST_F(JqMatcherTest, TheReferenceExamplesWorkAsWritten) {
  EXPECT_TRUE(matches(sqsDocument(false), sqsMessage(R"({"important": true})"),
                      ".Body | fromjson | .important == true"));
  EXPECT_FALSE(matches(sqsDocument(false), sqsMessage(R"({"important": false})"),
                       ".Body | fromjson | .important == true"));
  EXPECT_TRUE(matches(sqsDocument(false), sqsMessage("x"),
                      R"(.MessageAttributes.client.StringValue | test("^a$"))"));
  core::Message s3 = sqsMessage("{}");
  s3.s3_metadata = {{"client", "a", ""}};
  EXPECT_TRUE(matches(sqsDocument(true), s3, R"(.S3Metadata.client == "a")"));
  EXPECT_TRUE(matches(kafkaDocument("t"), kafkaRecord(R"({"data": {"merchantId": 2137}})"),
                      ".payload | fromjson | .data.merchantId == 2137"));
  EXPECT_FALSE(matches(kafkaDocument("t"), kafkaRecord(R"({"data": {"merchantId": 1}})"),
                       ".payload | fromjson | .data.merchantId == 2137"));
}

TEST_F(JqMatcherTest, OnlyAFirstOutputOfTrueMatches) {
  auto matcher = make(kafkaDocument("t"));
  auto m = kafkaRecord("not json");
  EXPECT_EQ(ask(*matcher, m,
                {".payload | fromjson | .x == 1",  // a runtime error
                 "empty", "1", "\"true\"", "false, true", "true, false", "repeat(.)",
                 ".payload == \"not json\""}),
            (std::vector<uint8_t>{0, 0, 0, 0, 0, 1, 0, 1}));
  EXPECT_TRUE(off_.empty());
}

TEST_F(JqMatcherTest, FromjsonOfAnotherStringIsJqsOwn) {
  auto m = kafkaRecord(R"({"inner": "{\"a\": 1}"})");
  EXPECT_TRUE(matches(kafkaDocument("t"), m, ".payload | fromjson | .inner | fromjson | .a == 1"));
  EXPECT_FALSE(matches(kafkaDocument("t"), m, "null | fromjson | . == null"));
  EXPECT_TRUE(matches(kafkaDocument("t"), m, "def f: fromjson; .payload | f | has(\"inner\")"));
}

TEST_F(JqMatcherTest, AStealMatchEndsTheWalk) {
  auto matcher = make(kafkaDocument("t"));
  auto m = kafkaRecord("{}");
  EXPECT_EQ(ask(*matcher, m, {"true", "true"}, true), (std::vector<uint8_t>{1, 0}));
}

TEST_F(JqMatcherTest, CompileErrorsAreJqsMessageOnOneLine) {
  auto matcher = make(kafkaDocument("t"));
  auto bad = matcher->program("s", {".payload | fromjsn"});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message(), "jq_filter: fromjsn/0 is not defined at <top-level>, line 1");
  EXPECT_FALSE(matcher->check({"if . then"}));
  EXPECT_TRUE(matcher->check({".a"}));
  auto local = checkProgram("{");
  ASSERT_FALSE(local);
  EXPECT_NE(local.error().message().find("syntax error"), std::string::npos);
}

TEST_F(JqMatcherTest, ModulesAndTheEnvironmentAreOutOfReach) {
  auto matcher = make(kafkaDocument("t"));
  EXPECT_FALSE(matcher->check({R"(import "secrets" as $s; .)"}));
  setenv("QSPLIT_TEST_SECRET", "s3cr3t", 1);
  auto m = kafkaRecord("{}");
  EXPECT_EQ(ask(*matcher, m, {R"($ENV.QSPLIT_TEST_SECRET == null and env.HOME == null)"}),
            (std::vector<uint8_t>{1}));
}

// Each looping or exploding program is switched off, and the program beside it still answers,
// in the same batch and after.
void expectSwitchedOff(JqMatcherTest& test, JqMatcher& matcher, const std::string& program,
                       const std::vector<Off>& off, const std::string& reason) {
  (void)test;
  ASSERT_EQ(off.size(), 1u) << program;
  EXPECT_EQ(off[0].session, "s0") << program;
  EXPECT_NE(off[0].reason.find(reason), std::string::npos) << off[0].reason;
  ASSERT_EQ(matcher.switchedOff().count("s0"), 1u);
}

TEST_F(JqMatcherTest, ALoopingProgramIsSwitchedOffAndTheOthersKeepAnswering) {
  for (std::string program : {"def f: f; f", "last(range(1e12))"}) {
    off_.clear();
    auto matcher = make(kafkaDocument("t"), JqLimits{std::chrono::milliseconds(100), 256});
    auto m = kafkaRecord("{}");
    EXPECT_EQ(ask(*matcher, m, {program, "true"}), (std::vector<uint8_t>{0, 1}));
    expectSwitchedOff(*this, *matcher, program, off_, "100 ms");
    EXPECT_EQ(ask(*matcher, m, {program, "true"}), (std::vector<uint8_t>{0, 1}));
    EXPECT_EQ(off_.size(), 1u);  // reported once
  }
}

TEST_F(JqMatcherTest, AProgramThatTakesTooMuchMemoryIsSwitchedOff) {
  auto matcher = make(kafkaDocument("t"), JqLimits{std::chrono::milliseconds(60000), 128});
  auto m = kafkaRecord("{}");
  EXPECT_EQ(ask(*matcher, m, {"[range(1e9)] | length > 0", "true"}), (std::vector<uint8_t>{0, 1}));
  expectSwitchedOff(*this, *matcher, "[range(1e9)]", off_, "128 MiB");
}

TEST_F(JqMatcherTest, AKilledWorkerIsReplacedWithEveryProgram) {
  auto matcher = make(kafkaDocument("t"));
  auto m = kafkaRecord(R"({"a": 1})");
  EXPECT_EQ(ask(*matcher, m, {".payload | fromjson | .a == 1"}), (std::vector<uint8_t>{1}));
  pid_t first = matcher->workerPid();
  ASSERT_GT(first, 0);
  ::kill(first, SIGKILL);
  EXPECT_EQ(ask(*matcher, m, {".payload | fromjson | .a == 1"}), (std::vector<uint8_t>{1}));
  EXPECT_NE(matcher->workerPid(), first);
  EXPECT_TRUE(off_.empty());
}

TEST_F(JqMatcherTest, NoWorkerIsLeftBehind) {
  pid_t pid;
  {
    auto matcher = make(kafkaDocument("t"), JqLimits{std::chrono::milliseconds(100), 256});
    auto m = kafkaRecord("{}");
    ask(*matcher, m, {"def f: f; f"});
    ask(*matcher, m, {"true"});
    pid = matcher->workerPid();
    ASSERT_GT(pid, 0);
  }
  EXPECT_NE(::kill(pid, 0), 0);  // reaped, not left running
}

}  // namespace
}  // namespace qsplit::jq
