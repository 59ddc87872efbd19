// The custom resources qsplit reads, as immutable validated types, and how to load them
// from YAML files (the same YAML a platform team would `kubectl apply`).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "core/lifecycle.h"

namespace qsplit::config {

inline constexpr char kQueuesGroupV1Alpha[] = "queues.mirrord.metalbear.co/v1alpha";
inline constexpr char kQueuesGroupV1[] = "queues.mirrord.metalbear.co/v1";
inline constexpr char kMirrordGroupV1[] = "mirrord.metalbear.co/v1";

struct ObjectMeta {
  std::string name;
  std::string namespace_;  // empty when the file does not say
  std::string source;      // "file.yaml" for messages
};

// --- MirrordWorkloadQueueRegistry (v1alpha; SQS and RabbitMQ) ---

// Where the workload finds a queue's name: one env var, or every env var whose name
// matches a regex.
struct QueueNameSource {
  std::optional<std::string> env_var;
  std::optional<std::string> regex_pattern;
};

struct RegistryQueue {
  std::string id;
  std::string queue_type;  // "SQS", "RMQ", "RedisStream", "RedisPubSub" or "BullMQ"
  QueueNameSource name_source;
  std::optional<std::string> fallback_name;
  bool names_from_json_map = false;
  std::map<std::string, std::string> tags;
  bool sns = false;
  bool s3_event = false;
  std::string cluster_properties;  // RMQ, Redis: MirrordPropertyList with the connection
  std::optional<std::string> queue_properties;
  std::optional<QueueNameSource> exchange_source;
  // RedisStream: the variable that holds the workload's consumer group (one env var).
  std::optional<std::string> group_env;
  // GCPPubSub: the variable that holds the project of the workload's subscription (one env
  // var; appConfig.projectId), else the clientConfig's project_id.
  std::optional<std::string> project_env;
  // RedisPubSub: how the workload subscribes, the appConfig key that names it: "channel",
  // "channelPattern" or "shardChannel".
  std::string channel_mode;
};

// Whether `workload`, as a session names its target ("deployment/NAME[/CONTAINER]"), is the
// workload a resource names by kind and name. A bare NAME (local mode) matches any kind.
// Kinds compare without case, so "rollout/x" is the Rollout x and not a Deployment x.
bool sameWorkload(std::string_view kind, std::string_view name, std::string_view workload);

struct QueueConsumer {
  std::string name;
  std::optional<std::string> container;  // none: every container of the workload
  std::string workload_type;             // Deployment, Rollout or StatefulSet

  bool matches(std::string_view workload) const { return sameWorkload(workload_type, name, workload); }
  std::string target() const { return workload_type + "/" + name; }  // "Deployment/NAME"
};

// restart.waitForPods: "all" (every replica).
inline constexpr uint32_t kAllPods = UINT32_MAX;

struct WorkloadQueueRegistry {
  ObjectMeta meta;
  std::vector<RegistryQueue> queues;  // sorted by id
  QueueConsumer consumer;
  std::optional<uint32_t> workload_restart_timeout;  // seconds; default 120
  uint32_t wait_for_pods = 1;  // ready pods of the patched template that end a restart
  // How long a fallback drains after the last session ends, as a MirrordSplitConfig's
  // `drainTimeout` says (0: restore at once; core::kNoDrainLimit: while the fallback holds
  // messages, its meaning when absent there). None: the legacy resources have no such field,
  // and qsplitd's linger timeout applies.
  std::optional<Duration> drain_limit;
  // How long a split stays as it is after its last session ends, for the next session to
  // reuse with no restart (a MirrordSplitConfig's `ttl`); zero: none.
  Duration idle_ttl{};

  const RegistryQueue* findQueue(const std::string& id) const;
};

// --- MirrordKafkaTopicsConsumer and MirrordKafkaClientConfig (v1alpha) ---

struct EnvVarSource {
  std::string container;
  std::string variable;
  std::optional<std::string> fallback;
};

struct KafkaTopic {
  std::string id;
  std::vector<EnvVarSource> name_sources;
  std::vector<EnvVarSource> group_id_sources;
  std::vector<EnvVarSource> application_id_sources;
  std::string client_config;
};

struct KafkaTopicsConsumer {
  ObjectMeta meta;
  std::string consumer_api_version;
  std::string consumer_kind;
  std::string consumer_name;
  std::optional<uint32_t> consumer_restart_timeout;  // seconds; default 60
  uint32_t wait_for_pods = 1;          // as in WorkloadQueueRegistry
  std::optional<Duration> drain_limit;  // as in WorkloadQueueRegistry
  std::optional<uint32_t> split_ttl;  // seconds: as WorkloadQueueRegistry::idle_ttl
  std::vector<KafkaTopic> topics;

  const KafkaTopic* findTopic(const std::string& id) const;
  bool isFor(std::string_view workload) const {
    return sameWorkload(consumer_kind, consumer_name, workload);
  }
  std::string target() const { return consumer_kind + "/" + consumer_name; }
};

struct KafkaProperty {
  std::string name;
  std::optional<std::string> value;  // nullopt: remove the inherited property
};

struct AuthenticationExtra {
  std::string kind;  // MSK_IAM
  std::string aws_region;
};

struct KafkaClientConfig {
  ObjectMeta meta;
  std::optional<std::string> parent;
  std::vector<KafkaProperty> properties;
  std::optional<std::string> load_from_secret;  // "<namespace>/<name>"
  std::optional<AuthenticationExtra> authentication_extra;
  std::string client_implementation = "librdkafka";
};

// --- MirrordSplitConfig (v1, the current unified resource) ---

struct AppConfigRef {
  std::optional<std::string> env;
  std::optional<std::string> env_like;
  std::optional<std::string> fallback;
  std::optional<std::string> value_selector;
  std::optional<std::string> value_pattern;
  std::vector<std::string> containers;  // empty: every non-infra container
};

struct SplitQueueSpec {
  std::string id;
  std::string kind;  // sqs, kafka, rmq, ...
  std::map<std::string, std::vector<AppConfigRef>> app_config;  // "queue", "topic", "groupId", ...
  std::optional<std::string> client_config;
  std::optional<std::string> queue_config;
};

struct TargetRef {
  std::string api_version;
  std::string kind;
  std::string name;
};

struct RestartSpec {
  std::optional<std::string> strategy;
  std::optional<uint32_t> timeout;
  std::optional<uint32_t> wait_for_pods;  // a number, or kAllPods for "all"
};

struct SplitConfig {
  ObjectMeta meta;
  TargetRef target_ref;
  std::vector<SplitQueueSpec> queues;
  std::map<std::string, std::string> client_configs;
  std::optional<uint32_t> drain_timeout;  // seconds; absent: drain without limit
  std::optional<RestartSpec> restart;
  std::optional<std::string> tmp_name_template;
  std::optional<uint32_t> ttl;
};

// --- core/v1 Secret, for loadFromSecret in local mode ---

struct Secret {
  ObjectMeta meta;
  std::map<std::string, std::string> data;  // decoded from base64 `data` plus `stringData`
};

// --- core/v1 ConfigMap, for MirrordPropertyList references in local mode ---
struct ConfigMap {
  ObjectMeta meta;
  std::map<std::string, std::string> data;
};

// --- MirrordPropertyList (mirrord.metalbear.co/v1): named settings, like a container's env ---
struct PropertyRef {
  bool secret = false;  // secretKeyRef / secretRef; else configMapKeyRef / configMapRef
  std::string name;
  std::string key;  // *KeyRef only
  bool optional = false;
};
struct PropertyItem {
  std::string name;
  std::optional<std::string> value;
  std::optional<PropertyRef> value_from;  // exactly one of value and value_from
};
struct PropertiesFrom {
  std::string prefix;
  PropertyRef from;
};
struct PropertyList {
  ObjectMeta meta;
  std::vector<PropertyItem> properties;
  std::vector<PropertiesFrom> properties_from;
};

// container -> env var -> value, as the workload's pod template has them.
using ContainerEnv = std::map<std::string, std::map<std::string, std::string>>;

struct ResourceSet {
  std::vector<WorkloadQueueRegistry> registries;
  std::vector<KafkaTopicsConsumer> topics_consumers;
  std::vector<KafkaClientConfig> kafka_client_configs;
  std::vector<SplitConfig> split_configs;
  std::vector<Secret> secrets;
  std::vector<ConfigMap> config_maps;
  std::vector<PropertyList> property_lists;
  std::size_t ignored = 0;  // documents of other kinds (Deployments, ConfigMaps, ...)

  void append(ResourceSet other);
  const KafkaClientConfig* findKafkaClientConfig(const std::string& name,
                                                 const std::string& namespace_) const;
  const Secret* findSecret(const std::string& namespace_, const std::string& name) const;
  const ConfigMap* findConfigMap(const std::string& namespace_, const std::string& name) const;
  // The list `name` in the first of `namespaces` that has one (a list without a namespace, as
  // in local mode, is in every namespace).
  const PropertyList* findPropertyList(const std::string& name,
                                       const std::vector<std::string>& namespaces) const;
};

// Parses every document of one YAML text. Documents of other kinds are counted as ignored;
// ours are validated whole. Errors name `source`, the resource, the field and the line.
Result<ResourceSet> parseResources(const std::string& yaml, const std::string& source);
Result<ResourceSet> loadResourceFile(const std::string& path);
// Every *.yaml and *.yml file of a directory, in name order.
Result<ResourceSet> loadResourceDir(const std::string& dir);

}  // namespace qsplit::config
