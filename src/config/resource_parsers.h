// Internal to config/: one parser per resource kind. `spec` is the document's spec node.
#pragma once

#include <yaml-cpp/yaml.h>

#include "config/resources.h"
#include "config/yaml_fields.h"

namespace qsplit::config::detail {

Result<WorkloadQueueRegistry> parseRegistry(const YAML::Node& spec, const YamlFields& f);
Result<KafkaTopicsConsumer> parseTopicsConsumer(const YAML::Node& spec, const YamlFields& f);
Result<KafkaClientConfig> parseKafkaClientConfig(const YAML::Node& spec, const YamlFields& f);
Result<SplitConfig> parseSplitConfig(const YAML::Node& spec, const YamlFields& f);
Result<Secret> parseSecret(const YAML::Node& doc, const YamlFields& f);
Result<ConfigMap> parseConfigMap(const YAML::Node& doc, const YamlFields& f);
Result<PropertyList> parsePropertyList(const YAML::Node& spec, const YamlFields& f);

// Compiles `pattern` with RE2 to check it, for fields that hold a regex.
Result<void> checkRegex(const YamlFields& f, const YAML::Node& node, const std::string& path,
                        const std::string& pattern);

}  // namespace qsplit::config::detail
