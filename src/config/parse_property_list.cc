// MirrordPropertyList (mirrord.metalbear.co/v1) and ConfigMap documents.
#include "config/resource_parsers.h"

namespace qsplit::config::detail {
namespace {

// {configMapKeyRef|secretKeyRef: {name, key, optional}} (with_key) or
// {configMapRef|secretRef: {name, optional}} beside other keys of `node`.
Result<PropertyRef> parseRef(const YAML::Node& node, const std::string& path, bool with_key,
                             const YamlFields& f) {
  const char* config_map = with_key ? "configMapKeyRef" : "configMapRef";
  const char* secret = with_key ? "secretKeyRef" : "secretRef";
  bool has_map = node[config_map] && !node[config_map].IsNull();
  bool has_secret = node[secret] && !node[secret].IsNull();
  if (has_map == has_secret)
    return fail(f.error(path, node, std::string("needs exactly one of ") + config_map + " and " + secret));
  PropertyRef ref;
  ref.secret = has_secret;
  std::string key = has_secret ? secret : config_map;
  std::string at = path + "." + key;
  QSPLIT_ASSIGN_OR_RETURN(YAML::Node r, f.map(node, key, path));
  QSPLIT_TRY(f.onlyKnownKeys(r, at, with_key ? std::set<std::string>{"name", "key", "optional"}
                                             : std::set<std::string>{"name", "optional"}));
  QSPLIT_ASSIGN_OR_RETURN(ref.name, f.string(r, "name", at));
  if (with_key) {
    QSPLIT_ASSIGN_OR_RETURN(ref.key, f.string(r, "key", at));
  }
  QSPLIT_ASSIGN_OR_RETURN(ref.optional, f.flag(r, "optional", at));
  return ref;
}

}  // namespace

Result<PropertyList> parsePropertyList(const YAML::Node& spec, const YamlFields& f) {
  QSPLIT_TRY(f.onlyKnownKeys(spec, "spec", {"properties", "propertiesFrom"}));
  PropertyList list;
  QSPLIT_ASSIGN_OR_RETURN(YAML::Node properties, f.list(spec, "properties", "spec", true));
  for (std::size_t i = 0; i < properties.size(); ++i) {
    std::string path = "spec.properties[" + std::to_string(i) + "]";
    const YAML::Node& p = properties[i];
    if (!p.IsMap()) return fail(f.error(path, p, "expected a mapping"));
    QSPLIT_TRY(f.onlyKnownKeys(p, path, {"name", "value", "valueFrom"}));
    PropertyItem item;
    QSPLIT_ASSIGN_OR_RETURN(item.name, f.string(p, "name", path));
    QSPLIT_ASSIGN_OR_RETURN(item.value, f.optionalString(p, "value", path));
    if (p["valueFrom"] && !p["valueFrom"].IsNull()) {
      QSPLIT_ASSIGN_OR_RETURN(YAML::Node from, f.map(p, "valueFrom", path));
      QSPLIT_TRY(f.onlyKnownKeys(from, path + ".valueFrom", {"configMapKeyRef", "secretKeyRef"}));
      QSPLIT_ASSIGN_OR_RETURN(item.value_from, parseRef(from, path + ".valueFrom", true, f));
    }
    if (item.value.has_value() == item.value_from.has_value())
      return fail(f.error(path, p, "needs exactly one of value and valueFrom"));
    list.properties.push_back(std::move(item));
  }
  QSPLIT_ASSIGN_OR_RETURN(YAML::Node from, f.list(spec, "propertiesFrom", "spec", true));
  for (std::size_t i = 0; i < from.size(); ++i) {
    std::string path = "spec.propertiesFrom[" + std::to_string(i) + "]";
    if (!from[i].IsMap()) return fail(f.error(path, from[i], "expected a mapping"));
    QSPLIT_TRY(f.onlyKnownKeys(from[i], path, {"prefix", "configMapRef", "secretRef"}));
    PropertiesFrom item;
    QSPLIT_ASSIGN_OR_RETURN(auto prefix, f.optionalString(from[i], "prefix", path));
    item.prefix = prefix.value_or("");
    QSPLIT_ASSIGN_OR_RETURN(item.from, parseRef(from[i], path, false, f));
    list.properties_from.push_back(std::move(item));
  }
  return list;
}

Result<ConfigMap> parseConfigMap(const YAML::Node& doc, const YamlFields& f) {
  ConfigMap map;
  QSPLIT_ASSIGN_OR_RETURN(map.data, f.stringMap(doc, "data", ""));
  return map;
}

}  // namespace qsplit::config::detail
