// TLS to a real Redis: scripts/redis.sh serves the same server on a TLS port too, with a
// certificate signed by a test CA. qsplit's connections run under its TLS relay (hiredis 0.14
// has no TLS): large values and long pipelines cross it both ways, BullMQ jobs added by the
// bullmq package on the plain port are forwarded over TLS, and an untrusted or plain server is
// named with the reason.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "brokers/redis/bullmq_broker.h"
#include "common/random.h"
#include "support/bullmq_test_client.h"
#include "support/eventually.h"
#include "support/redis_test_broker.h"

namespace qsplit::redis {
namespace {

class RedisTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* port = std::getenv("QSPLIT_REDIS_TLS_PORT");
    const char* ca = std::getenv("QSPLIT_REDIS_TLS_CA");
    QSPLIT_NEED_BROKER(std::string(port && ca ? "" : "QSPLIT_REDIS_TLS_PORT is not set: start scripts/redis.sh"));
    port_ = port;
    std::ifstream in(ca);
    std::stringstream pem;
    pem << in.rdbuf();
    ca_ = pem.str();
  }

  Result<RedisAddress> address(const std::string& ca, const std::string& port = "") {
    std::map<std::string, std::string> properties = {{"host", "127.0.0.1"}, {"port", port.empty() ? port_ : port},
                                                     {"tls", "true"}};
    if (!ca.empty()) properties["tls_ca"] = ca;
    return RedisAddress::fromProperties(properties);
  }

  std::string port_, ca_;
};

TEST_F(RedisTlsTest, CommandsLargeValuesAndLongPipelinesCrossTheRelay) {
  auto a = address(ca_);
  ASSERT_TRUE(a) << a.error().message();
  auto c = RedisConnection::connect(*a);
  ASSERT_TRUE(c) << c.error().message();
  std::string key = "tls:" + SecureRandom::instance().digits(8);
  std::string big(3 << 20, 'x');  // larger than any socket buffer, both ways
  for (std::size_t i = 0; i < big.size(); i += 997) big[i] = static_cast<char>('a' + i % 26);
  ASSERT_EQ(c->command({"SET", key, big})->text, "OK");
  EXPECT_EQ(c->command({"GET", key})->text, big);
  // 20,000 commands written before any reply is read: the replies wait in the relay.
  for (int i = 0; i < 20000; ++i) c->append({"INCR", key + ":n"});
  for (int i = 0; i < 20000; ++i) ASSERT_TRUE(c->read()) << i;
  EXPECT_EQ(c->command({"GET", key + ":n"})->text, "20000");
  (void)c->command({"DEL", key, key + ":n"});
  // Closing the connection closes it at the server too.
  ASSERT_TRUE(c->command({"CLIENT", "SETNAME", "tls-probe-" + key.substr(4)}));
  c.value() = std::move(*RedisConnection::connect(*a));  // the first one is closed here
  testing::RedisTestClient plain(testing::testRedisPort());
  EXPECT_TRUE(testing::eventually([&] {
    return plain.command("CLIENT LIST").dump().find("tls-probe-" + key.substr(4)) == std::string::npos;
  }));
}

TEST_F(RedisTlsTest, BullmqJobsAreForwardedOverTls) {
  auto a = address(ca_);
  ASSERT_TRUE(a) << a.error().message();
  auto broker = BullmqBroker::create({*a});
  ASSERT_TRUE(broker) << broker.error().message();
  testing::BullmqTestClient client(testing::testRedisPort());  // the plain port, as apps use it
  std::string queue = "tls-" + SecureRandom::instance().digits(8), other = queue + "-copy";
  client.open(queue);
  std::vector<nlohmann::json> jobs;
  for (int i = 0; i < 300; ++i) jobs.push_back({{"name", "n"}, {"data", {{"i", i}}}, {"opts", nlohmann::json::object()}});
  client.add(queue, jobs);
  ASSERT_TRUE((*broker)->admin().describe(queue));
  auto source = (*broker)->openSource(queue, "");
  auto sink = (*broker)->openSink(other);
  ASSERT_TRUE(source && sink);
  auto got = testing::receiveAll(**source, 300);
  ASSERT_EQ(got.size(), 300u);
  ASSERT_TRUE((*sink)->send(got));
  ASSERT_TRUE((*source)->ack(got));
  EXPECT_EQ(client.drain(other).size(), 300u);
  EXPECT_EQ(*(*broker)->admin().backlog(queue, ""), 0u);
  for (const auto& q : {queue, other}) (void)(*broker)->admin().remove(q);
}

TEST_F(RedisTlsTest, AnUntrustedServerAPlainOneAndABadCaAreNamed) {
  auto untrusted = RedisConnection::connect(*address(""));
  ASSERT_FALSE(untrusted);
  EXPECT_NE(untrusted.error().message().find("the server's certificate is not trusted"), std::string::npos)
      << untrusted.error().message();
  EXPECT_NE(untrusted.error().message().find("set the property tls_ca"), std::string::npos);
  auto plain = RedisConnection::connect(*address(ca_, testing::testRedisPort()));
  ASSERT_FALSE(plain);
  EXPECT_NE(plain.error().message().find("the TLS handshake failed"), std::string::npos) << plain.error().message();
  auto bad = RedisConnection::connect(*address("not a certificate"));
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("property tls_ca: no PEM certificate in it"), std::string::npos)
      << bad.error().message();
}

}  // namespace
}  // namespace qsplit::redis
