#include "config/split_config_legacy.h"

#include <algorithm>

namespace qsplit::config {
namespace {

std::string where(const SplitConfig& c, const SplitQueueSpec& q, const std::string& field) {
  return c.meta.source + ": MirrordSplitConfig " + c.meta.name + ": queue " + q.id + ": " + field;
}

Error unsupported(const SplitConfig& c, const SplitQueueSpec& q, const std::string& field,
                  const std::string& what) {
  return Error(ErrorCode::kInvalidArgument, where(c, q, field) + ": " + what);
}

// The queue's clientConfig, else spec.clientConfigs.<its kind>.
Result<std::string> clientConfig(const SplitConfig& c, const SplitQueueSpec& q) {
  if (q.client_config) return *q.client_config;
  auto defaults = c.client_configs.find(q.kind);
  if (defaults != c.client_configs.end()) return defaults->second;
  return fail(unsupported(c, q, "clientConfig", "neither it nor spec.clientConfigs." + q.kind + " is set"));
}

// A redisPubSub queue names its channel with exactly one of these keys.
constexpr const char* kChannelKeys[] = {"channel", "channelPattern", "shardChannel"};

// The appConfig key that names the queue: for redisPubSub, the one of kChannelKeys it has.
Result<std::string> nameKey(const SplitConfig& c, const SplitQueueSpec& q) {
  if (q.kind == "redisStream") return std::string("stream");
  if (q.kind == "googlePubSub") return std::string("subscription");
  if (q.kind != "redisPubSub") return std::string("queue");
  std::string found;
  for (const char* key : kChannelKeys)
    if (q.app_config.count(key)) {
      if (!found.empty())
        return fail(unsupported(c, q, "appConfig." + std::string(key), "a redisPubSub queue has exactly one of "
                                                                       "channel, channelPattern or shardChannel, and " +
                                                                           found + " is set too"));
      found = key;
    }
  if (found.empty())
    return fail(unsupported(c, q, "appConfig", "a redisPubSub queue needs channel, channelPattern or shardChannel"));
  for (const auto& [other, refs] : q.app_config)
    if (other != found)
      return fail(unsupported(c, q, "appConfig." + other, "a redisPubSub queue reads " + found + " only"));
  if (q.queue_config) return fail(unsupported(c, q, "queueConfig", "a redisPubSub queue has no queueConfig"));
  return found;
}

// An sqs, rmq, redisStream, redisPubSub, bullMq or googlePubSub queue as a registry entry.
// `containers`: those of the target's earlier entries (a registry has one consumer container).
Result<RegistryQueue> registryQueue(const SplitConfig& c, const SplitQueueSpec& q,
                                    std::optional<std::vector<std::string>>& containers) {
  bool rmq = q.kind == "rmq", stream = q.kind == "redisStream", channel = q.kind == "redisPubSub",
       bullmq = q.kind == "bullMq", pubsub = q.kind == "googlePubSub";
  QSPLIT_ASSIGN_OR_RETURN(const std::string key, nameKey(c, q));
  auto refs = q.app_config.find(key);
  if (refs == q.app_config.end() || refs->second.size() != 1)
    return fail(unsupported(c, q, "appConfig." + key, "qsplit reads exactly one reference per queue"));
  const AppConfigRef& ref = refs->second.front();
  if (ref.value_pattern) return fail(unsupported(c, q, "appConfig." + key + "[0].valuePattern", "not read yet"));
  if (ref.value_selector && *ref.value_selector != ".[]")
    return fail(unsupported(c, q, "appConfig." + key + "[0].valueSelector", "only \".[]\" (every value of a JSON map) is read"));
  if (containers && *containers != ref.containers)
    return fail(unsupported(c, q, "appConfig." + key + "[0].containers", "every queue of one target must name the same containers"));
  containers = ref.containers;
  if (ref.containers.size() > 1)
    return fail(unsupported(c, q, "appConfig." + key + "[0].containers", "qsplit reads one container or all"));
  RegistryQueue r;
  r.id = q.id;
  r.queue_type = rmq       ? "RMQ"
                 : stream  ? "RedisStream"
                 : channel ? "RedisPubSub"
                 : bullmq  ? "BullMQ"
                 : pubsub  ? "GCPPubSub"
                           : "SQS";
  r.name_source.env_var = ref.env;
  r.name_source.regex_pattern = ref.env_like;
  r.fallback_name = ref.fallback;
  r.names_from_json_map = ref.value_selector.has_value();
  // queueConfig -> queueProperties (an SQS queue's: sns, s3_event, tags; read when planned)
  r.queue_properties = q.queue_config;
  if (channel) {  // clientConfig -> the connection
    QSPLIT_ASSIGN_OR_RETURN(r.cluster_properties, clientConfig(c, q));
    r.channel_mode = key;
    return r;
  }
  if (bullmq) {  // clientConfig -> the connection; queueConfig (dequeue_timeout, jq_time_limit): read when planned
    QSPLIT_ASSIGN_OR_RETURN(r.cluster_properties, clientConfig(c, q));
    for (const auto& [other, refs] : q.app_config)
      if (other != "queue") return fail(unsupported(c, q, "appConfig." + other, "a bullMq queue reads queue only"));
    return r;
  }
  if (pubsub) {
    // clientConfig -> the project and where it is served, else spec.clientConfigs.googlePubSub,
    // else the list named `default` (as the reference); queueConfig: read when planned
    r.cluster_properties = q.client_config ? *q.client_config
                           : c.client_configs.count(q.kind) ? c.client_configs.at(q.kind)
                                                            : std::string("default");
    if (auto project = q.app_config.find("projectId"); project != q.app_config.end()) {
      const auto& refs = project->second;
      if (refs.size() != 1 || !refs.front().env || refs.front().value_selector || refs.front().value_pattern)
        return fail(unsupported(c, q, "appConfig.projectId", "qsplit reads one env reference to the project ID"));
      r.project_env = refs.front().env;
    }
    for (const auto& [other, refs] : q.app_config)
      if (other != "subscription" && other != "projectId")
        return fail(unsupported(c, q, "appConfig." + other,
                                "not read: a googlePubSub queue reads subscription and projectId (the "
                                "subscription names its topic; qsplit publishes to the topics it creates)"));
    return r;
  }
  if (stream) {
    // clientConfig -> the connection; group -> the variable that holds the consumer group
    if (q.queue_config) return fail(unsupported(c, q, "queueConfig", "a redisStream queue has no queueConfig"));
    QSPLIT_ASSIGN_OR_RETURN(r.cluster_properties, clientConfig(c, q));
    auto group = q.app_config.find("group");
    if (group == q.app_config.end() || group->second.size() != 1 || !group->second.front().env ||
        group->second.front().value_selector || group->second.front().value_pattern)
      return fail(unsupported(c, q, "appConfig.group", "a redisStream queue needs one env reference to its consumer group"));
    r.group_env = group->second.front().env;
    for (const auto& [other, refs] : q.app_config)
      if (other != "stream" && other != "group")
        return fail(unsupported(c, q, "appConfig." + other, "a redisStream queue reads stream and group only"));
    return r;
  }
  if (!rmq) return r;
  // clientConfig -> clusterProperties, exchange -> exchangeSource
  QSPLIT_ASSIGN_OR_RETURN(r.cluster_properties, clientConfig(c, q));
  if (auto exchange = q.app_config.find("exchange"); exchange != q.app_config.end()) {
    if (exchange->second.size() != 1 || !exchange->second.front().env)
      return fail(unsupported(c, q, "appConfig.exchange", "qsplit reads one env reference"));
    r.exchange_source = QueueNameSource{exchange->second.front().env, std::nullopt};
  }
  return r;
}

// Each reference as one name source per container that reads it.
Result<std::vector<EnvVarSource>> envSources(const SplitConfig& c, const SplitQueueSpec& q,
                                             const std::string& key, const ContainerEnv& env) {
  std::vector<EnvVarSource> sources;
  auto refs = q.app_config.find(key);
  if (refs == q.app_config.end()) return sources;
  for (std::size_t i = 0; i < refs->second.size(); ++i) {
    const AppConfigRef& ref = refs->second[i];
    std::string field = "appConfig." + key + "[" + std::to_string(i) + "]";
    if (!ref.env) return fail(unsupported(c, q, field + ".envLike", "a topic reference needs env"));
    if (ref.value_selector || ref.value_pattern)
      return fail(unsupported(c, q, field, "valueSelector and valuePattern are not read for topics"));
    std::vector<std::string> containers = ref.containers;
    if (containers.empty())
      for (const auto& [container, vars] : env)
        if (vars.count(*ref.env) || ref.fallback) containers.push_back(container);
    if (containers.empty() && !env.empty()) containers.push_back(env.begin()->first);
    for (const auto& container : containers) sources.push_back({container, *ref.env, ref.fallback});
  }
  return sources;
}

Result<KafkaTopic> kafkaTopic(const SplitConfig& c, const SplitQueueSpec& q, const ContainerEnv& env) {
  KafkaTopic t;
  t.id = q.id;
  QSPLIT_ASSIGN_OR_RETURN(t.name_sources, envSources(c, q, "topic", env));
  QSPLIT_ASSIGN_OR_RETURN(t.group_id_sources, envSources(c, q, "groupId", env));
  QSPLIT_ASSIGN_OR_RETURN(t.application_id_sources, envSources(c, q, "appId", env));
  if (t.name_sources.empty()) return fail(unsupported(c, q, "appConfig.topic", "is required for a kafka queue"));
  if (t.group_id_sources.empty() == t.application_id_sources.empty())
    return fail(unsupported(c, q, "appConfig", "a kafka queue needs groupId or appId, not both"));
  QSPLIT_ASSIGN_OR_RETURN(t.client_config, clientConfig(c, q));
  return t;
}

}  // namespace

Result<LegacyResources> legacyResources(const SplitConfig& c, const ContainerEnv& env) {
  LegacyResources out;
  WorkloadQueueRegistry registry;
  registry.meta = c.meta;
  registry.consumer = {c.target_ref.name, std::nullopt, c.target_ref.kind};
  if (c.restart && c.restart->timeout) registry.workload_restart_timeout = c.restart->timeout;
  Duration drain_limit = c.drain_timeout ? Duration(std::chrono::seconds(*c.drain_timeout))
                                         : core::kNoDrainLimit;
  registry.drain_limit = drain_limit;
  uint32_t pods = c.restart && c.restart->wait_for_pods ? *c.restart->wait_for_pods : 1;
  registry.wait_for_pods = pods;
  registry.idle_ttl = std::chrono::seconds(c.ttl.value_or(0));
  KafkaTopicsConsumer consumer;
  consumer.meta = c.meta;
  consumer.consumer_api_version = c.target_ref.api_version;
  consumer.consumer_kind = c.target_ref.kind;
  consumer.consumer_name = c.target_ref.name;
  if (c.restart && c.restart->timeout) consumer.consumer_restart_timeout = c.restart->timeout;
  consumer.drain_limit = drain_limit;
  consumer.wait_for_pods = pods;
  consumer.split_ttl = c.ttl;
  std::optional<std::vector<std::string>> sqs_containers;
  for (const auto& q : c.queues) {
    if (q.kind == "sqs" || q.kind == "rmq" || q.kind == "redisStream" || q.kind == "redisPubSub" ||
        q.kind == "bullMq" || q.kind == "googlePubSub") {
      QSPLIT_ASSIGN_OR_RETURN(auto r, registryQueue(c, q, sqs_containers));
      registry.queues.push_back(std::move(r));
    } else if (q.kind == "kafka") {
      QSPLIT_ASSIGN_OR_RETURN(auto t, kafkaTopic(c, q, env));
      consumer.topics.push_back(std::move(t));
    } else {
      return fail(unsupported(c, q, "kind", "qsplit splits sqs, kafka, rmq, redisStream, redisPubSub, bullMq and googlePubSub queues, not " + q.kind));
    }
  }
  if (sqs_containers && !sqs_containers->empty()) registry.consumer.container = sqs_containers->front();
  std::sort(registry.queues.begin(), registry.queues.end(),
            [](const auto& a, const auto& b) { return a.id < b.id; });
  if (!registry.queues.empty()) out.registry = std::move(registry);
  if (!consumer.topics.empty()) out.consumer = std::move(consumer);
  return out;
}

Result<const SplitConfig*> findSplitConfig(const ResourceSet& resources, const std::string& workload) {
  const SplitConfig* found = nullptr;
  for (const auto& c : resources.split_configs) {
    if (!sameWorkload(c.target_ref.kind, c.target_ref.name, workload)) continue;
    if (found)
      return fail(ErrorCode::kFailedPrecondition,
                  "MirrordSplitConfigs " + found->meta.name + " and " + c.meta.name + " both target " +
                      workload + "; there must be at most one per workload");
    found = &c;
  }
  return found;
}

}  // namespace qsplit::config
