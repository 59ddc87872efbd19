// SessionManager::resume: taking over after a restart or a kill -9.
#include <nlohmann/json.hpp>

#include <set>

#include "common/log.h"
#include "control/queue_places.h"
#include "control/sessions_internal.h"
#include "engine/orphans.h"

namespace qsplit::control {

Result<void> SessionManager::resume() {
  std::lock_guard lifecycle(lifecycle_mutex_);
  auto log = logger("sessions");
  QSPLIT_ASSIGN_OR_RETURN(auto records, store_.list("session"));
  std::vector<Session> live;
  for (const auto& r : records) {
    auto s = sessionFromJson(r.json);
    if (!s) return fail(s.error());
    if (s->state == "starting") {
      // It died while starting: whatever it created is in the journal and reclaimed below.
      log->warn("session={} was starting when qsplitd stopped; dropping it", s->id);
      QSPLIT_TRY(store_.remove("session", s->id));
      continue;
    }
    s->started = clock_.now();  // the setup deadline and the TTL count from the restart
    s->last_heartbeat = clock_.now();
    live.push_back(*s);
  }
  {
    std::lock_guard lock(mutex_);
    for (const auto& s : live) sessions_[s.id] = s;
  }
  QSPLIT_TRY(resumeSplits(live));

  std::set<std::string> owned;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [key, split] : splits_) {
      auto status = split->splitter->status();
      owned.insert(status.fallback);
      for (const auto& q : status.sessions) owned.insert(q.queue);
    }
  }
  QSPLIT_TRY(workloads_.load(owned));
  for (const auto& [type, broker] : options_.brokers) {
    auto reclaimed = engine::reclaimOrphans(*broker, store_.journal(config::queueTypeName(type)),
                                            owned, options_.split.move_patience);
    if (!reclaimed) {
      log->error("reclaiming orphaned {} queues: {}", config::queueTypeName(type),
                 reclaimed.error().message());
      continue;
    }
    if (reclaimed->deleted > 0)
      log->warn("reclaimed {} orphaned {} queues, {} messages moved back to their originals",
                reclaimed->deleted, config::queueTypeName(type), reclaimed->returned);
  }
  log->info("resumed {} sessions and {} splits", live.size(), splits_.size());
  return ok();
}

Result<void> SessionManager::resumeSplits(const std::vector<Session>& sessions) {
  auto log = logger("sessions");
  QSPLIT_ASSIGN_OR_RETURN(auto records, store_.list("split"));
  for (const auto& r : records) {
    Plan plan;
    std::string fallback, state, workload;
    try {
      auto j = nlohmann::json::parse(r.json);
      QSPLIT_ASSIGN_OR_RETURN(plan.type, queueTypeFromName(j.at("type")));
      plan.original.name = j.at("original");
      QSPLIT_ASSIGN_OR_RETURN(plan.original.places, placesFromJson(j.at("places")));
      plan.restart_timeout = std::chrono::milliseconds(j.at("restart_timeout_ms").get<int64_t>());
      fallback = j.at("fallback");
      state = j.at("state");
      workload = j.at("workload");
    } catch (const nlohmann::json::exception& e) {
      return fail(ErrorCode::kInternal, "the stored split " + r.key + ": " + e.what());
    }
    if (!options_.brokers.count(plan.type)) {
      log->error("queue={} was split by {} before the restart, and that broker is not enabled now; "
                 "its queues are left as they are", plan.original.name, config::queueTypeName(plan.type));
      continue;
    }
    std::vector<core::SessionRoute> routes;
    for (const auto& s : sessions) {
      auto user = config::parseUserConfig(s.config_json, "mirrord.json");
      for (const auto& q : s.queues) {
        if (q.type != plan.type || q.original != plan.original.name) continue;
        core::SessionRoute route{s.id, {}, q.mode, q.temporary};
        if (user)
          if (const auto* split = user->find(q.queue_id, q.type)) route.filter = split->filter;
        routes.push_back(std::move(route));
      }
    }
    QSPLIT_ASSIGN_OR_RETURN(Split * split, splitFor(plan, workload));
    auto resumed_state = routes.empty() || state == "draining" ? core::SplitState::kDraining
                                                               : core::SplitState::kSplitting;
    if (auto done = split->splitter->resume(fallback, std::move(routes), resumed_state); !done) {
      log->error("queue={} could not resume: {}", plan.original.name, done.error().message());
      return fail(done.error().withContext("resuming the split of " + plan.original.name));
    }
    split->last_read = 0;
  }
  return ok();
}

}  // namespace qsplit::control
