// The demo's applications: a consumer process, and the deployed workload whose queue
// variable qsplit patches (a restart, as a Kubernetes rollout would do).
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "core/broker.h"
#include "demo/ledger.h"

namespace qsplit::demo {

// Reads one queue until stopped, acknowledging what it reads, and tells the ledger.
class Consumer {
 public:
  Consumer(core::Broker& broker, std::string who, Ledger& ledger)
      : broker_(broker), who_(std::move(who)), ledger_(ledger) {}
  ~Consumer() { stop(); }

  void start(const std::string& queue);
  // Finishes the batch in hand, then returns. Blocking.
  void stop();
  const std::string& who() const { return who_; }

 private:
  void run(std::string queue);

  core::Broker& broker_;
  std::string who_;
  Ledger& ledger_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
};

// The deployed workload: an environment and a consumer of the queue named there.
class DeployedWorkload final : public core::WorkloadPatcher {
 public:
  using Notify = std::function<void(const std::string&)>;
  DeployedWorkload(core::Broker& broker, Ledger& ledger, std::string name,
                   std::map<std::string, std::string> env, std::string queue_var, Notify notify);

  void start();
  void stop() { consumer_.stop(); }

  Result<void> patch(const std::string& original, const std::string& replacement) override;
  Result<void> restore(const std::string& original) override;

 private:
  void restartWith(const std::string& value, const std::string& why);

  Consumer consumer_;
  std::string name_;
  std::mutex mutex_;
  std::map<std::string, std::string> env_;
  std::string queue_var_;
  Notify notify_;
};

}  // namespace qsplit::demo
