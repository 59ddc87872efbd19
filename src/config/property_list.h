// A MirrordPropertyList resolved to its settings: the entries of each propertiesFrom source
// (with its prefix), then each property, which wins over them, as a container's envFrom and env.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/result.h"
#include "config/resources.h"

namespace qsplit::config {

// Looks `name` up in `namespaces` in order (the workload's, then the operator's); Secrets and
// ConfigMaps are read from the namespace the list was found in. A missing list, or a missing
// reference that is not optional, is an error naming the list and the field.
Result<std::map<std::string, std::string>> resolvePropertyList(
    const ResourceSet& resources, const std::string& name, const std::vector<std::string>& namespaces);

// An SQS queue's queueConfig (MirrordSplitConfig), resolved: `sns` and `s3_event` ("true" or
// "false"), `tags` (a JSON object of strings). Other names and bad values are errors naming
// them after `where`.
struct SqsQueueConfig {
  bool sns = false;
  bool s3_event = false;
  std::map<std::string, std::string> tags;
};
Result<SqsQueueConfig> sqsQueueConfig(const std::map<std::string, std::string>& properties,
                                      const std::string& where);

}  // namespace qsplit::config
