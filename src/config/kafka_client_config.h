// Resolution of a MirrordKafkaClientConfig into the properties a Kafka client is made with.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>

#include "common/result.h"
#include "config/resources.h"

namespace qsplit::config {

using Properties = std::map<std::string, std::string>;

struct ResolvedKafkaConfig {
  Properties properties;                  // what librdkafka gets
  std::optional<std::string> msk_iam_region;  // set when MSK_IAM tokens must be made
  std::string client_implementation;
};

// Finds the data of a Secret; local mode reads Secret documents, Kubernetes mode the API.
using SecretLookup =
    std::function<Result<std::map<std::string, std::string>>(const std::string& namespace_,
                                                             const std::string& name)>;

// A SecretLookup over the Secrets of a ResourceSet.
SecretLookup secretsFrom(const ResourceSet& resources);

// Resolves `name` (looked up in `operator_namespace`) as the reference operator does: the
// parent chain first; within each config its secret's entries, then its properties
// (a property without a value removes the key); child over parent. So the priority is
// child property > child secret > parent property > parent secret. MSK_IAM adds
// sasl.mechanism=OAUTHBEARER and security.protocol=SASL_SSL. group.id is always `group_id`.
Result<ResolvedKafkaConfig> resolveKafkaClientConfig(const ResourceSet& resources,
                                                     const std::string& name,
                                                     const std::string& operator_namespace,
                                                     const std::string& group_id,
                                                     const SecretLookup& secrets);

// The resolved properties as a `.properties` file (sorted, one `name=value` per line).
std::string toPropertiesFile(const Properties& properties);

}  // namespace qsplit::config
