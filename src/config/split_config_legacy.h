// A MirrordSplitConfig as the legacy resources it stands for: its sqs queues as a
// MirrordWorkloadQueueRegistry, its kafka topics as a MirrordKafkaTopicsConsumer, so that one
// session flow serves both (the reference reads legacy resources through its unified flow;
// qsplit goes the other way, with the documented field mapping).
#pragma once

#include <optional>

#include "common/result.h"
#include "config/resources.h"

namespace qsplit::config {

struct LegacyResources {
  std::optional<WorkloadQueueRegistry> registry;
  std::optional<KafkaTopicsConsumer> consumer;
};

// `env` is the target's environment: a reference without `containers` means every
// container, and a Kafka name source names its container. Errors name the field qsplit does
// not read yet (valuePattern, a valueSelector other than ".[]", several references for one
// SQS queue, queueConfig, envLike for a topic, appId).
Result<LegacyResources> legacyResources(const SplitConfig& config, const ContainerEnv& env);

// The MirrordSplitConfig whose targetRef is `workload` ("deployment/NAME"), if any; two are
// an error, as in the reference.
Result<const SplitConfig*> findSplitConfig(const ResourceSet& resources, const std::string& workload);

}  // namespace qsplit::config
