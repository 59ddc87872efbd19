// SessionManager::plan: what a session start does to each original queue or topic of its
// target, resolved from the custom resources and the workload's environment.

#include <algorithm>
#include <charconv>

#include "config/property_list.h"
#include "config/split_config_legacy.h"
#include "control/sessions_internal.h"

namespace qsplit::control {
namespace {

std::optional<config::QueueType> registryType(const std::string& queue_type) {
  if (queue_type == "SQS") return config::QueueType::kSqs;
  if (queue_type == "RMQ") return config::QueueType::kRmq;
  if (queue_type == "RedisStream") return config::QueueType::kRedisStream;
  if (queue_type == "RedisPubSub") return config::QueueType::kRedisPubSub;
  if (queue_type == "BullMQ") return config::QueueType::kBullMQ;
  if (queue_type == "GCPPubSub") return config::QueueType::kGcpPubSub;
  return std::nullopt;
}

// A bullMq queue's queueConfig, as the reference documents it: `dequeue_timeout`, the seconds
// one wait for a job lasts before qsplit looks again (5), and `jq_time_limit`, the
// milliseconds one jq_filter evaluation of a job may take.
struct BullmqQueueConfig {
  std::chrono::seconds dequeue_timeout{5};
  std::optional<std::chrono::milliseconds> jq_time_limit;
};

Result<BullmqQueueConfig> bullmqQueueConfig(const std::map<std::string, std::string>& properties,
                                            const std::string& where) {
  BullmqQueueConfig c;
  for (const auto& [key, value] : properties) {
    int64_t n = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
    bool number = ec == std::errc() && end == value.data() + value.size() && n >= 1;
    if (key == "dequeue_timeout" || key == "jq_time_limit") {
      if (!number)
        return fail(ErrorCode::kInvalidArgument, where + "queueConfig: " + key + ": '" + value +
                                                     "' is not a whole number of " +
                                                     (key == "jq_time_limit" ? "milliseconds" : "seconds") + " from 1");
      if (key == "dequeue_timeout") c.dequeue_timeout = std::chrono::seconds(n);
      else c.jq_time_limit = std::chrono::milliseconds(n);
      continue;
    }
    return fail(ErrorCode::kInvalidArgument, where + "queueConfig: " + key +
                                                 ": not a bullMq setting (dequeue_timeout, jq_time_limit)");
  }
  return c;
}

// exchangeSource: every variable it names (in the consumer's container, when the registry
// names one) becomes a place of the queue that holds a dummy exchange instead.
Result<void> addExchangePlaces(const config::WorkloadQueueRegistry& registry,
                               const config::RegistryQueue& q, const config::ContainerEnv& env,
                               const std::string& where, config::SqsTarget& target) {
  if (target.queues.size() != 1)
    return fail(ErrorCode::kInvalidArgument,
                where + "exchangeSource: it goes with one queue, and nameSource names " +
                    std::to_string(target.queues.size()));
  QSPLIT_ASSIGN_OR_RETURN(auto found,
                          config::readNameSource(*q.exchange_source, "exchangeSource", nullptr,
                                                 registry.consumer.container, env, where));
  for (auto& f : found) {
    config::SqsNamePlace place;
    place.container = std::move(f.container);
    place.variable = std::move(f.variable);
    place.exchange = true;
    target.queues.front().places.push_back(std::move(place));
  }
  return ok();
}

}  // namespace

// A plan for one original of registry queue `q`, with what the registry says of restarts,
// drains and TTLs.
SessionManager::Plan SessionManager::registryPlan(const config::WorkloadQueueRegistry& registry, const config::RegistryQueue& q,
                                  config::QueueType type, core::Broker* broker, std::string journal,
                                  config::SqsOriginal original) {
  Plan p;
  p.queue_id = q.id;
  p.type = type;
  p.broker = broker;
  p.journal = std::move(journal);
  p.original = std::move(original);
  p.restart_timeout = std::chrono::seconds(registry.workload_restart_timeout.value_or(120));
  p.linger = registry.drain_limit;
  p.ttl = registry.idle_ttl;
  p.wait_for_pods = registry.wait_for_pods;
  return p;
}

Result<std::shared_ptr<const config::ResourceSet>> SessionManager::resourcesFor(
    const std::string& workload, const config::ContainerEnv& env) {
  auto resources = resources_();
  for (const auto& r : resources->registries)
    if (r.consumer.matches(workload)) return resources;
  for (const auto& c : resources->topics_consumers)
    if (c.isFor(workload)) return resources;
  QSPLIT_ASSIGN_OR_RETURN(const config::SplitConfig* split_config,
                          config::findSplitConfig(*resources, workload));
  if (!split_config) return resources;
  QSPLIT_ASSIGN_OR_RETURN(auto legacy, config::legacyResources(*split_config, env));
  auto extended = std::make_shared<config::ResourceSet>(*resources);
  if (legacy.registry) extended->registries.push_back(std::move(*legacy.registry));
  if (legacy.consumer) extended->topics_consumers.push_back(std::move(*legacy.consumer));
  return std::shared_ptr<const config::ResourceSet>(std::move(extended));
}

Result<std::vector<SessionManager::Plan>> SessionManager::plan(const config::UserConfig& user,
                                                               const std::string& workload,
                                                               const config::ContainerEnv& env) {
  QSPLIT_ASSIGN_OR_RETURN(auto resources, resourcesFor(workload, env));
  std::string name = workload.substr(workload.find('/') + 1);
  const config::WorkloadQueueRegistry* registry = nullptr;
  for (const auto& r : resources->registries)
    if (r.consumer.matches(workload)) registry = &r;
  const config::KafkaTopicsConsumer* consumer = nullptr;
  for (const auto& c : resources->topics_consumers)
    if (c.isFor(workload)) consumer = &c;
  if (!registry && !consumer)
    return fail(ErrorCode::kNotFound, "no MirrordWorkloadQueueRegistry or MirrordKafkaTopicsConsumer "
                                      "has consumer " + name + ", and no MirrordSplitConfig targets " +
                                      workload);
  // Every queue id the user names must be declared for the target, with its type.
  std::vector<std::pair<std::string, config::QueueType>> declared;
  if (registry)
    for (const auto& q : registry->queues)
      if (auto type = registryType(q.queue_type)) declared.emplace_back(q.id, *type);
  if (consumer)
    for (const auto& t : consumer->topics) declared.emplace_back(t.id, config::QueueType::kKafka);
  for (const auto& s : user.splits) {
    if (s.queue_id == "*" ||
        std::find(declared.begin(), declared.end(), std::pair{s.queue_id, s.type}) != declared.end())
      continue;
    std::string list;
    for (const auto& [id, type] : declared)
      list += (list.empty() ? "" : ", ") + id + " (" + config::queueTypeName(type) + ")";
    return fail(ErrorCode::kInvalidArgument,
                user.source + ": feature.split_queues: queue id '" + s.queue_id + "' (" +
                    config::queueTypeName(s.type) + ") is not declared for " + workload +
                    " (declared: " + list + ")");
  }
  std::vector<Plan> plans;
  if (registry) QSPLIT_TRY(planSqs(*resources, *registry, user, env, plans));
  if (consumer) QSPLIT_TRY(planKafka(*resources, *consumer, user, env, plans));
  return plans;
}

Result<void> SessionManager::planSqs(const config::ResourceSet& resources,
                                     const config::WorkloadQueueRegistry& registry,
                                     const config::UserConfig& user, const config::ContainerEnv& env,
                                     std::vector<Plan>& plans) {
  for (const auto& q : registry.queues) {
    if (q.queue_type != "SQS") {
      bool rmq = q.queue_type == "RMQ", pubsub = q.queue_type == "GCPPubSub";
      QSPLIT_ASSIGN_OR_RETURN(auto planned, rmq      ? rmqPlans(resources, registry, q, env)
                                            : pubsub ? pubsubPlans(resources, registry, q, env)
                                                     : redisPlans(resources, registry, q, env));
      const config::QueueSplit* split = user.find(q.id, *registryType(q.queue_type));
      for (auto& p : planned) {
        if (split) p.filter = split->filter, p.mode = split->mode;
        plans.push_back(std::move(p));
      }
      continue;
    }
    auto broker = options_.brokers.find(config::QueueType::kSqs);
    if (broker == options_.brokers.end())
      return fail(ErrorCode::kFailedPrecondition,
                  "queue id '" + q.id + "' is SQS, and SQS splitting is not enabled in qsplitd");
    QSPLIT_ASSIGN_OR_RETURN(auto target,
                            config::resolveSqsTarget(resources, registry.consumer.target(), q.id, env));
    config::SqsQueueConfig queue_config{q.sns, q.s3_event, target.tags};
    if (q.queue_properties) {  // a MirrordSplitConfig's queueConfig
      std::string where = registry.meta.source + ": MirrordSplitConfig " + registry.meta.name +
                          ": queue " + q.id + ": queueConfig " + *q.queue_properties;
      auto properties = config::resolvePropertyList(resources, *q.queue_properties,
                                                    propertyNamespaces(registry));
      if (!properties) return fail(properties.error().withContext(where));
      QSPLIT_ASSIGN_OR_RETURN(queue_config, config::sqsQueueConfig(*properties, where));
    }
    const config::QueueSplit* split = user.find(q.id, config::QueueType::kSqs);
    for (auto& original : target.queues) {
      Plan p = registryPlan(registry, q, config::QueueType::kSqs, broker->second, "SQS", std::move(original));
      p.tags = queue_config.tags;
      p.sns = queue_config.sns;
      p.s3_event = queue_config.s3_event;
      if (split) p.filter = split->filter, p.mode = split->mode;
      plans.push_back(std::move(p));
    }
  }
  return ok();
}

// Where a registry's MirrordPropertyLists are looked up: its own namespace, then the operator's.
std::vector<std::string> SessionManager::propertyNamespaces(
    const config::WorkloadQueueRegistry& registry) const {
  std::vector<std::string> namespaces;
  if (!registry.meta.namespace_.empty()) namespaces.push_back(registry.meta.namespace_);
  namespaces.push_back(options_.operator_namespace);
  return namespaces;
}

Result<void> SessionManager::planKafka(const config::ResourceSet& resources,
                                       const config::KafkaTopicsConsumer& consumer,
                                       const config::UserConfig& user,
                                       const config::ContainerEnv& env, std::vector<Plan>& plans) {
  for (const auto& t : consumer.topics) {
    QSPLIT_ASSIGN_OR_RETURN(Plan p, kafkaPlan(resources, consumer.target(), t.id, env));
    p.restart_timeout = std::chrono::seconds(consumer.consumer_restart_timeout.value_or(60));
    p.linger = consumer.drain_limit;
    p.ttl = std::chrono::seconds(consumer.split_ttl.value_or(0));
    p.wait_for_pods = consumer.wait_for_pods;
    if (const auto* split = user.find(t.id, config::QueueType::kKafka))
      p.filter = split->filter, p.mode = split->mode;
    plans.push_back(std::move(p));
  }
  return ok();
}

Result<std::vector<SessionManager::Plan>> SessionManager::rmqPlans(
    const config::ResourceSet& resources, const config::WorkloadQueueRegistry& registry,
    const config::RegistryQueue& q, const config::ContainerEnv& env) {
  if (!options_.rabbitmq)
    return fail(ErrorCode::kFailedPrecondition,
                "queue id '" + q.id + "' is RMQ, and RabbitMQ splitting is not enabled in qsplitd");
  std::string where = registry.meta.source + ": MirrordWorkloadQueueRegistry " +
                      registry.meta.name + ": spec.queues." + q.id + ".";
  QSPLIT_ASSIGN_OR_RETURN(auto target,
                          config::resolveRmqTarget(resources, registry.consumer.target(), q.id, env));
  if (q.exchange_source) QSPLIT_TRY(addExchangePlaces(registry, q, env, where, target));
  std::vector<std::string> namespaces = propertyNamespaces(registry);
  auto connection = config::resolvePropertyList(resources, q.cluster_properties, namespaces);
  if (!connection) return fail(connection.error().withContext(where + "clusterProperties"));
  std::map<std::string, std::string> declare;
  if (q.queue_properties) {
    auto properties = config::resolvePropertyList(resources, *q.queue_properties, namespaces);
    if (!properties) return fail(properties.error().withContext(where + "queueProperties"));
    declare = std::move(properties).value();
  }
  std::vector<Plan> plans;
  for (auto& original : target.queues) {
    auto broker = options_.rabbitmq(*connection, original.name, declare);
    if (!broker) return fail(broker.error().withContext(where + "clusterProperties " + q.cluster_properties));
    plans.push_back(registryPlan(registry, q, config::QueueType::kRmq, *broker, "RMQ:" + q.cluster_properties,
                                 std::move(original)));
  }
  return plans;
}

Result<std::string> oneValueOf(const std::string& variable, const std::string& field, const std::string& holds,
                               const std::optional<std::string>& container, const config::ContainerEnv& env,
                               const std::string& where) {
  QSPLIT_ASSIGN_OR_RETURN(auto found, config::readNameSource(config::QueueNameSource{variable, std::nullopt}, field,
                                                             nullptr, container, env, where));
  std::set<std::string> values;
  for (const auto& f : found) values.insert(f.value);
  if (values.size() != 1 || values.begin()->empty())
    return fail(ErrorCode::kInvalidArgument,
                where + field + ": " + variable + " must hold " + holds + " in every container that has it");
  return *values.begin();
}

Result<std::vector<SessionManager::Plan>> SessionManager::redisPlans(
    const config::ResourceSet& resources, const config::WorkloadQueueRegistry& registry,
    const config::RegistryQueue& q, const config::ContainerEnv& env) {
  bool channel = q.queue_type == "RedisPubSub", bullmq = q.queue_type == "BullMQ";
  if (bullmq ? !options_.bullmq : channel ? !options_.redis_channels : !options_.redis)
    return fail(ErrorCode::kFailedPrecondition, "queue id '" + q.id + "' is " + q.queue_type + ", and " +
                                                    (bullmq ? "BullMQ" : channel ? "Redis Pub/Sub" : "Redis") +
                                                    " splitting is not enabled in qsplitd");
  std::string where = registry.meta.source + ": MirrordSplitConfig " + registry.meta.name +
                      ": queue " + q.id + ": ";
  BullmqQueueConfig bullmq_config;
  if (bullmq && q.queue_properties) {
    auto properties = config::resolvePropertyList(resources, *q.queue_properties, propertyNamespaces(registry));
    if (!properties) return fail(properties.error().withContext(where + "queueConfig"));
    QSPLIT_ASSIGN_OR_RETURN(bullmq_config, bullmqQueueConfig(*properties, where));
  }
  QSPLIT_ASSIGN_OR_RETURN(auto target, config::resolveRegistryTarget(resources, registry.consumer.target(),
                                                                     q.id, env, q.queue_type));
  std::string group;  // a stream's: the workload's consumer group, which qsplit reads the original in
  if (!channel && !bullmq) {
    QSPLIT_ASSIGN_OR_RETURN(group, oneValueOf(*q.group_env, "appConfig.group", "one consumer group",
                                              registry.consumer.container, env, where));
  }
  auto connection = config::resolvePropertyList(resources, q.cluster_properties, propertyNamespaces(registry));
  if (!connection) return fail(connection.error().withContext(where + "clientConfig"));
  std::vector<Plan> plans;
  for (auto& original : target.queues) {
    auto broker = bullmq    ? options_.bullmq(*connection, original.name, bullmq_config.dequeue_timeout)
                  : channel ? options_.redis_channels(*connection, q.channel_mode)
                            : options_.redis(*connection, original.name, group);
    if (!broker) return fail(broker.error().withContext(where + "clientConfig " + q.cluster_properties));
    std::string journal = bullmq    ? "BullMQ:"
                          : channel ? "RedisPubSub:" + q.channel_mode + ":"
                                    : "Redis:";
    Plan p = registryPlan(registry, q, *registryType(q.queue_type), *broker, journal + q.cluster_properties,
                          std::move(original));
    p.group = group;
    p.jq_time_limit = bullmq_config.jq_time_limit;
    plans.push_back(std::move(p));
  }
  return plans;
}

Result<SessionManager::Plan> SessionManager::kafkaPlan(const config::ResourceSet& resources,
                                                       const std::string& workload,
                                                       const std::string& topic_id,
                                                       const config::ContainerEnv& env) {
  if (!options_.kafka)
    return fail(ErrorCode::kFailedPrecondition, "queue id '" + topic_id +
                                                    "' is Kafka, and Kafka splitting is not enabled in qsplitd");
  QSPLIT_ASSIGN_OR_RETURN(auto target,
                          config::resolveKafkaTarget(resources, workload, topic_id, env,
                                                     options_.operator_namespace,
                                                     config::secretsFrom(resources)));
  QSPLIT_ASSIGN_OR_RETURN(core::Broker * broker, options_.kafka(target.client));
  Plan p;
  p.queue_id = topic_id;
  p.type = config::QueueType::kKafka;
  p.broker = broker;
  p.group = target.group_id;
  p.streams = target.streams;
  p.journal = kafkaJournal(target.client);
  p.original.name = target.topic;
  // A Kafka Streams app's application id is its consumer group, and its internal topics'
  // prefix: the workload and each developer get a fresh one, the name of the temporary topic
  // they read, so that none of them joins the group qsplit reads the original with.
  auto places = target.declaration->name_sources;
  if (target.streams)
    places.insert(places.end(), target.declaration->application_id_sources.begin(),
                  target.declaration->application_id_sources.end());
  else
    p.shared_env[target.declaration->group_id_sources.front().variable] = target.group_id;
  for (const auto& source : places) {
    config::SqsNamePlace place;
    place.container = source.container;
    place.variable = source.variable;
    auto c = env.find(source.container);
    place.added = c == env.end() || !c->second.count(source.variable);
    p.original.places.push_back(std::move(place));
  }
  return p;
}

}  // namespace qsplit::control
