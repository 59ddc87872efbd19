// The custom resources of Kubernetes mode: the queue registries, Kafka topics consumers and
// split configs of the workloads' namespace and the Kafka client configs of the operator's
// namespace, watched live. Each resource is validated on its own: an invalid one is logged
// with its name and field and left out, and the others stay in force.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "config/resources.h"
#include "kube/kube_client.h"
#include "kube/reflector.h"

namespace qsplit::daemon {

class ClusterResources {
 public:
  // Only the kinds of the enabled brokers are watched (their CRDs are installed with them).
  ClusterResources(kube::KubeClient& client, const std::string& workload_namespace,
                   const std::string& operator_namespace, bool sqs, bool kafka);
  // Waits for the first list of each kind (a kind whose CRD is not installed counts as
  // empty after the wait, with a warning).
  void waitSynced(std::chrono::milliseconds timeout);
  std::shared_ptr<const config::ResourceSet> current() const;
  // Rebuilds the set when a watch saw a change since the last call. Main thread.
  void poll();

 private:
  void rebuild();

  kube::KubeClient& client_;
  std::vector<std::unique_ptr<kube::Reflector>> reflectors_;
  std::atomic<bool> dirty_{true};
  std::map<std::string, std::string> errors_;  // resource -> its last error (logged once)
  mutable std::mutex mutex_;
  std::shared_ptr<const config::ResourceSet> set_;
};

}  // namespace qsplit::daemon
