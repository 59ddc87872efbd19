#include "config/resources.h"

#include <gtest/gtest.h>

namespace qsplit::config {
namespace {

const std::string kData = std::string(QSPLIT_SOURCE_DIR) + "/tests/testdata/resources/";

std::string errorOf(const std::string& yaml) {
  auto r = parseResources(yaml, "bad.yaml");
  return r ? "(parsed)" : r.error().message();
}

TEST(Resources, ReadsTheReferenceExamples) {
  auto set = loadResourceFile(kData + "meme-app.yaml");
  ASSERT_TRUE(set.has_value()) << set.error().message();
  EXPECT_EQ(set->ignored, 1u);  // the Deployment
  ASSERT_EQ(set->registries.size(), 1u);
  const auto& registry = set->registries[0];
  EXPECT_EQ(registry.meta.name, "meme-app-q-registry");
  EXPECT_EQ(registry.consumer.name, "meme-app");
  EXPECT_EQ(registry.consumer.container, "main");
  ASSERT_EQ(registry.queues.size(), 2u);
  const auto* meme = registry.findQueue("meme-queue");
  ASSERT_NE(meme, nullptr);
  EXPECT_EQ(meme->queue_type, "SQS");
  EXPECT_EQ(meme->name_source.env_var, "INCOMING_MEME_QUEUE_NAME");
  EXPECT_EQ(meme->tags.at("tool"), "mirrord");

  ASSERT_EQ(set->topics_consumers.size(), 1u);
  const auto* topic = set->topics_consumers[0].findTopic("views-topic");
  ASSERT_NE(topic, nullptr);
  EXPECT_EQ(topic->client_config, "base-config");
  EXPECT_EQ(topic->group_id_sources.at(0).variable, "KAFKA_GROUP_ID");
  EXPECT_EQ(topic->name_sources.at(0).container, "consumer");
}

TEST(Resources, ReadsSplitConfigV1) {
  auto set = loadResourceFile(kData + "split-config.yaml");
  ASSERT_TRUE(set.has_value()) << set.error().message();
  ASSERT_EQ(set->split_configs.size(), 1u);
  const auto& c = set->split_configs[0];
  EXPECT_EQ(c.target_ref.name, "meme-app");
  EXPECT_EQ(c.drain_timeout, 30u);
  EXPECT_EQ(c.restart->wait_for_pods, kAllPods);
  EXPECT_EQ(c.queues.at(1).app_config.at("queue").at(0).env_like, "^MEME_.*_QUEUE$");
  EXPECT_EQ(c.client_configs.at("kafka"), "base-config");
}

TEST(Resources, LoadsADirectoryInNameOrder) {
  auto set = loadResourceDir(kData);
  ASSERT_TRUE(set.has_value()) << set.error().message();
  EXPECT_EQ(set->kafka_client_configs.size(), 3u);
  EXPECT_EQ(set->secrets.size(), 2u);
  EXPECT_EQ(set->secrets[0].data.at("client.id"), "from-parent-secret");
}

TEST(Resources, MalformedYamlNamesFileAndLine) {
  EXPECT_EQ(errorOf("kind: [unclosed\n"),
            "bad.yaml: not valid YAML: end of sequence flow not found (line 2, column 1)");
}

TEST(Resources, WrongApiVersionIsAnError) {
  EXPECT_EQ(errorOf("apiVersion: queues.mirrord.metalbear.co/v1alpha\nkind: MirrordSplitConfig\n"
                    "metadata: {name: x}\nspec: {}\n"),
            "bad.yaml: document 1: apiVersion: a MirrordSplitConfig must have apiVersion "
            "queues.mirrord.metalbear.co/v1, not 'queues.mirrord.metalbear.co/v1alpha' "
            "(line 1, column 13)");
}

const char kRegistryHead[] =
    "apiVersion: queues.mirrord.metalbear.co/v1alpha\n"
    "kind: MirrordWorkloadQueueRegistry\n"
    "metadata: {name: reg}\n"
    "spec:\n"
    "  consumer: {name: app, workloadType: Deployment}\n"
    "  queues:\n";

TEST(Resources, RegistryErrorsNameTheField) {
  EXPECT_EQ(errorOf(std::string(kRegistryHead) + "    q1: {queueType: SQS, nameSource: {}}\n"),
            "bad.yaml: MirrordWorkloadQueueRegistry reg: spec.queues.q1.nameSource: needs exactly "
            "one of envVar or regexPattern (line 7, column 38)");
  EXPECT_EQ(errorOf(std::string(kRegistryHead) + "    q1: {queueType: SNS, nameSource: {envVar: X}}\n"),
            "bad.yaml: MirrordWorkloadQueueRegistry reg: spec.queues.q1.queueType: unknown queue "
            "type 'SNS'; expected SQS or RMQ (line 7, column 21)");
  EXPECT_NE(errorOf(std::string(kRegistryHead) +
                    "    q1: {queueType: SQS, nameSource: {regexPattern: '(?!x)'}}\n")
                .find("spec.queues.q1.nameSource.regexPattern: RE2 cannot compile"),
            std::string::npos);
  EXPECT_EQ(errorOf(std::string(kRegistryHead) +
                    "    q1: {queueType: SQS, nameSource: {envVar: X}, tagz: {}}\n"),
            "bad.yaml: MirrordWorkloadQueueRegistry reg: spec.queues.q1.tagz: unknown field; "
            "expected one of clusterProperties, exchangeSource, fallbackName, nameSource, "
            "namesFromJsonMap, queueProperties, queueType, s3Event, sns, tags (line 7, column 51)");
  EXPECT_NE(errorOf(std::string(kRegistryHead) + "    q1: {queueType: RMQ, nameSource: {envVar: X}}\n")
                .find("spec.queues.q1.clusterProperties: is required"),
            std::string::npos);
}

TEST(Resources, KafkaErrorsNameTheField) {
  std::string head =
      "apiVersion: queues.mirrord.metalbear.co/v1alpha\nkind: MirrordKafkaClientConfig\n"
      "metadata: {name: c}\nspec:\n";
  EXPECT_EQ(errorOf(head + "  properties:\n  - value: x\n"),
            "bad.yaml: MirrordKafkaClientConfig c: spec.properties[0].name: is required (a "
            "string) (line 6, column 5)");
  EXPECT_NE(errorOf(head + "  properties: []\n  loadFromSecret: just-a-name\n")
                .find("spec.loadFromSecret: expected <secret-namespace>/<secret-name>"),
            std::string::npos);
  EXPECT_NE(errorOf(head + "  properties: []\n  authenticationExtra: {kind: MSK_IAM}\n")
                .find("spec.authenticationExtra.awsRegion: is required with kind MSK_IAM"),
            std::string::npos);
  EXPECT_NE(errorOf(head + "  properties: []\n  authenticationExtra: {kind: SCRAM, awsRegion: x}\n")
                .find("unsupported kind 'SCRAM'; MSK_IAM is the only one"),
            std::string::npos);
  std::string consumer =
      "apiVersion: queues.mirrord.metalbear.co/v1alpha\nkind: MirrordKafkaTopicsConsumer\n"
      "metadata: {name: tc}\nspec:\n  consumerApiVersion: apps/v1\n  consumerKind: Deployment\n"
      "  consumerName: app\n  topics:\n  - id: t\n    clientConfig: c\n"
      "    nameSources: [{directEnvVar: {container: a, variable: T}}]\n";
  EXPECT_NE(errorOf(consumer).find("spec.topics[0]: needs groupIdSources or applicationIdSources"),
            std::string::npos);
}

TEST(Resources, SplitConfigErrorsNameTheField) {
  std::string head =
      "apiVersion: queues.mirrord.metalbear.co/v1\nkind: MirrordSplitConfig\n"
      "metadata: {name: s}\nspec:\n  targetRef: {apiVersion: apps/v1, kind: Deployment, name: a}\n";
  EXPECT_NE(errorOf(head + "  queues: []\n  tmpNameTemplate: 'x-{{RANDOM}}'\n")
                .find("spec.tmpNameTemplate: name template 'x-{{RANDOM}}' lacks {{FALLBACK}}"),
            std::string::npos);
  EXPECT_NE(errorOf(head + "  queues:\n  - {id: q, kind: nats, appConfig: {}}\n")
                .find("spec.queues[0].kind: unknown kind 'nats'"),
            std::string::npos);
  EXPECT_NE(errorOf(head + "  queues:\n  - {id: q, kind: sqs, appConfig: {queue: [{fallback: x, envLike: Q}]}}\n")
                .find("spec.queues[0].appConfig.queue[0].fallback: is allowed only with env"),
            std::string::npos);
  EXPECT_NE(errorOf(head + "  queues: []\n  drainTimeout: soon\n")
                .find("spec.drainTimeout: expected a whole number of seconds"),
            std::string::npos);
}

// No field is read and then ignored: what qsplit does not honour yet is refused, naming the
// field and what qsplit does instead; the values that mean what qsplit does are accepted.
TEST(Resources, SettingsQsplitDoesNotHonourYetAreRefusedNamingTheField) {
  std::string head =
      "apiVersion: queues.mirrord.metalbear.co/v1\nkind: MirrordSplitConfig\n"
      "metadata: {name: s}\nspec:\n  targetRef: {apiVersion: apps/v1, kind: Deployment, name: a}\n"
      "  queues: []\n";
  EXPECT_NE(errorOf(head + "  restart: {strategy: isolatePods}\n")
                .find("spec.restart.strategy: isolatePods is not supported"),
            std::string::npos);
  EXPECT_NE(errorOf(head + "  restart: {waitForPods: some}\n")
                .find("spec.restart.waitForPods: expected a number or \"all\""),
            std::string::npos);
  EXPECT_NE(errorOf(head + "  ttl: -3\n").find("spec.ttl: expected a whole number of seconds"),
            std::string::npos) << errorOf(head + "  ttl: -3\n");
  for (const char* fine : {"  ttl: 0\n", "  ttl: 30\n", "  restart: {strategy: standard, waitForPods: 3}\n"}) {
    auto set = parseResources(head + fine, "good.yaml");
    EXPECT_TRUE(set.has_value()) << fine << set.error().message();
  }
}

// A MirrordSplitConfig's ttl, like a MirrordKafkaTopicsConsumer's splitTtl, keeps the split
// of every queue it declares after the last session, whatever the broker.
TEST(Resources, TtlAndSplitTtlReachEveryQueueOfTheTarget) {
  auto split = parseResources(
      "apiVersion: queues.mirrord.metalbear.co/v1\nkind: MirrordSplitConfig\n"
      "metadata: {name: s}\nspec:\n  targetRef: {apiVersion: apps/v1, kind: Deployment, name: a}\n"
      "  ttl: 30\n  queues: []\n", "split.yaml");
  ASSERT_TRUE(split.has_value()) << split.error().message();
  ASSERT_EQ(split->split_configs.size(), 1u);
  EXPECT_EQ(split->split_configs[0].ttl, 30u);
  std::string consumer =
      "apiVersion: queues.mirrord.metalbear.co/v1alpha\nkind: MirrordKafkaTopicsConsumer\n"
      "metadata: {name: c}\nspec:\n  consumerApiVersion: apps/v1\n  consumerKind: Deployment\n"
      "  consumerName: app\n  splitTtl: 60\n  topics: []\n";
  auto legacy = parseResources(consumer, "topics.yaml");
  ASSERT_TRUE(legacy.has_value()) << legacy.error().message();
  EXPECT_EQ(legacy->topics_consumers.at(0).split_ttl, 60u);
}

TEST(Resources, SecretWithBadBase64IsAnError) {
  EXPECT_NE(errorOf("apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {k: '@@@'}\n")
                .find("bad.yaml: Secret s: data.k: is not valid base64"),
            std::string::npos);
}

TEST(Resources, AWorkloadIsNamedByKindAndName) {
  EXPECT_TRUE(sameWorkload("Deployment", "orders", "deployment/orders"));
  EXPECT_TRUE(sameWorkload("Rollout", "orders", "ROLLOUT/orders/main"));  // with a container
  EXPECT_TRUE(sameWorkload("Rollout", "orders", "orders"));  // a bare name: any kind
  EXPECT_FALSE(sameWorkload("Deployment", "orders", "rollout/orders"));
  EXPECT_FALSE(sameWorkload("Deployment", "orders", "deployment/orders-2"));
  EXPECT_FALSE(sameWorkload("Deployment", "orders", "deploymentx/orders"));
  EXPECT_FALSE(sameWorkload("Deployment", "orders", "/orders"));
}

}  // namespace
}  // namespace qsplit::config
