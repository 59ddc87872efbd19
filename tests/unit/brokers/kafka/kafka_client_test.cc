#include "brokers/kafka/kafka_client.h"

#include <gtest/gtest.h>

namespace qsplit::kafka {
namespace {

TEST(KafkaClient, InvalidPropertyIsNamed) {
  auto conf = makeConf({{"bootstrap.servers", "127.0.0.1:1"}, {"acks", "sometimes"}});
  ASSERT_FALSE(conf.has_value());
  EXPECT_NE(conf.error().message().find("invalid Kafka client property 'acks'"), std::string::npos)
      << conf.error().message();
}

TEST(KafkaClient, MskIamSetsOauthbearerOverTls) {
  auto p = withMskIam({{"bootstrap.servers", "b-1.msk.example:9098"}}, "eu-south-1");
  EXPECT_EQ(p.at("sasl.mechanism"), "OAUTHBEARER");
  EXPECT_EQ(p.at("security.protocol"), "SASL_SSL");
  EXPECT_EQ(p.at("sasl.oauthbearer.config"), "qsplit-msk-iam region=eu-south-1");
  // librdkafka accepts the configuration with qsplit's token refresh callback installed.
  auto conf = makeConf(p);
  ASSERT_TRUE(conf.has_value()) << conf.error().message();
  auto client = makeClient(RD_KAFKA_PRODUCER, std::move(conf).value());
  EXPECT_TRUE(client.has_value()) << (client ? "" : client.error().message());
}

TEST(KafkaClient, ErrorsAreClassified) {
  EXPECT_EQ(kafkaError(RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART, "x").code(), ErrorCode::kNotFound);
  EXPECT_EQ(kafkaError(RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS, "x").code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(kafkaError(RD_KAFKA_RESP_ERR__TRANSPORT, "x").code(), ErrorCode::kUnavailable);
  EXPECT_EQ(kafkaError(RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED, "reading t").message(),
            "reading t: Broker: Topic authorization failed");
}

}  // namespace
}  // namespace qsplit::kafka
