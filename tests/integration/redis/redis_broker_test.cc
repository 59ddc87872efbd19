// The Redis adapter against a real Redis (scripts/redis.sh), checked with redis-cli: what a
// stream's consumer group sees when qsplit reads in it, gives entries back, or dies with
// entries pending; and the errors a user gets for a wrong stream, group or address.
#include <gtest/gtest.h>

#include "brokers/redis/redis_broker.h"
#include "common/random.h"
#include "support/eventually.h"
#include "support/messages.h"
#include "support/redis_test_broker.h"

namespace qsplit::redis {
namespace {

using std::chrono::milliseconds;

class RedisBrokerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto broker = testing::connectTestRedis(&why_, milliseconds(300));
    QSPLIT_NEED_BROKER(why_);
    ASSERT_TRUE(broker) << broker.error().message();
    broker_ = std::move(broker).value();
    stream_ = "orders:" + SecureRandom::instance().digits(8);
    client_.createWithGroup(stream_, "workload");
  }

  std::string why_;
  std::unique_ptr<RedisBroker> broker_;
  std::string stream_;
  testing::RedisTestClient client_{testing::testRedisPort()};
};

TEST_F(RedisBrokerTest, ReadsInTheWorkloadsGroupAndAcknowledgesOnlyWhenAsked) {
  client_.send(stream_, {testing::message({{"tenant", "a"}}, "one"), testing::message({{"tenant", "b"}}, "two")});
  auto source = broker_->openSource(stream_, "workload");
  ASSERT_TRUE(source) << source.error().message();
  auto got = testing::receiveAll(**source, 2);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].findAttribute("tenant")->value, "a");
  EXPECT_EQ(got[0].findAttribute("body")->value, "one");  // every field is an attribute
  // Delivered to the group: the workload's next read starts after them, and they are pending.
  EXPECT_EQ(client_.drain(stream_, "workload").size(), 0u);
  EXPECT_EQ(*broker_->admin().backlog(stream_, "workload"), 2u);
  ASSERT_TRUE((*source)->ack(got));
  EXPECT_EQ(*broker_->admin().backlog(stream_, "workload"), 0u);
}

TEST_F(RedisBrokerTest, AnEntryGivenBackIsAtTheEndAgainAndNotPending) {
  client_.send(stream_, {testing::message({{"tenant", "a"}}, "one")});
  auto source = broker_->openSource(stream_, "workload");
  ASSERT_TRUE(source);
  auto got = testing::receiveAll(**source, 1);
  ASSERT_EQ(got.size(), 1u);
  ASSERT_TRUE((*source)->release(got));
  auto again = client_.drain(stream_, "workload");
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].body, "one");
  EXPECT_EQ(again[0].findAttribute("tenant")->value, "a");
  EXPECT_EQ(client_.command("XPENDING " + stream_ + " workload")[0], 0);
}

TEST_F(RedisBrokerTest, EntriesPendingUnderASilentConsumerAreClaimed) {
  client_.send(stream_, {testing::message({{"n", "1"}}, "x"), testing::message({{"n", "2"}}, "y")});
  // A workload instance read them and went away without acknowledging them.
  ASSERT_EQ(client_.command("XREADGROUP GROUP workload gone COUNT 10 STREAMS " + stream_ + " '>'")[0][1].size(), 2u);
  auto source = broker_->openSource(stream_, "workload");
  ASSERT_TRUE(source);
  std::this_thread::sleep_for(milliseconds(400));  // past this broker's claim_idle of 300 ms
  auto got = testing::receiveAll(**source, 2);
  ASSERT_EQ(got.size(), 2u);
  ASSERT_TRUE((*source)->ack(got));
  EXPECT_EQ(*broker_->admin().backlog(stream_, "workload"), 0u);
}

TEST_F(RedisBrokerTest, ATemporaryStreamHasTheOriginalsGroupsAndIsDeletedWhole) {
  client_.createWithGroup(stream_, "audit");
  std::string tmp = "mirrord-tmp-1-" + stream_;
  ASSERT_TRUE(broker_->admin().createLike(stream_, tmp));
  auto groups = client_.command("XINFO GROUPS " + tmp);
  ASSERT_EQ(groups.size(), 2u);
  auto sink = broker_->openSink(tmp);
  ASSERT_TRUE(sink);
  ASSERT_TRUE((*sink)->send(std::vector<core::Message>{testing::message({{"k", "v"}, {"k", "w"}}, "")}));
  auto read = client_.command("XRANGE " + tmp + " - +");
  ASSERT_EQ(read.size(), 1u);
  EXPECT_EQ(read[0][1], (nlohmann::json{"k", "v", "k", "w"}));  // repeated fields kept, in order
  ASSERT_TRUE(broker_->admin().remove(tmp));
  EXPECT_EQ(client_.command("EXISTS " + tmp), 0);
}

TEST_F(RedisBrokerTest, WrongStreamsGroupsAndAddressesAreNamed) {
  auto missing = broker_->openSource("no-such-stream", "workload");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message(), "redis stream no-such-stream does not exist on " +
                                           broker_->redisAdmin().address().describe());
  auto group = broker_->openSource(stream_, "nobody");
  ASSERT_FALSE(group);
  EXPECT_NE(group.error().message().find("has no consumer group nobody"), std::string::npos);
  client_.command("SET plain:" + stream_ + " x");
  EXPECT_EQ(broker_->admin().describe("plain:" + stream_).error().message(),
            "redis key plain:" + stream_ + " is a string, not a stream");
  EXPECT_TRUE(RedisAddress::parse("rediss://h:1")->tls);
  EXPECT_EQ(RedisAddress::parse("http://h:1").error().message(),
            "http://h:1: expected redis:// or rediss://[[user]:password@]host:port[/db]");
  EXPECT_EQ(RedisAddress::parse("redis://h:99999").error().message(), "redis://h:99999: the port must be 1 to 65535");
  auto parsed = RedisAddress::parse("redis://app:s3cret@cache.internal:6380/2");
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->user, "app");
  EXPECT_EQ(parsed->password, "s3cret");
  EXPECT_EQ(parsed->describe(), "cache.internal:6380/2");
  EXPECT_EQ(RedisAddress::parse("redis://app:s3cret@h:0").error().message(),
            "redis://***@h:0: the port must be 1 to 65535");  // never the password
  auto listed = RedisAddress::fromProperties({{"host", "cache"}, {"password", "p"}, {"db", "3"}});
  ASSERT_TRUE(listed) << listed.error().message();
  EXPECT_EQ(listed->describe(), "cache:6379/3");
  EXPECT_EQ(RedisAddress::fromProperties({{"hostname", "cache"}}).error().message(),
            "property hostname: unknown; expected url, host, port, username, password, tls, tls_ca or db");
  EXPECT_TRUE(RedisAddress::fromProperties({{"host", "cache"}, {"tls", "true"}})->tls);
  EXPECT_EQ(RedisAddress::fromProperties({{"host", "cache"}, {"tls_ca", "x"}}).error().message(),
            "property tls_ca: set, and the connection is not TLS (tls: true)");
  EXPECT_EQ(RedisAddress::fromProperties({{"port", "6379"}}).error().message(),
            "property host: url or host is required");
  auto closed = RedisBroker::create({*RedisAddress::parse("redis://127.0.0.1:1"), milliseconds(300)});
  ASSERT_FALSE(closed);
  EXPECT_NE(closed.error().message().find("redis 127.0.0.1:1: cannot connect"), std::string::npos);
}

}  // namespace
}  // namespace qsplit::redis
