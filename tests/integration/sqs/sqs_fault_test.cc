// kill -9 of the forwarding process in the middle of a stream, then a restart, on ElasticMQ:
// every message reaches the destination its attribute names; none is lost; duplicates are
// counted on a standard queue and there are none on a FIFO queue (a resend carries the
// deduplication id of the first send), where each group's order also holds. And a restart of
// the server itself (an ElasticMQ keeping its state in files) in the middle of the stream.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <map>

#include "common/random.h"
#include "engine/forwarder.h"
#include "support/messages.h"
#include "support/eventually.h"
#include "support/sqs_test_broker.h"

namespace qsplit::sqs {
namespace {

constexpr int kMessages = 4000;
const char* kAuthors[] = {"alice", "bob", "carol", "dave"};

class SqsFaultTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    std::string why;
    auto broker = testing::connectTestSqs(testing::kElasticMq, &client_, &why);
    QSPLIT_NEED_BROKER(why);
    ASSERT_TRUE(broker.has_value()) << broker.error().message();
    broker_ = std::move(broker).value();
    std::string id = SecureRandom::instance().digits(8), fifo = GetParam() ? ".fifo" : "";
    original_ = "orders-" + id + fifo;
    fallback_ = "mirrord-tmp-" + id + "-fallback-orders" + fifo;
    alice_ = "mirrord-tmp-" + id + "-alice-orders" + fifo;
    bob_ = "mirrord-tmp-" + id + "-bob-orders" + fifo;
    nlohmann::json attributes = nlohmann::json::object();
    if (GetParam()) attributes["FifoQueue"] = "true";
    for (const auto& q : {original_, fallback_, alice_, bob_}) client_.create(q, attributes);
  }

  void produceStream() {
    std::vector<core::Message> messages;
    for (int i = 0; i < kMessages; ++i) {
      core::Message m;
      m.body = "seq-" + std::to_string(i);
      m.attributes = {{"author", kAuthors[i % 4], "String"}, {"seq", std::to_string(i), "Number"}};
      m.group_id = "customer-" + std::to_string(i % 8);
      messages.push_back(std::move(m));
    }
    client_.send(original_, messages);
  }

  pid_t startForwarder() {
    return testing::spawn({QSPLIT_SQS_FORWARD_TOOL, "--endpoint", client_.endpoint(), "--original",
                           original_, "--fallback", fallback_, "--session",
                           alice_ + "=author:^alice$", "--session", bob_ + "=author:^bob$",
                           "--visibility", "5"});
  }

  uint64_t left() {
    auto backlog = broker_->admin().backlog(original_, "");
    return backlog ? *backlog : UINT64_MAX;
  }
  uint64_t visible() {
    auto a = broker_->sqsAdmin().attributes(original_);
    return a ? std::stoull((*a)["ApproximateNumberOfMessages"]) : UINT64_MAX;
  }

  testing::SqsTestClient client_;
  std::unique_ptr<SqsBroker> broker_;
  std::string original_, fallback_, alice_, bob_;
};

TEST_P(SqsFaultTest, KillNineMidStreamLosesNothing) {
  produceStream();
  pid_t first = startForwarder();
  ASSERT_GT(first, 0);
  // Kill it once about a third of the stream has been taken.
  ASSERT_TRUE(testing::eventually([&] { return visible() < kMessages * 2 / 3; },
                                  std::chrono::seconds(120), std::chrono::milliseconds(20)));
  kill(first, SIGKILL);
  waitpid(first, nullptr, 0);
  pid_t second = startForwarder();
  ASSERT_GT(second, 0);
  bool done = testing::eventually([&] { return left() == 0; }, std::chrono::seconds(180),
                                  std::chrono::milliseconds(200));
  kill(second, SIGTERM);
  int status = 0;
  waitpid(second, &status, 0);
  ASSERT_TRUE(done) << left() << " messages never forwarded";
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);

  std::map<int, std::map<std::string, int>> seen;  // seq -> destination -> times
  int out_of_order = 0;
  for (const auto& [who, queue] : {std::pair{"alice", alice_}, std::pair{"bob", bob_},
                                   std::pair{"fallback", fallback_}}) {
    std::map<std::string, int> last;  // group -> last seq
    for (const auto& m : client_.drain(queue)) {
      int seq = std::stoi(m.findAttribute("seq")->value);
      ++seen[seq][who];
      if (last.count(m.group_id) && seq <= last[m.group_id]) ++out_of_order;
      last[m.group_id] = seq;
    }
  }
  int lost = 0, duplicated = 0, misrouted = 0;
  for (int seq = 0; seq < kMessages; ++seq) {
    if (!seen.count(seq)) {
      ++lost;
      continue;
    }
    std::string author = kAuthors[seq % 4];
    std::string expected = author == "alice" || author == "bob" ? author : "fallback";
    for (const auto& [who, times] : seen[seq]) {
      if (who != expected) misrouted += times;
      duplicated += times - 1;
    }
  }
  std::printf("kill -9 mid-stream (%s): lost %d, duplicated %d, misrouted %d, out of order %d\n",
              GetParam() ? "FIFO" : "standard", lost, duplicated, misrouted, out_of_order);
  EXPECT_EQ(lost, 0);
  EXPECT_EQ(misrouted, 0);
  if (GetParam()) {
    EXPECT_EQ(duplicated, 0) << "FIFO deduplication must absorb the resends";
    EXPECT_EQ(out_of_order, 0);
  }
}

INSTANTIATE_TEST_SUITE_P(Queues, SqsFaultTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "Fifo" : "Standard"; });

TEST(SqsRestartTest, ServerRestartMidStreamLosesNothing) {
  std::string endpoint, why;
  endpoint = testing::brokerAddress("QSPLIT_ELASTICMQ_PERSISTENT_ENDPOINT", &why);
  QSPLIT_NEED_BROKER(why);
  aws::Credentials credentials{"restart-test", "restart-test", ""};
  testing::SqsTestClient client(endpoint, credentials);
  std::string id = SecureRandom::instance().digits(8);
  std::string original = "restart-" + id, fallback = "mirrord-tmp-" + id + "-fallback-restart",
              alice = "mirrord-tmp-" + id + "-alice-restart";
  for (const auto& q : {original, fallback, alice}) client.create(q);
  std::vector<core::Message> stream;
  for (int i = 0; i < kMessages; ++i)
    stream.push_back(testing::message({{"author", kAuthors[i % 4]}, {"seq", std::to_string(i)}},
                                      "seq-" + std::to_string(i)));
  client.send(original, stream);

  SqsOptions options;
  options.endpoint = endpoint;
  options.region = "us-east-1";
  options.credentials = credentials;
  options.in_flight_visibility = std::chrono::seconds(5);
  auto broker = std::move(SqsBroker::create(options)).value();
  auto filter = core::Filter::compile({{"author", "^alice$"}});
  core::Router router(*core::RouteTable::build({{alice, *filter, core::QueueMode::kSteal, alice}},
                                               fallback, 1));
  engine::ForwarderOptions forwarding;
  forwarding.delivery = engine::Delivery::kAtLeastOnce;
  forwarding.wait = std::chrono::milliseconds(1000);
  engine::Forwarder forwarder(*broker, original, "", router, forwarding);
  ASSERT_TRUE(forwarder.start().has_value());
  ASSERT_TRUE(testing::eventually([&] { return forwarder.counts().acked > 0; }));
  auto restarted = testing::run(QSPLIT_SOURCE_DIR "/scripts/sqs.sh restart-elasticmq");
  ASSERT_EQ(restarted.status, 0) << "scripts/sqs.sh restart-elasticmq failed";
  // ElasticMQ answers before it has restored its queues' messages (an empty queue for a
  // moment), so "empty" counts only once every message has been acknowledged at least once.
  bool done = testing::eventually(
      [&] {
        if (forwarder.counts().acked < static_cast<uint64_t>(kMessages)) return false;
        auto left = broker->admin().backlog(original, "");
        return left && *left == 0;
      },
      std::chrono::seconds(180), std::chrono::milliseconds(200));
  auto counts = forwarder.counts();
  forwarder.stop();
  ASSERT_TRUE(done) << "the original was never emptied";

  std::map<int, std::map<std::string, int>> seen;
  for (const auto& [who, queue] : {std::pair{"alice", alice}, std::pair{"fallback", fallback}})
    for (const auto& m : client.drain(queue)) ++seen[std::stoi(m.findAttribute("seq")->value)][who];
  int lost = 0, duplicated = 0, misrouted = 0;
  for (int seq = 0; seq < kMessages; ++seq) {
    if (!seen.count(seq)) {
      ++lost;
      continue;
    }
    std::string expected = seq % 4 == 0 ? "alice" : "fallback";
    for (const auto& [who, times] : seen[seq]) {
      if (who != expected) misrouted += times;
      duplicated += times - 1;
    }
  }
  std::printf("server restart mid-stream: lost %d, duplicated %d, misrouted %d "
              "(receive errors %llu, send errors %llu during the outage)\n",
              lost, duplicated, misrouted, static_cast<unsigned long long>(counts.receive_errors),
              static_cast<unsigned long long>(counts.send_errors));
  EXPECT_EQ(lost, 0);
  EXPECT_EQ(misrouted, 0);
}

}  // namespace
}  // namespace qsplit::sqs
