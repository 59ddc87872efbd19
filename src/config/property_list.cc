#include "config/property_list.h"

#include <nlohmann/json.hpp>

namespace qsplit::config {
namespace {

// The data of the Secret or ConfigMap `ref` names, or null when it is absent.
const std::map<std::string, std::string>* dataOf(const ResourceSet& resources,
                                                 const PropertyRef& ref, const std::string& ns) {
  if (ref.secret) {
    const Secret* s = resources.findSecret(ns, ref.name);
    return s ? &s->data : nullptr;
  }
  const ConfigMap* m = resources.findConfigMap(ns, ref.name);
  return m ? &m->data : nullptr;
}

std::string describe(const PropertyRef& ref, const std::string& ns) {
  return std::string(ref.secret ? "Secret" : "ConfigMap") + " '" + ref.name + "' in namespace '" +
         ns + "'";
}

}  // namespace

Result<std::map<std::string, std::string>> resolvePropertyList(
    const ResourceSet& resources, const std::string& name, const std::vector<std::string>& namespaces) {
  const PropertyList* list = resources.findPropertyList(name, namespaces);
  if (!list) {
    std::string where;
    for (const auto& ns : namespaces) where += (where.empty() ? "" : " or ") + ns;
    return fail(ErrorCode::kNotFound, "MirrordPropertyList '" + name + "' not found in namespace " + where);
  }
  std::string ns = list->meta.namespace_.empty() && !namespaces.empty() ? namespaces.front()
                                                                        : list->meta.namespace_;
  std::string where = list->meta.source + ": MirrordPropertyList " + name + ": ";
  std::map<std::string, std::string> out;
  for (std::size_t i = 0; i < list->properties_from.size(); ++i) {
    const auto& from = list->properties_from[i];
    const auto* data = dataOf(resources, from.from, ns);
    if (!data && from.from.optional) continue;
    if (!data)
      return fail(ErrorCode::kNotFound, where + "spec.propertiesFrom[" + std::to_string(i) +
                                            "]: " + describe(from.from, ns) + " not found");
    for (const auto& [key, value] : *data) out[from.prefix + key] = value;
  }
  for (std::size_t i = 0; i < list->properties.size(); ++i) {
    const auto& p = list->properties[i];
    if (p.value) {
      out[p.name] = *p.value;
      continue;
    }
    const PropertyRef& ref = *p.value_from;
    const auto* data = dataOf(resources, ref, ns);
    const std::string* value = nullptr;
    if (data)
      if (auto it = data->find(ref.key); it != data->end()) value = &it->second;
    if (value) {
      out[p.name] = *value;
    } else if (!ref.optional) {
      return fail(ErrorCode::kNotFound,
                  where + "spec.properties[" + std::to_string(i) + "] (" + p.name + "): " +
                      (data ? "key '" + ref.key + "' not in " : "") + describe(ref, ns) +
                      (data ? "" : " not found"));
    }
  }
  return out;
}

Result<SqsQueueConfig> sqsQueueConfig(const std::map<std::string, std::string>& properties,
                                      const std::string& where) {
  SqsQueueConfig out;
  for (const auto& [name, value] : properties) {
    if (name == "sns" || name == "s3_event") {
      if (value != "true" && value != "false")
        return fail(ErrorCode::kInvalidArgument,
                    where + ": " + name + ": expected \"true\" or \"false\", got \"" + value + "\"");
      (name == "sns" ? out.sns : out.s3_event) = value == "true";
    } else if (name == "tags") {
      auto json = nlohmann::json::parse(value, nullptr, /*allow_exceptions=*/false);
      bool strings = json.is_object();
      for (const auto& [key, tag] : json.items()) strings = strings && tag.is_string();
      if (!strings)
        return fail(ErrorCode::kInvalidArgument,
                    where + ": tags: expected a JSON object of strings, got " + value);
      for (const auto& [key, tag] : json.items()) out.tags[key] = tag.get<std::string>();
    } else {
      return fail(ErrorCode::kInvalidArgument,
                  where + ": " + name + ": not an SQS queue setting (sns, s3_event, tags)");
    }
  }
  return out;
}

}  // namespace qsplit::config
