#include "config/split_config_legacy.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace qsplit::config {
namespace {

ResourceSet splitConfigExample() {
  auto set = loadResourceFile(std::string(QSPLIT_SOURCE_DIR) + "/tests/testdata/resources/split-config.yaml");
  EXPECT_TRUE(set.has_value()) << set.error().message();
  return std::move(set).value();
}

TEST(SplitConfigLegacy, TheDocumentedMappingBackToTheLegacyResources) {
  ResourceSet set = splitConfigExample();
  auto found = findSplitConfig(set, "deployment/meme-app");
  ASSERT_TRUE(found.has_value() && *found);
  ContainerEnv env{{"consumer", {{"KAFKA_TOPIC_NAME", "views"}, {"KAFKA_GROUP_ID", "viewers"}}},
                   {"sidecar", {{"LOG", "info"}}}};
  auto legacy = legacyResources(**found, env);
  ASSERT_TRUE(legacy.has_value()) << legacy.error().message();

  ASSERT_TRUE(legacy->registry);
  EXPECT_EQ(legacy->registry->consumer.name, "meme-app");
  EXPECT_EQ(legacy->registry->consumer.workload_type, "Deployment");
  EXPECT_EQ(legacy->registry->workload_restart_timeout, 90u);
  EXPECT_EQ(legacy->registry->wait_for_pods, kAllPods);  // restart.waitForPods: all
  EXPECT_EQ(legacy->registry->drain_limit, std::chrono::seconds(30));
  ASSERT_EQ(legacy->registry->queues.size(), 1u);
  const RegistryQueue& q = legacy->registry->queues[0];
  EXPECT_EQ(q.id, "meme-queue");
  EXPECT_EQ(q.name_source.regex_pattern, "^MEME_.*_QUEUE$");
  EXPECT_TRUE(q.names_from_json_map);  // valueSelector ".[]"

  ASSERT_TRUE(legacy->consumer);
  EXPECT_EQ(legacy->consumer->consumer_restart_timeout, 90u);
  EXPECT_EQ(legacy->consumer->wait_for_pods, kAllPods);
  EXPECT_EQ(legacy->consumer->drain_limit, std::chrono::seconds(30));
  ASSERT_EQ(legacy->consumer->topics.size(), 1u);
  const KafkaTopic& t = legacy->consumer->topics[0];
  EXPECT_EQ(t.client_config, "base-config");  // from spec.clientConfigs.kafka
  ASSERT_EQ(t.name_sources.size(), 1u);
  EXPECT_EQ(t.name_sources[0].container, "consumer");
  // groupId names no container: every container that has the variable.
  ASSERT_EQ(t.group_id_sources.size(), 1u);
  EXPECT_EQ(t.group_id_sources[0].container, "consumer");
  EXPECT_EQ(t.group_id_sources[0].variable, "KAFKA_GROUP_ID");
}

TEST(SplitConfigLegacy, ARedisStreamIsARegistryQueueWithItsGroupVariable) {
  auto set = loadResourceFile(std::string(QSPLIT_SOURCE_DIR) + "/tests/testdata/resources/split-config-redis.yaml");
  ASSERT_TRUE(set.has_value()) << set.error().message();
  auto legacy = legacyResources(set->split_configs[0], {{"app", {{"ORDERS_STREAM", "orders"}}}});
  ASSERT_TRUE(legacy.has_value()) << legacy.error().message();
  ASSERT_TRUE(legacy->registry);
  const RegistryQueue& q = legacy->registry->queues.at(0);
  EXPECT_EQ(q.queue_type, "RedisStream");
  EXPECT_EQ(q.name_source.env_var, "ORDERS_STREAM");
  EXPECT_EQ(q.group_env, "ORDERS_GROUP");
  EXPECT_EQ(q.cluster_properties, "redis-main");  // from spec.clientConfigs.redisStream

  SplitConfig c = set->split_configs[0];
  c.queues[0].app_config.erase("group");
  EXPECT_EQ(legacyResources(c, {}).error().message(),
            c.meta.source + ": MirrordSplitConfig orders-app: queue orders: appConfig.group: a redisStream "
                            "queue needs one env reference to its consumer group");
  c = set->split_configs[0];
  c.client_configs.clear();
  EXPECT_NE(legacyResources(c, {}).error().message().find(
                "clientConfig: neither it nor spec.clientConfigs.redisStream is set"),
            std::string::npos);
}

TEST(SplitConfigLegacy, AKafkaStreamsAppIdBecomesApplicationIdSources) {
  ResourceSet set = splitConfigExample();
  SplitConfig c = set.split_configs[0];
  auto& kafka = *std::find_if(c.queues.begin(), c.queues.end(),
                              [](const auto& q) { return q.kind == "kafka"; });
  kafka.app_config["appId"] = kafka.app_config.at("groupId");
  auto both = legacyResources(c, {{"consumer", {{"KAFKA_GROUP_ID", "viewers"}}}});
  ASSERT_FALSE(both.has_value());
  EXPECT_NE(both.error().message().find("appConfig: a kafka queue needs groupId or appId, not both"),
            std::string::npos) << both.error().message();
  kafka.app_config.erase("groupId");
  auto streams = legacyResources(c, {{"consumer", {{"KAFKA_GROUP_ID", "viewers"}}}});
  ASSERT_TRUE(streams.has_value()) << streams.error().message();
  const KafkaTopic& t = streams->consumer->topics[0];
  EXPECT_TRUE(t.group_id_sources.empty());
  ASSERT_EQ(t.application_id_sources.size(), 1u);
  EXPECT_EQ(t.application_id_sources[0].variable, "KAFKA_GROUP_ID");
}

TEST(SplitConfigLegacy, NoConfigTwoConfigsAndUnreadFieldsAreClear) {
  ResourceSet set = splitConfigExample();
  EXPECT_EQ(*findSplitConfig(set, "deployment/other"), nullptr);
  EXPECT_EQ(*findSplitConfig(set, "statefulset/meme-app"), nullptr);
  set.split_configs.push_back(set.split_configs[0]);
  set.split_configs.back().meta.name = "second";
  auto two = findSplitConfig(set, "deployment/meme-app");
  ASSERT_FALSE(two.has_value());
  EXPECT_EQ(two.error().message(),
            "MirrordSplitConfigs meme-app and second both target deployment/meme-app; there must be "
            "at most one per workload");

  SplitConfig c = set.split_configs[0];
  c.queues[0].kind = "azureServiceBus";
  auto azure = legacyResources(c, {});
  ASSERT_FALSE(azure.has_value());
  EXPECT_NE(azure.error().message().find(
                "queue views-topic: kind: qsplit splits sqs, kafka, rmq, redisStream, redisPubSub, bullMq and "
                "googlePubSub queues, not azureServiceBus"),
            std::string::npos) << azure.error().message();
}

TEST(SplitConfigLegacy, ARedisPubSubQueueNamesHowTheWorkloadSubscribes) {
  auto parse = [](const std::string& app_config) {
    return parseResources(R"(apiVersion: queues.mirrord.metalbear.co/v1
kind: MirrordSplitConfig
metadata: {name: events-split}
spec:
  targetRef: {apiVersion: apps/v1, kind: Deployment, name: events}
  clientConfigs: {redisPubSub: redis-staging}
  queues:
    - id: events
      kind: redisPubSub
      appConfig: )" + app_config + "\n", "split.yaml");
  };
  for (const char* key : {"channel", "channelPattern", "shardChannel"}) {
    auto set = parse(std::string("{") + key + ": [{env: EVENTS}]}");
    ASSERT_TRUE(set.has_value()) << set.error().message();
    auto legacy = legacyResources(set->split_configs[0], {});
    ASSERT_TRUE(legacy.has_value()) << legacy.error().message();
    const RegistryQueue& q = legacy->registry->queues.at(0);
    EXPECT_EQ(q.queue_type, "RedisPubSub");
    EXPECT_EQ(q.channel_mode, key);
    EXPECT_EQ(q.name_source.env_var, "EVENTS");
    EXPECT_EQ(q.cluster_properties, "redis-staging");  // from spec.clientConfigs.redisPubSub
  }
  auto error = [&](const std::string& app_config) {
    auto set = parse(app_config);
    EXPECT_TRUE(set.has_value()) << set.error().message();
    auto legacy = legacyResources(set->split_configs[0], {});
    return legacy ? std::string("accepted") : legacy.error().message();
  };
  EXPECT_EQ(error("{channel: [{env: A}], shardChannel: [{env: B}]}"),
            "split.yaml: MirrordSplitConfig events-split: queue events: appConfig.shardChannel: a redisPubSub "
            "queue has exactly one of channel, channelPattern or shardChannel, and channel is set too");
  EXPECT_EQ(error("{queue: [{env: A}]}"),
            "split.yaml: MirrordSplitConfig events-split: queue events: appConfig: a redisPubSub queue needs "
            "channel, channelPattern or shardChannel");
  EXPECT_EQ(error("{channel: [{env: A}], group: [{env: G}]}"),
            "split.yaml: MirrordSplitConfig events-split: queue events: appConfig.group: a redisPubSub queue "
            "reads channel only");
}

TEST(SplitConfigLegacy, AGooglePubSubQueueNamesItsSubscriptionAndItsClientConfig) {
  auto parse = [](const std::string& client_configs, const std::string& queue) {
    return parseResources(R"(apiVersion: queues.mirrord.metalbear.co/v1
kind: MirrordSplitConfig
metadata: {name: orders-split}
spec:
  targetRef: {apiVersion: apps/v1, kind: Deployment, name: orders}
)" + client_configs + R"(
  queues:
    - id: orders
      kind: googlePubSub
)" + queue + "\n", "split.yaml");
  };
  auto planned = [&](const std::string& client_configs, const std::string& queue) {
    auto set = parse(client_configs, queue);
    EXPECT_TRUE(set.has_value()) << set.error().message();
    auto legacy = legacyResources(set->split_configs[0], {});
    if (!legacy) return std::pair<std::string, RegistryQueue>(legacy.error().message(), {});
    return std::pair<std::string, RegistryQueue>("", legacy->registry->queues.at(0));
  };
  auto [own, q] = planned("", "      appConfig: {subscription: [{env: ORDERS_SUB}]}\n      clientConfig: gcp-orders\n"
                              "      queueConfig: short-acks");
  ASSERT_EQ(own, "");
  EXPECT_EQ(q.queue_type, "GCPPubSub");
  EXPECT_EQ(q.name_source.env_var, "ORDERS_SUB");
  EXPECT_EQ(q.cluster_properties, "gcp-orders");
  EXPECT_EQ(q.queue_properties, "short-acks");
  EXPECT_EQ(planned("  clientConfigs: {googlePubSub: gcp-staging}", "      appConfig: {subscription: [{env: S}]}")
                .second.cluster_properties,
            "gcp-staging");
  EXPECT_EQ(planned("", "      appConfig: {subscription: [{env: S}]}").second.cluster_properties, "default")
      << "as the reference: the list named default";
  EXPECT_EQ(planned("", "      appConfig: {subscription: [{env: S}], projectId: [{env: P}]}").second.project_env, "P");
  EXPECT_EQ(planned("", "      appConfig: {subscription: [{env: S}], projectId: [{env: P}, {env: Q}]}").first,
            "split.yaml: MirrordSplitConfig orders-split: queue orders: appConfig.projectId: qsplit reads one env "
            "reference to the project ID");
  EXPECT_EQ(planned("", "      appConfig: {subscription: [{env: S}], topic: [{env: T}]}").first,
            "split.yaml: MirrordSplitConfig orders-split: queue orders: appConfig.topic: not read: a googlePubSub "
            "queue reads subscription and projectId (the subscription names its topic; qsplit publishes to the "
            "topics it creates)");
  EXPECT_EQ(planned("", "      appConfig: {topic: [{env: T}]}").first,
            "split.yaml: MirrordSplitConfig orders-split: queue orders: appConfig.subscription: qsplit reads exactly "
            "one reference per queue");
}

TEST(SplitConfigLegacy, ABullmqQueueNamesItsQueueConnectionAndQueueConfig) {
  auto parse = [](const std::string& queue) {
    return parseResources(R"(apiVersion: queues.mirrord.metalbear.co/v1
kind: MirrordSplitConfig
metadata: {name: jobs-split}
spec:
  targetRef: {apiVersion: apps/v1, kind: Deployment, name: jobs}
  clientConfigs: {bullMq: redis-staging}
  queues:
    - id: emails
      kind: bullMq
)" + queue + "\n", "split.yaml");
  };
  auto set = parse("      appConfig: {queue: [{env: EMAIL_QUEUE}]}\n      queueConfig: bullmq-tuning");
  ASSERT_TRUE(set.has_value()) << set.error().message();
  auto legacy = legacyResources(set->split_configs[0], {});
  ASSERT_TRUE(legacy.has_value()) << legacy.error().message();
  const RegistryQueue& q = legacy->registry->queues.at(0);
  EXPECT_EQ(q.queue_type, "BullMQ");
  EXPECT_EQ(q.name_source.env_var, "EMAIL_QUEUE");
  EXPECT_EQ(q.cluster_properties, "redis-staging");  // from spec.clientConfigs.bullMq
  EXPECT_EQ(q.queue_properties, "bullmq-tuning");    // dequeue_timeout, jq_time_limit: read when planned
  set = parse("      appConfig: {queue: [{env: Q}], group: [{env: G}]}");
  ASSERT_TRUE(set.has_value()) << set.error().message();
  legacy = legacyResources(set->split_configs[0], {});
  ASSERT_FALSE(legacy.has_value());
  EXPECT_EQ(legacy.error().message(),
            "split.yaml: MirrordSplitConfig jobs-split: queue emails: appConfig.group: a bullMq queue reads queue only");
}

TEST(SplitConfigLegacy, AnRmqQueueBecomesARegistryEntryWithItsPropertyLists) {
  auto set = parseResources(R"(apiVersion: queues.mirrord.metalbear.co/v1
kind: MirrordSplitConfig
metadata: {name: orders-split}
spec:
  targetRef: {apiVersion: apps/v1, kind: Deployment, name: orders}
  clientConfigs: {rmq: rabbitmq-staging}
  queues:
    - id: orders
      kind: rmq
      queueConfig: quorum-queues
      appConfig:
        queue: [{env: ORDERS_QUEUE, containers: [main]}]
)", "split.yaml");
  ASSERT_TRUE(set.has_value()) << set.error().message();
  auto legacy = legacyResources(set->split_configs[0], {});
  ASSERT_TRUE(legacy.has_value()) << legacy.error().message();
  ASSERT_TRUE(legacy->registry);
  const RegistryQueue& q = legacy->registry->queues.at(0);
  EXPECT_EQ(q.queue_type, "RMQ");
  EXPECT_EQ(q.name_source.env_var, "ORDERS_QUEUE");
  EXPECT_EQ(q.cluster_properties, "rabbitmq-staging");  // from spec.clientConfigs.rmq
  EXPECT_EQ(q.queue_properties, "quorum-queues");
  EXPECT_EQ(legacy->registry->consumer.container, "main");
  set->split_configs[0].client_configs.clear();
  auto no_client = legacyResources(set->split_configs[0], {});
  ASSERT_FALSE(no_client.has_value());
  EXPECT_NE(no_client.error().message().find("clientConfig: neither it nor spec.clientConfigs.rmq is set"),
            std::string::npos);
}

}  // namespace
}  // namespace qsplit::config
