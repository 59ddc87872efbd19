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

class Workloads {
 public:
  virtual ~Workloads() = default;
  // After a restart: reads what was patched before it.
  virtual Result<void> load() = 0;
  // Undoes every patch whose replacement is not in `live_queues` (its split did not survive).
  virtual Result<void> keepPatchesTo(const std::set<std::string>& live_queues) = 0;
  // The workload's unpatched environment ("deployment/NAME"), as the registry resolution
  // reads it. Errors name the workload and why it cannot be read.
  virtual Result<config::ContainerEnv> env(const std::string& workload) = 0;
  // The engine's patcher for one original queue of `workload`, read at `places`.
  virtual std::unique_ptr<core::WorkloadPatcher> patcher(
      const std::string& workload, std::vector<config::SqsNamePlace> places, Readiness ready) = 0;
};

// The engine's WorkloadPatcher for one original queue of one workload of `W` (which has
// patch(name, WorkloadPatch, Readiness) and restore(name, original, Readiness)).
template <class W>
class PlacesPatcher final : public core::WorkloadPatcher {
 public:
  PlacesPatcher(W& workloads, std::string workload, std::vector<config::SqsNamePlace> places,
                Readiness ready)
      : workloads_(workloads), workload_(std::move(workload)), places_(std::move(places)),
        ready_(ready) {}
  Result<void> patch(const std::string& original, const std::string& replacement) override {
    return workloads_.patch(workload_, {original, replacement, places_}, ready_);
  }
  Result<void> restore(const std::string& original) override {
    return workloads_.restore(workload_, original, ready_);
  }

 private:
  W& workloads_;
  std::string workload_;
  std::vector<config::SqsNamePlace> places_;
  Readiness ready_;
};

}  // namespace qsplit::control
