// Finding the SQS queues a registry entry names in a workload's environment.
#include "config/sqs_target.h"

#include <gtest/gtest.h>

namespace qsplit::config {
namespace {

ResourceSet parse(const std::string& queues, const std::string& container = "") {
  std::string yaml = "apiVersion: queues.mirrord.metalbear.co/v1alpha\n"
                     "kind: MirrordWorkloadQueueRegistry\n"
                     "metadata:\n  name: orders-registry\n"
                     "spec:\n  queues:\n" + queues +
                     "  consumer:\n    name: orders-app\n    workloadType: Deployment\n" +
                     (container.empty() ? "" : "    container: " + container + "\n");
  auto set = parseResources(yaml, "registry.yaml");
  if (!set) throw std::runtime_error(set.error().message());
  return *set;
}

TEST(SqsTarget, NameUrlAndSeveralContainers) {
  auto set = parse("    orders:\n      queueType: SQS\n      nameSource:\n        envVar: ORDERS\n"
                   "      tags:\n        team: payments\n");
  ContainerEnv env = {{"main", {{"ORDERS", "https://sqs.eu-west-1.amazonaws.com/123456789012/orders"}}},
                      {"sidecar", {{"ORDERS", "orders"}, {"OTHER", "x"}}}};
  auto t = resolveSqsTarget(set, "orders-app", "orders", env);
  ASSERT_TRUE(t.has_value()) << t.error().message();
  ASSERT_EQ(t->queues.size(), 1u);
  EXPECT_EQ(t->queues[0].name, "orders");
  EXPECT_EQ(t->queues[0].url, "https://sqs.eu-west-1.amazonaws.com/123456789012/orders");
  ASSERT_EQ(t->queues[0].places.size(), 2u);
  EXPECT_TRUE(t->queues[0].places[0].is_url);
  EXPECT_EQ(t->queues[0].places[1].container, "sidecar");
  EXPECT_FALSE(t->queues[0].places[1].is_url);
  EXPECT_EQ(t->tags.at("team"), "payments");
}

TEST(SqsTarget, RegexPatternSplitsEveryMatchingVariable) {
  auto set = parse("    all:\n      queueType: SQS\n      nameSource:\n        regexPattern: \"^SQS_.*_QUEUE$\"\n",
                   "main");
  ContainerEnv env = {{"main", {{"SQS_ORDERS_QUEUE", "orders"}, {"SQS_REFUNDS_QUEUE", "refunds.fifo"},
                                {"SQS_REGION", "eu-west-1"}}},
                      {"other", {{"SQS_X_QUEUE", "not-this-container"}}}};
  auto t = resolveSqsTarget(set, "orders-app", "all", env);
  ASSERT_TRUE(t.has_value()) << t.error().message();
  ASSERT_EQ(t->queues.size(), 2u);
  EXPECT_EQ(t->queues[0].name, "orders");
  EXPECT_EQ(t->queues[1].name, "refunds.fifo");
  EXPECT_EQ(t->queues[1].places[0].variable, "SQS_REFUNDS_QUEUE");
}

TEST(SqsTarget, NamesFromJsonMapTakesEveryStringValue) {
  auto set = parse("    map:\n      queueType: SQS\n      nameSource:\n        envVar: QUEUES\n"
                   "      namesFromJsonMap: true\n");
  ContainerEnv env = {{"main", {{"QUEUES", R"({"in": "orders", "out": "https://sqs.us-east-1.amazonaws.com/1/receipts", "n": 3})"}}}};
  auto t = resolveSqsTarget(set, "orders-app", "map", env);
  ASSERT_TRUE(t.has_value()) << t.error().message();
  ASSERT_EQ(t->queues.size(), 2u);
  EXPECT_EQ(t->queues[0].name, "orders");
  EXPECT_EQ(*t->queues[0].places[0].json_key, "in");
  EXPECT_EQ(t->queues[1].name, "receipts");
  EXPECT_TRUE(t->queues[1].places[0].is_url);

  env["main"]["QUEUES"] = "orders";
  EXPECT_EQ(resolveSqsTarget(set, "orders-app", "map", env).error().message(),
            "registry.yaml: MirrordWorkloadQueueRegistry orders-registry: spec.queues.map."
            "namesFromJsonMap: main/QUEUES is not a JSON object of queue names: orders");
}

TEST(SqsTarget, FallbackNameStandsInForAMissingVariable) {
  auto set = parse("    orders:\n      queueType: SQS\n      nameSource:\n        envVar: ORDERS\n"
                   "      fallbackName: orders-default\n", "main");
  auto t = resolveSqsTarget(set, "orders-app", "orders", {{"main", {}}});
  ASSERT_TRUE(t.has_value()) << t.error().message();
  EXPECT_EQ(t->queues[0].name, "orders-default");
  EXPECT_TRUE(t->queues[0].places[0].added);
  EXPECT_EQ(t->queues[0].places[0].variable, "ORDERS");
}

TEST(SqsTarget, ErrorsNameTheResourceAndField) {
  auto set = parse("    orders:\n      queueType: SQS\n      nameSource:\n        envVar: ORDERS\n"
                   "    rabbit:\n      queueType: RMQ\n      clusterProperties: rmq\n"
                   "      nameSource:\n        envVar: Q\n");
  ContainerEnv env = {{"main", {{"ORDERS", "https://example.com"}}}};
  EXPECT_EQ(resolveSqsTarget(set, "orders-app", "memes", env).error().message(),
            "queue id 'memes' is not declared for orders-app (declared: orders, rabbit)");
  EXPECT_EQ(resolveSqsTarget(set, "nobody", "orders", env).error().message(),
            "no MirrordWorkloadQueueRegistry has consumer nobody");
  std::string where = "registry.yaml: MirrordWorkloadQueueRegistry orders-registry: spec.queues.";
  EXPECT_EQ(resolveSqsTarget(set, "orders-app", "orders", env).error().message(),
            where + "orders.nameSource (main/ORDERS): \"https://example.com\" is a URL but not an SQS "
                    "queue URL (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME)");
  EXPECT_EQ(resolveSqsTarget(set, "orders-app", "orders", {{"main", {}}}).error().message(),
            where + "orders.nameSource: env var ORDERS is not set in any container and no "
                    "fallbackName is given");
  EXPECT_EQ(resolveSqsTarget(set, "orders-app", "rabbit", env).error().message(),
            where + "rabbit.queueType: RMQ, not SQS (this target splits SQS queues)");
}

TEST(SqsTarget, ARegistryIsChosenByTheTargetsKindAndName) {
  // A Deployment and an Argo Rollout may share a name; each has its own registry.
  std::string registry = "apiVersion: queues.mirrord.metalbear.co/v1alpha\n"
                         "kind: MirrordWorkloadQueueRegistry\n"
                         "metadata:\n  name: orders-{kind}\n"
                         "spec:\n  queues:\n    orders:\n      queueType: SQS\n"
                         "      nameSource:\n        envVar: {var}\n"
                         "  consumer:\n    name: orders-app\n    workloadType: {Kind}\n";
  auto render = [&](const std::string& kind, const std::string& Kind, const std::string& var) {
    std::string out = registry;
    for (auto [key, value] : {std::pair{"{kind}", kind}, {"{Kind}", Kind}, {"{var}", var}})
      for (auto at = out.find(key); at != std::string::npos; at = out.find(key))
        out.replace(at, std::string(key).size(), value);
    return out;
  };
  auto set = parseResources(render("rollout", "Rollout", "FROM_ROLLOUT") + "---\n" +
                                render("deployment", "Deployment", "FROM_DEPLOYMENT"),
                            "registries.yaml");
  ASSERT_TRUE(set.has_value()) << set.error().message();
  ContainerEnv env = {{"main", {{"FROM_ROLLOUT", "r-queue"}, {"FROM_DEPLOYMENT", "d-queue"}}}};
  auto rollout = resolveSqsTarget(*set, "rollout/orders-app", "orders", env);
  ASSERT_TRUE(rollout.has_value()) << rollout.error().message();
  EXPECT_EQ(rollout->queues.at(0).name, "r-queue");
  auto deployment = resolveSqsTarget(*set, "Deployment/orders-app/main", "orders", env);
  ASSERT_TRUE(deployment.has_value()) << deployment.error().message();
  EXPECT_EQ(deployment->queues.at(0).name, "d-queue");
  EXPECT_EQ(resolveSqsTarget(*set, "statefulset/orders-app", "orders", env).error().message(),
            "no MirrordWorkloadQueueRegistry has consumer statefulset/orders-app");
}

}  // namespace
}  // namespace qsplit::config
