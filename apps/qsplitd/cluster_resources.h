// The custom resources of Kubernetes mode: the queue registries, Kafka topics consumers and
// split configs of the workloads' namespace, the Kafka client configs of the operator's
// namespace and the property lists of both, watched live, with the Secrets and ConfigMaps
// that client configs and property lists name (read when a resource changes, and again every
// 30 s). Each resource is validated on its own: an invalid one is logged with its name and
// field and left out, and the others stay in force.
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
  struct Kinds {
    bool sqs = false, kafka = false, rabbitmq = false;
    bool listed = false;  // Redis, BullMQ or Pub/Sub: split configs, connections in property lists
  };
  // Only the kinds of the enabled brokers are watched (their CRDs are installed with them).
  ClusterResources(kube::KubeClient& client, const std::string& workload_namespace,
                   const std::string& operator_namespace, Kinds kinds);
  // Waits for the first list of each kind (a kind whose CRD is not installed counts as
  // empty after the wait, with a warning).
  void waitSynced(std::chrono::milliseconds timeout);
  std::shared_ptr<const config::ResourceSet> current() const;
  // Rebuilds the set when a watch saw a change since the last call. Main thread.
  void poll();

 private:
  void rebuild();
  // Reads the Secrets and ConfigMaps that `set`'s client configs and property lists name into
  // it; one that can't be read (but for a missing one) is an error under its name.
  void addReferenced(config::ResourceSet& set, std::map<std::string, std::string>& errors);

  kube::KubeClient& client_;
  std::vector<std::unique_ptr<kube::Reflector>> reflectors_;
  std::atomic<bool> dirty_{true};
  std::chrono::steady_clock::time_point rebuilt_;
  bool has_references_ = false;  // to Secrets or ConfigMaps: read again every 30 s
  std::string summary_;          // the last counts logged
  std::map<std::string, std::string> errors_;  // resource -> its last error (logged once)
  mutable std::mutex mutex_;
  std::shared_ptr<const config::ResourceSet> set_;
};

}  // namespace qsplit::daemon
