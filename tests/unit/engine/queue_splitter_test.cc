// Queue splitter settings the conformance suite does not cover, on the memory broker.
#include "engine/queue_splitter.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace qsplit::engine
