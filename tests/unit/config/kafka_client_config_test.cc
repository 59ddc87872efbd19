#include "config/kafka_client_config.h"

#include <gtest/gtest.h>

namespace qsplit::config {
namespace {

const std::string kData = std::string(QSPLIT_SOURCE_DIR) + "/tests/testdata/resources/";

class KafkaClientConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto loaded = loadResourceFile(kData + "kafka-configs.yaml");
    ASSERT_TRUE(loaded.has_value()) << loaded.error().message();
    set_ = std::move(loaded).value();
  }
  Result<ResolvedKafkaConfig> resolve(const std::string& name) {
    return resolveKafkaClientConfig(set_, name, "mirrord", "meme-group", secretsFrom(set_));
  }
  ResourceSet set_;
};

TEST_F(KafkaClientConfigTest, ParentThenSecretThenPropertiesAndNullRemoves) {
  auto r = resolve("with-client-id");
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(r->properties, (Properties{{"bootstrap.servers", "kafka.default.svc.cluster.local:9092"},
                                       {"client.id", "mirrord-operator"},
                                       {"group.id", "meme-group"},
                                       {"ssl.ca.location", "/etc/ca.pem"}}));
  EXPECT_FALSE(r->msk_iam_region.has_value());
}

TEST_F(KafkaClientConfigTest, PriorityChildPropertyOverChildSecretOverParents) {
  auto r = resolve("msk");
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(r->properties.at("sasl.username"), "from-child-properties");  // child property wins
  EXPECT_EQ(r->properties.at("client.id"), "from-child-secret");  // child secret over parent property
  EXPECT_EQ(r->properties.at("sasl.mechanism"), "OAUTHBEARER");
  EXPECT_EQ(r->properties.at("security.protocol"), "SASL_SSL");
  EXPECT_EQ(r->msk_iam_region, "eu-south-1");
}

TEST_F(KafkaClientConfigTest, GroupIdIsAlwaysOverridden) {
  set_.kafka_client_configs[0].properties.push_back({"group.id", "users-own"});
  auto r = resolve("base-config");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->properties.at("group.id"), "meme-group");
  EXPECT_EQ(r->properties.at("message.send.max.retries"), "4");
}

TEST_F(KafkaClientConfigTest, MissingConfigParentAndSecretAreNamed) {
  EXPECT_EQ(resolve("nope").error().message(),
            "MirrordKafkaClientConfig 'nope' not found in namespace 'mirrord'");
  set_.kafka_client_configs[0].parent = "ghost";
  EXPECT_EQ(resolve("with-client-id").error().message(),
            "MirrordKafkaClientConfig 'ghost' (spec.parent of 'base-config') not found in "
            "namespace 'mirrord'");
  set_.kafka_client_configs[0].parent.reset();
  set_.secrets.clear();
  EXPECT_EQ(resolve("base-config").error().message(),
            kData + "kafka-configs.yaml: MirrordKafkaClientConfig 'base-config': "
                    "spec.loadFromSecret: Secret 'kafka-secret' not found in namespace 'mirrord'");
}

TEST_F(KafkaClientConfigTest, ParentCycleIsAnError) {
  set_.kafka_client_configs[0].parent = "msk";
  auto r = resolve("with-client-id");
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find(
                "spec.parent chain has a cycle: with-client-id -> base-config -> msk -> with-client-id"),
            std::string::npos)
      << r.error().message();
}

TEST(PropertiesFile, OneSortedLinePerProperty) {
  EXPECT_EQ(toPropertiesFile({{"b", "2"}, {"a", "1"}}), "a=1\nb=2\n");
}

}  // namespace
}  // namespace qsplit::config
