#include "config/kafka_client_config.h"

#include <algorithm>
#include <vector>

namespace qsplit::config {

SecretLookup secretsFrom(const ResourceSet& resources) {
  return [&resources](const std::string& ns,
                      const std::string& name) -> Result<std::map<std::string, std::string>> {
    const Secret* secret = resources.findSecret(ns, name);
    if (!secret)
      return fail(ErrorCode::kNotFound, "Secret '" + name + "' not found in namespace '" + ns + "'");
    return secret->data;
  };
}

Result<ResolvedKafkaConfig> resolveKafkaClientConfig(const ResourceSet& resources,
                                                     const std::string& name,
                                                     const std::string& operator_namespace,
                                                     const std::string& group_id,
                                                     const SecretLookup& secrets) {
  // Walk up the parent chain: chain[0] is `name`, the last one has no parent.
  std::vector<const KafkaClientConfig*> chain;
  std::string current = name;
  std::string asked_by;
  while (true) {
    const KafkaClientConfig* config = resources.findKafkaClientConfig(current, operator_namespace);
    if (!config) {
      std::string who = asked_by.empty() ? "" : " (spec.parent of '" + asked_by + "')";
      return fail(ErrorCode::kNotFound, "MirrordKafkaClientConfig '" + current + "'" + who +
                                            " not found in namespace '" + operator_namespace + "'");
    }
    for (const auto* seen : chain) {
      if (seen != config) continue;
      std::string cycle;
      for (const auto* c : chain) cycle += c->meta.name + " -> ";
      return fail(ErrorCode::kInvalidArgument, config->meta.source + ": MirrordKafkaClientConfig '" +
                                                   name + "': spec.parent chain has a cycle: " +
                                                   cycle + current);
    }
    chain.push_back(config);
    if (!config->parent) break;
    asked_by = current;
    current = *config->parent;
  }

  ResolvedKafkaConfig resolved;
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    const KafkaClientConfig& config = **it;
    if (config.load_from_secret) {
      const std::string& ref = *config.load_from_secret;
      auto slash = ref.find('/');
      auto data = secrets(ref.substr(0, slash), ref.substr(slash + 1));
      if (!data)
        return fail(data.error().withContext(config.meta.source + ": MirrordKafkaClientConfig '" +
                                             config.meta.name + "': spec.loadFromSecret"));
      for (const auto& [key, value] : *data) resolved.properties[key] = value;
    }
    for (const auto& property : config.properties) {
      if (property.value) resolved.properties[property.name] = *property.value;
      else resolved.properties.erase(property.name);
    }
    if (config.authentication_extra) resolved.msk_iam_region = config.authentication_extra->aws_region;
    resolved.client_implementation = config.client_implementation;
  }
  if (resolved.msk_iam_region) {
    resolved.properties["sasl.mechanism"] = "OAUTHBEARER";
    resolved.properties["security.protocol"] = "SASL_SSL";
  }
  resolved.properties["group.id"] = group_id;
  return resolved;
}

std::string toPropertiesFile(const Properties& properties) {
  std::string text;
  for (const auto& [name, value] : properties) text += name + "=" + value + "\n";
  return text;
}

}  // namespace qsplit::config
