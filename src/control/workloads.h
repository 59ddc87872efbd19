// Workloads: the deployed consumers qsplitd patches while their queues are split, wherever
// they run (on this machine under `qsplit exec`, or in a Kubernetes cluster).
#pragma once

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "config/resources.h"
#include "config/sqs_target.h"
#include "core/broker.h"

namespace qsplit::control {

// When a restart of a workload is done: `pods` pods of its new template are Ready (kAllPods:
// every replica it has; never more than it has), waited for up to `timeout`.
inline constexpr uint32_t kAllPods = config::kAllPods;
struct Readiness {
  template <class Rep, class Period>
  Readiness(std::chrono::duration<Rep, Period> timeout, uint32_t pods = 1)  // NOLINT: implicit
      : timeout(timeout), pods(pods) {}
  Duration timeout;
  uint32_t pods;
};

struct WorkloadPatch {
  std::string original;     // the queue the workload reads when unpatched
  std::string replacement;  // the fallback queue it reads while split
  std::vector<config::SqsNamePlace> places;
};

// One transition of a workload: every queue it starts reading a fallback of, and every
// original it reads again, written at once (one restart of `qsplit exec`'s command, one write
// of the pod template and so one rollout), whatever broker each queue is on.
struct WorkloadChange {
  std::vector<WorkloadPatch> patches;
  std::vector<std::string> restores;  // originals whose patch is withdrawn
  bool empty() const { return patches.empty() && restores.empty(); }
};

class Workloads {
 public:
  virtual ~Workloads() = default;
  // After a restart: reads what was patched before it.
  virtual Result<void> load() = 0;
  // Undoes every patch whose replacement is not in `live_queues` (its split did not survive),
  // in one change per workload.
  virtual Result<void> keepPatchesTo(const std::set<std::string>& live_queues) = 0;
  // The workload's unpatched environment ("deployment/NAME"), as the registry resolution
  // reads it. Errors name the workload and why it cannot be read.
  virtual Result<config::ContainerEnv> env(const std::string& workload) = 0;
  // Applies `change` in one write and waits (blocking) until the workload restarted with it,
  // as `ready` says. A change that finds nothing to do restarts nothing and returns at once.
  // On an error the change may still have been written (only its restart late): undo it by
  // the opposite change.
  virtual Result<void> change(const std::string& workload, const WorkloadChange& change,
                              Readiness ready) = 0;
};

}  // namespace qsplit::control
