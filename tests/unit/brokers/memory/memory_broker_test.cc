#include "brokers/memory/memory_broker.h"

#include <gtest/gtest.h>

#include "support/messages.h"

namespace qsplit::memory {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::message;

std::vector<std::string> bodies(const std::vector<core::Message>& messages) {
  std::vector<std::string> out;
  for (const auto& m : messages) out.push_back(m.body);
  return out;
}
using Bodies = std::vector<std::string>;

void send(core::Broker& broker, const std::string& name, std::vector<core::Message> messages) {
  auto sink = broker.openSink(name);
  ASSERT_TRUE(sink.has_value()) << sink.error().message();
  ASSERT_TRUE((*sink)->send(messages).has_value());
}

class MemoryQueueTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(broker_.createQueue("q").has_value()); }
  std::unique_ptr<core::Source> source() { return std::move(broker_.openSource("q", "")).value(); }
  ManualClock clock_;
  MemoryBroker broker_{clock_, MemoryOptions{seconds(30)}};
};

TEST_F(MemoryQueueTest, DeliversInOrderWithAttributes) {
  send(broker_, "q", {message({{"a", "1"}}, "one"), message({}, "two")});
  auto got = source()->receive(10, milliseconds(0));
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(bodies(*got), (Bodies{"one", "two"}));
  EXPECT_EQ((*got)[0].attributes.at(0).value, "1");
  EXPECT_FALSE((*got)[0].receipt.empty());
}

TEST_F(MemoryQueueTest, UnacknowledgedMessagesComeBackAfterTheVisibilityTimeout) {
  send(broker_, "q", {message({}, "one")});
  auto src = source();
  ASSERT_EQ(src->receive(10, milliseconds(0))->size(), 1u);
  EXPECT_EQ(src->receive(10, milliseconds(0))->size(), 0u);  // in flight: invisible
  EXPECT_EQ(*broker_.admin().backlog("q", ""), 1u);          // but not gone
  clock_.advance(seconds(31));
  auto again = src->receive(10, milliseconds(0));
  EXPECT_EQ(bodies(*again), Bodies{"one"});
  ASSERT_TRUE(src->ack(*again).has_value());
  clock_.advance(seconds(31));
  EXPECT_EQ(src->receive(10, milliseconds(0))->size(), 0u);
  EXPECT_EQ(*broker_.admin().backlog("q", ""), 0u);
}

TEST_F(MemoryQueueTest, ReleasedMessagesAreRedeliveredFirst) {
  send(broker_, "q", {message({}, "one"), message({}, "two"), message({}, "three")});
  auto src = source();
  auto first = *src->receive(2, milliseconds(0));
  ASSERT_TRUE(src->release(first).has_value());
  EXPECT_EQ(bodies(*src->receive(10, milliseconds(0))), (Bodies{"one", "two", "three"}));
}

TEST_F(MemoryQueueTest, StaleReceiptDoesNotDeleteTheRedeliveredMessage) {
  send(broker_, "q", {message({}, "one")});
  auto src = source();
  auto first = *src->receive(1, milliseconds(0));
  clock_.advance(seconds(31));
  auto second = *src->receive(1, milliseconds(0));
  ASSERT_TRUE(src->ack(first).has_value());  // late ack of the first delivery
  EXPECT_EQ(*broker_.admin().backlog("q", ""), 1u);
  ASSERT_TRUE(src->ack(second).has_value());
  EXPECT_EQ(*broker_.admin().backlog("q", ""), 0u);
}

TEST_F(MemoryQueueTest, ReceiveWaitsForAMessage) {
  auto src = source();
  std::thread producer([&] {
    std::this_thread::sleep_for(milliseconds(20));
    send(broker_, "q", {message({}, "late")});
  });
  auto got = src->receive(10, milliseconds(5000));
  producer.join();
  EXPECT_EQ(bodies(*got), Bodies{"late"});
}

TEST_F(MemoryQueueTest, AdminCreatesLikeAndRemoves) {
  auto& admin = broker_.admin();
  ASSERT_TRUE(admin.createLike("q", "tmp").has_value());
  EXPECT_EQ(admin.describe("tmp")->kind, core::QueueKind::kQueue);
  EXPECT_EQ(admin.createLike("q", "tmp").error().code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(admin.createLike("missing", "x").error().message(),
            "queue or topic 'missing' does not exist");
  ASSERT_TRUE(admin.remove("tmp").has_value());
  EXPECT_EQ(broker_.openSink("tmp").error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(broker_.names(), Bodies{"q"});
}

TEST_F(MemoryQueueTest, AnOpenSinkFollowsItsQueueThroughRemovalAndRecreation) {
  auto sink = std::move(broker_.openSink("q")).value();
  ASSERT_TRUE(sink->send(std::vector{message({}, "one")}).has_value());
  ASSERT_TRUE(broker_.admin().remove("q").has_value());
  EXPECT_EQ(sink->send(std::vector{message({}, "lost")}).error().code(), ErrorCode::kNotFound);
  ASSERT_TRUE(broker_.createQueue("q").has_value());
  ASSERT_TRUE(sink->send(std::vector{message({}, "two")}).has_value());
  EXPECT_EQ(bodies(*source()->receive(10, milliseconds(0))), Bodies{"two"});
}

class MemoryTopicTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(broker_.createTopic("t", 3).has_value()); }
  std::unique_ptr<core::Source> member(const std::string& group) {
    return std::move(broker_.openSource("t", group)).value();
  }
  std::vector<core::Message> keyed(int count) {
    std::vector<core::Message> out;
    for (int i = 0; i < count; ++i) {
      auto m = message({}, std::to_string(i));
      m.partition = i % 3;
      out.push_back(m);
    }
    return out;
  }
  MemoryBroker broker_;
};

TEST_F(MemoryTopicTest, KeepsPartitionAndOrderWithinIt) {
  send(broker_, "t", keyed(9));
  auto got = *member("g")->receive(100, milliseconds(0));
  ASSERT_EQ(got.size(), 9u);
  std::map<int32_t, std::vector<int64_t>> offsets;
  for (const auto& m : got) {
    EXPECT_EQ(std::stoi(m.body) % 3, m.partition);
    offsets[m.partition].push_back(m.offset);
  }
  for (const auto& [p, o] : offsets) EXPECT_EQ(o, (std::vector<int64_t>{0, 1, 2})) << p;
}

TEST_F(MemoryTopicTest, GroupsResumeFromCommittedOffsets) {
  send(broker_, "t", keyed(6));
  {
    auto src = member("g");
    auto got = *src->receive(100, milliseconds(0));
    ASSERT_EQ(got.size(), 6u);
    std::vector<core::Message> first_half(got.begin(), got.begin() + 3);
    ASSERT_TRUE(src->ack(first_half).has_value());
  }
  EXPECT_EQ(*broker_.admin().backlog("t", "g"), 3u);
  EXPECT_EQ(*broker_.admin().backlog("t", "other"), 6u);  // a new group starts at the beginning
  EXPECT_EQ(member("g")->receive(100, milliseconds(0))->size(), 3u);
}

TEST_F(MemoryTopicTest, CommitsOnlyContiguousOffsets) {
  std::vector<core::Message> three;
  for (int i = 0; i < 3; ++i) {
    auto m = message({}, std::to_string(i));
    m.partition = 0;
    three.push_back(m);
  }
  send(broker_, "t", three);
  {
    auto src = member("g");
    auto got = *src->receive(100, milliseconds(0));
    ASSERT_TRUE(src->ack(std::span(got).subspan(1)).has_value());  // offsets 1 and 2, not 0
  }
  EXPECT_EQ(*broker_.admin().backlog("t", "g"), 3u);
  auto src = member("g");
  auto got = *src->receive(100, milliseconds(0));
  EXPECT_EQ(bodies(got), (Bodies{"0", "1", "2"}));
  ASSERT_TRUE(src->ack(std::span(got).first(1)).has_value());
  EXPECT_EQ(*broker_.admin().backlog("t", "g"), 0u);  // 1 and 2 were acknowledged before
}

TEST_F(MemoryTopicTest, MembersOfOneGroupShareThePartitions) {
  send(broker_, "t", keyed(30));
  auto a = member("g");
  auto b = member("g");
  auto got_a = *a->receive(100, milliseconds(0));
  auto got_b = *b->receive(100, milliseconds(0));
  EXPECT_EQ(got_a.size() + got_b.size(), 30u);
  for (const auto& ma : got_a)
    for (const auto& mb : got_b) ASSERT_NE(ma.partition, mb.partition);
}

TEST_F(MemoryTopicTest, ReleaseRewindsThePartition) {
  send(broker_, "t", keyed(3));
  auto src = member("g");
  auto got = *src->receive(100, milliseconds(0));
  ASSERT_TRUE(src->release(got).has_value());
  EXPECT_EQ(src->receive(100, milliseconds(0))->size(), 3u);
}

TEST_F(MemoryTopicTest, TopicNeedsAGroup) {
  EXPECT_EQ(broker_.openSource("t", "").error().message(),
            "reading topic 't' needs a consumer group");
  ASSERT_TRUE(broker_.admin().createLike("t", "t2").has_value());
  EXPECT_EQ(broker_.admin().describe("t2")->partitions, 3);
}

}  // namespace
}  // namespace qsplit::memory
