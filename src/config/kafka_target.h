// What splitting one Kafka topic of a workload needs, resolved from the custom resources
// and the workload's environment: the topic name, the consumer group, the client config.
#pragma once

#include <map>
#include <string>

#include "common/result.h"
#include "config/kafka_client_config.h"
#include "config/resources.h"

namespace qsplit::config {

struct KafkaTarget {
  std::string topic_id;
  std::string topic;     // the original topic, read from nameSources
  // The workload's consumer group, read from groupIdSources, or for a Kafka Streams app
  // (`streams`) its application id, read from applicationIdSources.
  std::string group_id;
  bool streams = false;
  ResolvedKafkaConfig client;
  const KafkaTopic* declaration = nullptr;  // where the names come from (to patch them)
};

// Finds the MirrordKafkaTopicsConsumer of `workload` that declares `topic_id` and reads
// every source of the topic name and group (or application) id from `env` (a `fallback`
// stands in for a missing variable). Sources that disagree, a missing variable without
// fallback, an unknown topic id or client config: each an error naming the resource and field.
Result<KafkaTarget> resolveKafkaTarget(const ResourceSet& resources, const std::string& workload,
                                       const std::string& topic_id, const ContainerEnv& env,
                                       const std::string& operator_namespace,
                                       const SecretLookup& secrets);

}  // namespace qsplit::config
