// What an SQS user observes beyond the conformance suite: temporary queues made like the
// original (attributes, tags, policy), FIFO order per group on every destination, non-String
// attributes, and clear errors for missing queues, denied access, bad signatures and
// unreachable servers. boto3 is the independent client throughout.
#include <gtest/gtest.h>
#include <unistd.h>

#include <map>
#include <thread>

#include "common/random.h"
#include "engine/queue_splitter.h"
#include "support/eventually.h"
#include "support/messages.h"
#include "support/recording_patcher.h"
#include "support/sqs_test_broker.h"

namespace qsplit::sqs {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

using testing::eventually;

class SqsBrokerTest : public ::testing::TestWithParam<const testing::SqsServer*> {
 protected:
  void SetUp() override {
    std::string why;
    auto broker = testing::connectTestSqs(*GetParam(), &client_, &why);
    QSPLIT_NEED_BROKER(why);
    ASSERT_TRUE(broker.has_value()) << broker.error().message();
    broker_ = std::move(broker).value();
    suffix_ = SecureRandom::instance().digits(8);
  }

  std::unique_ptr<engine::QueueSplitter> splitter(const std::string& original) {
    engine::SplitOptions options;
    options.forwarder.wait = milliseconds(20);
    options.forwarder.delivery = engine::Delivery::kAtLeastOnce;
    patcher_.reset(original);
    return std::make_unique<engine::QueueSplitter>(*broker_, patcher_, SystemClock::instance(),
                                                   SecureRandom::instance(), original, options);
  }

  // A broker for a server nobody listens on, with this server's credentials.
  std::unique_ptr<SqsBroker> unreachableBroker(int max_attempts) {
    SqsOptions options;
    options.endpoint = "http://127.0.0.1:1";
    options.region = "us-east-1";
    options.credentials = client_.credentials();
    options.max_attempts = max_attempts;
    return std::move(SqsBroker::create(options)).value();
  }

  testing::SqsTestClient client_;
  std::unique_ptr<SqsBroker> broker_;
  std::string suffix_;
  testing::RecordingPatcher patcher_{""};
};

TEST_P(SqsBrokerTest, TemporaryQueueCopiesAttributesTagsAndPolicy) {
  std::string original = "orders-" + suffix_;
  json policy = {{"Version", "2012-10-17"},
                 {"Statement",
                  {{{"Effect", "Allow"},
                    {"Principal", "*"},
                    {"Action", "sqs:SendMessage"},
                    {"Resource", "arn:aws:sqs:us-east-1:123456789012:" + original}}}}};
  client_.create(original,
                 {{"VisibilityTimeout", "45"}, {"DelaySeconds", "0"},
                  {"MessageRetentionPeriod", "86400"}, {"MaximumMessageSize", "2048"},
                  {"ReceiveMessageWaitTimeSeconds", "2"}, {"Policy", policy.dump()}},
                 {{"team", "orders"}, {"cost-center", "42"}});
  broker_->sqsAdmin().setExtraTags(original, {{"cost-center", "staging"}, {"owner", "qsplit"}});
  std::string copy = "mirrord-tmp-0123456789-" + original;
  auto created = broker_->admin().createLike(original, copy);
  ASSERT_TRUE(created.has_value()) << created.error().message();

  json from = client_.describe(original), to = client_.describe(copy);
  ASSERT_TRUE(to.is_object()) << "the copy does not exist";
  for (const char* key : {"VisibilityTimeout", "DelaySeconds", "MessageRetentionPeriod",
                          "MaximumMessageSize", "ReceiveMessageWaitTimeSeconds"})
    if (from["attributes"].contains(key)) {  // ElasticMQ reports only some of them
      EXPECT_EQ(to["attributes"][key], from["attributes"][key]) << key;
    }
  EXPECT_EQ(to["attributes"]["VisibilityTimeout"], "45");
  if (from["attributes"].contains("Policy")) {  // moto keeps policies; ElasticMQ ignores them
    json copied = json::parse(to["attributes"]["Policy"].get<std::string>());
    EXPECT_EQ(copied["Statement"][0]["Resource"].get<std::string>(),
              from["attributes"]["QueueArn"].get<std::string>().substr(
                  0, from["attributes"]["QueueArn"].get<std::string>().rfind(':') + 1) + copy);
  }
  EXPECT_EQ(to["tags"], (json{{"team", "orders"}, {"cost-center", "staging"}, {"owner", "qsplit"}}));
  ASSERT_TRUE(broker_->admin().remove(copy).has_value());
}

TEST_P(SqsBrokerTest, FifoOrderHoldsPerGroupOnEveryDestination) {
  std::string original = "payments-" + suffix_ + ".fifo";
  client_.create(original, {{"FifoQueue", "true"}, {"ContentBasedDeduplication", "false"}});
  auto s = splitter(original);
  auto alice = s->startSession("alice", testing::filter({{"Author", "^ALICE$"}}), core::QueueMode::kSteal);
  ASSERT_TRUE(alice.has_value()) << alice.error().message();
  std::string fallback = patcher_.current();
  EXPECT_TRUE(fallback.ends_with(".fifo"));
  EXPECT_TRUE(alice->ends_with(".fifo"));

  std::vector<core::Message> sent;
  for (int i = 0; i < 40; ++i) {
    // names and values are matched case-insensitively: "author"/"alice" matches "Author"/"^ALICE$"
    auto m = testing::message({{"author", i % 3 == 0 ? "alice" : "bob"}, {"seq", std::to_string(i)}},
                              "payment " + std::to_string(i));
    m.group_id = "customer-" + std::to_string(i % 2);
    sent.push_back(m);
  }
  client_.send(original, sent);
  ASSERT_TRUE(eventually([&] { return s->status().counts.acked >= 40; }));

  std::map<std::string, std::string> where;
  for (const auto& [who, queue] : {std::pair{"alice", *alice}, std::pair{"workload", fallback}}) {
    std::map<std::string, int> last;  // group -> last seq
    for (const auto& m : client_.drain(queue)) {
      int seq = std::stoi(m.findAttribute("seq")->value);
      EXPECT_GT(seq, last.count(m.group_id) ? last[m.group_id] : -1) << who << " order broken";
      last[m.group_id] = seq;
      EXPECT_EQ(m.group_id, "customer-" + std::to_string(seq % 2));
      EXPECT_TRUE(where.emplace(std::to_string(seq), who).second) << "duplicate " << seq;
    }
  }
  ASSERT_EQ(where.size(), 40u);
  for (int i = 0; i < 40; ++i) EXPECT_EQ(where[std::to_string(i)], i % 3 == 0 ? "alice" : "workload");
  ASSERT_TRUE(s->endSession("alice").has_value());
}

TEST_P(SqsBrokerTest, NumberBinaryAndCustomAttributesMatchAndArriveIntact) {
  std::string original = "typed-" + suffix_;
  client_.create(original);
  auto s = splitter(original);
  // Number matches on its text, Binary on its bytes, String.custom like String.
  auto q = s->startSession("alice",
                           testing::filter({{"priority", "^(9|10)$"}, {"blob", "^\\x01\\x02"},
                                            {"tier", "gold"}}),
                           core::QueueMode::kSteal);
  ASSERT_TRUE(q.has_value()) << q.error().message();
  std::vector<core::Message> sent;
  for (int i = 0; i < 6; ++i) {
    core::Message m;
    m.body = "typed " + std::to_string(i);
    m.attributes = {{"priority", std::to_string(5 + i), "Number"},
                    {"blob", i % 2 ? std::string("\x01\x02\x03", 3) : std::string("\x07", 1), "Binary"},
                    {"tier", "gold", "String.tier"},
                    {"seq", std::to_string(i), "Number.int"}};
    sent.push_back(m);
  }
  client_.send(original, sent);
  ASSERT_TRUE(eventually([&] { return s->status().counts.acked >= 6; }));
  auto at_alice = client_.drain(*q);
  auto at_workload = client_.drain(patcher_.current());
  ASSERT_EQ(at_alice.size(), 1u);  // priority 9 or 10 and blob 01 02: only i == 5
  EXPECT_EQ(at_alice[0].body, "typed 5");
  EXPECT_EQ(at_workload.size(), 5u);
  for (const auto& m : at_alice) {
    EXPECT_EQ(m.findAttribute("priority")->type, "Number");
    EXPECT_EQ(m.findAttribute("blob")->type, "Binary");
    EXPECT_EQ(m.findAttribute("blob")->value, std::string("\x01\x02\x03", 3));
    EXPECT_EQ(m.findAttribute("tier")->type, "String.tier");
    EXPECT_EQ(m.findAttribute("seq")->type, "Number.int");
  }
  ASSERT_TRUE(s->endSession("alice").has_value());
}

TEST_P(SqsBrokerTest, MessagesStillInFlightStayHidden) {
  std::string queue = "slow-" + suffix_;
  client_.create(queue);
  client_.send(queue, {testing::message({{"a", "1"}}, "held"), testing::message({{"a", "2"}}, "given back")});
  SqsOptions options = broker_->options();
  options.credentials = client_.credentials();
  options.in_flight_visibility = std::chrono::seconds(2);
  auto broker = SqsBroker::create(options);
  ASSERT_TRUE(broker.has_value());
  auto source = std::move((*broker)->openSource(queue, "")).value();
  std::vector<core::Message> got;
  ASSERT_TRUE(eventually([&] {
    auto batch = source->receive(10, milliseconds(1000));
    if (batch) got.insert(got.end(), batch->begin(), batch->end());
    return got.size() == 2;
  }));
  std::vector<core::Message> give_back, hold;
  for (auto& m : got) (m.body == "held" ? hold : give_back).push_back(m);
  ASSERT_TRUE(source->release(give_back).has_value());
  // Three visibility timeouts later, the message not yet acknowledged is still hidden from
  // every other consumer, while the released one was visible at once.
  std::this_thread::sleep_for(std::chrono::seconds(6));
  auto others = client_.drain(queue);
  ASSERT_EQ(others.size(), 1u);
  EXPECT_EQ(others[0].body, "given back");
  ASSERT_TRUE(source->ack(hold).has_value());
  EXPECT_EQ(*broker_->admin().backlog(queue, ""), 0u);
}

TEST_P(SqsBrokerTest, MissingQueueIsNamed) {
  auto info = broker_->admin().describe("no-such-queue-" + suffix_);
  ASSERT_FALSE(info.has_value());
  EXPECT_EQ(info.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(info.error().message().find("SQS queue no-such-queue-" + suffix_ + " does not exist"),
            std::string::npos)
      << info.error().message();
  auto s = splitter("no-such-queue-" + suffix_);
  auto start = s->startSession("alice", testing::filter({{"a", "b"}}), core::QueueMode::kSteal);
  ASSERT_FALSE(start.has_value());
  EXPECT_NE(start.error().message().find("does not exist"), std::string::npos);
}

TEST_P(SqsBrokerTest, UnreachableServerIsRetriedThenNamed) {
  auto broker = unreachableBroker(3);
  auto info = broker->admin().describe("anything");
  ASSERT_FALSE(info.has_value());
  EXPECT_EQ(info.error().code(), ErrorCode::kUnavailable);
  EXPECT_NE(info.error().message().find("SQS GetQueueUrl at http://127.0.0.1:1"), std::string::npos)
      << info.error().message();
}

TEST_P(SqsBrokerTest, UnreachableServerLeavesOtherSplitsFlowing) {
  std::string original = "flowing-" + suffix_;
  client_.create(original);
  auto s = splitter(original);
  auto alice = s->startSession("alice", testing::filter({{"to", "alice"}}), core::QueueMode::kSteal);
  ASSERT_TRUE(alice.has_value()) << alice.error().message();

  auto unreachable = unreachableBroker(2);
  testing::RecordingPatcher other_patcher("elsewhere");
  engine::QueueSplitter other(*unreachable, other_patcher, SystemClock::instance(),
                              SecureRandom::instance(), "elsewhere", {});
  auto failed = other.startSession("bob", testing::filter({{"to", "bob"}}), core::QueueMode::kSteal);
  ASSERT_FALSE(failed.has_value());
  EXPECT_EQ(failed.error().code(), ErrorCode::kUnavailable);
  EXPECT_NE(failed.error().message().find("http://127.0.0.1:1"), std::string::npos)
      << failed.error().message();

  client_.send(original, {testing::message({{"to", "alice"}}, "still flowing")});
  ASSERT_TRUE(eventually([&] { return s->status().counts.acked >= 1; }));
  auto got = client_.drain(*alice);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].body, "still flowing");
  ASSERT_TRUE(s->endSession("alice").has_value());
}

INSTANTIATE_TEST_SUITE_P(Servers, SqsBrokerTest,
                         ::testing::Values(&testing::kElasticMq, &testing::kMoto),
                         [](const auto& info) { return std::string(info.param->name); });

// moto checks signatures and IAM permissions, as AWS does.
class MotoAuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    endpoint_ = testing::brokerAddress("QSPLIT_MOTO_ENDPOINT", &why);
    QSPLIT_NEED_BROKER(why);
  }
  static Result<std::unique_ptr<SqsBroker>> brokerAs(const std::string& endpoint,
                                                     const std::string& key,
                                                     const std::string& secret) {
    SqsOptions options;
    options.endpoint = endpoint;
    options.s3_endpoint = endpoint;
    options.region = "us-east-1";
    options.credentials = aws::Credentials{key, secret, ""};
    return SqsBroker::create(options);
  }
  Result<core::QueueInfo> describeAs(const std::string& key, const std::string& secret) {
    QSPLIT_ASSIGN_OR_RETURN(auto broker, brokerAs(endpoint_, key, secret));
    return broker->admin().describe("anything");
  }
  std::string endpoint_;
};

TEST_F(MotoAuthTest, AccessDeniedIsNamed) {
  auto info = describeAs(testing::envOr("QSPLIT_MOTO_DENIED_ACCESS_KEY_ID", ""),
                         testing::envOr("QSPLIT_MOTO_DENIED_SECRET_ACCESS_KEY", ""));
  ASSERT_FALSE(info.has_value());
  EXPECT_EQ(info.error().code(), ErrorCode::kPermissionDenied);
  EXPECT_NE(info.error().message().find("AccessDenied"), std::string::npos) << info.error().message();
  EXPECT_NE(info.error().message().find("sqs:GetQueueUrl"), std::string::npos) << info.error().message();
}

TEST_F(MotoAuthTest, WrongSecretIsASignatureError) {
  auto info = describeAs(testing::envOr("QSPLIT_MOTO_ACCESS_KEY_ID", ""), "not-the-secret");
  ASSERT_FALSE(info.has_value());
  EXPECT_EQ(info.error().code(), ErrorCode::kPermissionDenied);
  EXPECT_NE(info.error().message().find("SignatureDoesNotMatch"), std::string::npos)
      << info.error().message();
}

// s3Event: reading an object's metadata fails with its name and the cause, never silently.
TEST_F(MotoAuthTest, S3ObjectsThatCannotBeReadAreNamed) {
  auto denied = brokerAs(endpoint_, testing::envOr("QSPLIT_MOTO_DENIED_ACCESS_KEY_ID", ""),
                         testing::envOr("QSPLIT_MOTO_DENIED_SECRET_ACCESS_KEY", ""));
  ASSERT_TRUE(denied) << denied.error().message();
  auto refused = (*denied)->s3().userMetadata({"memes", "2026/a b.txt"});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), ErrorCode::kPermissionDenied);
  EXPECT_NE(refused.error().message().find("S3 HeadObject s3://memes/2026/a b.txt"),
            std::string::npos) << refused.error().message();
  EXPECT_NE(refused.error().message().find("s3:GetObject"), std::string::npos);

  // A user allowed s3:GetObject gets past moto's signature and permission checks, to a bucket
  // that does not exist.
  auto allowed = brokerAs(endpoint_, testing::envOr("QSPLIT_MOTO_ACCESS_KEY_ID", ""),
                          testing::envOr("QSPLIT_MOTO_SECRET_ACCESS_KEY", ""));
  ASSERT_TRUE(allowed);
  auto missing = (*allowed)->s3().userMetadata({"no-such-bucket-" + std::to_string(getpid()), "k"});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound) << missing.error().message();
  EXPECT_NE(missing.error().message().find("HTTP 404"), std::string::npos);
}

}  // namespace
}  // namespace qsplit::sqs
