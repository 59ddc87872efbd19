#include "control/workloads/pod_template.h"

#include "control/queue_places.h"

namespace qsplit::control {
namespace {

using nlohmann::json;

json* containersOf(json& workload) {
  auto* spec = workload.contains("spec") ? &workload["spec"] : nullptr;
  if (!spec || !spec->contains("template")) return nullptr;
  auto& pod = (*spec)["template"];
  if (!pod.contains("spec") || !pod["spec"].contains("containers")) return nullptr;
  auto& containers = pod["spec"]["containers"];
  return containers.is_array() ? &containers : nullptr;
}

json* containerNamed(json& workload, const std::string& name) {
  json* containers = containersOf(workload);
  if (!containers) return nullptr;
  for (auto& c : *containers)
    if (c.value("name", "") == name) return &c;
  return nullptr;
}

json* envEntry(json& container, const std::string& variable) {
  if (!container.contains("env") || !container["env"].is_array()) return nullptr;
  for (auto& e : container["env"])
    if (e.value("name", "") == variable) return &e;
  return nullptr;
}

// The string values of a ConfigMap key reference or an envFrom source; optional ones may be
// missing.
Result<std::optional<std::map<std::string, std::string>>> readConfigMap(
    const ConfigMapReader& read, const json& ref, const std::string& where) {
  std::string name = ref.value("name", "");
  auto data = read(name);
  if (data) return std::optional(*data);
  if (data.error().code() == ErrorCode::kNotFound && ref.value("optional", false))
    return std::optional<std::map<std::string, std::string>>();
  return fail(data.error().withContext(where + ": ConfigMap " + name));
}

Result<void> containerEnv(const json& c, const ConfigMapReader& read,
                          std::map<std::string, std::string>& vars) {
  std::string where = "container " + c.value("name", "");
  for (const auto& from : c.value("envFrom", json::array())) {
    if (!from.contains("configMapRef")) continue;
    QSPLIT_ASSIGN_OR_RETURN(auto data, readConfigMap(read, from["configMapRef"], where + " envFrom"));
    if (!data) continue;
    for (const auto& [k, v] : *data) vars[from.value("prefix", "") + k] = v;
  }
  for (const auto& e : c.value("env", json::array())) {
    std::string name = e.value("name", "");
    if (e.contains("value") && e["value"].is_string()) {
      vars[name] = e["value"].get<std::string>();
    } else if (e.contains("valueFrom") && e["valueFrom"].contains("configMapKeyRef")) {
      const auto& ref = e["valueFrom"]["configMapKeyRef"];
      std::string w = where + " env " + name;
      QSPLIT_ASSIGN_OR_RETURN(auto data, readConfigMap(read, ref, w));
      std::string key = ref.value("key", "");
      if (data && data->count(key)) {
        vars[name] = data->at(key);
      } else if (data && !ref.value("optional", false)) {
        return fail(ErrorCode::kNotFound, w + ": ConfigMap " + ref.value("name", "") + " has no key " + key);
      }
    } else if (!e.contains("valueFrom")) {
      vars[name] = "";  // `value` omitted: the empty string
    }
  }
  return ok();
}

json record(const json& workload) {
  json annotations = workload.contains("metadata")
                         ? workload["metadata"].value("annotations", json::object()) : json::object();
  if (!annotations.is_object() || !annotations.contains(kPatchAnnotation) ||
      !annotations[kPatchAnnotation].is_string()) return {{"vars", json::object()}, {"patches", json::object()}};
  json r = json::parse(annotations[kPatchAnnotation].get<std::string>(), nullptr, false);
  if (!r.is_object()) r = json::object();
  if (!r.contains("vars")) r["vars"] = json::object();
  if (!r.contains("patches")) r["patches"] = json::object();
  return r;
}

void setLabel(json& object, bool on) {
  auto& labels = object["metadata"]["labels"];
  if (on) {
    labels[kPatchedLabel] = "true";
  } else if (labels.is_object()) {
    labels.erase(kPatchedLabel);
  }
}

void saveRecord(json& workload, const json& r) {
  auto& annotations = workload["metadata"]["annotations"];
  bool active = !r["patches"].empty();
  if (active) {
    annotations[kPatchAnnotation] = r.dump();
  } else if (annotations.is_object()) {
    annotations.erase(kPatchAnnotation);
  }
  setLabel(workload, active);
  setLabel(workload["spec"]["template"], active);
}

std::string varKey(const config::SqsNamePlace& p) { return p.container + "/" + p.variable; }

// Sets `variable` of `container` to the literal `value`; true if that changed anything.
bool setLiteral(json& container, const std::string& variable, const std::string& value) {
  json entry = {{"name", variable}, {"value", value}};
  if (json* e = envEntry(container, variable)) {
    if (*e == entry) return false;
    *e = entry;
    return true;
  }
  container["env"].push_back(entry);
  return true;
}

}  // namespace

Result<config::ContainerEnv> podTemplateEnv(const nlohmann::json& workload,
                                            const ConfigMapReader& configmaps) {
  json copy = workload;
  json* containers = containersOf(copy);
  if (!containers) return fail(ErrorCode::kInvalidArgument, "it has no spec.template.spec.containers");
  config::ContainerEnv env;
  for (const auto& c : *containers) QSPLIT_TRY(containerEnv(c, configmaps, env[c.value("name", "")]));
  return env;
}

Result<bool> patchTemplate(nlohmann::json& workload, const config::ContainerEnv& env,
                           const std::vector<config::SqsNamePlace>& places,
                           const std::string& original, const std::string& replacement) {
  json r = record(workload);
  bool changed = false;
  for (const auto& p : places) {
    json* c = containerNamed(workload, p.container);
    if (!c) return fail(ErrorCode::kNotFound, "the workload has no container " + p.container);
    std::string key = varKey(p);
    std::string current;
    if (auto ce = env.find(p.container); ce != env.end())
      if (auto v = ce->second.find(p.variable); v != ce->second.end()) current = v->second;
    std::string value = placeValue(current, p, replacement);
    if (!r["vars"].contains(key)) {
      json* e = envEntry(*c, p.variable);
      r["vars"][key] = {{"previous", e ? *e : json()}};
    }
    r["vars"][key]["value"] = value;
    changed |= setLiteral(*c, p.variable, value);
  }
  json patch = {{"replacement", replacement}, {"places", placesToJson(places)}};
  if (r["patches"].value(original, json()) != patch) changed = true;
  r["patches"][original] = patch;
  saveRecord(workload, r);
  return changed;
}

Result<bool> restoreTemplate(nlohmann::json& workload, const config::ContainerEnv& env,
                             const std::string& original) {
  json r = record(workload);
  if (!r["patches"].contains(original)) return false;
  QSPLIT_ASSIGN_OR_RETURN(auto places, placesFromJson(r["patches"][original]["places"]));
  r["patches"].erase(original);
  for (const auto& p : places) {
    std::string key = varKey(p);
    if (!r["vars"].contains(key)) continue;
    json var = r["vars"][key];
    json* c = containerNamed(workload, p.container);
    json* e = c ? envEntry(*c, p.variable) : nullptr;
    bool ours = e && e->value("value", json()) == var["value"] && !e->contains("valueFrom");
    bool shared = false;  // another patch reads this variable too (a JSON map of queues)
    for (const auto& [other, patch] : r["patches"].items())
      for (const auto& op : patch["places"])
        shared |= op.value("container", "") + "/" + op.value("variable", "") == key;
    if (!ours) {
      if (!shared) r["vars"].erase(key);  // someone else's edit stays
      continue;
    }
    if (shared) {
      std::string current = env.count(p.container) && env.at(p.container).count(p.variable)
                                ? env.at(p.container).at(p.variable) : "";
      std::string value = placeValue(current, p, original);
      r["vars"][key]["value"] = value;
      setLiteral(*c, p.variable, value);
      continue;
    }
    if (var["previous"].is_null()) {
      auto& list = (*c)["env"];
      for (size_t i = 0; i < list.size(); ++i)
        if (list[i].value("name", "") == p.variable) list.erase(i--);
    } else {
      *e = var["previous"];
    }
    r["vars"].erase(key);
  }
  saveRecord(workload, r);
  return true;
}

std::map<std::string, std::string> recordedPatches(const nlohmann::json& workload) {
  std::map<std::string, std::string> patches;
  json r = record(workload);  // named: a range-for over a temporary's member would dangle
  for (const auto& [original, patch] : r["patches"].items())
    patches[original] = patch.value("replacement", "");
  return patches;
}

}  // namespace qsplit::control
