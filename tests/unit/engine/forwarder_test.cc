#include "engine/forwarder.h"

#include <gtest/gtest.h>

#include <thread>

#include "brokers/memory/memory_broker.h"
#include "support/messages.h"

namespace qsplit::engine {
namespace {

class ForwarderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(broker_.createQueue("orders").has_value());
    ASSERT_TRUE(broker_.createQueue("fallback").has_value());
  }
  memory::MemoryBroker broker_;
  core::Router router_{*core::RouteTable::build({}, "fallback", 1)};
};

TEST_F(ForwarderTest, ExactlyOnceNeedsABrokerWithTransactions) {
  ForwarderOptions options;
  options.delivery = Delivery::kExactlyOnce;
  Forwarder forwarder(broker_, "orders", "", router_, options);
  auto started = forwarder.start();
  ASSERT_FALSE(started.has_value());
  EXPECT_EQ(started.error().message(),
            "forwarding from orders exactly once needs transactions, which this broker lacks");
  EXPECT_FALSE(forwarder.running());
}

TEST_F(ForwarderTest, AutoFallsBackToAtLeastOnceWithoutTransactions) {
  ForwarderOptions options;
  options.wait = std::chrono::milliseconds(10);
  Forwarder forwarder(broker_, "orders", "", router_, options);
  ASSERT_TRUE(forwarder.start().has_value());
  auto sink = std::move(broker_.openSink("orders")).value();
  ASSERT_TRUE(sink->send(std::vector{testing::message({{"a", "1"}})}).has_value());
  for (int i = 0; i < 3000 && forwarder.counts().acked < 1; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  forwarder.stop();
  EXPECT_EQ(forwarder.counts().acked, 1u);
  EXPECT_EQ(forwarder.counts().forwarded["fallback"], 1u);
  EXPECT_EQ(*broker_.admin().backlog("fallback", ""), 1u);
}

// A session's end waits for the messages routed with the old table, not for a long poll that
// has nothing in hand: with a wait of an hour this test would hang instead of ending.
TEST_F(ForwarderTest, AWaitForANewTableDoesNotSitOutAReceive) {
  ForwarderOptions options;
  options.wait = std::chrono::hours(1);
  Forwarder forwarder(broker_, "orders", "", router_, options);
  ASSERT_TRUE(forwarder.start().has_value());
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // it is in its receive now
  router_.publish(*core::RouteTable::build({}, "fallback", 2));
  forwarder.waitForGeneration(2);
  EXPECT_EQ(forwarder.counts().read, 0u);
  // Stopping waits for the receive in hand, which only a message ends here.
  std::thread stopper([&] { forwarder.stop(); });
  auto sink = std::move(broker_.openSink("orders")).value();
  uint64_t sent = 0;
  for (; forwarder.running(); ++sent) {
    ASSERT_TRUE(sink->send(std::vector{testing::message({{"a", "1"}})}).has_value());
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  stopper.join();
  EXPECT_GE(sent, 1u);
  EXPECT_EQ(forwarder.counts().forwarded["fallback"] + *broker_.admin().backlog("orders", ""), sent);
}

TEST_F(ForwarderTest, MissingOriginalIsAnErrorAtStart) {
  Forwarder forwarder(broker_, "nope", "", router_);
  auto started = forwarder.start();
  ASSERT_FALSE(started.has_value());
  EXPECT_EQ(started.error().message(), "queue or topic 'nope' does not exist");
}

}  // namespace
}  // namespace qsplit::engine
