// SessionManager: a workload's transitions. A session start that splits queues of a workload
// not split yet creates every fallback first, changes the workload once for all of them and
// only then forwards; the end of its last session drains each queue, and the workload is
// restored once, for every draining queue, when each of them may be restored.
#include <algorithm>
#include <map>
#include <set>

#include "common/log.h"
#include "control/sessions_internal.h"

namespace qsplit::control {
namespace {

// The strictest readiness of the resources involved: the longest timeout, the most pods.
template <class Each>
Readiness strictest(const Each& each) {
  Readiness ready(Duration::zero(), 0);
  each([&](Duration timeout, uint32_t pods) {
    ready.timeout = std::max(ready.timeout, timeout);
    ready.pods = std::max(ready.pods, pods);
  });
  return ready;
}

}  // namespace

Result<std::vector<SessionManager::Split*>> SessionManager::startQueues(
    Session& s, const std::string& workload, const std::vector<Plan>& plans) {
  auto log = logger("sessions");
  std::vector<Split*> splits;
  std::vector<engine::PreparedSession> prepared;
  // Undoes the prepared queues from `from` on, and the patch of the fallbacks among them.
  auto undo = [&](std::size_t from, const Error& error, bool patched) -> Result<std::vector<Split*>> {
    WorkloadChange back;
    for (std::size_t i = from; i < prepared.size(); ++i)
      if (!prepared[i].patch_to.empty()) back.restores.push_back(splits[i]->original);
    // Not waited for: the workload is written back, and its restart follows (kTimeout).
    if (patched && !back.empty())
      if (auto r = workloads_.change(workload, back, Readiness(Duration::zero(), 0));
          !r && r.error().code() != ErrorCode::kTimeout)
        log->error("session={} undoing the patch of {}: {}", s.id, workload, r.error().message());
    for (std::size_t i = prepared.size(); i-- > from;) splits[i]->splitter->abandonSession(s.id);
    return fail(error);
  };
  for (const auto& p : plans) {
    auto split = splitFor(p, workload);
    if (split && (*split)->restoring)
      split = fail(ErrorCode::kUnavailable, "queue " + p.original.name + " of " + workload +
                                                " is being restored; start again in a moment");
    auto ready = split ? (*split)->splitter->prepareSession(s.id, p.filter, p.mode)
                       : Result<engine::PreparedSession>(fail(split.error()));
    if (!ready) {
      log->error("session={} could not start on {}: {}", s.id, p.original.name, ready.error().message());
      return undo(0, ready.error(), false);
    }
    if (!ready->patch_to.empty()) (*split)->started_by = s.id;
    splits.push_back(*split);
    prepared.push_back(std::move(ready).value());
  }
  WorkloadChange change;
  for (std::size_t i = 0; i < plans.size(); ++i)
    if (!prepared[i].patch_to.empty())
      change.patches.push_back({plans[i].original.name, prepared[i].patch_to, plans[i].original.places});
  if (!change.empty()) {
    auto ready = strictest([&](auto each) {
      for (std::size_t i = 0; i < plans.size(); ++i)
        if (!prepared[i].patch_to.empty()) each(plans[i].restart_timeout, plans[i].wait_for_pods);
    });
    // Patched before forwarding starts: the workload never competes with the forwarder for a
    // message meant for a session; messages wait in the originals meanwhile.
    if (auto r = workloads_.change(workload, change, ready); !r) {
      log->error("session={} could not patch {}: {}", s.id, workload, r.error().message());
      // Even a failed change may be written (only its restart late): it is undone too.
      return undo(0, r.error().withContext("patching the workload"), true);
    }
  }
  for (std::size_t i = 0; i < plans.size(); ++i) {
    if (auto begun = splits[i]->splitter->beginSession(s.id); !begun)
      return undo(i, begun.error(), true);  // those begun are in s.queues: ended by the caller
    const auto& p = plans[i];
    s.queues.push_back({p.queue_id, p.type, p.original.name, prepared[i].queue, p.mode});
    (void)saveSplit(*splits[i]);
  }
  return splits;
}

void SessionManager::restoreWhenDrained() {
  auto log = logger("sessions");
  std::map<std::string, std::vector<Split*>> draining;  // by workload
  std::set<std::string> waiting;  // workloads with a split in its idle TTL: it drains later
  {
    std::lock_guard lock(mutex_);
    for (auto& [key, split] : splits_) {
      if (split->splitter->state() == core::SplitState::kDraining)
        draining[split->workload].push_back(split.get());
      else if (split->splitter->idle())
        waiting.insert(split->workload);
    }
  }
  for (auto& [workload, splits] : draining) {
    if (stopping_) return;
    bool all = !waiting.count(workload);
    for (Split* split : splits) {
      if (split->restoring) continue;
      auto done = split->splitter->mayRestore();
      if (!done) log->warn("queue={} drain: {}", split->original, done.error().message());
      all = all && done && *done;
    }
    if (all) restoreWorkload(workload, splits);
  }
}

void SessionManager::restoreWorkload(const std::string& workload, const std::vector<Split*>& splits) {
  auto log = logger("sessions");
  WorkloadChange change;
  for (Split* split : splits) {
    // Stored first: a restart in the middle finishes this restore rather than drain again.
    split->restoring = true;
    (void)saveSplit(*split);
    change.restores.push_back(split->original);
  }
  auto ready = strictest([&](auto each) {
    for (Split* split : splits) each(split->restart_timeout, split->wait_for_pods);
  });
  if (auto r = workloads_.change(workload, change, ready); !r) {
    log->warn("workload={} restoring {} queues: {}; again at the next tick", workload,
              splits.size(), r.error().message());
    return;
  }
  for (Split* split : splits) {
    if (auto r = split->splitter->finishRestore(); !r) {
      log->warn("queue={} restored, its fallback not yet removed: {}", split->original,
                r.error().message());
      continue;
    }
    split->restoring = false;
    log->info("workload={} queue={} restored", workload, split->original);
  }
}

}  // namespace qsplit::control
