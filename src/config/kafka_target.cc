#include "config/kafka_target.h"

namespace qsplit::config {
namespace {

// The one value all `sources` agree on.
Result<std::string> readSources(const std::vector<EnvVarSource>& sources, const ContainerEnv& env,
                                const std::string& where) {
  std::string value;
  for (std::size_t i = 0; i < sources.size(); ++i) {
    const auto& s = sources[i];
    std::string field = where + "[" + std::to_string(i) + "].directEnvVar";
    std::string found;
    auto container = env.find(s.container);
    auto var = container == env.end() ? std::map<std::string, std::string>::const_iterator()
                                      : container->second.find(s.variable);
    if (container != env.end() && var != container->second.end()) found = var->second;
    else if (s.fallback) found = *s.fallback;
    else
      return fail(ErrorCode::kNotFound, field + ": env var " + s.variable + " not found in container '" +
                                            s.container + "' and no fallback is given");
    if (!value.empty() && found != value)
      return fail(ErrorCode::kInvalidArgument,
                  field + ": " + s.variable + "=" + found + " disagrees with the other sources (" + value + ")");
    value = found;
  }
  return value;
}

}  // namespace

Result<KafkaTarget> resolveKafkaTarget(const ResourceSet& resources, const std::string& workload,
                                       const std::string& topic_id, const ContainerEnv& env,
                                       const std::string& operator_namespace,
                                       const SecretLookup& secrets) {
  const KafkaTopicsConsumer* consumer = nullptr;
  std::string declared;
  for (const auto& c : resources.topics_consumers) {
    if (!c.isFor(workload)) continue;
    for (const auto& t : c.topics) declared += (declared.empty() ? "" : ", ") + t.id;
    if (c.findTopic(topic_id)) consumer = &c;
  }
  if (!consumer) {
    if (declared.empty())
      return fail(ErrorCode::kNotFound, "no MirrordKafkaTopicsConsumer has consumerName " + workload);
    return fail(ErrorCode::kNotFound, "topic id '" + topic_id + "' is not declared for " + workload +
                                          " (declared: " + declared + ")");
  }
  KafkaTarget target;
  target.topic_id = topic_id;
  target.declaration = consumer->findTopic(topic_id);
  std::string where = consumer->meta.source + ": MirrordKafkaTopicsConsumer " + consumer->meta.name +
                      ": spec.topics[id=" + topic_id + "].";
  auto topic = readSources(target.declaration->name_sources, env, "nameSources");
  if (!topic) return fail(topic.error().withContext(where.substr(0, where.size() - 1)));
  target.topic = *topic;
  // The resource has one or the other (checked when it was read).
  target.streams = target.declaration->group_id_sources.empty();
  auto group = target.streams
                   ? readSources(target.declaration->application_id_sources, env, "applicationIdSources")
                   : readSources(target.declaration->group_id_sources, env, "groupIdSources");
  if (!group) return fail(group.error().withContext(where.substr(0, where.size() - 1)));
  target.group_id = *group;
  auto client = resolveKafkaClientConfig(resources, target.declaration->client_config,
                                         operator_namespace, target.group_id, secrets);
  if (!client) return fail(client.error().withContext(where + "clientConfig"));
  target.client = std::move(client).value();
  return target;
}

}  // namespace qsplit::config
