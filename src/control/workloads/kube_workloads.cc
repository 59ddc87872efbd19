#include "control/workloads/kube_workloads.h"

#include <algorithm>
#include <charconv>
#include <thread>

#include "common/log.h"

namespace qsplit::control {
namespace {

using nlohmann::json;

constexpr int kConflictRetries = 8;
constexpr auto kRolloutPoll = std::chrono::milliseconds(250);

struct Kind {
  const char* name;  // as targets spell it
  const char* api;   // the collection's path prefix
  const char* plural;
};
constexpr Kind kKinds[] = {
    {"deployment", "/apis/apps/v1", "deployments"},
    {"statefulset", "/apis/apps/v1", "statefulsets"},
    {"rollout", "/apis/argoproj.io/v1alpha1", "rollouts"},
};

// The workload with every recorded patch reversed: what its pods read when not split.
Result<json> unpatched(json workload, const ConfigMapReader& read) {
  for (const auto& [original, replacement] : recordedPatches(workload)) {
    QSPLIT_ASSIGN_OR_RETURN(auto env, podTemplateEnv(workload, read));
    QSPLIT_TRY(restoreTemplate(workload, env, original));
  }
  return workload;
}

// A count or generation; 0 when absent. Argo Rollouts releases before its issue #3402 write
// status.observedGeneration as a string ("7"), so a string of digits counts too.
int64_t number(const json& object, const char* key) {
  if (!object.contains(key)) return 0;
  const json& value = object[key];
  if (value.is_number()) return value.get<int64_t>();
  if (!value.is_string()) return 0;
  const std::string& text = value.get_ref<const std::string&>();
  int64_t n = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), n);
  return error == std::errc() && end == text.data() + text.size() ? n : 0;
}

// Whether each container of `want` (a pod template's) has its env in `pods` (a pod's).
bool sameEnv(const json& pods, const json& want) {
  for (const auto& w : want) {
    auto it = std::find_if(pods.begin(), pods.end(), [&](const json& c) {
      return c.value("name", "") == w.value("name", "");
    });
    if (it == pods.end() || it->value("env", json::array()) != w.value("env", json::array())) return false;
  }
  return true;
}

}  // namespace

Result<std::string> KubeWorkloads::pathOf(const std::string& workload) const {
  auto slash = workload.find('/');
  std::string kind = workload.substr(0, slash);
  for (auto& c : kind) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const auto& k : kKinds)
    if (kind == k.name && slash != std::string::npos)
      return std::string(k.api) + "/namespaces/" + namespace_ + "/" + k.plural + "/" +
             workload.substr(slash + 1);
  return fail(ErrorCode::kInvalidArgument,
              "target " + workload + ": qsplit patches deployments, statefulsets and rollouts");
}

Result<KubeWorkloads::Location> KubeWorkloads::locate(const std::string& workload) {
  QSPLIT_ASSIGN_OR_RETURN(auto path, pathOf(workload));
  if (path.find("/rollouts/") == std::string::npos) return Location{path, path, std::nullopt};
  auto rollout = client_.get(path);
  if (!rollout)
    return fail(rollout.error().withContext("workload " + workload + " in namespace " + namespace_));
  const json spec = rollout->value("spec", json::object());
  const json ref = spec.is_object() ? spec.value("workloadRef", json()) : json();
  if (ref.is_null()) return Location{path, path, std::move(rollout).value()};
  if (!ref.is_object() || ref.value("kind", "") != "Deployment" || ref.value("name", "").empty())
    return fail(ErrorCode::kInvalidArgument,
                "workload " + workload + ": spec.workloadRef: " + ref.dump() +
                    "; qsplit follows a workloadRef to a Deployment (kind Deployment and a name)");
  return Location{path,
                  "/apis/apps/v1/namespaces/" + namespace_ + "/deployments/" + ref.value("name", ""),
                  std::nullopt};
}

ConfigMapReader KubeWorkloads::configMaps() {
  // Each ConfigMap is read once per reader: the unpatched environment reads the template once
  // per recorded patch.
  auto seen = std::make_shared<std::map<std::string, std::map<std::string, std::string>>>();
  return [this, seen](const std::string& name) -> Result<std::map<std::string, std::string>> {
    if (auto it = seen->find(name); it != seen->end()) return it->second;
    QSPLIT_ASSIGN_OR_RETURN(auto cm, client_.get("/api/v1/namespaces/" + namespace_ + "/configmaps/" + name));
    auto& data = (*seen)[name];
    if (cm.contains("data") && cm["data"].is_object())
      for (const auto& [k, v] : cm["data"].items())
        if (v.is_string()) data[k] = v.get<std::string>();
    return data;
  };
}

Result<config::ContainerEnv> KubeWorkloads::env(const std::string& workload) {
  QSPLIT_ASSIGN_OR_RETURN(auto where, locate(workload));
  auto object = where.read ? Result<json>(std::move(*where.read)) : client_.get(where.template_path);
  if (!object)
    return fail(object.error().withContext("workload " + workload + " in namespace " + namespace_));
  auto read = configMaps();
  QSPLIT_ASSIGN_OR_RETURN(auto plain, unpatched(*object, read));
  auto env = podTemplateEnv(plain, read);
  if (!env) return fail(env.error().withContext("workload " + workload));
  return env;
}

Result<std::optional<int64_t>> KubeWorkloads::update(
    const std::string& workload,
    const std::function<Result<bool>(json&, const config::ContainerEnv&)>& change) {
  QSPLIT_ASSIGN_OR_RETURN(auto where, locate(workload));
  const std::string& path = where.template_path;
  for (int attempt = 0;; ++attempt) {
    auto read = configMaps();  // each attempt reads the ConfigMaps afresh
    // The first attempt uses what locating read, if anything; a conflict reads afresh.
    auto got = attempt == 0 && where.read ? Result<json>(*where.read) : client_.get(path);
    QSPLIT_ASSIGN_OR_RETURN(auto object, std::move(got));
    QSPLIT_ASSIGN_OR_RETURN(auto env, podTemplateEnv(object, read));
    QSPLIT_ASSIGN_OR_RETURN(bool changed, change(object, env));
    if (!changed) return std::optional<int64_t>();
    object.erase("status");
    auto written = client_.replace(path, object);  // carries the read resourceVersion
    if (written) return std::optional(number((*written)["metadata"], "generation"));
    if (written.error().code() != ErrorCode::kFailedPrecondition || attempt == kConflictRetries)
      return fail(written.error().withContext("workload " + workload));
    logger("workloads")->debug("workload={} changed while being patched; again", workload);
  }
}

Result<KubeWorkloads::TemplatePods> KubeWorkloads::podsOfTemplate(const json& object) {
  const json labels = object["spec"].value("selector", json::object()).value("matchLabels", json::object());
  std::string selector;
  for (const auto& [key, value] : labels.items())
    if (value.is_string()) selector += (selector.empty() ? "" : ",") + key + "=" + value.get<std::string>();
  QSPLIT_ASSIGN_OR_RETURN(auto pods, client_.get("/api/v1/namespaces/" + namespace_ +
                                                 "/pods?labelSelector=" + selector));
  const json& want = object["spec"]["template"]["spec"]["containers"];
  TemplatePods seen;
  for (const auto& pod : pods["items"]) {
    if (pod["metadata"].contains("deletionTimestamp") || !sameEnv(pod["spec"]["containers"], want))
      continue;
    ++seen.of_template;
    const json conditions = pod.value("status", json::object()).value("conditions", json::array());
    for (const auto& c : conditions)
      if (c.value("type", "") == "Ready" && c.value("status", "") == "True") {
        ++seen.ready;
        break;
      }
  }
  return seen;
}

Result<void> KubeWorkloads::awaitRollout(const std::string& workload, int64_t generation,
                                         Readiness ready) {
  QSPLIT_ASSIGN_OR_RETURN(auto where, locate(workload));
  auto deadline = std::chrono::steady_clock::now() + ready.timeout;
  while (true) {
    QSPLIT_ASSIGN_OR_RETURN(auto object, client_.get(where.path));
    if (where.template_path != where.path) {
      // The pods are the Rollout's (its replicas, its selector, else the Deployment's) and
      // run the Deployment's template.
      QSPLIT_ASSIGN_OR_RETURN(auto holder, client_.get(where.template_path));
      object["spec"]["template"] = holder["spec"]["template"];
      if (!object["spec"].contains("selector")) object["spec"]["selector"] = holder["spec"]["selector"];
    }
    const json& spec = object["spec"];
    int64_t replicas = spec.contains("replicas") ? number(spec, "replicas") : 1;
    int64_t want = std::min<int64_t>(replicas, ready.pods);  // kAllPods: every replica
    if (want <= 0) return ok();
    auto pods = podsOfTemplate(object);
    if (!pods) return fail(pods.error().withContext("workload " + workload + ": its pods"));
    if (pods->ready >= want) return ok();
    const json status = object.value("status", json::object());
    std::string last = std::to_string(pods->of_template) + " pods with the template's variables, " +
                       (pods->ready == 0 ? std::string("none") : std::to_string(pods->ready)) +
                       " ready" + (want > 1 ? " of the " + std::to_string(want) + " waited for" : "") +
                       "; status: observedGeneration " +
                       std::to_string(number(status, "observedGeneration")) + " of " +
                       std::to_string(generation) + ", updatedReplicas " +
                       std::to_string(number(status, "updatedReplicas")) + ", readyReplicas " +
                       std::to_string(number(status, "readyReplicas"));
    if (stopping_ && *stopping_)
      return fail(ErrorCode::kCancelled, "workload " + workload + ": qsplitd is stopping before "
                                         "the pods of the patched template were ready (" + last + ")");
    if (std::chrono::steady_clock::now() >= deadline)
      return fail(ErrorCode::kTimeout,
                  "workload " + workload + ": " +
                      (pods->ready == 0 ? std::string("no pod")
                                        : "not " + std::to_string(want) + " pods") +
                      " of the patched template became ready within " +
                      std::to_string(std::chrono::duration_cast<std::chrono::seconds>(ready.timeout).count()) +
                      " s (" + last + ")");
    std::this_thread::sleep_for(kRolloutPoll);
  }
}

Result<void> KubeWorkloads::change(const std::string& workload, const WorkloadChange& change,
                                   Readiness ready) {
  auto generation = update(workload, [&](json& object, const config::ContainerEnv& env) -> Result<bool> {
    bool changed = false;
    auto read = configMaps();
    // Each step reads the template's variables as the step before left them.
    auto now = [&]() { return changed ? podTemplateEnv(object, read) : Result<config::ContainerEnv>(env); };
    for (const auto& original : change.restores) {
      QSPLIT_ASSIGN_OR_RETURN(auto vars, now());
      QSPLIT_ASSIGN_OR_RETURN(bool restored, restoreTemplate(object, vars, original));
      changed = changed || restored;
    }
    for (const auto& p : change.patches) {
      QSPLIT_ASSIGN_OR_RETURN(auto vars, now());
      QSPLIT_ASSIGN_OR_RETURN(bool patched, patchTemplate(object, vars, p.places, p.original, p.replacement));
      changed = changed || patched;
    }
    return changed;
  });
  if (!generation && generation.error().code() == ErrorCode::kNotFound && change.patches.empty()) {
    logger("workloads")->warn("workload={} is gone; nothing to restore", workload);
    return ok();
  }
  if (!generation) return fail(generation.error());
  logger("workloads")->info("workload={} {} queues patched, {} restored (generation {})", workload,
                            change.patches.size(), change.restores.size(),
                            *generation ? std::to_string(**generation) : "unchanged");
  if (!*generation) return ok();
  return awaitRollout(workload, **generation, ready);
}

Result<void> KubeWorkloads::keepPatchesTo(const std::set<std::string>& live_queues) {
  for (const auto& k : kKinds) {
    auto list = client_.get(std::string(k.api) + "/namespaces/" + namespace_ + "/" + k.plural +
                            "?labelSelector=" + kPatchedLabel);
    if (!list && list.error().code() == ErrorCode::kNotFound) continue;  // no such kind here
    if (!list) return fail(list.error());
    for (const auto& item : (*list)["items"]) {
      std::string workload = std::string(k.name) + "/" + item["metadata"].value("name", "");
      WorkloadChange undo;
      for (const auto& [original, replacement] : recordedPatches(item)) {
        if (live_queues.count(replacement)) continue;
        logger("workloads")->warn("workload={} queue={}: its split did not survive; restoring",
                                  workload, original);
        undo.restores.push_back(original);
      }
      if (undo.empty()) continue;
      auto restored = change(workload, undo, Duration::zero());
      // kTimeout: the template is restored and its pods follow later; nothing waits here.
      if (!restored && restored.error().code() != ErrorCode::kTimeout) return restored;
    }
  }
  return ok();
}

}  // namespace qsplit::control
