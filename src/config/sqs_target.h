// What splitting one SQS queue id of a workload needs, resolved from its
// MirrordWorkloadQueueRegistry and the workload's environment: every original queue the id
// names (one env var, every env var matching a regex, the values of a JSON map), and where
// each is read, so the workload can be patched to the temporary queue in the same form.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "config/resources.h"

namespace qsplit::config {

// One place a workload reads a queue.
struct SqsNamePlace {
  std::string container;
  std::string variable;
  std::optional<std::string> json_key;  // namesFromJsonMap: the key whose value it is
  bool is_url = false;                   // the value is a queue URL, not a name
  bool added = false;  // the variable was absent and fallbackName stood in: patching adds it
  // A RabbitMQ exchangeSource variable: patched to a dummy exchange named after the queue
  // (core::dummyExchangeName), so the app binds its queue to nothing that carries messages.
  bool exchange = false;
};

struct SqsOriginal {
  std::string name;                 // the queue's name (a URL's last path segment)
  std::string url;                  // the URL the workload has, when it has one
  std::vector<SqsNamePlace> places;  // every container and variable that reads it
};

struct SqsTarget {
  std::string queue_id;
  std::vector<SqsOriginal> queues;  // in name order
  std::map<std::string, std::string> tags;  // the registry's tags for temporary queues
  const RegistryQueue* declaration = nullptr;
};

// A variable a name source reads. `added`: the workload does not have it; fallbackName gave
// the value, and the variable is added to the workload when it is patched.
struct FoundVariable {
  std::string container, variable, value;
  bool added = false;
};

// Every variable `source` (the registry field `field`: "nameSource", "exchangeSource") names,
// in `only_container` or in every container, in container then variable order. When none is
// found, `fallback` (the queue's fallbackName; null where the field has none) stands in for
// an envVar source; otherwise the error names `where` + `field`.
Result<std::vector<FoundVariable>> readNameSource(const QueueNameSource& source,
                                                  const std::string& field,
                                                  const std::optional<std::string>* fallback,
                                                  const std::optional<std::string>& only_container,
                                                  const ContainerEnv& env, const std::string& where);

// The queue name in `value`: a name as is, or the last path segment of an SQS queue URL
// (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME). Errors name `where`.
Result<std::string> sqsQueueName(const std::string& value, const std::string& where);

// Finds the MirrordWorkloadQueueRegistry of `workload` that declares `queue_id` (an SQS
// queue) and reads its name source in every container the registry's consumer names (all
// containers when it names none). Errors: no registry, unknown id (listing the declared
// ones), a non-SQS id, an invalid regexPattern, no variable found and no fallbackName, a
// value that is not JSON when namesFromJsonMap is set, an empty queue name.
Result<SqsTarget> resolveSqsTarget(const ResourceSet& resources, const std::string& workload,
                                   const std::string& queue_id, const ContainerEnv& env);
// The same for a RabbitMQ queue id (queueType RMQ): the variables hold queue names as they are.
Result<SqsTarget> resolveRmqTarget(const ResourceSet& resources, const std::string& workload,
                                   const std::string& queue_id, const ContainerEnv& env);
// Either, by the registry's queueType ("SQS" or "RMQ").
Result<SqsTarget> resolveRegistryTarget(const ResourceSet& resources, const std::string& workload,
                                        const std::string& queue_id, const ContainerEnv& env,
                                        const std::string& queue_type);

}  // namespace qsplit::config
