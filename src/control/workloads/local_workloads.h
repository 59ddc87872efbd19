// LocalWorkloads: deployed consumers run on this machine under `qsplit exec`, patched the way
// a Kubernetes rollout would patch them. A patch bumps the workload's generation; `qsplit
// exec` sees it (a long poll), restarts its command with the patched environment and reports
// the generation ready, which is when patch() returns.
#pragma once

#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "config/resources.h"
#include "config/sqs_target.h"
#include "control/store.h"
#include "control/workloads.h"
#include "core/broker.h"

namespace qsplit::control {

// What `qsplit exec` runs: the environment's queue variables at `generation`.
struct WorkloadView {
  std::string name;
  std::string container;
  uint64_t generation = 0;
  uint64_t ready_generation = 0;
  std::map<std::string, std::string> env;  // the variables to set for the command
  std::vector<std::string> patched;        // originals currently replaced
  bool running = false;                    // `qsplit exec` polled recently
};

// Thread-safe.
class LocalWorkloads final : public Workloads {
 public:
  LocalWorkloads(Store& store, Clock& clock) : store_(store), clock_(clock) {}

  // Reads the workloads stored before a restart, patches included.
  Result<void> load() override;
  // Drops the patches whose replacement is not in `live_queues` (their split did not survive
  // the restart), as a restore would.
  Result<void> keepPatchesTo(const std::set<std::string>& live_queues) override;

  // `qsplit exec` (re)registers: the unpatched queue variables of its container.
  Result<WorkloadView> registerWorkload(const std::string& name, const std::string& container,
                                        std::map<std::string, std::string> env);
  // The unpatched environment, as the registry resolution reads it; kFailedPrecondition if
  // `qsplit exec` never registered it.
  Result<config::ContainerEnv> env(const std::string& name) override;
  // Applies every patch and restore with one new generation and waits up to `ready.timeout`
  // until the command restarted with it; `ready.pods` is met by the one process `qsplit exec`
  // runs (it is all of the workload). A patch needs `qsplit exec` running; a change that only
  // restores, of a workload whose `qsplit exec` is gone, does not wait.
  Result<void> change(const std::string& name, const WorkloadChange& change,
                      Readiness ready) override;
  Result<WorkloadView> view(const std::string& name) const;
  // Blocks until the generation passes `after` or `max_wait` passes; counts as a sign of life.
  Result<WorkloadView> waitChange(const std::string& name, uint64_t after, Duration max_wait);
  // The command now runs with `generation`'s environment.
  Result<void> ready(const std::string& name, uint64_t generation);

  std::vector<WorkloadView> list() const;
  // Ends every long poll now and any later one at once (qsplitd is stopping).
  void close();

 private:
  struct Workload {
    std::string container;
    std::map<std::string, std::string> env;
    std::vector<WorkloadPatch> patches;
    uint64_t generation = 1;
    uint64_t ready_generation = 0;
    std::optional<TimePoint> last_seen;
  };
  WorkloadView viewOf(const std::string& name, const Workload& w) const;
  bool running(const Workload& w) const;
  Result<void> save(const std::string& name, const Workload& w);
  Result<void> awaitReady(std::unique_lock<std::mutex>& lock, const std::string& name,
                          uint64_t generation, Duration timeout);

  Store& store_;
  Clock& clock_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::map<std::string, Workload> workloads_;
  bool closed_ = false;
};

}  // namespace qsplit::control
