// KubeWorkloads: deployed consumers in a Kubernetes cluster (Deployments, StatefulSets, Argo
// Rollouts in one namespace), patched through the API server the way the reference operator
// does it: the pod template's queue variables point at the fallback queue while split, and
// the change is recorded in the workload, so that exactly it is reversed later.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "control/workloads.h"
#include "control/workloads/pod_template.h"
#include "kube/kube_client.h"

namespace qsplit::control {

// Thread-safe.
class KubeWorkloads final : public Workloads {
 public:
  // `stopping`, when set, ends a wait for a rollout early (kCancelled) once it is true.
  KubeWorkloads(kube::KubeClient& client, std::string ns,
                const std::atomic<bool>* stopping = nullptr)
      : client_(client), namespace_(std::move(ns)), stopping_(stopping) {}

  Result<void> load() override { return ok(); }  // the cluster holds the patches
  Result<void> keepPatchesTo(const std::set<std::string>& live_queues) override;
  Result<config::ContainerEnv> env(const std::string& workload) override;
  std::unique_ptr<core::WorkloadPatcher> patcher(const std::string& workload,
                                                 std::vector<config::SqsNamePlace> places,
                                                 Duration timeout) override;

  // Points `places` at `replacement` and waits up to `timeout` until at least one pod of
  // the new template is ready (no wait when the workload has no replicas).
  Result<void> patch(const std::string& workload, WorkloadPatch patch, Duration timeout);
  Result<void> restore(const std::string& workload, const std::string& original, Duration timeout);

  const std::string& namespace_name() const { return namespace_; }

 private:
  // Where a workload is, and where its pod template is: the same object, except for an Argo
  // Rollout with spec.workloadRef, whose template is the named Deployment's (Argo rolls out
  // that template; the Deployment itself stays scaled to 0).
  struct Location {
    std::string path;
    std::string template_path;
    std::optional<nlohmann::json> read;  // the template's holder, when locating read it (a Rollout)
  };
  Result<std::string> pathOf(const std::string& workload) const;
  Result<Location> locate(const std::string& workload);
  ConfigMapReader configMaps();
  // GET, `change` (true: something changed), PUT with the read resourceVersion; again on a
  // conflict. Returns the new generation, or none when nothing changed.
  Result<std::optional<int64_t>> update(
      const std::string& workload,
      const std::function<Result<bool>(nlohmann::json&, const config::ContainerEnv&)>& change);
  // Waits until a ready pod runs the workload's current template (below), or `timeout`.
  Result<void> awaitRollout(const std::string& workload, int64_t generation, Duration timeout);
  // Whether a ready pod of the workload's selector has its template's env in every container
  // (so it reads what the template now names); else says what it saw in `seen`.
  Result<bool> podOfTemplateReady(const nlohmann::json& object, std::string* seen);

  kube::KubeClient& client_;
  std::string namespace_;
  const std::atomic<bool>* stopping_;
};

}  // namespace qsplit::control
