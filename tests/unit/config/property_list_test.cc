// MirrordPropertyLists: parsing, resolution with Secrets and ConfigMaps, and the RabbitMQ
// queues a registry names.
#include "config/property_list.h"

#include <gtest/gtest.h>

#include "config/sqs_target.h"

namespace qsplit::config {
namespace {

const char* kResources = R"(apiVersion: mirrord.metalbear.co/v1
kind: MirrordPropertyList
metadata:
  name: rabbitmq-staging
  namespace: shop
spec:
  propertiesFrom:
    - configMapRef: {name: rabbitmq-defaults}
    - prefix: tls_
      secretRef: {name: rabbitmq-tls, optional: true}
  properties:
    - name: host
      value: rabbitmq.shop.svc
    - name: password
      valueFrom:
        secretKeyRef: {name: rabbitmq-credentials, key: password}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: rabbitmq-defaults, namespace: shop}
data: {host: ignored-by-the-property, port: "5672", vhost: orders}
---
apiVersion: v1
kind: Secret
metadata: {name: rabbitmq-credentials, namespace: shop}
stringData: {password: s3cret}
---
apiVersion: queues.mirrord.metalbear.co/v1alpha
kind: MirrordWorkloadQueueRegistry
metadata: {name: orders-registry, namespace: shop}
spec:
  queues:
    orders:
      queueType: RMQ
      nameSource: {envVar: ORDERS_QUEUE}
      clusterProperties: rabbitmq-staging
  consumer: {name: orders-app, workloadType: Deployment}
)";

ResourceSet parse(const std::string& yaml) {
  auto set = parseResources(yaml, "shop.yaml");
  if (!set) throw std::runtime_error(set.error().message());
  return *set;
}

TEST(PropertyList, PropertiesWinOverPropertiesFromAndSecretsAreRead) {
  auto set = parse(kResources);
  auto p = resolvePropertyList(set, "rabbitmq-staging", {"shop", "mirrord"});
  ASSERT_TRUE(p.has_value()) << p.error().message();
  EXPECT_EQ(*p, (std::map<std::string, std::string>{
                    {"host", "rabbitmq.shop.svc"}, {"port", "5672"}, {"vhost", "orders"},
                    {"password", "s3cret"}}));
}

TEST(PropertyList, MissingListAndReferencesAreNamed) {
  auto set = parse(kResources);
  auto missing = resolvePropertyList(set, "rabbitmq-prod", {"shop", "mirrord"});
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().message(),
            "MirrordPropertyList 'rabbitmq-prod' not found in namespace shop or mirrord");
  std::string text = kResources;
  text.replace(text.find("key: password"), 13, "key: passwd");
  auto key = resolvePropertyList(parse(text), "rabbitmq-staging", {"shop"});
  ASSERT_FALSE(key.has_value());
  EXPECT_EQ(key.error().message(),
            "shop.yaml: MirrordPropertyList rabbitmq-staging: spec.properties[1] (password): key "
            "'passwd' not in Secret 'rabbitmq-credentials' in namespace 'shop'");
  auto other_namespace = resolvePropertyList(set, "rabbitmq-staging", {"payments"});
  EXPECT_FALSE(other_namespace.has_value());
}

TEST(PropertyList, BadShapesAreRefusedWithTheField) {
  auto both = parseResources(R"(apiVersion: mirrord.metalbear.co/v1
kind: MirrordPropertyList
metadata: {name: l}
spec:
  properties:
    - name: host
      value: a
      valueFrom: {secretKeyRef: {name: s, key: k}}
)", "l.yaml");
  ASSERT_FALSE(both.has_value());
  EXPECT_NE(both.error().message().find("spec.properties[0]: needs exactly one of value and valueFrom"),
            std::string::npos) << both.error().message();
  auto wrong_api = parseResources("apiVersion: v1\nkind: MirrordPropertyList\nmetadata: {name: l}\n", "l.yaml");
  ASSERT_FALSE(wrong_api.has_value());
  EXPECT_NE(wrong_api.error().message().find("must have apiVersion mirrord.metalbear.co/v1"),
            std::string::npos);
}

TEST(SqsQueueConfig, ReadsSnsS3EventAndTagsAndNamesWhatItCannot) {
  auto read = sqsQueueConfig({{"sns", "true"}, {"s3_event", "false"}, {"tags", R"({"team": "memes"})"}},
                             "q");
  ASSERT_TRUE(read) << read.error().message();
  EXPECT_TRUE(read->sns);
  EXPECT_FALSE(read->s3_event);
  EXPECT_EQ(read->tags, (std::map<std::string, std::string>{{"team", "memes"}}));
  auto message = [](std::map<std::string, std::string> p) {
    auto r = sqsQueueConfig(p, "q");
    return r ? std::string("accepted") : r.error().message();
  };
  EXPECT_EQ(message({{"s3_event", "1"}}), "q: s3_event: expected \"true\" or \"false\", got \"1\"");
  EXPECT_EQ(message({{"tags", R"({"n": 1})"}}), R"(q: tags: expected a JSON object of strings, got {"n": 1})");
  EXPECT_EQ(message({{"tags", "team=memes"}}), "q: tags: expected a JSON object of strings, got team=memes");
  EXPECT_EQ(message({{"durable", "true"}}), "q: durable: not an SQS queue setting (sns, s3_event, tags)");
}

TEST(RmqTarget, TheVariableHoldsTheQueueNameAsItIs) {
  auto set = parse(kResources);
  ContainerEnv env = {{"main", {{"ORDERS_QUEUE", "orders.v2/eu"}}}};
  auto t = resolveRmqTarget(set, "orders-app", "orders", env);
  ASSERT_TRUE(t.has_value()) << t.error().message();
  ASSERT_EQ(t->queues.size(), 1u);
  EXPECT_EQ(t->queues[0].name, "orders.v2/eu");
  EXPECT_FALSE(t->queues[0].places[0].is_url);
  auto as_sqs = resolveSqsTarget(set, "orders-app", "orders", env);
  ASSERT_FALSE(as_sqs.has_value());
  EXPECT_NE(as_sqs.error().message().find("queueType: RMQ, not SQS"), std::string::npos);
}

}  // namespace
}  // namespace qsplit::config
