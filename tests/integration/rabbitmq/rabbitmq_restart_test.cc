// A restart of the RabbitMQ server in the middle of a stream (scripts/rabbitmq.sh restart):
// the forwarder reconnects, and every persistent message reaches its destination. Runs alone:
// it takes the shared server away for a while.
#include <gtest/gtest.h>

#include "common/random.h"
#include "engine/forwarder.h"
#include "support/eventually.h"
#include "support/messages.h"
#include "support/rabbitmq_test_broker.h"
#include "support/tally.h"

namespace qsplit::rabbitmq {
namespace {

constexpr int kMessages = 3000;

TEST(RabbitRestartTest, ServerRestartMidStreamLosesNothing) {
  std::string why;
  auto made = testing::connectTestRabbit(&why);
  QSPLIT_NEED_BROKER(why);
  ASSERT_TRUE(made.has_value()) << made.error().message();
  auto broker = std::move(made).value();
  testing::RabbitTestClient client;
  std::string id = SecureRandom::instance().digits(8);
  std::string original = "restart-" + id, fallback = "mirrord-tmp-" + id + "-fallback-restart",
              alice = "mirrord-tmp-" + id + "-alice-restart";
  for (const auto& q : {original, fallback, alice}) client.declare(q);
  std::vector<core::Message> stream;
  for (int i = 0; i < kMessages; ++i) {
    auto m = testing::message({{"author", i % 4 == 0 ? "alice" : "bob"}, {"seq", std::to_string(i)}},
                              "seq-" + std::to_string(i));
    m.attributes.push_back({"delivery_mode", "2", "property"});  // persistent: survives a restart
    stream.push_back(std::move(m));
  }
  client.send(original, stream);

  auto filter = core::Filter::compile({{"author", "^alice$"}});
  core::Router router(*core::RouteTable::build({{alice, *filter, core::QueueMode::kSteal, alice}},
                                               fallback, 1));
  engine::ForwarderOptions forwarding;
  forwarding.delivery = engine::Delivery::kAtLeastOnce;
  forwarding.wait = std::chrono::milliseconds(500);
  forwarding.error_backoff = std::chrono::milliseconds(500);
  engine::Forwarder forwarder(*broker, original, "", router, forwarding);
  ASSERT_TRUE(forwarder.start().has_value());
  ASSERT_TRUE(testing::eventually([&] { return forwarder.counts().acked > 0; }));
  auto restarted = testing::run("QSPLIT_RUN=" + std::string(std::getenv("QSPLIT_RABBITMQ_RUN")) +
                                " " QSPLIT_SOURCE_DIR "/scripts/rabbitmq.sh restart");
  ASSERT_EQ(restarted.status, 0) << "scripts/rabbitmq.sh restart failed";
  bool done = testing::eventually(
      [&] {
        auto left = broker->rabbitAdmin().counts(original);
        return forwarder.counts().acked >= static_cast<uint64_t>(kMessages) && left &&
               left->messages == 0;
      },
      std::chrono::seconds(180), std::chrono::milliseconds(200));
  auto counts = forwarder.counts();
  forwarder.stop();
  ASSERT_TRUE(done) << "the original was never emptied";

  testing::Tally tally;
  tally.add("alice", client.drain(alice));
  tally.add("fallback", client.drain(fallback));
  auto left = client.drain(original);
  tally.add("original", left);
  auto c = tally.count(kMessages, [](int seq) { return seq % 4 == 0 ? "alice" : "fallback"; },
                       "original");
  std::printf("server restart mid-stream: lost %d, duplicated %d, misrouted %d, left %zu "
              "(receive errors %llu, send errors %llu during the outage)\n",
              c.lost, c.duplicated, c.misrouted, left.size(),
              static_cast<unsigned long long>(counts.receive_errors),
              static_cast<unsigned long long>(counts.send_errors));
  EXPECT_EQ(c.lost, 0);
  EXPECT_EQ(c.misrouted, 0);
}

}  // namespace
}  // namespace qsplit::rabbitmq
