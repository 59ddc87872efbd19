// kill -9 of the forwarding process in the middle of a stream, then a restart, on classic and
// quorum queues: every message reaches the destination its header names, and none is lost
// (the server gives back what the killed process held unacknowledged; duplicates are counted).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include "common/random.h"
#include "support/eventually.h"
#include "support/messages.h"
#include "support/rabbitmq_test_broker.h"
#include "support/tally.h"

namespace qsplit::rabbitmq {
namespace {

constexpr int kMessages = 3000;
const char* kAuthors[] = {"alice", "bob", "carol", "dave"};

std::string expectedFor(int seq) {
  std::string author = kAuthors[seq % 4];
  return author == "alice" || author == "bob" ? author : "fallback";
}

class RabbitFaultTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    std::string why;
    auto broker = testing::connectTestRabbit(&why);
    QSPLIT_NEED_BROKER(why);
    ASSERT_TRUE(broker.has_value()) << broker.error().message();
    broker_ = std::move(broker).value();
    std::string id = SecureRandom::instance().digits(8);
    original_ = "orders-" + id;
    fallback_ = "mirrord-tmp-" + id + "-fallback-orders";
    alice_ = "mirrord-tmp-" + id + "-alice-orders";
    bob_ = "mirrord-tmp-" + id + "-bob-orders";
    auto arguments = GetParam() ? nlohmann::json{{"x-queue-type", "quorum"}} : nlohmann::json::object();
    for (const auto& q : {original_, fallback_, alice_, bob_}) client_.declare(q, arguments);
  }

  void produceStream() {
    std::vector<core::Message> stream;
    for (int i = 0; i < kMessages; ++i)
      stream.push_back(testing::message({{"author", kAuthors[i % 4]}, {"seq", std::to_string(i)}},
                                        "seq-" + std::to_string(i)));
    client_.send(original_, stream);
  }

  pid_t startForwarder() {
    return testing::spawn({QSPLIT_RABBITMQ_FORWARD_TOOL, "--url", std::getenv("QSPLIT_RABBITMQ_URL"),
                           "--original", original_, "--fallback", fallback_, "--session",
                           alice_ + "=author:^alice$", "--session", bob_ + "=author:^bob$"});
  }

  uint64_t ready(const std::string& queue) {
    auto c = broker_->rabbitAdmin().counts(queue);
    return c ? c->messages : UINT64_MAX;
  }

  testing::RabbitTestClient client_;
  std::unique_ptr<RabbitBroker> broker_;
  std::string original_, fallback_, alice_, bob_;
};

TEST_P(RabbitFaultTest, KillNineMidStreamLosesNothing) {
  produceStream();
  pid_t first = startForwarder();
  ASSERT_GT(first, 0);
  ASSERT_TRUE(testing::eventually([&] { return ready(original_) < kMessages * 2 / 3; },
                                  std::chrono::seconds(120), std::chrono::milliseconds(5)));
  kill(first, SIGKILL);
  waitpid(first, nullptr, 0);
  pid_t second = startForwarder();
  ASSERT_GT(second, 0);
  // Done when the original is empty and the destinations hold at least the whole stream.
  bool done = testing::eventually(
      [&] {
        return ready(original_) == 0 &&
               ready(alice_) + ready(bob_) + ready(fallback_) >= static_cast<uint64_t>(kMessages);
      },
      std::chrono::seconds(180), std::chrono::milliseconds(200));
  kill(second, SIGTERM);
  int status = 0;
  waitpid(second, &status, 0);
  ASSERT_TRUE(done) << ready(original_) << " messages never forwarded";
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);

  testing::Tally tally;
  tally.add("alice", client_.drain(alice_));
  tally.add("bob", client_.drain(bob_));
  tally.add("fallback", client_.drain(fallback_));
  auto left = client_.drain(original_);  // still waiting there: not lost, not forwarded yet
  tally.add("original", left);
  auto c = tally.count(kMessages, expectedFor, "original");
  std::printf("kill -9 mid-stream (%s): lost %d, duplicated %d, misrouted %d, left %zu\n",
              GetParam() ? "quorum" : "classic", c.lost, c.duplicated, c.misrouted, left.size());
  EXPECT_EQ(c.lost, 0);
  EXPECT_EQ(c.misrouted, 0);
}

INSTANTIATE_TEST_SUITE_P(Queues, RabbitFaultTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "Quorum" : "Classic"; });

}  // namespace
}  // namespace qsplit::rabbitmq
