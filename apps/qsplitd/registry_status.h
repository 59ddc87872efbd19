// Kubernetes mode: the status of each MirrordWorkloadQueueRegistry, as the reference writes it
// (`status.sqsDetails.queueNames`: per queue id, the original queue and the fallback queue
// the workload reads while split; empty when nothing is split), so the reference's tooling
// and `kubectl describe` see which queues are split.
#pragma once

#include <map>
#include <string>

#include "config/resources.h"
#include "control/sessions.h"
#include "kube/kube_client.h"

namespace qsplit::daemon {

class RegistryStatus {
 public:
  explicit RegistryStatus(kube::KubeClient& client) : client_(client) {}
  // Once a second, on the main thread: writes each registry's status when it changed.
  void sync(const config::ResourceSet& resources, const control::SessionManager& sessions);

 private:
  kube::KubeClient& client_;
  std::map<std::string, std::string> written_;  // "namespace/name" -> the status last written
};

}  // namespace qsplit::daemon
