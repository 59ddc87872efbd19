// JqMatcher with the real jq worker (qsplitd --jq-worker): what programs match, and that no
// program can stall or crash the evaluation of the others.
#include "jq/jq_matcher.h"

#include <gtest/gtest.h>

#include <signal.h>

#include <mutex>

#include <nlohmann/json.hpp>

#include "jq/doc_tape.h"
#include "jq/documents.h"
#include "jq/jq_program.h"

namespace qsplit::jq {
namespace {

struct Off {
  std::string session, reason;
};

class JqMatcherTest : public ::testing::Test {
 protected:
  std::unique_ptr<JqMatcher> make(DocumentBuilder document, JqLimits limits = {},
                                  std::size_t workers = 1) {
    return std::make_unique<JqMatcher>(JqMatcherOptions{
        QSPLIT_JQ_WORKER, limits, std::move(document),
        [this](const std::string& s, const std::string& r) {
          std::lock_guard lock(off_mutex_);  // workers sharing a batch report from two threads
          off_.push_back({s, r});
        },
        workers});
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

  // What each query of a batch of `records` answers, for sessions with these programs.
  static std::vector<std::vector<uint8_t>> answers(JqMatcher& matcher,
                                                   const std::vector<core::Message>& records,
                                                   const std::vector<std::string>& programs) {
    std::vector<core::ContentCandidate> candidates;
    for (std::size_t i = 0; i < programs.size(); ++i) {
      auto id = matcher.program("s" + std::to_string(i), {programs[i]});
      EXPECT_TRUE(id) << id.error().message();
      candidates.push_back({id ? *id : 0, false});
    }
    std::vector<core::ContentQuery> queries(records.size());
    for (std::size_t i = 0; i < records.size(); ++i) {
      queries[i].message = &records[i];
      queries[i].candidates = candidates;
    }
    matcher.match(queries);
    std::vector<std::vector<uint8_t>> out;
    for (const auto& q : queries) out.push_back(q.matched);
    return out;
  }

  std::mutex off_mutex_;
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

// Records {"n": 0} to {"n": count - 1}.
std::vector<core::Message> numbered(int count) {
  std::vector<core::Message> records;
  for (int i = 0; i < count; ++i) records.push_back(kafkaRecord(R"({"n": )" + std::to_string(i) + "}"));
  return records;
}

TEST_F(JqMatcherTest, TwoWorkersShareALargeBatchAndAnswerAsOneDoes) {
  auto records = numbered(2000);
  std::vector<std::string> programs = {".payload | fromjson | .n % 2 == 0",
                                       ".payload | fromjson | .n >= 1500"};
  auto one = make(kafkaDocument("t"));
  auto expected = answers(*one, records, programs);
  EXPECT_EQ(expected[4], (std::vector<uint8_t>{1, 0}));
  EXPECT_EQ(expected[1501], (std::vector<uint8_t>{0, 1}));
  auto two = make(kafkaDocument("t"), {}, 2);
  EXPECT_EQ(answers(*two, records, programs), expected);
  EXPECT_GT(two->workerPid(1), 0);  // the second worker answered a share
  EXPECT_EQ(one->workerPid(1), -1);
  // A small batch is not shared: it goes to the first worker.
  auto small = make(kafkaDocument("t"), {}, 2);
  EXPECT_EQ(answers(*small, numbered(20), programs).size(), 20u);
  EXPECT_EQ(small->workerPid(1), -1);
}

TEST_F(JqMatcherTest, ALoopingProgramInASharedBatchIsSwitchedOffOnceAndTheRestIsAnswered) {
  pid_t first, second;
  {
    auto matcher = make(kafkaDocument("t"), JqLimits{std::chrono::milliseconds(100), 256}, 2);
    // It loops on one record only, in the second worker's share.
    auto got = answers(*matcher, numbered(1000),
                       {"if (.payload | fromjson | .n) == 900 then last(range(1e12)) else false end",
                        ".payload | fromjson | .n >= 0"});
    ASSERT_EQ(off_.size(), 1u);
    EXPECT_EQ(off_[0].session, "s0");
    EXPECT_NE(off_[0].reason.find("100 ms"), std::string::npos) << off_[0].reason;
    for (std::size_t i = 0; i < got.size(); ++i)
      EXPECT_EQ(got[i], (std::vector<uint8_t>{0, 1})) << i;
    first = matcher->workerPid(0);
    second = matcher->workerPid(1);
    ASSERT_GT(first, 0);
    ASSERT_GT(second, 0);
  }
  EXPECT_NE(::kill(first, 0), 0);  // both reaped
  EXPECT_NE(::kill(second, 0), 0);
}

// The document `build` makes for `m`, as JSON text, for a program run whole in this process.
std::string documentJson(const DocumentBuilder& build, const core::Message& m) {
  Document d;
  build(m, d);
  auto doc = nlohmann::json::parse(tapeToJson(d.tape));
  if (!d.body_field.empty()) doc[d.body_field] = d.body;
  return doc.dump();
}

// Programs `LEFT == LITERAL` that share LEFT run it once per message (comparison.h); each must
// still answer exactly as the whole program does.
TEST_F(JqMatcherTest, ComparisonsThatShareALeftSideAnswerAsTheWholeProgramsDo) {
  std::vector<std::string> programs = {
      ".payload | fromjson | .tenant == \"t1\"", ".payload | fromjson | .tenant == \"t2\"",
      ".payload | fromjson | .tenant != \"t1\"", ".payload | fromjson | .n == 2",
      ".payload | fromjson | .n == 2.0", ".payload | fromjson | .tags[] == \"x\"",
      ".payload | fromjson | .missing == null", ".payload | fromjson | . == [1, 2]",
      ".headers.user == \"u1\"", ".headers.user != \"u1\"", "error(\"no\") == 1",
      "empty == 1", "empty != 1", ".payload | fromjson | .tenant == \"t1\" | not"};
  std::vector<core::Message> records;
  for (std::string payload : {R"({"tenant": "t1", "n": 2, "tags": ["y", "x"]})",
                              R"({"tenant": "t2", "n": 2.0, "tags": ["x"]})", "not json",
                              R"({"tenant": null})", "[1, 2]", ""}) {
    records.push_back(kafkaRecord(payload));
    records.push_back(kafkaRecord(payload));
    records.back().attributes = {{"user", "u1", ""}};
  }
  auto matcher = make(kafkaDocument("t"));
  auto got = answers(*matcher, records, programs);
  int matched = 0;
  for (std::size_t p = 0; p < programs.size(); ++p) {
    auto whole = JqProgram::compile(programs[p]);
    ASSERT_TRUE(whole) << programs[p];
    for (std::size_t r = 0; r < records.size(); ++r) {
      bool expected = whole->matches(documentJson(kafkaDocument("t"), records[r]));
      EXPECT_EQ(got[r][p] == 1, expected) << programs[p] << " on " << records[r].body;
      matched += expected;
    }
  }
  EXPECT_GT(matched, 20);  // the answers are not all "no"
  EXPECT_TRUE(off_.empty());
}

TEST_F(JqMatcherTest, ALoopingSharedLeftSideSwitchesOffEachSessionThatUsesIt) {
  auto matcher = make(kafkaDocument("t"), JqLimits{std::chrono::milliseconds(100), 256});
  auto m = kafkaRecord("{}");
  EXPECT_EQ(ask(*matcher, m, {"last(range(1e12)) == 1", "last(range(1e12)) == 2", "true"}),
            (std::vector<uint8_t>{0, 0, 1}));
  ASSERT_EQ(off_.size(), 2u);
  EXPECT_EQ(off_[0].session, "s0");
  EXPECT_EQ(off_[1].session, "s1");
  EXPECT_EQ(ask(*matcher, m, {"last(range(1e12)) == 1", "last(range(1e12)) == 2", "true"}),
            (std::vector<uint8_t>{0, 0, 1}));
  EXPECT_EQ(off_.size(), 2u);
}

}  // namespace
}  // namespace qsplit::jq
