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
  // Writes every patch and restore into the pod template with one update (one new
  // generation, one rollout) and waits up to `ready.timeout` until `ready.pods` pods of the
  // new template are Ready (at most the workload's replicas; no wait with none). Restoring a
  // workload that is gone is done.
  Result<void> change(const std::string& workload, const WorkloadChange& change,
                      Readiness ready) override;

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
  // Waits until `ready.pods` ready pods run the workload's current template (below), or
  // `ready.timeout`.
  Result<void> awaitRollout(const std::string& workload, int64_t generation, Readiness ready);
  struct TemplatePods {
    int of_template = 0;  // pods of the selector with the template's env in every container
    int ready = 0;        // those of them that are Ready
  };
  // The pods of the workload's selector that read what its template now names.
  Result<TemplatePods> podsOfTemplate(const nlohmann::json& object);

  kube::KubeClient& client_;
  std::string namespace_;
  const std::atomic<bool>* stopping_;
};

}  // namespace qsplit::control
