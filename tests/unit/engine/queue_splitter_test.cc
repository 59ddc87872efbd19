// Queue splitter settings the conformance suite does not cover, on the memory broker.
#include "engine/queue_splitter.h"

#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "brokers/memory/memory_broker.h"
#include "support/messages.h"
#include "support/recording_patcher.h"

namespace qsplit::engine {
namespace {

TEST(QueueSplitter, DeleteOnlySettingDropsAnEndedSessionsUnreadMessagesAsTheReferenceDoes) {
  memory::MemoryBroker broker;
  ASSERT_TRUE(broker.createQueue("orders").has_value());
  testing::RecordingPatcher patcher("orders");
  SplitOptions options;
  options.return_unread = false;
  options.forwarder.wait = std::chrono::milliseconds(5);
  QueueSplitter splitter(broker, patcher, SystemClock::instance(), SecureRandom::instance(),
                         "orders", options);
  auto alice = splitter.startSession("alice", testing::filter({{"to", "alice"}}), core::QueueMode::kSteal);
  ASSERT_TRUE(alice.has_value());
  auto sink = std::move(broker.openSink("orders")).value();
  ASSERT_TRUE(sink->send(std::vector{testing::message({{"to", "alice"}}),
                                     testing::message({{"to", "bob"}})})
                  .has_value());
  for (int i = 0; i < 3000 && splitter.status().counts.acked < 2; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  ASSERT_TRUE(splitter.endSession("alice").has_value());
  auto names = broker.names();
  EXPECT_EQ(std::count(names.begin(), names.end(), *alice), 0);  // deleted, message and all
  EXPECT_EQ(*broker.admin().backlog("orders", ""), 0u);           // nothing came back
}

// A mirror session's queue holds copies; the workload has every message already. Giving the
// unread copies back would deliver them to the workload a second time.
TEST(QueueSplitter, AnEndedMirrorSessionsUnreadCopiesAreNotGivenBack) {
  memory::MemoryBroker broker;
  ASSERT_TRUE(broker.createQueue("orders").has_value());
  testing::RecordingPatcher patcher("orders");
  SplitOptions options;
  options.forwarder.wait = std::chrono::milliseconds(5);
  QueueSplitter splitter(broker, patcher, SystemClock::instance(), SecureRandom::instance(),
                         "orders", options);
  ASSERT_TRUE(splitter.startSession("alice", testing::filter({{"to", "alice"}}), core::QueueMode::kSteal));
  auto carol = splitter.startSession("carol", testing::filter({{"to", "carol"}}), core::QueueMode::kMirror);
  ASSERT_TRUE(carol.has_value());
  auto sink = std::move(broker.openSink("orders")).value();
  ASSERT_TRUE(sink->send(std::vector{testing::message({{"to", "carol"}}, "c1"),
                                     testing::message({{"to", "carol"}}, "c2"),
                                     testing::message({{"to", "bob"}}, "b1")})
                  .has_value());
  for (int i = 0; i < 3000 && splitter.status().counts.acked < 3; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  ASSERT_TRUE(splitter.endSession("carol").has_value());  // her copies were never read
  for (int i = 0; i < 200; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  auto source = std::move(broker.openSource(patcher.current(), "")).value();
  std::multiset<std::string> workload;
  for (int i = 0; i < 20; ++i) {
    auto batch = source->receive(10, std::chrono::milliseconds(10));
    ASSERT_TRUE(batch.has_value());
    for (const auto& m : *batch) workload.insert(m.body);
    (void)source->ack(*batch);
  }
  EXPECT_EQ(workload, (std::multiset<std::string>{"b1", "c1", "c2"}));  // each exactly once
  auto names = broker.names();
  EXPECT_EQ(std::count(names.begin(), names.end(), *carol), 0);
}

}  // namespace
}  // namespace qsplit::engine
