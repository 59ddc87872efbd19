#include "config/kafka_target.h"

#include <gtest/gtest.h>

namespace qsplit::config {
namespace {

const std::string kData = std::string(QSPLIT_SOURCE_DIR) + "/tests/testdata/resources/";

class KafkaTargetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto loaded = loadResourceDir(kData);
    ASSERT_TRUE(loaded.has_value()) << loaded.error().message();
    set_ = std::move(loaded).value();
    // The example consumer names base-config, which lives in the operator namespace.
    set_.kafka_client_configs[0].meta.namespace_ = "mirrord";
  }
  Result<KafkaTarget> resolve(const std::string& id, const ContainerEnv& env) {
    return resolveKafkaTarget(set_, "meme-app", id, env, "mirrord", secretsFrom(set_));
  }
  ResourceSet set_;
  ContainerEnv env_{{"consumer", {{"KAFKA_TOPIC_NAME", "views"}, {"KAFKA_GROUP_ID", "meme-group"}}}};
};

TEST_F(KafkaTargetTest, ReadsTopicGroupAndClientConfigFromTheWorkload) {
  auto t = resolve("views-topic", env_);
  ASSERT_TRUE(t.has_value()) << t.error().message();
  EXPECT_EQ(t->topic, "views");
  EXPECT_EQ(t->group_id, "meme-group");
  EXPECT_FALSE(t->streams);
  EXPECT_EQ(t->client.properties.at("group.id"), "meme-group");
  EXPECT_EQ(t->client.properties.at("bootstrap.servers"), "kafka.default.svc.cluster.local:9092");
}

TEST_F(KafkaTargetTest, AKafkaStreamsAppIsReadAsItsApplicationId) {
  auto& topic = set_.topics_consumers[0].topics[0];
  topic.application_id_sources = {{"consumer", "APPLICATION_ID", std::nullopt}};
  topic.group_id_sources.clear();
  env_["consumer"]["APPLICATION_ID"] = "meme-streams";
  auto t = resolve("views-topic", env_);
  ASSERT_TRUE(t.has_value()) << t.error().message();
  EXPECT_TRUE(t->streams);
  EXPECT_EQ(t->group_id, "meme-streams");
  EXPECT_EQ(t->client.properties.at("group.id"), "meme-streams");
  env_["consumer"].erase("APPLICATION_ID");
  EXPECT_NE(resolve("views-topic", env_).error().message().find(
                "spec.topics[id=views-topic]: applicationIdSources[0].directEnvVar: env var "
                "APPLICATION_ID not found"),
            std::string::npos);
}

TEST_F(KafkaTargetTest, UnknownTopicIdListsTheDeclaredOnes) {
  EXPECT_EQ(resolve("clicks", env_).error().message(),
            "topic id 'clicks' is not declared for meme-app (declared: views-topic)");
  EXPECT_EQ(resolveKafkaTarget(set_, "other-app", "views-topic", env_, "mirrord", secretsFrom(set_))
                .error()
                .message(),
            "no MirrordKafkaTopicsConsumer has consumerName other-app");
}

TEST_F(KafkaTargetTest, MissingVariableIsNamedUnlessAFallbackIsGiven) {
  ContainerEnv no_topic{{"consumer", {{"KAFKA_GROUP_ID", "g"}}}};
  auto r = resolve("views-topic", no_topic);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message(),
            kData + "meme-app.yaml: MirrordKafkaTopicsConsumer meme-app-topics-consumer: "
                    "spec.topics[id=views-topic]: nameSources[0].directEnvVar: env var "
                    "KAFKA_TOPIC_NAME not found in container 'consumer' and no fallback is given");
  set_.topics_consumers[0].topics[0].name_sources[0].fallback = "views-default";
  EXPECT_EQ(resolve("views-topic", no_topic)->topic, "views-default");
}

TEST_F(KafkaTargetTest, DisagreeingSourcesAreAnError) {
  set_.topics_consumers[0].topics[0].name_sources.push_back({"sidecar", "TOPIC", std::nullopt});
  env_["sidecar"]["TOPIC"] = "clicks";
  auto r = resolve("views-topic", env_);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("nameSources[1].directEnvVar: TOPIC=clicks disagrees with the "
                                     "other sources (views)"),
            std::string::npos)
      << r.error().message();
}

}  // namespace
}  // namespace qsplit::config
