// The BullMQ adapter against a real Redis (scripts/redis.sh), checked with the bullmq package
// itself (its Queue adds the jobs, its Worker takes them): a forwarded job keeps its id, name,
// data, options, delay and priority; a job is never in two queues for a Worker to take; a job
// held by a killed qsplit is taken again after its lock, and adding it again adds no second
// job; and the errors a user gets for a wrong queue.
#include <gtest/gtest.h>

#include <thread>

#include "common/random.h"
#include "support/bullmq_test_client.h"
#include "support/eventually.h"
#include "support/redis_test_broker.h"

namespace qsplit::redis {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

class BullmqTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto broker = testing::connectTestBullmq(&why_, milliseconds(500));
    QSPLIT_NEED_BROKER(why_);
    ASSERT_TRUE(broker) << broker.error().message();
    broker_ = std::move(broker).value();
    queue_ = "orders-" + SecureRandom::instance().digits(8);
    other_ = "elsewhere-" + SecureRandom::instance().digits(8);
    client_.open(queue_);
  }

  // Takes `count` jobs from the queue, adds them to other_, and removes them from the queue.
  void forward(std::size_t count) {
    auto source = broker_->openSource(queue_, "");
    ASSERT_TRUE(source) << source.error().message();
    auto sink = broker_->openSink(other_);
    ASSERT_TRUE(sink);
    auto got = testing::receiveAll(**source, count);
    ASSERT_EQ(got.size(), count);
    ASSERT_TRUE((*sink)->send(got));
    ASSERT_TRUE((*source)->ack(got));
  }

  std::string why_;
  std::unique_ptr<BullmqBroker> broker_;
  std::string queue_, other_;
  testing::BullmqTestClient client_{testing::testRedisPort()};
};

TEST_F(BullmqTest, AForwardedJobKeepsItsIdNameDataAndOptions) {
  json opts = {{"attempts", 3}, {"backoff", {{"type", "exponential"}, {"delay", 1000}}}, {"jobId", "order-42"},
               {"removeOnComplete", 10}};
  auto ids = client_.add(queue_, {{{"name", "charge"}, {"data", {{"tenant", "a"}, {"amount", 12.5}}}, {"opts", opts}},
                                  {{"name", "refund"}, {"data", {{"tenant", "b"}}}, {"opts", json::object()}}});
  ASSERT_EQ(ids.size(), 2u);
  forward(2);
  auto jobs = client_.drain(other_);
  ASSERT_EQ(jobs.size(), 2u);
  std::sort(jobs.begin(), jobs.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  EXPECT_EQ(jobs[0].id, "order-42");
  EXPECT_EQ(jobs[0].name, "charge");
  EXPECT_EQ(jobs[0].data, json({{"tenant", "a"}, {"amount", 12.5}}));
  EXPECT_EQ(jobs[0].opts["attempts"], 3);
  EXPECT_EQ(jobs[0].opts["backoff"], opts["backoff"]);
  EXPECT_EQ(jobs[0].opts["removeOnComplete"], 10);
  EXPECT_EQ(jobs[1].id, ids[1]);  // a generated id is kept too
  EXPECT_EQ(jobs[1].name, "refund");
  // Nothing is left in the original for its Worker to take.
  EXPECT_TRUE(client_.drain(queue_, 300).empty());
  EXPECT_EQ(*broker_->admin().backlog(queue_, ""), 0u);
}

TEST_F(BullmqTest, ADelayedJobKeepsItsDueTimeAndAPrioritisedOneItsPriority) {
  auto ids = client_.add(queue_, {{{"name", "later"}, {"data", {{"n", 1}}}, {"opts", {{"delay", 2500}}}},
                                  {{"name", "low"}, {"data", {{"n", 2}}}, {"opts", {{"priority", 9}}}},
                                  {{"name", "high"}, {"data", {{"n", 3}}}, {"opts", {{"priority", 1}}}}});
  ASSERT_EQ(ids.size(), 3u);
  EXPECT_EQ(*broker_->admin().backlog(queue_, ""), 2u);  // the delayed one is not due yet
  forward(3);  // the delayed job is taken at once, long before it is due
  auto jobs = client_.drain(other_, 4000);
  ASSERT_EQ(jobs.size(), 3u);
  // The Worker takes the prioritised jobs in priority order, and the delayed one when due.
  EXPECT_EQ(jobs[0].name, "high");
  EXPECT_EQ(jobs[1].name, "low");
  EXPECT_EQ(jobs[1].priority, 9);
  EXPECT_EQ(jobs[2].name, "later");
  EXPECT_GE(jobs[2].processed_on, jobs[2].timestamp + 2500) << "processed before it was due";
  EXPECT_EQ(jobs[2].opts["delay"], 2500);
}

TEST_F(BullmqTest, AJobGivenBackIsWaitingAgainAndNothingElseHasIt) {
  client_.add(queue_, {{{"name", "one"}, {"data", {{"n", 1}}}, {"opts", json::object()}}});
  auto source = broker_->openSource(queue_, "");
  ASSERT_TRUE(source);
  auto got = testing::receiveAll(**source, 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(client_.drain(queue_, 300).empty()) << "a job qsplit holds was taken by a Worker";
  ASSERT_TRUE((*source)->release(got));
  auto again = client_.drain(queue_);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].name, "one");
}

TEST_F(BullmqTest, AJobHeldByAKilledQsplitIsTakenAgainAndNotAddedTwice) {
  client_.add(queue_, {{{"name", "a"}, {"data", {{"n", 1}}}, {"opts", json::object()}},
                       {{"name", "b"}, {"data", {{"n", 2}}}, {"opts", json::object()}}});
  {
    // Killed between the add and the removal: the jobs are in other_ and still active and
    // locked in the original.
    auto source = broker_->openSource(queue_, "");
    ASSERT_TRUE(source);
    auto sink = broker_->openSink(other_);
    auto got = testing::receiveAll(**source, 2);
    ASSERT_EQ(got.size(), 2u);
    ASSERT_TRUE((*sink)->send(got));
  }
  // The next qsplit finds them once their lock (500 ms here) expired, adds them again, which
  // finds them there, and removes them.
  auto source = broker_->openSource(queue_, "");
  ASSERT_TRUE(source);
  auto sink = broker_->openSink(other_);
  std::vector<core::Message> got;
  ASSERT_TRUE(testing::eventually([&] {
    auto batch = (*source)->receive(100, milliseconds(100));
    if (batch && !batch->empty()) {
      EXPECT_TRUE((*sink)->send(*batch));
      EXPECT_TRUE((*source)->ack(*batch));
      got.insert(got.end(), batch->begin(), batch->end());
    }
    return got.size() >= 2;
  }));
  EXPECT_EQ(*broker_->admin().backlog(queue_, ""), 0u);
  auto jobs = client_.drain(other_);
  EXPECT_EQ(jobs.size(), 2u) << "a job added twice";
}

TEST_F(BullmqTest, RemovingAQueueDeletesEveryKeyAndWrongNamesAreNamed) {
  client_.open(other_);
  client_.add(other_, {{{"name", "a"}, {"data", json::object()}, {"opts", {{"delay", 60000}}}}});
  ASSERT_TRUE(broker_->admin().remove(other_));
  for (const auto& q : client_.queues()) EXPECT_NE(q, other_);
  auto missing = broker_->admin().describe("no-such-queue-" + SecureRandom::instance().digits(6));
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message().find("does not exist"), std::string::npos) << missing.error().message();
  auto colon = broker_->openSink("a:b");
  ASSERT_FALSE(colon);
  EXPECT_NE(colon.error().message().find("':'"), std::string::npos);
}

}  // namespace
}  // namespace qsplit::redis
