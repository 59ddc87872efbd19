// MirrordWorkloadQueueRegistry (queues.mirrord.metalbear.co/v1alpha).
#include <algorithm>

#include "config/resource_parsers.h"

namespace qsplit::config::detail {
namespace {

Result<QueueNameSource> parseNameSource(const YAML::Node& parent, const std::string& key,
                                        const std::string& path, const YamlFields& f) {
  QSPLIT_ASSIGN_OR_RETURN(YAML::Node node, f.map(parent, key, path));
  std::string here = joinPath(path, key);
  QSPLIT_TRY(f.onlyKnownKeys(node, here, {"envVar", "regexPattern"}));
  QueueNameSource source;
  QSPLIT_ASSIGN_OR_RETURN(source.env_var, f.optionalString(node, "envVar", here));
  QSPLIT_ASSIGN_OR_RETURN(source.regex_pattern, f.optionalString(node, "regexPattern", here));
  if (source.env_var.has_value() == source.regex_pattern.has_value())
    return fail(f.error(here, node, "needs exactly one of envVar or regexPattern"));
  if (source.regex_pattern)
    QSPLIT_TRY(checkRegex(f, node["regexPattern"], here + ".regexPattern", *source.regex_pattern));
  return source;
}

Result<RegistryQueue> parseQueue(const std::string& id, const YAML::Node& node,
                                 const std::string& path, const YamlFields& f) {
  if (!node.IsMap()) return fail(f.error(path, node, "expected a mapping"));
  QSPLIT_TRY(f.onlyKnownKeys(node, path,
                             {"queueType", "nameSource", "fallbackName", "namesFromJsonMap", "tags",
                              "sns", "s3Event", "clusterProperties", "queueProperties",
                              "exchangeSource"}));
  RegistryQueue q;
  q.id = id;
  QSPLIT_ASSIGN_OR_RETURN(q.queue_type, f.string(node, "queueType", path));
  if (q.queue_type != "SQS" && q.queue_type != "RMQ")
    return fail(f.error(path + ".queueType", node["queueType"],
                        "unknown queue type '" + q.queue_type + "'; expected SQS or RMQ"));
  QSPLIT_ASSIGN_OR_RETURN(q.name_source, parseNameSource(node, "nameSource", path, f));
  QSPLIT_ASSIGN_OR_RETURN(q.fallback_name, f.optionalString(node, "fallbackName", path));
  QSPLIT_ASSIGN_OR_RETURN(q.names_from_json_map, f.flag(node, "namesFromJsonMap", path));
  QSPLIT_ASSIGN_OR_RETURN(q.tags, f.stringMap(node, "tags", path));
  QSPLIT_ASSIGN_OR_RETURN(q.sns, f.flag(node, "sns", path));
  QSPLIT_ASSIGN_OR_RETURN(q.s3_event, f.flag(node, "s3Event", path));
  if (q.queue_type == "RMQ") {
    QSPLIT_ASSIGN_OR_RETURN(q.cluster_properties, f.string(node, "clusterProperties", path));
    QSPLIT_ASSIGN_OR_RETURN(q.queue_properties, f.optionalString(node, "queueProperties", path));
    if (node["exchangeSource"] && !node["exchangeSource"].IsNull()) {
      QSPLIT_ASSIGN_OR_RETURN(auto exchange, parseNameSource(node, "exchangeSource", path, f));
      q.exchange_source = exchange;
    }
  }
  return q;
}

}  // namespace

Result<WorkloadQueueRegistry> parseRegistry(const YAML::Node& spec, const YamlFields& f) {
  QSPLIT_TRY(f.onlyKnownKeys(spec, "spec", {"queues", "consumer", "workloadRestartTimeout"}));
  WorkloadQueueRegistry registry;
  QSPLIT_ASSIGN_OR_RETURN(YAML::Node queues, f.map(spec, "queues", "spec"));
  for (const auto& item : queues) {
    std::string id = item.first.Scalar();
    QSPLIT_ASSIGN_OR_RETURN(auto q, parseQueue(id, item.second, "spec.queues." + id, f));
    registry.queues.push_back(std::move(q));
  }
  std::sort(registry.queues.begin(), registry.queues.end(),
            [](const auto& a, const auto& b) { return a.id < b.id; });

  QSPLIT_ASSIGN_OR_RETURN(YAML::Node consumer, f.map(spec, "consumer", "spec"));
  QSPLIT_TRY(f.onlyKnownKeys(consumer, "spec.consumer", {"name", "container", "workloadType"}));
  QSPLIT_ASSIGN_OR_RETURN(registry.consumer.name, f.string(consumer, "name", "spec.consumer"));
  QSPLIT_ASSIGN_OR_RETURN(registry.consumer.container,
                          f.optionalString(consumer, "container", "spec.consumer"));
  QSPLIT_ASSIGN_OR_RETURN(registry.consumer.workload_type,
                          f.string(consumer, "workloadType", "spec.consumer"));
  const auto& type = registry.consumer.workload_type;
  if (type != "Deployment" && type != "Rollout" && type != "StatefulSet")
    return fail(f.error("spec.consumer.workloadType", consumer["workloadType"],
                        "unsupported workload type '" + type +
                            "'; expected Deployment, Rollout or StatefulSet"));
  QSPLIT_ASSIGN_OR_RETURN(registry.workload_restart_timeout,
                          f.optionalSeconds(spec, "workloadRestartTimeout", "spec"));
  return registry;
}

}  // namespace qsplit::config::detail
