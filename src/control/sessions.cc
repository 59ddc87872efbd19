#include "control/sessions.h"

#include "jq/documents.h"
#include "jq/json_payload.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>

#include "common/log.h"
#include "config/sqs_target.h"
#include "control/queue_places.h"
#include "control/sessions_internal.h"
#include "engine/metrics.h"
#include "engine/orphans.h"

namespace qsplit::control {
namespace {

constexpr char kSessionKind[] = "session";

Error stoppingNow() {
  return Error(ErrorCode::kUnavailable, "qsplitd is stopping; try again once it is back "
                                        "(sessions stay stored and resume)");
}

int64_t unixMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

SessionManager::SessionManager(Store& store, Workloads& workloads, Resources resources,
                               Clock& clock, Random& random, ManagerOptions options)
    : store_(store), workloads_(workloads), resources_(std::move(resources)), clock_(clock),
      random_(random), options_(std::move(options)) {
  if (!options_.replica.empty())
    replicas_ = std::make_unique<Replicas>(store_, clock_, options_.replica, options_.lease);
}

SessionManager::~SessionManager() {
  stopFollowing();
  // Splitters stop their forwarders; nothing is ended: the sessions resume after a restart.
  std::lock_guard lock(mutex_);
  splits_.clear();
}

Result<void> SessionManager::saveSession(const Session& s) {
  return store_.put(kSessionKind, s.id, sessionToJson(s));
}

Result<void> SessionManager::saveSplit(const Split& split) {
  auto status = split.splitter->status();
  return putSplit(split, status.state, status.fallback);
}

Result<void> SessionManager::putSplit(const Split& split, core::SplitState state,
                                      const std::string& fallback) {
  std::string key = splitKey(split.type, split.original);
  if (state == core::SplitState::kRestored || state == core::SplitState::kIdle)
    return store_.remove(kSplitKind, key);
  nlohmann::json j = {
      {"type", config::queueTypeName(split.type)}, {"original", split.original},
      {"queue_id", split.queue_id}, {"journal", split.journal},
      {"workload", split.workload}, {"fallback", fallback},
      {"state", core::splitStateName(state)}, {"places", placesToJson(split.places)},
      {"restart_timeout_ms",
       std::chrono::duration_cast<std::chrono::milliseconds>(split.restart_timeout).count()},
      {"wait_for_pods", split.wait_for_pods}, {"sns", split.sns}, {"s3_event", split.s3_event}};
  if (split.restoring && state == core::SplitState::kDraining) j["state"] = "restoring";
  if (split.ttl > Duration::zero())
    j["ttl_ms"] = std::chrono::duration_cast<std::chrono::milliseconds>(split.ttl).count();
  if (!split.started_by.empty()) j["started_by"] = split.started_by;
  if (split.linger)  // absent: qsplitd's linger timeout; null: no limit
    j["linger_ms"] = *split.linger == core::kNoDrainLimit
                         ? nlohmann::json()
                         : nlohmann::json(std::chrono::duration_cast<std::chrono::milliseconds>(
                                              *split.linger).count());
  if (!split.routes.empty()) j["routes"] = nlohmann::json::parse(split.routes);
  return store_.put(kSplitKind, key, j.dump());
}

Result<void> SessionManager::shareRoutes(Split& split, const engine::SharedRoutes& routes) {
  std::string table = routesToJson(routes).dump();
  if (table != split.routes) {
    std::swap(table, split.routes);
    if (auto put = putSplit(split, routes.state, routes.fallback); !put) {
      split.routes = std::move(table);  // not stored: written again at the next call
      return put;
    }
  }
  if (!replicas_ || !routes.confirm_within) return ok();
  return replicas_->confirm(splitKey(split.type, split.original), routes.token,
                            *routes.confirm_within);
}

// What filters of the plan's queue see, when its bodies are SNS notifications or S3 events.
Result<std::function<void(std::vector<core::Message>&)>> SessionManager::bodyView(const Plan& plan) {
  auto refuse = [&](const std::string& field, const std::string& what) {
    return fail(ErrorCode::kFailedPrecondition, "queue id '" + plan.queue_id + "' has " + field +
                                                    ": true, and this qsplitd cannot read " + what);
  };
  // Redis Pub/Sub messages and BullMQ jobs have no headers: filters match the fields of the
  // JSON payload (a job's data).
  if (plan.type == config::QueueType::kRedisPubSub || plan.type == config::QueueType::kBullMQ)
    return std::function<void(std::vector<core::Message>&)>(jq::useJsonPayloadFields);
  if (plan.sns && !options_.sns_view) return refuse("sns", "SNS notifications");
  if (plan.s3_event && !options_.s3_view) return refuse("s3Event", "S3 objects");
  if (!plan.sns && !plan.s3_event) return std::function<void(std::vector<core::Message>&)>();
  auto sns = plan.sns ? options_.sns_view : nullptr;
  auto s3 = plan.s3_event ? options_.s3_view : nullptr;
  return std::function<void(std::vector<core::Message>&)>(
      [sns, s3](std::vector<core::Message>& batch) {
        if (sns)
          for (auto& m : batch) sns(m);
        if (s3) s3(batch);  // adds to what the SNS view found: S3 events sent through SNS
      });
}

Result<SessionManager::Split*> SessionManager::splitFor(const Plan& plan, const std::string& workload) {
  std::string key = splitKey(plan.type, plan.original.name);
  std::lock_guard lock(mutex_);
  if (auto it = splits_.find(key); it != splits_.end()) {
    if (it->second->workload != workload)
      return fail(ErrorCode::kFailedPrecondition,
                  "queue " + plan.original.name + " is already split for " + it->second->workload);
    return it->second.get();
  }
  auto split = std::make_unique<Split>();
  split->type = plan.type;
  split->queue_id = plan.queue_id;
  split->broker = plan.broker;
  split->group = plan.group;
  split->journal = plan.journal;
  split->original = plan.original.name;
  split->workload = workload;
  split->places = plan.original.places;
  split->restart_timeout = plan.restart_timeout;
  split->linger = plan.linger;
  split->ttl = plan.ttl;
  split->wait_for_pods = plan.wait_for_pods;
  split->sns = plan.sns;
  split->s3_event = plan.s3_event;
  engine::SplitOptions options = options_.split;
  if (plan.linger) options.linger_timeout = *plan.linger;
  options.idle_ttl = plan.ttl;
  options.share_routes = [this, s = split.get()](const engine::SharedRoutes& routes) {
    return shareRoutes(*s, routes);
  };
  options.journal = &store_.journal(plan.journal);
  options.stopping = &stopping_;
  options.group = plan.group;
  options.streams = plan.streams;
  if (plan.type == config::QueueType::kKafka && options_.kafka_names) options.names = *options_.kafka_names;
  QSPLIT_ASSIGN_OR_RETURN(options.forwarder.view, bodyView(plan));
  options.content = contentFor(plan, true);
  if (options_.sqs_tags && plan.type == config::QueueType::kSqs)
    options_.sqs_tags(plan.original.name, plan.tags);
  split->splitter = std::make_unique<engine::QueueSplitter>(*plan.broker, clock_, random_,
                                                            split->original, std::move(options));
  return (splits_[key] = std::move(split)).get();
}

Result<Session> SessionManager::start(const Caller& caller, const std::string& target,
                                      const std::string& config_json) {
  auto started = startUnlogged(caller, target, config_json);
  if (!started)
    logger("sessions")->warn("a session of {} was refused: {}", caller.user, started.error().message());
  return started;
}

Result<Session> SessionManager::startUnlogged(const Caller& caller, const std::string& target,
                                              const std::string& config_json) {
  if (stopping_) return fail(stoppingNow());
  QSPLIT_ASSIGN_OR_RETURN(auto user, config::parseUserConfig(config_json, "mirrord.json"));
  QSPLIT_TRY(checkContent(user));
  std::optional<config::Target> parsed = user.target;
  if (!target.empty()) {
    QSPLIT_ASSIGN_OR_RETURN(parsed, config::Target::parse(target));
  }
  if (!parsed)
    return fail(ErrorCode::kInvalidArgument,
                "no target: pass --target deployment/NAME or set `target` in mirrord.json");
  // A workload of the same name in the namespace served is another workload: never patch it.
  const auto& ns = user.target ? user.target->namespace_ : std::nullopt;
  if (ns && !options_.workloads_namespace.empty() && *ns != options_.workloads_namespace)
    return fail(ErrorCode::kInvalidArgument,
                "mirrord.json: target.namespace: '" + *ns + "', but this qsplitd serves the "
                "workloads of namespace '" + options_.workloads_namespace +
                "' (a qsplitd serves one namespace: kubernetes.namespace, --namespace)");
  std::string workload = parsed->kind + "/" + parsed->name;
  QSPLIT_ASSIGN_OR_RETURN(auto env, workloads_.env(workload));
  std::lock_guard lifecycle(lifecycle_mutex_);
  QSPLIT_ASSIGN_OR_RETURN(auto plans, plan(user, workload, env));

  Session s{random_.digits(12), caller.user, workload, config_json, "starting", {}, {},
            unixMillis(), clock_.now(), clock_.now()};
  QSPLIT_TRY(saveSession(s));  // before any queue exists: a crash leaves a findable record
  {
    std::lock_guard lock(mutex_);
    sessions_[s.id] = s;
  }
  auto log = logger("sessions");
  auto started = startQueues(s, workload, plans);
  if (!started) {
    {
      std::lock_guard lock(mutex_);
      sessions_[s.id].queues = s.queues;  // what began: ended as the owner would end them
    }
    (void)endLocked(s.id, "start failed");
    return fail(started.error());
  }
  config::ContainerEnv session_env = env;
  for (std::size_t i = 0; i < plans.size(); ++i) {
    s.env.insert(plans[i].shared_env.begin(), plans[i].shared_env.end());
    applyPlaces(session_env, plans[i].original.places, s.queues[i].temporary);
  }
  for (const auto& [container, vars] : session_env)
    for (const auto& [name, value] : vars)
      if (!env.count(container) || env.at(container).count(name) == 0 ||
          env.at(container).at(name) != value)
        s.env[name] = value;
  s.state = "ready";
  QSPLIT_TRY(saveSession(s));
  {
    std::lock_guard lock(mutex_);
    sessions_[s.id] = s;
  }
  // The start happened: the splits it created are this session's no longer (a restart now
  // resumes them with it).
  for (Split* split : *started)
    if (split->started_by == s.id) {
      split->started_by.clear();
      (void)saveSplit(*split);
    }
  log->info("session={} owner={} target={} ready: {} queues", s.id, s.owner, s.target,
            s.queues.size());
  return s;
}

Result<Session> SessionManager::heartbeat(const Caller& caller, const std::string& id) {
  if (stopping_) return fail(stoppingNow());
  std::lock_guard lock(mutex_);
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return fail(ErrorCode::kNotFound, "session " + id + " does not exist");
  if (it->second.owner != caller.user && !caller.admin)
    return fail(ErrorCode::kPermissionDenied,
                "session " + id + " belongs to " + it->second.owner + ", not " + caller.user);
  it->second.last_heartbeat = clock_.now();
  if (it->second.state == "ready") it->second.state = "connected";
  return it->second;
}

Result<Session> SessionManager::end(const Caller& caller, const std::string& id,
                                    const std::string& reason) {
  if (stopping_) return fail(stoppingNow());
  {
    std::lock_guard lock(mutex_);
    auto it = sessions_.find(id);
    if (it == sessions_.end()) return fail(ErrorCode::kNotFound, "session " + id + " does not exist");
    if (it->second.owner != caller.user && !caller.admin)
      return fail(ErrorCode::kPermissionDenied, "session " + id + " belongs to " +
                                                    it->second.owner + ", not " + caller.user +
                                                    "; only its owner or an admin may end it");
  }
  std::lock_guard lifecycle(lifecycle_mutex_);
  return endLocked(id, reason);
}

Result<Session> SessionManager::endLocked(const std::string& id, const std::string& reason) {
  Session s;
  {
    std::lock_guard lock(mutex_);
    auto it = sessions_.find(id);
    if (it == sessions_.end()) {  // ended meanwhile (expiry and owner at once)
      s.id = id;
      return s;
    }
    s = it->second;
  }
  auto log = logger("sessions");
  std::optional<Error> first_error;
  for (auto& q : s.queues) {
    if (stopping_) {
      log->warn("session={} qsplitd is stopping: its end goes on when it starts again", id);
      return fail(stoppingNow());  // the session stays stored, with what is left of it
    }
    Split* split = nullptr;
    {
      std::lock_guard lock(mutex_);
      auto it = splits_.find(splitKey(q.type, q.original));
      if (it != splits_.end()) split = it->second.get();
    }
    if (!split) continue;
    // A failure leaves the session's queue in the journal: it is reclaimed later.
    if (auto r = split->splitter->endSession(id); !r) {
      log->error("session={} queue={} ending: {}", id, q.original, r.error().message());
      if (!first_error) first_error = r.error();
    } else {
      q.forwarded = r->forwarded;
      q.given_back = r->given_back;
    }
    (void)saveSplit(*split);
  }
  {
    std::lock_guard lock(mutex_);
    sessions_.erase(id);
  }
  {
    std::lock_guard lock(off_mutex_);
    for (const auto& q : s.queues) filters_off_.erase({id, q.original});
  }
  QSPLIT_TRY(store_.remove(kSessionKind, id));
  log->info("session={} owner={} ended: {}", id, s.owner, reason);
  if (first_error) return fail(*first_error);
  return s;
}

Result<Session> SessionManager::get(const std::string& id) const {
  std::lock_guard lock(mutex_);
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return fail(ErrorCode::kNotFound, "session " + id + " does not exist");
  Session s = it->second;
  markFiltersOff(s);
  return s;
}

void SessionManager::markFiltersOff(Session& s) const {
  std::lock_guard lock(off_mutex_);
  for (auto& q : s.queues)
    if (auto it = filters_off_.find({s.id, q.original}); it != filters_off_.end())
      q.filter_error = it->second;
}

Result<void> SessionManager::checkContent(const config::UserConfig& user) {
  bool any = false;
  for (const auto& split : user.splits) any = any || !split.jq_filter.empty();
  if (!any) return ok();
  if (options_.jq_worker.empty())
    return fail(ErrorCode::kFailedPrecondition, "mirrord.json: jq_filter: this qsplitd runs no jq worker");
  return config::checkContentFilters(user, [this](const core::ContentFilter& filter) { return checkFilter(filter); });
}

std::function<std::shared_ptr<core::ContentMatcher>()> SessionManager::contentFor(const Plan& plan,
                                                                                  bool leading) {
  if (options_.jq_worker.empty()) return nullptr;
  jq::JqMatcherOptions content{options_.jq_worker, options_.jq_limits, {}, {}, options_.jq_workers};
  if (plan.type == config::QueueType::kSqs) content.document = jq::sqsDocument(plan.s3_event);
  if (plan.type == config::QueueType::kKafka) content.document = jq::kafkaDocument(plan.original.name);
  if (plan.type == config::QueueType::kRmq) content.document = jq::rabbitDocument();
  if (plan.type == config::QueueType::kRedisStream) content.document = jq::redisStreamDocument(plan.original.name);
  if (plan.type == config::QueueType::kGcpPubSub) content.document = jq::pubsubDocument();
  if (plan.type == config::QueueType::kRedisPubSub || plan.type == config::QueueType::kBullMQ)
    content.document = jq::jsonPayloadDocument();
  if (plan.jq_time_limit) content.limits.time = *plan.jq_time_limit;
  content.on_off = [this, leading, original = plan.original.name, id = plan.queue_id](
                       const std::string& session, const std::string& reason) {
    logger("sessions")->error("session {}: the jq_filter of queue id '{}' ({}) is switched off "
                              "and matches nothing from now on{}: {}", session, id, original,
                              leading ? "" : " on this replica", reason);
    if (!leading) return;  // the leader's status is the session's
    std::lock_guard lock(off_mutex_);
    filters_off_[{session, original}] = "jq_filter switched off: " + reason;
  };
  return [content] { return std::make_shared<jq::JqMatcher>(content); };
}

Result<void> SessionManager::checkFilter(const core::ContentFilter& filter) {
  if (options_.jq_worker.empty())
    return fail(ErrorCode::kFailedPrecondition, "jq_filter: this qsplitd runs no jq worker");
  std::lock_guard lock(checker_mutex_);
  if (!checker_) checker_ = std::make_unique<jq::JqMatcher>(jq::JqMatcherOptions{options_.jq_worker, options_.jq_limits, {}, {}});
  return checker_->check(filter);
}

std::vector<Session> SessionManager::list() const {
  std::lock_guard lock(mutex_);
  std::vector<Session> out;
  for (const auto& [id, s] : sessions_) {
    out.push_back(s);
    markFiltersOff(out.back());
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return std::tie(a.started_unix_ms, a.id) < std::tie(b.started_unix_ms, b.id);
  });
  return out;
}

std::vector<QueueStatus> SessionManager::queues(bool backlog) const {
  std::vector<QueueStatus> out;
  struct Where {
    core::Broker* broker;
    std::string original_group;  // the workload's
    std::string fallback_group;  // whoever reads the fallback
  };
  std::vector<Where> where;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [key, split] : splits_) {
      out.push_back({split->type, split->workload, split->splitter->status(), split->rate, {}, {}});
      where.push_back({split->broker, split->group, split->splitter->groupOn(out.back().split.fallback)});
    }
  }
  if (!backlog) return out;
  for (std::size_t i = 0; i < out.size(); ++i) {
    auto depth = [&](const std::string& name, const std::string& group) -> std::optional<uint64_t> {
      if (name.empty()) return std::nullopt;
      auto n = where[i].broker->admin().backlog(name, group);
      return n ? std::optional<uint64_t>(*n) : std::nullopt;
    };
    out[i].original_backlog = depth(out[i].split.original, where[i].original_group);
    out[i].fallback_backlog = depth(out[i].split.fallback, where[i].fallback_group);
  }
  return out;
}

std::string SessionManager::metrics() const {
  std::vector<engine::SplitStatus> splits;
  for (auto& q : queues()) splits.push_back(std::move(q.split));
  {
    std::lock_guard lock(follower_mutex_);
    if (follower_)
      for (auto& s : follower_->status()) splits.push_back(std::move(s));
  }
  std::string text = engine::prometheusText(splits);
  std::size_t count = list().size();
  text += "# HELP qsplit_sessions Live sessions.\n# TYPE qsplit_sessions gauge\nqsplit_sessions " +
          std::to_string(count) + "\n";
  return text;
}

Result<QueueVariables> SessionManager::queueVariables(const std::string& workload) const {
  auto resources = resources_();
  QueueVariables vars;
  bool found = false;
  for (const auto& r : resources->registries) {
    if (!r.consumer.matches(workload)) continue;
    found = true;
    vars.container = r.consumer.container.value_or("");
    for (const auto& q : r.queues)
      for (const auto* source : {&q.name_source, q.exchange_source ? &*q.exchange_source : nullptr}) {
        if (!source) continue;
        if (source->env_var) vars.names.push_back(*source->env_var);
        if (source->regex_pattern) vars.patterns.push_back(*source->regex_pattern);
      }
  }
  for (const auto& c : resources->topics_consumers) {
    if (!c.isFor(workload)) continue;
    found = true;
    for (const auto& t : c.topics)
      for (const auto* sources : {&t.name_sources, &t.group_id_sources, &t.application_id_sources})
        for (const auto& source : *sources) {
          if (vars.container.empty()) vars.container = source.container;
          vars.names.push_back(source.variable);
        }
  }
  // A MirrordSplitConfig's references, for a workload no legacy resource names.
  for (const auto& c : resources->split_configs) {
    if (found || !config::sameWorkload(c.target_ref.kind, c.target_ref.name, workload)) continue;
    for (const auto& q : c.queues)
      for (const auto& [key, refs] : q.app_config)
        for (const auto& ref : refs) {
          if (ref.env) vars.names.push_back(*ref.env);
          if (ref.env_like) vars.patterns.push_back(*ref.env_like);
        }
    found = true;
  }
  if (!found)
    return fail(ErrorCode::kNotFound, "no MirrordWorkloadQueueRegistry, MirrordKafkaTopicsConsumer or "
                                      "MirrordSplitConfig names " + workload);
  return vars;
}

std::optional<std::string> SessionManager::expired(const Session& s, TimePoint now) const {
  const auto& limits = options_.limits;
  if (s.state == "ready" && now - s.started > limits.setup_deadline)
    return "SetupDeadlineExceeded: no heartbeat since it started";
  if (s.state == "connected" && now - s.last_heartbeat > limits.unused_ttl)
    return "Unused: no heartbeat within the unused TTL";
  if (limits.max_time && now - s.started > *limits.max_time)
    return "TimeLimitExceeded: the maximum session time passed";
  return std::nullopt;
}

void SessionManager::tick() {
  if (stopping_) return;
  auto log = logger("sessions");
  if (replicas_) replicas_->observe();
  std::vector<std::pair<std::string, std::string>> ending;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [id, s] : sessions_)
      if (auto why = expired(s, clock_.now())) ending.emplace_back(id, *why);
  }
  std::lock_guard lifecycle(lifecycle_mutex_);
  for (const auto& [id, why] : ending) {
    if (stopping_) return;
    log->warn("session={} expired ({}); ending it as its owner would", id, why);
    (void)endLocked(id, why);
  }
  std::vector<std::string> finished;
  std::vector<Split*> splits;
  {
    std::lock_guard lock(mutex_);
    for (auto& [key, split] : splits_) splits.push_back(split.get());
  }
  if (stopping_) return;
  for (Split* split : splits)
    if (auto r = split->splitter->tickIdle(); !r)
      log->warn("queue={} its ttl passed, and not every replica stopped forwarding yet: {}",
                split->original, r.error().message());
  restoreWhenDrained();
  for (Split* split : splits) {
    auto status = split->splitter->status();
    split->rate = static_cast<double>(status.counts.read - split->last_read);
    split->last_read = status.counts.read;
    // Restored, or idle: never started (its first session's start failed and was undone).
    if (status.state == core::SplitState::kRestored || status.state == core::SplitState::kIdle) {
      (void)saveSplit(*split);
      finished.push_back(splitKey(split->type, split->original));
    } else if (status.state == core::SplitState::kDraining) {
      (void)saveSplit(*split);
    }
  }
  std::vector<std::unique_ptr<Split>> done;  // destroyed outside the lock
  std::lock_guard lock(mutex_);
  for (const auto& key : finished) {
    done.push_back(std::move(splits_[key]));
    splits_.erase(key);
  }
}

}  // namespace qsplit::control
