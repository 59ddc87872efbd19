// MirrordKafkaTopicsConsumer and MirrordKafkaClientConfig (queues.mirrord.metalbear.co/v1alpha).
#include "config/resource_parsers.h"

namespace qsplit::config::detail {
namespace {

Result<std::vector<EnvVarSource>> parseEnvSources(const YAML::Node& parent, const std::string& key,
                                                  const std::string& path, const YamlFields& f) {
  std::vector<EnvVarSource> sources;
  QSPLIT_ASSIGN_OR_RETURN(YAML::Node list, f.list(parent, key, path, true));
  if (!list.IsDefined() || list.IsNull()) return sources;
  for (std::size_t i = 0; i < list.size(); ++i) {
    std::string here = joinPath(path, key) + "[" + std::to_string(i) + "]";
    QSPLIT_TRY(f.onlyKnownKeys(list[i], here, {"directEnvVar"}));
    QSPLIT_ASSIGN_OR_RETURN(YAML::Node env, f.map(list[i], "directEnvVar", here));
    here += ".directEnvVar";
    QSPLIT_TRY(f.onlyKnownKeys(env, here, {"container", "variable", "fallback"}));
    EnvVarSource source;
    QSPLIT_ASSIGN_OR_RETURN(source.container, f.string(env, "container", here));
    QSPLIT_ASSIGN_OR_RETURN(source.variable, f.string(env, "variable", here));
    QSPLIT_ASSIGN_OR_RETURN(source.fallback, f.optionalString(env, "fallback", here));
    sources.push_back(std::move(source));
  }
  return sources;
}

Result<KafkaTopic> parseTopic(const YAML::Node& node, const std::string& path, const YamlFields& f) {
  QSPLIT_TRY(f.onlyKnownKeys(node, path,
                             {"id", "nameSources", "groupIdSources", "applicationIdSources",
                              "clientConfig"}));
  KafkaTopic topic;
  QSPLIT_ASSIGN_OR_RETURN(topic.id, f.string(node, "id", path));
  QSPLIT_ASSIGN_OR_RETURN(topic.client_config, f.string(node, "clientConfig", path));
  QSPLIT_ASSIGN_OR_RETURN(topic.name_sources, parseEnvSources(node, "nameSources", path, f));
  if (topic.name_sources.empty())
    return fail(f.error(path + ".nameSources", node, "needs at least one source of the topic name"));
  QSPLIT_ASSIGN_OR_RETURN(topic.group_id_sources, parseEnvSources(node, "groupIdSources", path, f));
  QSPLIT_ASSIGN_OR_RETURN(topic.application_id_sources,
                          parseEnvSources(node, "applicationIdSources", path, f));
  if (topic.group_id_sources.empty() == topic.application_id_sources.empty())
    return fail(f.error(path, node, "needs groupIdSources or applicationIdSources, not both"));
  return topic;
}

}  // namespace

Result<KafkaTopicsConsumer> parseTopicsConsumer(const YAML::Node& spec, const YamlFields& f) {
  QSPLIT_TRY(f.onlyKnownKeys(spec, "spec",
                             {"consumerApiVersion", "consumerKind", "consumerName",
                              "consumerRestartTimeout", "splitTtl", "topics"}));
  KafkaTopicsConsumer consumer;
  QSPLIT_ASSIGN_OR_RETURN(consumer.consumer_api_version, f.string(spec, "consumerApiVersion", "spec"));
  QSPLIT_ASSIGN_OR_RETURN(consumer.consumer_kind, f.string(spec, "consumerKind", "spec"));
  QSPLIT_ASSIGN_OR_RETURN(consumer.consumer_name, f.string(spec, "consumerName", "spec"));
  QSPLIT_ASSIGN_OR_RETURN(consumer.consumer_restart_timeout,
                          f.optionalSeconds(spec, "consumerRestartTimeout", "spec"));
  QSPLIT_ASSIGN_OR_RETURN(consumer.split_ttl, f.optionalSeconds(spec, "splitTtl", "spec"));
  QSPLIT_ASSIGN_OR_RETURN(YAML::Node topics, f.list(spec, "topics", "spec"));
  for (std::size_t i = 0; i < topics.size(); ++i) {
    std::string path = "spec.topics[" + std::to_string(i) + "]";
    QSPLIT_ASSIGN_OR_RETURN(auto topic, parseTopic(topics[i], path, f));
    if (consumer.findTopic(topic.id))
      return fail(f.error(path + ".id", topics[i]["id"], "topic id '" + topic.id + "' appears twice"));
    consumer.topics.push_back(std::move(topic));
  }
  return consumer;
}

Result<KafkaClientConfig> parseKafkaClientConfig(const YAML::Node& spec, const YamlFields& f) {
  QSPLIT_TRY(f.onlyKnownKeys(spec, "spec",
                             {"parent", "properties", "loadFromSecret", "authenticationExtra",
                              "clientImplementation"}));
  KafkaClientConfig config;
  QSPLIT_ASSIGN_OR_RETURN(config.parent, f.optionalString(spec, "parent", "spec"));
  QSPLIT_ASSIGN_OR_RETURN(YAML::Node properties, f.list(spec, "properties", "spec"));
  for (std::size_t i = 0; i < properties.size(); ++i) {
    std::string path = "spec.properties[" + std::to_string(i) + "]";
    QSPLIT_TRY(f.onlyKnownKeys(properties[i], path, {"name", "value"}));
    KafkaProperty property;
    QSPLIT_ASSIGN_OR_RETURN(property.name, f.string(properties[i], "name", path));
    QSPLIT_ASSIGN_OR_RETURN(property.value, f.optionalString(properties[i], "value", path));
    config.properties.push_back(std::move(property));
  }
  QSPLIT_ASSIGN_OR_RETURN(config.load_from_secret, f.optionalString(spec, "loadFromSecret", "spec"));
  if (config.load_from_secret) {
    const auto& ref = *config.load_from_secret;
    auto slash = ref.find('/');
    if (slash == std::string::npos || slash == 0 || slash + 1 == ref.size() ||
        ref.find('/', slash + 1) != std::string::npos)
      return fail(f.error("spec.loadFromSecret", spec["loadFromSecret"],
                          "expected <secret-namespace>/<secret-name>, got '" + ref + "'"));
  }
  QSPLIT_ASSIGN_OR_RETURN(YAML::Node auth, f.map(spec, "authenticationExtra", "spec", true));
  if (auth.IsDefined() && !auth.IsNull()) {
    const std::string path = "spec.authenticationExtra";
    QSPLIT_TRY(f.onlyKnownKeys(auth, path, {"kind", "awsRegion"}));
    AuthenticationExtra extra;
    QSPLIT_ASSIGN_OR_RETURN(extra.kind, f.string(auth, "kind", path));
    if (extra.kind != "MSK_IAM")
      return fail(f.error(path + ".kind", auth["kind"],
                          "unsupported kind '" + extra.kind + "'; MSK_IAM is the only one"));
    QSPLIT_ASSIGN_OR_RETURN(auto region, f.optionalString(auth, "awsRegion", path));
    if (!region) return fail(f.error(path + ".awsRegion", auth, "is required with kind MSK_IAM"));
    extra.aws_region = *region;
    config.authentication_extra = extra;
  }
  QSPLIT_ASSIGN_OR_RETURN(auto implementation,
                          f.optionalString(spec, "clientImplementation", "spec"));
  if (implementation) {
    if (*implementation != "librdkafka" && *implementation != "java")
      return fail(f.error("spec.clientImplementation", spec["clientImplementation"],
                          "expected librdkafka or java, got '" + *implementation + "'"));
    config.client_implementation = *implementation;
  }
  return config;
}

}  // namespace qsplit::config::detail
