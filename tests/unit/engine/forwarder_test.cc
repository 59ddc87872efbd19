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

TEST_F(ForwarderTest, MissingOriginalIsAnErrorAtStart) {
  Forwarder forwarder(broker_, "nope", "", router_);
  auto started = forwarder.start();
  ASSERT_FALSE(started.has_value());
  EXPECT_EQ(started.error().message(), "queue or topic 'nope' does not exist");
}

}  // namespace
}  // namespace qsplit::engine
