// SessionManager::resume: taking over after a restart or a kill -9.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
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
  QSPLIT_TRY(workloads_.load());  // the workloads' environments re-resolve Kafka targets
  // Every queue a stored split or session names is owned, resumed or not: a split that
  // could not resume now (a broker down) keeps its queues for the next start.
  QSPLIT_ASSIGN_OR_RETURN(std::set<std::string> owned, resumeSplits(live));
  for (const auto& s : live)
    for (const auto& q : s.queues) owned.insert(q.temporary);
  // A workload that cannot be read now (no permission, the cluster away) keeps its patch;
  // qsplitd still serves, and the next start looks again.
  if (auto kept = workloads_.keepPatchesTo(owned); !kept)
    logger("sessions")->error("workload patches left by splits that did not survive were not "
                              "checked: {}", kept.error().message());
  std::map<std::string, core::Broker*> journals;  // the clusters whose orphans can be reclaimed
  if (auto sqs = options_.brokers.find(config::QueueType::kSqs); sqs != options_.brokers.end())
    journals["SQS"] = sqs->second;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [key, split] : splits_) journals[split->journal] = split->broker;
  }
  for (const auto& [journal, broker] : journals) {
    auto reclaimed = engine::reclaimOrphans(*broker, store_.journal(journal), owned,
                                            options_.split.move_patience);
    if (!reclaimed) {
      log->error("reclaiming orphaned queues of {}: {}", journal, reclaimed.error().message());
      continue;
    }
    if (reclaimed->deleted > 0)
      log->warn("reclaimed {} orphaned queues of {}, {} messages moved back to their originals",
                reclaimed->deleted, journal, reclaimed->returned);
  }
  log->info("resumed {} sessions and {} splits", live.size(), splits_.size());
  return ok();
}

Result<std::set<std::string>> SessionManager::resumeSplits(const std::vector<Session>& sessions) {
  auto log = logger("sessions");
  QSPLIT_ASSIGN_OR_RETURN(auto records, store_.list(kSplitKind));
  std::set<std::string> fallbacks;  // of every stored split, resumed or not
  for (const auto& r : records) {
    QSPLIT_ASSIGN_OR_RETURN(auto stored, parseStoredSplit(r.key, r.json));
    auto& [plan, fallback, state, workload, started_by] = stored;
    if (!started_by.empty() &&
        std::none_of(sessions.begin(), sessions.end(), [&](const Session& s) { return s.id == started_by; })) {
      // Created by a start that did not finish: undone with the rest of it (the fallback is
      // reclaimed, its messages back in the original, and the workload's patch withdrawn).
      log->warn("queue={} was split by session {}, whose start did not finish; undoing it",
                plan.original.name, started_by);
      QSPLIT_TRY(store_.remove(kSplitKind, r.key));
      continue;
    }
    fallbacks.insert(fallback);
    if (auto found = brokerFor(plan, workload); !found) {
      log->error("queue={} was split before the restart and cannot resume now ({}); its queues "
                 "are kept for the next start", plan.original.name, found.error().message());
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
        // A content filter that no longer compiles here (a qsplitd without a jq worker, say)
        // matches nothing, and the session's status says why.
        if (!route.filter.content().empty())
          if (auto checked = checkFilter(route.filter.content()); !checked) {
            log->error("session={} queue={} its filter matches nothing after the restart: {}", s.id,
                       q.original, checked.error().message());
            std::lock_guard lock(off_mutex_);
            filters_off_[{s.id, q.original}] = "jq_filter switched off: " + checked.error().message();
            route.filter = core::Filter();
          }
        routes.push_back(std::move(route));
      }
    }
    QSPLIT_ASSIGN_OR_RETURN(Split * split, splitFor(plan, workload));
    bool restoring = state == "restoring";
    // A split with no session left resumes its ttl window, if it has one, else drains.
    bool idle = routes.empty() && state == "splitting" && plan.ttl > Duration::zero();
    auto resumed_state = (routes.empty() && !idle) || state == "draining" || restoring
                             ? core::SplitState::kDraining
                             : core::SplitState::kSplitting;
    if (auto done = split->splitter->resume(fallback, std::move(routes), resumed_state); !done) {
      log->error("queue={} could not resume: {}", plan.original.name, done.error().message());
      continue;
    }
    // The workload's restore was under way: it is finished (restoreWhenDrained), not drained
    // again.
    split->restoring = restoring;
  }
  return fallbacks;
}

Result<SessionManager::StoredSplit> SessionManager::parseStoredSplit(const std::string& key,
                                                                     const std::string& json) {
  StoredSplit s;
  Plan& plan = s.plan;
  try {
    auto j = nlohmann::json::parse(json);
    QSPLIT_ASSIGN_OR_RETURN(plan.type, queueTypeFromName(j.at("type")));
    plan.queue_id = j.value("queue_id", "");
    plan.journal = j.value("journal", "SQS");
    plan.original.name = j.at("original");
    QSPLIT_ASSIGN_OR_RETURN(plan.original.places, placesFromJson(j.at("places")));
    plan.restart_timeout = std::chrono::milliseconds(j.at("restart_timeout_ms").get<int64_t>());
    plan.wait_for_pods = j.value("wait_for_pods", 1u);
    if (auto linger = j.find("linger_ms"); linger != j.end())
      plan.linger = linger->is_null() ? core::kNoDrainLimit
                                      : Duration(std::chrono::milliseconds(linger->get<int64_t>()));
    plan.ttl = std::chrono::milliseconds(j.value("ttl_ms", int64_t{0}));
    plan.sns = j.value("sns", false);
    plan.s3_event = j.value("s3_event", false);
    s.fallback = j.at("fallback");
    s.state = j.at("state");
    s.workload = j.at("workload");
    s.started_by = j.value("started_by", "");
  } catch (const nlohmann::json::exception& e) {
    return fail(ErrorCode::kInternal, "the stored split " + key + ": " + e.what());
  }
  return s;
}

// The broker (and for Kafka the group and cluster journal) of a stored split: SQS is one
// endpoint; a Kafka topic's client config and a RabbitMQ queue's or Redis stream's connection are resolved
// again from the current resources.
Result<void> SessionManager::brokerFor(Plan& plan, const std::string& workload) {
  if (plan.type == config::QueueType::kSqs) {
    auto sqs = options_.brokers.find(config::QueueType::kSqs);
    if (sqs == options_.brokers.end())
      return fail(ErrorCode::kFailedPrecondition, "SQS splitting is not enabled any more");
    plan.broker = sqs->second;
    return ok();
  }
  QSPLIT_ASSIGN_OR_RETURN(auto env, workloads_.env(workload));
  QSPLIT_ASSIGN_OR_RETURN(auto resources, resourcesFor(workload, env));
  if (plan.type == config::QueueType::kRmq || plan.type == config::QueueType::kRedisStream ||
      plan.type == config::QueueType::kRedisPubSub || plan.type == config::QueueType::kBullMQ ||
      plan.type == config::QueueType::kGcpPubSub) {
    for (const auto& r : resources->registries) {
      const config::RegistryQueue* q = r.consumer.matches(workload) ? r.findQueue(plan.queue_id) : nullptr;
      if (!q) continue;
      QSPLIT_ASSIGN_OR_RETURN(auto fresh, plan.type == config::QueueType::kRmq ? rmqPlans(*resources, r, *q, env)
                                          : plan.type == config::QueueType::kGcpPubSub
                                              ? pubsubPlans(*resources, r, *q, env)
                                              : redisPlans(*resources, r, *q, env));
      for (const auto& p : fresh)
        if (p.original.name == plan.original.name) {
          plan.broker = p.broker;
          plan.group = p.group;
          plan.journal = p.journal;
          plan.jq_time_limit = p.jq_time_limit;
          return ok();
        }
    }
    return fail(ErrorCode::kFailedPrecondition, "queue id '" + plan.queue_id + "' no longer names " +
                                                    plan.original.name);
  }
  QSPLIT_ASSIGN_OR_RETURN(Plan fresh, kafkaPlan(*resources, workload, plan.queue_id, env));
  if (fresh.original.name != plan.original.name)
    return fail(ErrorCode::kFailedPrecondition, "its topic id now names " + fresh.original.name);
  plan.broker = fresh.broker;
  plan.group = fresh.group;
  plan.streams = fresh.streams;
  plan.journal = fresh.journal;
  return ok();
}

}  // namespace qsplit::control
