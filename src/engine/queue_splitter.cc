#include "engine/queue_splitter.h"

#include <algorithm>

#include "common/log.h"
#include "engine/mover.h"

namespace qsplit::engine {
namespace {

std::shared_ptr<const core::RouteTable> emptyTable() {
  return *core::RouteTable::build({}, "");
}

}  // namespace

QueueSplitter::QueueSplitter(core::Broker& broker, core::WorkloadPatcher& workload, Clock& clock,
                             Random& random, std::string original, SplitOptions options)
    : broker_(broker), workload_(workload), clock_(clock), random_(random),
      original_(std::move(original)), options_(std::move(options)),
      journal_(options_.journal ? options_.journal : &own_journal_),
      lifecycle_(options_.linger_timeout), routes_id_(random_.digits(12)), router_(emptyTable()),
      forwarder_(broker_, original_, options_.group, router_, options_.forwarder,
                 options_.observer) {}

QueueSplitter::~QueueSplitter() { forwarder_.stop(); }

Result<std::string> QueueSplitter::createTemporary(bool fallback) {
  // A name clash is unlikely (10 random digits) but harmless: draw again.
  for (int attempt = 0;; ++attempt) {
    std::string name = options_.names.generate(original_, fallback, broker_.nameRules(), random_);
    // Recorded first: a crash between the two leaves a name reclaimOrphans can find.
    QSPLIT_TRY(journal_->record({original_, name, options_.group}));
    auto created = broker_.admin().createLike(original_, name);
    if (created) return name;
    (void)journal_->forget(name);
    if (created.error().code() != ErrorCode::kAlreadyExists || attempt == 3)
      return fail(created.error().withContext("creating a temporary queue for " + original_));
  }
}

Result<void> QueueSplitter::removeTemporary(const std::string& name) {
  auto removed = broker_.admin().remove(name);
  if (!removed && removed.error().code() != ErrorCode::kNotFound) return removed;
  return journal_->forget(name);
}

void QueueSplitter::publishTable() {
  // Sessions were validated when their filters compiled, so building cannot fail but for
  // memory exhaustion inside RE2, which is not recoverable here.
  auto table = core::RouteTable::build(sessions_, fallback_, ++generation_);
  if (!table) {
    logger("splitter")->critical("queue={} {}", original_, table.error().message());
    std::abort();
  }
  router_.publish(std::move(table).value());
}

Result<void> QueueSplitter::shareRoutes(bool forwarding,
                                       std::optional<std::chrono::milliseconds> confirm) {
  if (!options_.share_routes) return ok();
  return options_.share_routes({routes_id_ + ":" + std::to_string(generation_), lifecycle_.state(),
                                fallback_, forwarding, sessions_, confirm});
}

Result<std::string> QueueSplitter::startSession(const std::string& session_id, core::Filter filter,
                                                core::QueueMode mode) {
  std::lock_guard lock(mutex_);
  auto log = logger("splitter");
  for (const auto& s : sessions_)
    if (s.session_id == session_id)
      return fail(ErrorCode::kAlreadyExists, "session " + session_id + " already splits " + original_);
  QSPLIT_ASSIGN_OR_RETURN(core::QueueInfo info, broker_.admin().describe(original_));
  kind_ = info.kind;
  QSPLIT_ASSIGN_OR_RETURN(std::string queue, createTemporary(false));

  core::Lifecycle next = lifecycle_;
  auto actions = next.sessionStarted();
  sessions_.push_back({session_id, std::move(filter), mode, queue});
  if (auto done = runStartActions(actions); !done) {
    sessions_.pop_back();
    (void)removeTemporary(queue);
    log->error("queue={} session={} could not start: {}", original_, session_id,
               done.error().message());
    return fail(done.error());
  }
  lifecycle_ = next;
  // Other replicas route to the session once they confirm; until then their share of the
  // matching messages goes to the fallback, so a failure here is no reason to refuse.
  if (auto shared = shareRoutes(true, options_.move_patience); !shared)
    log->warn("queue={} session={} started, but not every replica routes to it yet: {}",
              original_, session_id, shared.error().message());
  log->info("queue={} session={} started: queue {} mode {}", original_, session_id, queue,
            core::queueModeName(mode));
  return queue;
}

Result<void> QueueSplitter::runStartActions(const std::vector<core::SplitAction>& actions) {
  bool created_fallback = false;
  bool patched = false;
  auto undo = [&](const Error& error) -> Result<void> {
    if (patched) (void)workload_.restore(original_);
    if (created_fallback) {
      (void)removeTemporary(fallback_);
      fallback_.clear();
    }
    return fail(error);
  };
  for (auto action : actions) {
    if (action == core::SplitAction::kCreateFallback) {
      auto name = createTemporary(true);
      if (!name) return undo(name.error());
      fallback_ = *name;
      created_fallback = true;
    } else if (action == core::SplitAction::kPatchWorkload) {
      // Patched before forwarding starts: the workload never competes with the forwarder
      // for a message meant for a session; messages wait in the original meanwhile.
      patched = true;  // even a failed patch may be written (only its rollout late): undo it
      if (auto r = workload_.patch(original_, fallback_); !r)
        return undo(r.error().withContext("patching the workload"));
    } else if (action == core::SplitAction::kStartForwarding) {
      publishTable();
      if (auto r = forwarder_.start(); !r) return undo(r.error());
    }
  }
  if (actions.empty()) publishTable();  // a later session: only the table changes
  return ok();
}

Result<void> QueueSplitter::endSession(const std::string& session_id) {
  std::lock_guard lock(mutex_);
  auto log = logger("splitter");
  auto it = std::find_if(sessions_.begin(), sessions_.end(),
                         [&](const auto& s) { return s.session_id == session_id; });
  if (it == sessions_.end())
    return fail(ErrorCode::kNotFound, "session " + session_id + " does not split " + original_);
  std::string queue = it->destination;
  bool mirror = it->mode == core::QueueMode::kMirror;
  sessions_.erase(it);
  publishTable();
  forwarder_.waitForGeneration(generation_);  // nothing routed to `queue` is still in flight
  // Nor at another replica: until each confirms, the queue may still receive messages.
  auto shared = shareRoutes(!sessions_.empty(), options_.move_patience);

  auto actions = lifecycle_.sessionEnded(sessions_.size(), clock_.now());
  if (!actions) return fail(actions.error());
  for (auto action : *actions)
    if (action == core::SplitAction::kStopForwarding) forwarder_.stop();
  if (!shared) {
    log->error("queue={} session={} ended; keeping {} (reclaimed at the next restart): {}",
               original_, session_id, queue, shared.error().message());
    return fail(shared.error());
  }

  // Unread messages of the session: back to the original to be routed again; for a topic to
  // the fallback, which keeps each partition's order for the workload.
  const std::string& back = kind_ == core::QueueKind::kTopic ? fallback_ : original_;
  // A mirror session's messages are copies: the workload has each of them already, so giving
  // them back would deliver them to it twice.
  if (!options_.return_unread || mirror) {
    auto left = broker_.admin().backlog(queue, groupOn(queue));
    log->warn("queue={} session={} ended: deleting {} with {} unread messages ({})", original_,
              session_id, queue, left ? std::to_string(*left) : left.error().message(),
              mirror ? "mirror copies" : "return_unread off");
    if (auto removed = removeTemporary(queue); !removed) return fail(removed.error());
    return ok();
  }
  auto moved = moveAll(broker_, queue, groupOn(queue), back, options_.move_patience);
  if (!moved) {
    log->error("queue={} session={} could not give back unread messages, keeping {}: {}",
               original_, session_id, queue, moved.error().message());
    return fail(moved.error());
  }
  if (moved->left > 0) {
    log->error("queue={} session={} {} messages of {} are still held by a consumer; keeping it",
               original_, session_id, moved->left, queue);
    return fail(ErrorCode::kFailedPrecondition,
                std::to_string(moved->left) + " messages of " + queue + " are still in flight");
  }
  returned_ += moved->moved;
  if (auto removed = removeTemporary(queue); !removed)
    log->warn("queue={} session={} deleting {}: {}", original_, session_id, queue,
              removed.error().message());
  log->info("queue={} session={} ended: {} unread messages given back, {} sessions left",
            original_, session_id, moved->moved, sessions_.size());
  return ok();
}

Result<void> QueueSplitter::resume(std::string fallback, std::vector<core::SessionRoute> sessions,
                                   core::SplitState state) {
  std::lock_guard lock(mutex_);
  if (lifecycle_.state() != core::SplitState::kIdle)
    return fail(ErrorCode::kFailedPrecondition, "resuming " + original_ + ", which already runs");
  if (state != core::SplitState::kSplitting && state != core::SplitState::kDraining)
    return fail(ErrorCode::kInvalidArgument, std::string("resuming ") + original_ + " in state " +
                                                 core::splitStateName(state));
  QSPLIT_ASSIGN_OR_RETURN(core::QueueInfo info, broker_.admin().describe(original_));
  kind_ = info.kind;
  fallback_ = std::move(fallback);
  sessions_ = std::move(sessions);
  lifecycle_.resume(state, clock_.now());
  publishTable();
  if (state == core::SplitState::kSplitting) QSPLIT_TRY(forwarder_.start());
  // Other replicas route by the same table already (the one stored); a failure to store it
  // again only delays its new token until the next change.
  bool forwarding = state == core::SplitState::kSplitting && !sessions_.empty();
  if (auto shared = shareRoutes(forwarding, std::nullopt); !shared)
    logger("splitter")->warn("queue={} sharing its routes: {}", original_, shared.error().message());
  logger("splitter")->info("queue={} resumed {} with fallback {} and {} sessions", original_,
                           core::splitStateName(state), fallback_, sessions_.size());
  return ok();
}

Result<void> QueueSplitter::tick() {
  std::lock_guard lock(mutex_);
  if (lifecycle_.state() != core::SplitState::kDraining) return ok();
  // No replica may still forward into the fallback once it is found empty and deleted (one
  // that forwarded when qsplitd restarted mid-drain, say): confirmed before it is counted.
  QSPLIT_TRY(shareRoutes(false, std::chrono::milliseconds(0)));  // the next tick looks again
  QSPLIT_ASSIGN_OR_RETURN(uint64_t backlog, broker_.admin().backlog(fallback_, groupOn(fallback_)));
  core::Lifecycle next = lifecycle_;
  auto actions = next.drainCheck(backlog, clock_.now());
  if (actions.empty()) return ok();
  if (backlog > 0)
    logger("splitter")->warn("queue={} its drain limit (drainTimeout, else the linger timeout) "
                             "passed with {} messages in {}; moving them back to the original",
                             original_, backlog, fallback_);
  QSPLIT_TRY(runDrainActions(actions));
  lifecycle_ = next;
  fallback_.clear();
  return ok();
}

Result<void> QueueSplitter::runDrainActions(const std::vector<core::SplitAction>& actions) {
  auto log = logger("splitter");
  for (auto action : actions) {
    if (action == core::SplitAction::kRestoreWorkload) {
      QSPLIT_TRY(workload_.restore(original_));
    } else if (action == core::SplitAction::kReturnLeftovers) {
      QSPLIT_ASSIGN_OR_RETURN(auto moved, moveAll(broker_, fallback_, groupOn(fallback_), original_,
                                                  options_.move_patience));
      returned_ += moved.moved;
      if (moved.left > 0)
        return fail(ErrorCode::kFailedPrecondition,
                    std::to_string(moved.left) + " messages of " + fallback_ +
                        " are still in flight; the fallback is kept until they come back");
    } else if (action == core::SplitAction::kDeleteFallback) {
      QSPLIT_TRY(removeTemporary(fallback_));
    }
  }
  log->info("queue={} restored: the workload reads it again, {} removed", original_, fallback_);
  return ok();
}

core::SplitState QueueSplitter::state() const {
  std::lock_guard lock(mutex_);
  return lifecycle_.state();
}

SplitStatus QueueSplitter::status() const {
  std::lock_guard lock(mutex_);
  SplitStatus s{original_, fallback_, lifecycle_.state(), {}, forwarder_.counts(), returned_};
  for (const auto& r : sessions_) s.sessions.push_back({r.session_id, r.destination, r.mode});
  return s;
}

}  // namespace qsplit::engine
