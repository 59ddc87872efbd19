// Reflector: a live copy of one collection of the API server (list, then watch from the
// list's resourceVersion; list again when the version expires or the watch fails).
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "kube/kube_client.h"

namespace qsplit::kube {

class Reflector {
 public:
  // `path`: a collection ("/apis/GROUP/VERSION/KIND-PLURAL" for every namespace).
  // `on_change` runs after each change, on the HTTP client's transfer thread: it must not
  // call the client (set a flag, wake a thread of your own).
  Reflector(KubeClient& client, std::string path, std::function<void()> on_change,
            std::chrono::seconds watch_timeout = std::chrono::seconds(60));
  ~Reflector();  // stops the thread
  Reflector(const Reflector&) = delete;
  Reflector& operator=(const Reflector&) = delete;

  // Every object now, in namespace/name order.
  std::vector<nlohmann::json> items() const;
  // Blocks until the first list succeeded or `timeout` passed; the last error otherwise.
  Result<void> waitSynced(std::chrono::milliseconds timeout) const;

 private:
  void run();
  Result<std::string> list();
  void apply(const WatchEvent& event);

  KubeClient& client_;
  std::string path_;
  std::function<void()> on_change_;
  std::chrono::seconds watch_timeout_;
  std::atomic<bool> stop_{false};
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::map<std::string, nlohmann::json> objects_;  // "namespace/name"
  bool synced_ = false;
  std::string last_error_;
  std::thread thread_;
};

}  // namespace qsplit::kube
