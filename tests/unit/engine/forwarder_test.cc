#include "engine/forwarder.h"

#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "brokers/memory/memory_broker.h"
#include "support/faulty_broker.h"
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

// Overlapping batches: a destination that refuses one batch has its messages of the next
// batch (already submitted) given back too, and nothing is lost or counted twice.
TEST_F(ForwarderTest, OverlappedBatchesGiveBackWhatARefusingDestinationMayHaveMissed) {
  for (const char* topic : {"clicks", "clicks-fallback", "clicks-alice"})
    ASSERT_TRUE(broker_.createTopic(topic, 2).has_value());
  testing::FaultyBroker faulty(broker_, /*overlap=*/true);
  faulty.failSends("alice", 3);
  core::Router router(*core::RouteTable::build(
      {{"alice", testing::filter({{"author", "alice"}}), core::QueueMode::kSteal, "clicks-alice"}},
      "clicks-fallback", 1));
  ForwarderOptions options;
  options.delivery = Delivery::kAtLeastOnce;
  options.batch_size = 4;
  options.wait = std::chrono::milliseconds(10);
  Forwarder forwarder(faulty, "clicks", "app", router, options);
  ASSERT_TRUE(forwarder.start().has_value());
  std::vector<core::Message> produced;
  for (int i = 0; i < 40; ++i)
    produced.push_back(
        testing::message({{"author", i % 2 ? "alice" : "bob"}, {"seq", std::to_string(i)}}));
  ASSERT_TRUE(std::move(broker_.openSink("clicks")).value()->send(produced).has_value());
  auto seqs = [&](const std::string& topic) {
    std::set<std::string> seen;
    auto source = std::move(broker_.openSource(topic, "reader")).value();
    for (auto batch = source->receive(100, std::chrono::milliseconds(0)); batch && !batch->empty();
         batch = source->receive(100, std::chrono::milliseconds(0)))
      for (const auto& m : *batch) seen.insert(m.findAttribute("seq")->value);
    return seen;
  };
  for (int i = 0; i < 3000 && *broker_.admin().backlog("clicks", "app") > 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  forwarder.stop();
  EXPECT_EQ(*broker_.admin().backlog("clicks", "app"), 0u);
  auto alice = seqs("clicks-alice"), fallback = seqs("clicks-fallback");
  EXPECT_EQ(alice.size(), 20u);  // every one of alice's, duplicates allowed
  EXPECT_EQ(fallback.size(), 20u);
  for (const auto& seq : alice) EXPECT_EQ(std::stoi(seq) % 2, 1) << seq;
  for (const auto& seq : fallback) EXPECT_EQ(std::stoi(seq) % 2, 0) << seq;
  EXPECT_EQ(forwarder.counts().send_errors, 3u);  // the injected ones, not the batches given back
  EXPECT_GE(forwarder.counts().released, 3u);
}

TEST_F(ForwarderTest, MissingOriginalIsAnErrorAtStart) {
  Forwarder forwarder(broker_, "nope", "", router_);
  auto started = forwarder.start();
  ASSERT_FALSE(started.has_value());
  EXPECT_EQ(started.error().message(), "queue or topic 'nope' does not exist");
}

}  // namespace
}  // namespace qsplit::engine
