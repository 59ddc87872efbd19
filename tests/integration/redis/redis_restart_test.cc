// A restart of the Redis server in the middle of a stream (scripts/redis.sh restart, its data
// kept in an append-only file): the forwarder reconnects, reads again what it had not
// acknowledged, and every entry (every BullMQ job) reaches its destination; a Pub/Sub
// forwarder subscribes again by itself. Runs alone: it takes the shared server away for a
// while.
#include <gtest/gtest.h>

#include "brokers/redis/redis_channels.h"
#include "common/random.h"
#include "engine/forwarder.h"
#include "jq/json_payload.h"
#include "support/bullmq_test_client.h"
#include "support/eventually.h"
#include "support/messages.h"
#include "support/redis_cli_pubsub.h"
#include "support/redis_test_broker.h"
#include "support/tally.h"
#include "support/temp_dir.h"

namespace qsplit::redis {
namespace {

constexpr int kMessages = 3000;

struct RestartRun {
  bool done = false;    // every message forwarded and acknowledged, the original empty
  uint64_t before = 0;  // acknowledged when the server was restarted
  engine::ForwarderCounts counts;
};

// Forwards `original` (author alice to `alice`, the rest to `fallback`) in batches of `batch`,
// restarts the server once the first batch is acknowledged, and waits until all kMessages are.
RestartRun forwardThroughRestart(core::Broker& broker, const std::string& original, const std::string& group,
                                 const std::string& alice, const std::string& fallback, std::size_t batch,
                                 std::function<void(std::vector<core::Message>&)> view) {
  auto filter = core::Filter::compile({{"author", "^alice$"}});
  core::Router router(*core::RouteTable::build({{alice, *filter, core::QueueMode::kSteal, alice}}, fallback, 1));
  engine::ForwarderOptions forwarding;
  forwarding.delivery = engine::Delivery::kAtLeastOnce;
  forwarding.batch_size = batch;  // many batches, so the restart lands mid-stream
  forwarding.wait = std::chrono::milliseconds(200);
  forwarding.error_backoff = std::chrono::milliseconds(200);
  forwarding.view = std::move(view);
  engine::Forwarder forwarder(broker, original, group, router, forwarding);
  RestartRun r;
  if (!forwarder.start().has_value()) return r;
  if (!testing::eventually([&] { return forwarder.counts().acked > 0; })) return r;
  r.before = forwarder.counts().acked;
  auto restarted = testing::run("QSPLIT_RUN=" + std::string(std::getenv("QSPLIT_REDIS_RUN")) +
                                " " QSPLIT_SOURCE_DIR "/scripts/redis.sh restart");
  EXPECT_EQ(restarted.status, 0) << "scripts/redis.sh restart failed";
  r.done = testing::eventually(
      [&] {
        auto left = broker.admin().backlog(original, group);
        return forwarder.counts().acked >= static_cast<uint64_t>(kMessages) && left && *left == 0;
      },
      std::chrono::seconds(120), std::chrono::milliseconds(200));
  r.counts = forwarder.counts();
  forwarder.stop();
  return r;
}

TEST(RedisRestartTest, ServerRestartMidStreamLosesNothing) {
  std::string why;
  auto made = testing::connectTestRedis(&why, std::chrono::seconds(1));
  QSPLIT_NEED_BROKER(why);
  ASSERT_TRUE(made.has_value()) << made.error().message();
  auto broker = std::move(made).value();
  testing::RedisTestClient client(testing::testRedisPort());
  std::string id = SecureRandom::instance().digits(8);
  std::string original = "restart:" + id, fallback = "mirrord-tmp-" + id + "-fallback-restart",
              alice = "mirrord-tmp-" + id + "-alice-restart";
  client.createWithGroup(original, "workload");
  for (const auto& s : {fallback, alice}) ASSERT_TRUE(broker->admin().createLike(original, s));
  std::vector<core::Message> stream;
  for (int i = 0; i < kMessages; ++i)
    stream.push_back(testing::message({{"author", i % 4 == 0 ? "alice" : "bob"}, {"seq", std::to_string(i)}},
                                      "seq-" + std::to_string(i)));
  client.send(original, stream);

  RestartRun r = forwardThroughRestart(*broker, original, "workload", alice, fallback, 100, nullptr);
  ASSERT_TRUE(r.done) << "the original's group never caught up";
  uint64_t before = r.before;
  auto counts = r.counts;

  testing::Tally tally;
  tally.add("alice", client.drain(alice, "workload"));
  tally.add("fallback", client.drain(fallback, "workload"));
  auto c = tally.count(kMessages, [](int seq) { return seq % 4 == 0 ? "alice" : "fallback"; });
  std::printf("server restart after %llu of %d: lost %d, duplicated %d, misrouted %d "
              "(receive errors %llu, send errors %llu during the outage)\n",
              static_cast<unsigned long long>(before), kMessages, c.lost, c.duplicated, c.misrouted,
              static_cast<unsigned long long>(counts.receive_errors),
              static_cast<unsigned long long>(counts.send_errors));
  EXPECT_EQ(c.lost, 0);
  EXPECT_EQ(c.misrouted, 0);
  for (const auto& s : {original, fallback, alice}) (void)broker->admin().remove(s);
}

TEST(RedisRestartTest, BullmqServerRestartMidQueueLosesNoJob) {
  std::string why;
  auto made = testing::connectTestBullmq(&why, std::chrono::seconds(1));
  QSPLIT_NEED_BROKER(why);
  ASSERT_TRUE(made.has_value()) << made.error().message();
  auto broker = std::move(made).value();
  testing::BullmqTestClient client(testing::testRedisPort());
  std::string id = SecureRandom::instance().digits(8);
  std::string original = "restart-" + id, fallback = "mirrord-tmp-" + id + "-fallback-restart",
              alice = "mirrord-tmp-" + id + "-alice-restart";
  client.open(original);
  for (const auto& s : {fallback, alice}) ASSERT_TRUE(broker->admin().createLike(original, s));
  std::vector<nlohmann::json> jobs;
  for (int i = 0; i < kMessages; ++i)
    jobs.push_back(testing::BullmqTestClient::job(
        testing::message({{"author", i % 4 == 0 ? "alice" : "bob"}, {"seq", std::to_string(i)}}, "job")));
  ASSERT_EQ(client.add(original, jobs).size(), static_cast<std::size_t>(kMessages));

  // Jobs taken before the restart and not removed are taken again once their lock (1 s) expired;
  // filters match the job data's fields.
  RestartRun r = forwardThroughRestart(*broker, original, "", alice, fallback, 50, jq::useJsonPayloadFields);
  ASSERT_TRUE(r.done) << "the original never emptied";
  uint64_t before = r.before;

  testing::Tally tally;
  for (const auto& [who, queue] : {std::pair{"alice", alice}, std::pair{"fallback", fallback}}) {
    std::vector<core::Message> got;
    for (const auto& j : client.drain(queue)) got.push_back(testing::BullmqTestClient::message(j));
    tally.add(who, got);
  }
  auto c = tally.count(kMessages, [](int seq) { return seq % 4 == 0 ? "alice" : "fallback"; });
  std::printf("server restart after %llu of %d jobs: lost %d, processed twice %d, misrouted %d\n",
              static_cast<unsigned long long>(before), kMessages, c.lost, c.duplicated, c.misrouted);
  EXPECT_EQ(c.lost, 0);
  EXPECT_EQ(c.duplicated, 0);  // a job added again keeps its id: BullMQ has it once
  EXPECT_EQ(c.misrouted, 0);
  for (const auto& s : {original, fallback, alice}) (void)broker->admin().remove(s);
}

TEST(RedisRestartTest, PubSubSubscribesAgainAfterAServerRestart) {
  std::string why;
  auto url = testing::brokerAddress("QSPLIT_REDIS_URL", &why);
  QSPLIT_NEED_BROKER(why);
  auto made = RedisChannelBroker::create(*RedisAddress::parse(url), ChannelMode::kChannel);
  ASSERT_TRUE(made.has_value()) << made.error().message();
  std::string port = testing::testRedisPort(), dir = testing::freshDir("qsplit-pubsub-restart");
  std::string id = SecureRandom::instance().digits(8);
  std::string original = "events:" + id, fallback = "mirrord-tmp-" + id + "-fallback-events";
  auto qsplitSubscribed = [&] {
    auto reply = testing::RedisTestClient(port).command("PUBSUB NUMSUB " + original);
    return reply.is_array() && reply.size() == 2 && reply[1] == 1;
  };
  // Publishes `count` messages named after `tag`, and waits until `subscriber` has them all.
  auto publishAndCheck = [&](testing::RedisCliSubscriber& subscriber, const std::string& tag, int count) {
    testing::RedisCliPublisher publisher(port);
    for (int i = 0; i < count; ++i) publisher.publish(original, tag + "-" + std::to_string(i));
    publisher.close();
    return testing::eventually([&] { return subscriber.payloads().size() >= static_cast<std::size_t>(count); });
  };
  testing::RedisCliSubscriber before(port, "SUBSCRIBE", fallback, dir + "/before");
  core::Router router(*core::RouteTable::build({}, fallback, 1));
  engine::ForwarderOptions forwarding;
  forwarding.delivery = engine::Delivery::kAtLeastOnce;
  forwarding.wait = std::chrono::milliseconds(100);
  forwarding.error_backoff = std::chrono::milliseconds(200);
  engine::Forwarder forwarder(**made, original, "", router, forwarding);
  ASSERT_TRUE(forwarder.start().has_value());
  ASSERT_TRUE(testing::eventually(qsplitSubscribed));
  EXPECT_TRUE(publishAndCheck(before, "before", 100)) << before.payloads().size() << " of 100 before the restart";

  auto restarted = testing::run("QSPLIT_RUN=" + std::string(std::getenv("QSPLIT_REDIS_RUN")) +
                                " " QSPLIT_SOURCE_DIR "/scripts/redis.sh restart");
  ASSERT_EQ(restarted.status, 0) << "scripts/redis.sh restart failed";
  before.stop();  // redis-cli does not subscribe again; the workload's new instance does
  testing::RedisCliSubscriber after(port, "SUBSCRIBE", fallback, dir + "/after");
  ASSERT_TRUE(testing::eventually(qsplitSubscribed, std::chrono::seconds(60))) << "qsplit never subscribed again";
  // What was published while nobody subscribed is gone, as Redis drops it; from now on, all.
  EXPECT_TRUE(publishAndCheck(after, "after", 100)) << after.payloads().size() << " of 100 after the restart";
  forwarder.stop();
}

}  // namespace
}  // namespace qsplit::redis
