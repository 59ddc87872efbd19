// Kubernetes mode: every session as a resource in the workloads' namespace, one instance of
// this class per kind (session_kinds.h), so that `kubectl get qsplitsessions` (or
// `mirrordsqssessions`) lists them with their state, and deleting one ends that session
// exactly as its owner ending it would.
#pragma once

#include <map>
#include <set>
#include <string>

#include "control/sessions.h"
#include "kube/kube_client.h"
#include "session_kinds.h"

namespace qsplit::daemon {

class SessionResources {
 public:
  SessionResources(kube::KubeClient& client, SessionKind kind, control::SessionManager& sessions);
  // Once a second, on the main thread: creates, updates and deletes resources to match the
  // sessions, and ends each session whose resource someone deleted, even right after its
  // creation. The resources are read with a list of their own each time, not from a watch,
  // so that a deletion is never judged against a copy that has not caught up yet.
  void sync();

 private:
  std::string path(const std::string& id) const;
  void write(const control::Session& s, const std::vector<control::QueueStatus>& queues);
  void warnOnce(const std::string& id, const Error& e);

  kube::KubeClient& client_;
  SessionKind kind_;
  control::SessionManager& sessions_;
  int idle_ticks_ = 0;  // syncs since the last list, while no session is live
  std::set<std::string> seen_;                  // sessions whose resource existed
  std::map<std::string, std::string> written_;  // session id -> the status last written
  std::map<std::string, std::string> errors_;   // session id -> the last error logged
};

}  // namespace qsplit::daemon
