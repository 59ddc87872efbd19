// qsplit's RabbitMQ adapter against a real server, checked with pika and the management API:
// headers and properties travel unchanged and can be filtered on; temporary queues are
// declared like their original; bad input gets errors that name the cause.
#include <gtest/gtest.h>

#include "brokers/rabbitmq/rabbitmq_broker.h"
#include "common/random.h"
#include "core/filter.h"
#include "support/messages.h"
#include "support/rabbitmq_test_broker.h"

namespace qsplit::rabbitmq {
namespace {

class RabbitBrokerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    options_ = testing::testRabbitOptions(&why);
    QSPLIT_NEED_BROKER(why);
    auto broker = RabbitBroker::create(options_);
    ASSERT_TRUE(broker.has_value()) << broker.error().message();
    broker_ = std::move(broker).value();
    id_ = SecureRandom::instance().digits(8);
  }

  std::string name(const std::string& base) { return base + "-" + id_; }

  RabbitOptions options_;
  std::unique_ptr<RabbitBroker> broker_;
  testing::RabbitTestClient client_;
  std::string id_;
};

TEST_F(RabbitBrokerTest, HeadersAndPropertiesTravelUnchangedAndCanBeFiltered) {
  std::string in = name("invoices"), out = name("invoices-copy");
  client_.declare(in);
  client_.declare(out);
  std::string line = R"({"body": "{\"total\": 12}", "headers": {"author": "alice", "count": 42,
    "urgent": true, "nested": {"region": "eu"}}, "properties": {"message_id": "m-1",
    "type": "invoice", "app_id": "billing", "correlation_id": "c-9", "content_type":
    "application/json", "priority": 3, "delivery_mode": 2, "timestamp": 1764000000}})";
  line.erase(std::remove(line.begin(), line.end(), '\n'), line.end());
  line += "\n";
  ASSERT_EQ(client_.py("send " + in, &line).status, 0);

  auto source = broker_->openSource(in, "");
  ASSERT_TRUE(source.has_value()) << source.error().message();
  auto got = (*source)->receive(10, std::chrono::seconds(5));
  ASSERT_TRUE(got.has_value()) << got.error().message();
  ASSERT_EQ(got->size(), 1u);
  const core::Message& m = got->front();
  EXPECT_EQ(m.body, R"({"total": 12})");
  EXPECT_EQ(m.findAttribute("count")->value, "42");
  EXPECT_EQ(m.findAttribute("urgent")->value, "true");
  EXPECT_EQ(m.findAttribute("type")->value, "invoice");
  EXPECT_EQ(m.findAttribute("type")->type, "property");
  EXPECT_TRUE(testing::filter({{"app_id", "^billing$"}, {"author", "^alice$"}}).matches(m));
  EXPECT_TRUE(testing::filter({{"count", "^42$"}}).matches(m));
  EXPECT_FALSE(testing::filter({{"app_id", "^shipping$"}}).matches(m));

  auto sink = broker_->openSink(out);
  ASSERT_TRUE(sink.has_value());
  ASSERT_TRUE((*sink)->send(*got).has_value());
  ASSERT_TRUE((*source)->ack(*got).has_value());

  auto copied = client_.py("drain " + out);
  auto original = nlohmann::json::parse(line);
  auto copy = nlohmann::json::parse(copied.out);
  EXPECT_EQ(copy["body"], original["body"]);
  EXPECT_EQ(copy["headers"], original["headers"]);
  for (const auto& [key, value] : original["properties"].items())
    EXPECT_EQ(copy["properties"][key].dump(), value.dump()) << key;
  EXPECT_TRUE(client_.drain(in).empty()) << "acked on the original";
}

TEST_F(RabbitBrokerTest, TemporaryQueueIsDeclaredLikeItsOriginal) {
  std::string original = name("quorum-orders"), temporary = "mirrord-tmp-" + id_ + "-quorum-orders";
  client_.declare(original, {{"x-queue-type", "quorum"}, {"x-max-length", 1000}});
  broker_->rabbitAdmin().setDeclare(original, *QueueDeclare::fromProperties(
                                                  {{"arguments.x-message-ttl", "60000"}}));
  ASSERT_TRUE(broker_->admin().createLike(original, temporary).has_value());
  auto described = client_.describe(temporary);
  EXPECT_EQ(described["durable"], true);
  EXPECT_EQ(described["arguments"]["x-queue-type"], "quorum");
  EXPECT_EQ(described["arguments"]["x-max-length"], 1000);
  EXPECT_EQ(described["arguments"]["x-message-ttl"], 60000);
  ASSERT_TRUE(broker_->admin().remove(temporary).has_value());
  EXPECT_TRUE(client_.describe(temporary).is_null());
}

TEST_F(RabbitBrokerTest, QueuePropertiesAreChecked) {
  auto bad = QueueDeclare::fromProperties({{"durable", "yes"}});
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().message(), "queue property durable: 'yes' is not true or false");
  auto unknown = QueueDeclare::fromProperties({{"x-queue-type", "quorum"}});
  ASSERT_FALSE(unknown.has_value());
  EXPECT_NE(unknown.error().message().find("unknown queue property 'x-queue-type'"), std::string::npos);
}

TEST_F(RabbitBrokerTest, MissingQueueIsNamed) {
  std::string missing = name("no-such-queue");
  auto described = broker_->admin().describe(missing);
  ASSERT_FALSE(described.has_value());
  EXPECT_EQ(described.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(described.error().message().find(missing + " does not exist in vhost /"), std::string::npos);
  auto source = broker_->openSource(missing, "");
  ASSERT_FALSE(source.has_value());
  EXPECT_EQ(source.error().code(), ErrorCode::kNotFound);
  // A message for a queue that is gone comes back instead of vanishing.
  auto sink = broker_->openSink(missing);
  ASSERT_TRUE(sink.has_value());
  auto sent = (*sink)->send(std::vector{testing::message({{"author", "alice"}})});
  ASSERT_FALSE(sent.has_value());
  EXPECT_EQ(sent.error().code(), ErrorCode::kNotFound);
  EXPECT_TRUE(broker_->admin().describe(name("other")).error().code() == ErrorCode::kNotFound)
      << "the admin connection stays usable after a 404";
}

TEST_F(RabbitBrokerTest, WrongPasswordAndUnreachableServerAreNamed) {
  RabbitOptions wrong = options_;
  wrong.settings.password = "not-the-password";
  auto refused = RabbitBroker::create(wrong);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), ErrorCode::kPermissionDenied);
  EXPECT_NE(refused.error().message().find("as guest"), std::string::npos) << refused.error().message();
  EXPECT_EQ(refused.error().message().find("not-the-password"), std::string::npos);

  RabbitOptions nowhere = options_;
  nowhere.settings.port = 1;  // nothing listens on port 1 of 127.0.0.1
  auto unreachable = RabbitBroker::create(nowhere);
  ASSERT_FALSE(unreachable.has_value());
  EXPECT_EQ(unreachable.error().code(), ErrorCode::kUnavailable);
  EXPECT_NE(unreachable.error().message().find("127.0.0.1:1 is unreachable"), std::string::npos);
}

TEST_F(RabbitBrokerTest, AQueueIsNotDeletedUnderItsConsumer) {
  std::string queue = name("busy");
  client_.declare(queue);
  auto source = broker_->openSource(queue, "");
  ASSERT_TRUE(source.has_value());
  auto removed = broker_->admin().remove(queue);
  ASSERT_FALSE(removed.has_value());
  EXPECT_EQ(removed.error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(removed.error().message().find("still has 1 consumers"), std::string::npos);
  source->reset();
  EXPECT_TRUE(broker_->admin().remove(queue).has_value());
  EXPECT_TRUE(client_.describe(queue).is_null());
}

TEST_F(RabbitBrokerTest, TlsWithTheServersCaAndRefusedWithoutIt) {
  std::string why;
  std::string url = testing::brokerAddress("QSPLIT_RABBITMQ_TLS_URL", &why);
  std::string ca = testing::brokerAddress("QSPLIT_RABBITMQ_CA", &why);
  QSPLIT_NEED_BROKER(why);
  auto settings = RabbitSettings::fromProperties({{"url", url}, {"tls_ca_file", ca}});
  ASSERT_TRUE(settings.has_value()) << settings.error().message();
  EXPECT_TRUE(settings->tls);
  auto broker = RabbitBroker::create({*settings});
  ASSERT_TRUE(broker.has_value()) << broker.error().message();
  std::string queue = name("over-tls");
  client_.declare(queue);
  auto sink = (*broker)->openSink(queue);
  ASSERT_TRUE(sink.has_value()) << sink.error().message();
  ASSERT_TRUE((*sink)->send(std::vector{testing::message({{"author", "alice"}}, "secret")}).has_value());
  auto got = client_.drain(queue);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].body, "secret");

  settings->ca_file.clear();  // the system's CAs do not know the test CA
  auto untrusted = RabbitBroker::create({*settings});
  ASSERT_FALSE(untrusted.has_value());
  EXPECT_EQ(untrusted.error().code(), ErrorCode::kUnavailable);
  EXPECT_NE(untrusted.error().message().find("TLS with RabbitMQ at 127.0.0.1:"), std::string::npos)
      << untrusted.error().message();
  EXPECT_NE(untrusted.error().message().find("verification failed"), std::string::npos);
}

// No server needed: a clusterProperties list becomes connection settings.
TEST(RabbitSettings, FromAPropertyList) {
  auto s = RabbitSettings::fromProperties({{"url", "amqp://app:pw@rabbit.shop:5673/orders"},
                                           {"port", "5674"}, {"management_url", "http://m:15672"}});
  ASSERT_TRUE(s.has_value()) << s.error().message();
  EXPECT_EQ(s->describe(), "rabbit.shop:5674 vhost orders as app");
  EXPECT_EQ(s->password, "pw");
  EXPECT_EQ(s->management_url, "http://m:15672");
  auto bad_port = RabbitSettings::fromProperties({{"port", "amqp"}});
  ASSERT_FALSE(bad_port.has_value());
  EXPECT_EQ(bad_port.error().message(), "property port: 'amqp' is not a port number");
  auto unknown = RabbitSettings::fromProperties({{"hostname", "x"}});
  ASSERT_FALSE(unknown.has_value());
  EXPECT_NE(unknown.error().message().find("unknown property 'hostname'"), std::string::npos);
  auto bad_url = RabbitSettings::fromProperties({{"url", "http://user:secret@x"}});
  ASSERT_FALSE(bad_url.has_value());
  EXPECT_EQ(bad_url.error().message().find("secret"), std::string::npos) << "never echoes a password";
}

}  // namespace
}  // namespace qsplit::rabbitmq
