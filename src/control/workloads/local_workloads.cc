#include "control/workloads/local_workloads.h"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "common/log.h"
#include "control/queue_places.h"

namespace qsplit::control {
namespace {

constexpr char kKind[] = "workload";
// `qsplit exec` polls at least this often while it runs.
constexpr auto kAliveWindow = std::chrono::seconds(40);

Error notRegistered(const std::string& name) {
  return Error(ErrorCode::kFailedPrecondition,
               "workload " + name + " is not running under qsplit exec (start it with `qsplit exec "
               "--workload " + name + " -- COMMAND`)");
}

}  // namespace

bool LocalWorkloads::running(const Workload& w) const {
  return w.last_seen && clock_.now() - *w.last_seen < kAliveWindow;
}

WorkloadView LocalWorkloads::viewOf(const std::string& name, const Workload& w) const {
  config::ContainerEnv env{{w.container, w.env}};
  WorkloadView view{name, w.container, w.generation, w.ready_generation, {}, {}, running(w)};
  for (const auto& p : w.patches) {
    applyPlaces(env, p.places, p.replacement);
    view.patched.push_back(p.original);
  }
  view.env = env[w.container];
  return view;
}

Result<void> LocalWorkloads::save(const std::string& name, const Workload& w) {
  nlohmann::json patches = nlohmann::json::array();
  for (const auto& p : w.patches)
    patches.push_back({{"original", p.original}, {"replacement", p.replacement},
                       {"places", placesToJson(p.places)}});
  nlohmann::json j = {{"container", w.container}, {"env", w.env}, {"patches", patches},
                      {"generation", w.generation}};
  return store_.put(kKind, name, j.dump());
}

Result<void> LocalWorkloads::load() {
  QSPLIT_ASSIGN_OR_RETURN(auto records, store_.list(kKind));
  std::lock_guard lock(mutex_);
  for (const auto& r : records) {
    Workload w;
    try {
      auto j = nlohmann::json::parse(r.json);
      w.container = j.at("container").get<std::string>();
      w.env = j.at("env").get<std::map<std::string, std::string>>();
      w.generation = j.at("generation").get<uint64_t>();
      for (const auto& p : j.at("patches")) {
        QSPLIT_ASSIGN_OR_RETURN(auto places, placesFromJson(p.at("places")));
        w.patches.push_back({p.at("original"), p.at("replacement"), std::move(places)});
      }
    } catch (const nlohmann::json::exception& e) {
      return fail(ErrorCode::kInternal, "the stored workload " + r.key + ": " + e.what());
    }
    // The command kept running meanwhile; `qsplit exec` reports what it runs when it returns.
    w.ready_generation = w.generation;
    workloads_[r.key] = std::move(w);
  }
  return ok();
}

Result<void> LocalWorkloads::keepPatchesTo(const std::set<std::string>& live_queues) {
  std::lock_guard lock(mutex_);
  for (auto& [name, w] : workloads_) {
    auto dropped = std::erase_if(w.patches, [&](const WorkloadPatch& p) {
      if (live_queues.count(p.replacement)) return false;
      logger("workloads")->warn("workload={} dropping its patch to {}: that split did not "
                                "survive the restart", name, p.replacement);
      return true;
    });
    if (dropped == 0) continue;
    ++w.generation;
    QSPLIT_TRY(save(name, w));
    changed_.notify_all();
  }
  return ok();
}

Result<WorkloadView> LocalWorkloads::registerWorkload(const std::string& name,
                                                      const std::string& container,
                                                      std::map<std::string, std::string> env) {
  std::lock_guard lock(mutex_);
  Workload& w = workloads_[name];
  w.container = container;
  w.env = std::move(env);
  w.last_seen = clock_.now();
  QSPLIT_TRY(save(name, w));
  logger("workloads")->info("workload={} registered by qsplit exec: container {}, {} queue "
                            "variables, generation {}", name, container, w.env.size(), w.generation);
  changed_.notify_all();
  return viewOf(name, w);
}

Result<config::ContainerEnv> LocalWorkloads::env(const std::string& name) {
  std::lock_guard lock(mutex_);
  auto it = workloads_.find(name);
  if (it == workloads_.end())
    return fail(ErrorCode::kFailedPrecondition,
                "workload " + name + " is not known: run it with `qsplit exec --workload " + name +
                    " -- COMMAND`");
  return config::ContainerEnv{{it->second.container, it->second.env}};
}

Result<WorkloadView> LocalWorkloads::view(const std::string& name) const {
  std::lock_guard lock(mutex_);
  auto it = workloads_.find(name);
  if (it == workloads_.end())
    return fail(ErrorCode::kNotFound, "workload " + name + " is not registered");
  return viewOf(name, it->second);
}

Result<WorkloadView> LocalWorkloads::waitChange(const std::string& name, uint64_t after,
                                                Duration max_wait) {
  std::unique_lock lock(mutex_);
  auto it = workloads_.find(name);
  if (it == workloads_.end())
    return fail(ErrorCode::kNotFound, "workload " + name + " is not registered");
  it->second.last_seen = clock_.now();
  changed_.wait_for(lock, max_wait, [&] { return closed_ || it->second.generation > after; });
  it->second.last_seen = clock_.now();
  return viewOf(name, it->second);
}

Result<void> LocalWorkloads::ready(const std::string& name, uint64_t generation) {
  std::lock_guard lock(mutex_);
  auto it = workloads_.find(name);
  if (it == workloads_.end())
    return fail(ErrorCode::kNotFound, "workload " + name + " is not registered");
  if (generation > it->second.generation)
    return fail(ErrorCode::kInvalidArgument, "generation " + std::to_string(generation) +
                                                 " of " + name + " does not exist yet");
  it->second.ready_generation = std::max(it->second.ready_generation, generation);
  it->second.last_seen = clock_.now();
  changed_.notify_all();
  return ok();
}

Result<void> LocalWorkloads::awaitReady(std::unique_lock<std::mutex>& lock, const std::string& name,
                                        uint64_t generation, Duration timeout) {
  Workload& w = workloads_[name];
  // close() ends the wait: qsplitd is stopping, and a wait of up to the restart timeout
  // would outlast its grace period. The change is saved; the split resumes on the next start.
  changed_.wait_for(lock, timeout, [&] { return closed_ || w.ready_generation >= generation; });
  if (w.ready_generation >= generation) return ok();
  if (closed_)
    return fail(ErrorCode::kCancelled, "workload " + name + ": qsplitd is stopping before it "
                                       "restarted with generation " + std::to_string(generation));
  return fail(ErrorCode::kTimeout, "workload " + name + " did not restart with generation " +
                                       std::to_string(generation) + " within " +
                                       std::to_string(std::chrono::duration_cast<std::chrono::seconds>(timeout).count()) + " s");
}

Result<void> LocalWorkloads::change(const std::string& name, const WorkloadChange& change,
                                    Readiness ready) {
  std::unique_lock lock(mutex_);
  auto it = workloads_.find(name);
  if (it == workloads_.end() || (!change.patches.empty() && !running(it->second))) {
    if (change.patches.empty()) return ok();  // nothing to restore
    return fail(notRegistered(name));
  }
  Workload& w = it->second;
  auto log = logger("workloads");
  std::size_t changed = 0;
  for (const auto& original : change.restores) {
    auto n = std::erase_if(w.patches, [&](const auto& p) { return p.original == original; });
    if (n > 0) log->info("workload={} restoring {}", name, original);
    changed += n;
  }
  for (const auto& patch : change.patches) {
    std::erase_if(w.patches, [&](const auto& p) { return p.original == patch.original; });
    log->info("workload={} patching {} -> {}", name, patch.original, patch.replacement);
    w.patches.push_back(patch);
    ++changed;
  }
  if (changed == 0) return ok();
  uint64_t generation = ++w.generation;
  QSPLIT_TRY(save(name, w));
  log->info("workload={} generation {}: {} queues patched, {} restored", name, generation,
            change.patches.size(), change.restores.size());
  changed_.notify_all();
  if (!running(w)) return ok();  // only restores: nothing runs to restart, it starts restored
  return awaitReady(lock, name, generation, ready.timeout);
}

void LocalWorkloads::close() {
  std::lock_guard lock(mutex_);
  closed_ = true;
  changed_.notify_all();
}

std::vector<WorkloadView> LocalWorkloads::list() const {
  std::lock_guard lock(mutex_);
  std::vector<WorkloadView> out;
  for (const auto& [name, w] : workloads_) out.push_back(viewOf(name, w));
  return out;
}

}  // namespace qsplit::control
