#include "engine/queue_splitter.h"

#include <algorithm>
#include <thread>

#include "common/log.h"
#include "engine/mover.h"

namespace qsplit::engine {
namespace {

std::shared_ptr<const core::RouteTable> emptyTable() {
  return *core::RouteTable::build({}, "");
}

bool has(const std::vector<core::SplitAction>& actions, core::SplitAction action) {
  return std::find(actions.begin(), actions.end(), action) != actions.end();
}

}  // namespace

QueueSplitter::QueueSplitter(core::Broker& broker, core::WorkloadPatcher& workload, Clock& clock,
                             Random& random, std::string original, SplitOptions options)
    : QueueSplitter(broker, clock, random, std::move(original), std::move(options)) {
  workload_ = &workload;
}

QueueSplitter::QueueSplitter(core::Broker& broker, Clock& clock, Random& random,
                             std::string original, SplitOptions options)
    : broker_(broker), workload_(nullptr), clock_(clock), random_(random),
      original_(std::move(original)), options_(std::move(options)),
      journal_(options_.journal ? options_.journal : &own_journal_),
      lifecycle_(options_.linger_timeout, options_.idle_ttl), routes_id_(random_.digits(12)),
      router_(emptyTable()),
      forwarder_(broker_, original_, options_.group, router_, options_.forwarder,
                 options_.observer),
      content_(options_.content ? options_.content() : nullptr) {}

Result<void> QueueSplitter::compileContent(const std::string& session_id, const core::Filter& filter) {
  if (filter.content().empty()) return ok();
  if (!content_)
    return fail(ErrorCode::kFailedPrecondition,
                "session " + session_id + ": jq_filter: content filters are not available for " + original_);
  auto program = content_->program(session_id, filter.content());
  if (!program) return fail(program.error().withContext("session " + session_id));
  return ok();
}

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
  auto table = core::RouteTable::build(sessions_, fallback_, ++generation_, content_);
  if (!table) {
    logger("splitter")->critical("queue={} {}", original_, table.error().message());
    std::abort();
  }
  router_.publish(std::move(table).value());
}

Result<void> QueueSplitter::shareRoutes(bool forwarding,
                                       std::optional<std::chrono::milliseconds> confirm) {
  if (!options_.share_routes) return ok();
  // Every subscriber of a channel gets every message: only this replica forwards one.
  forwarding = forwarding && kind_ != core::QueueKind::kChannel;
  return options_.share_routes({routes_id_ + ":" + std::to_string(generation_), lifecycle_.state(),
                                fallback_, forwarding, sessions_, confirm});
}

Result<std::string> QueueSplitter::startSession(const std::string& session_id, core::Filter filter,
                                                core::QueueMode mode) {
  if (!workload_)
    return fail(ErrorCode::kInternal, "the split of " + original_ + " is started in phases");
  QSPLIT_ASSIGN_OR_RETURN(auto prepared, prepareSession(session_id, std::move(filter), mode));
  if (!prepared.patch_to.empty()) {
    // Patched before forwarding starts: the workload never competes with the forwarder
    // for a message meant for a session; messages wait in the original meanwhile.
    if (auto r = workload_->patch(original_, prepared.patch_to); !r) {
      (void)workload_->restore(original_);  // even a failed patch may be written: undo it
      abandonSession(session_id);
      return fail(r.error().withContext("patching the workload"));
    }
  }
  if (auto begun = beginSession(session_id); !begun) {
    if (!prepared.patch_to.empty()) (void)workload_->restore(original_);
    abandonSession(session_id);
    return fail(begun.error());
  }
  return prepared.queue;
}

Result<PreparedSession> QueueSplitter::prepareSession(const std::string& session_id,
                                                      core::Filter filter, core::QueueMode mode) {
  std::lock_guard lock(mutex_);
  if (pending_)
    return fail(ErrorCode::kFailedPrecondition, "session " + pending_->session_id +
                                                    " is still starting on " + original_);
  for (const auto& s : sessions_)
    if (s.session_id == session_id)
      return fail(ErrorCode::kAlreadyExists, "session " + session_id + " already splits " + original_);
  QSPLIT_ASSIGN_OR_RETURN(core::QueueInfo info, broker_.admin().describe(original_));
  kind_ = info.kind;
  QSPLIT_TRY(compileContent(session_id, filter));
  QSPLIT_ASSIGN_OR_RETURN(std::string queue, createTemporary(false));
  Pending pending{session_id, lifecycle_, {}};
  pending.actions = pending.next.sessionStarted();
  PreparedSession prepared{queue, ""};
  if (has(pending.actions, core::SplitAction::kCreateFallback)) {
    auto name = createTemporary(true);
    if (!name) {
      (void)removeTemporary(queue);
      return fail(name.error());
    }
    fallback_ = prepared.patch_to = *name;
    // A channel keeps nothing for a reader that is away: qsplit subscribes before the patch
    // takes the workload off the original, routing everything to the fallback until
    // beginSession, so each message reaches the workload on one of the two.
    if (kind_ == core::QueueKind::kChannel) {
      publishTable();
      if (auto started = forwarder_.start(); !started) {
        (void)removeTemporary(queue);
        (void)removeTemporary(fallback_);
        fallback_.clear();
        return fail(started.error().withContext("subscribing to " + original_));
      }
    }
  }
  sessions_.push_back({session_id, std::move(filter), mode, queue});
  pending_ = std::move(pending);
  return prepared;
}

void QueueSplitter::abandonSession(const std::string& session_id) {
  std::lock_guard lock(mutex_);
  if (!pending_ || pending_->session_id != session_id) return;
  (void)removeTemporary(sessions_.back().destination);
  sessions_.pop_back();
  if (content_) content_->release(session_id);
  if (has(pending_->actions, core::SplitAction::kCreateFallback)) {
    if (kind_ == core::QueueKind::kChannel) forwarder_.stop();  // the workload reads the original
    (void)removeTemporary(fallback_);
    fallback_.clear();
  }
  pending_.reset();
}

Result<void> QueueSplitter::beginSession(const std::string& session_id) {
  std::lock_guard lock(mutex_);
  auto log = logger("splitter");
  if (!pending_ || pending_->session_id != session_id)
    return fail(ErrorCode::kFailedPrecondition,
                "session " + session_id + " was not prepared on " + original_);
  publishTable();
  if (has(pending_->actions, core::SplitAction::kStartForwarding)) {
    // A failure leaves the session prepared, for abandonSession.
    if (auto r = forwarder_.start(); !r) {
      log->error("queue={} session={} could not start: {}", original_, session_id, r.error().message());
      return fail(r.error());
    }
  }
  lifecycle_ = pending_->next;
  pending_.reset();
  cut_short_logged_ = false;
  // Other replicas route to the session once they confirm; until then their share of the
  // matching messages goes to the fallback, so a failure here is no reason to refuse.
  if (auto shared = shareRoutes(true, options_.move_patience); !shared)
    log->warn("queue={} session={} started, but not every replica routes to it yet: {}",
              original_, session_id, shared.error().message());
  log->info("queue={} session={} started: queue {} mode {}", original_, session_id,
            sessions_.back().destination, core::queueModeName(sessions_.back().mode));
  return ok();
}

Result<QueueSplitter::SessionEnded> QueueSplitter::endSession(const std::string& session_id) {
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
  if (content_) content_->release(session_id);
  // Nothing routed to `queue` is still in flight, so it can be emptied and deleted. A channel
  // has nothing to empty, and its forwarder may be holding a message for a developer who has
  // gone (given back to be routed again after the hold): the end does not wait for it.
  if (kind_ != core::QueueKind::kChannel) forwarder_.waitForGeneration(generation_);
  SessionEnded ended;
  {
    auto counts = forwarder_.counts();
    if (auto c = counts.forwarded.find(queue); c != counts.forwarded.end()) ended.forwarded = c->second;
  }
  // Nor at another replica: until each confirms, the queue may still receive messages.
  auto shared = shareRoutes(!sessions_.empty() || options_.idle_ttl > Duration::zero(),
                            options_.move_patience);

  auto actions = lifecycle_.sessionEnded(sessions_.size(), clock_.now());
  if (!actions) return fail(actions.error());
  // A channel is forwarded until the workload reads it again (finishRestore).
  for (auto action : *actions)
    if (action == core::SplitAction::kStopForwarding && kind_ != core::QueueKind::kChannel) forwarder_.stop();
  if (!shared) {
    log->error("queue={} session={} ended; keeping {} (reclaimed at the next restart): {}",
               original_, session_id, queue, shared.error().message());
    return fail(shared.error());
  }

  if (kind_ == core::QueueKind::kChannel) {  // nothing was kept in it to give back
    QSPLIT_TRY(removeTemporary(queue));
    log->info("queue={} session={} ended, {} sessions left", original_, session_id, sessions_.size());
    return ended;
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
    return ended;
  }
  auto moved = moveAll(broker_, queue, groupOn(queue), back, options_.move_patience, options_.stopping);
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
  ended.given_back = moved->moved;
  if (auto removed = removeTemporary(queue); !removed)
    log->warn("queue={} session={} deleting {}: {}", original_, session_id, queue,
              removed.error().message());
  log->info("queue={} session={} ended: {} unread messages given back, {} sessions left",
            original_, session_id, moved->moved, sessions_.size());
  return ended;
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
  for (auto& s : sessions_)
    if (auto compiled = compileContent(s.session_id, s.filter); !compiled) {
      logger("splitter")->error("queue={} {}; the session's filter matches nothing", original_,
                                compiled.error().message());
      s.filter = core::Filter();
    }
  lifecycle_.resume(state, clock_.now());
  if (state == core::SplitState::kSplitting && sessions_.empty())
    (void)lifecycle_.sessionEnded(0, clock_.now());  // the idle TTL again, or the drain
  if (lifecycle_.state() == core::SplitState::kDraining) state = core::SplitState::kDraining;
  publishTable();
  // A channel's workload reads the fallback until the restore: forwarded while draining too.
  bool forwarding = state == core::SplitState::kSplitting || kind_ == core::QueueKind::kChannel;
  if (forwarding) QSPLIT_TRY(forwarder_.start());
  // Other replicas route by the same table already (the one stored); a failure to store it
  // again only delays its new token until the next change.
  if (auto shared = shareRoutes(forwarding, std::nullopt); !shared)
    logger("splitter")->warn("queue={} sharing its routes: {}", original_, shared.error().message());
  logger("splitter")->info("queue={} resumed {} with fallback {} and {} sessions", original_,
                           core::splitStateName(state), fallback_, sessions_.size());
  return ok();
}

Result<void> QueueSplitter::tickIdle() {
  std::lock_guard lock(mutex_);
  auto actions = lifecycle_.idleCheck(clock_.now());
  if (actions.empty()) return ok();
  if (kind_ != core::QueueKind::kChannel) forwarder_.stop();
  logger("splitter")->info("queue={} no session started within its ttl: draining", original_);
  // Other replicas stop forwarding too before the fallback is counted (mayRestore).
  return shareRoutes(false, options_.move_patience);
}

Result<void> QueueSplitter::tick() {
  if (!workload_) return fail(ErrorCode::kInternal, "the split of " + original_ + " is restored in phases");
  QSPLIT_TRY(tickIdle());
  QSPLIT_ASSIGN_OR_RETURN(bool done, mayRestore());
  if (!done) return ok();
  QSPLIT_TRY(workload_->restore(original_));
  return finishRestore();
}

Result<bool> QueueSplitter::mayRestore() {
  std::lock_guard lock(mutex_);
  if (lifecycle_.state() != core::SplitState::kDraining) return false;
  // No replica may still forward into the fallback once it is found empty and deleted (one
  // that forwarded when qsplitd restarted mid-drain, say): confirmed before it is counted.
  QSPLIT_TRY(shareRoutes(false, std::chrono::milliseconds(0)));  // the next tick looks again
  QSPLIT_ASSIGN_OR_RETURN(uint64_t backlog, broker_.admin().backlog(fallback_, groupOn(fallback_)));
  core::Lifecycle next = lifecycle_;
  if (next.drainCheck(backlog, clock_.now()).empty()) return false;
  if (backlog > 0 && !cut_short_logged_)
    logger("splitter")->warn("queue={} its drain limit (drainTimeout, else the linger timeout) "
                             "passed with {} messages in {}; moving them back to the original",
                             original_, backlog, fallback_);
  cut_short_logged_ = true;
  return true;
}

void QueueSplitter::awaitReaders() {
  auto log = logger("splitter");
  auto deadline = std::chrono::steady_clock::now() + options_.move_patience;
  for (;;) {
    auto readers = broker_.admin().readers(original_);
    if (readers && *readers > 0) return;
    if (std::chrono::steady_clock::now() >= deadline || (options_.stopping && *options_.stopping)) {
      log->warn("queue={} no reader subscribed to it within {} ms of the restore ({}); "
                "unsubscribing all the same", original_, options_.move_patience.count(),
                readers ? "none" : readers.error().message());
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

Result<void> QueueSplitter::finishRestore() {
  bool channel = false;
  {
    std::lock_guard lock(mutex_);
    channel = kind_ == core::QueueKind::kChannel && lifecycle_.state() == core::SplitState::kDraining;
  }
  // The restored workload may not have subscribed to the original yet: the forwarder goes on
  // publishing to the fallback, which the workload's last instances still read, until it has.
  if (channel) awaitReaders();
  std::lock_guard lock(mutex_);
  if (channel) {
    // qsplit unsubscribes; what it had received but not yet forwarded (published while the
    // workload restarted, say) goes to the original, which now only the workload reads.
    logger("splitter")->info("queue={} a reader subscribed to it again: unsubscribing, and forwarding what "
                             "was received to it", original_);
    router_.publish(*core::RouteTable::build({}, original_, ++generation_));
    forwarder_.drainAndStop();
  }
  if (lifecycle_.state() != core::SplitState::kDraining)
    return fail(ErrorCode::kFailedPrecondition, "restoring " + original_ + ", which is " +
                                                    core::splitStateName(lifecycle_.state()));
  core::Lifecycle next = lifecycle_;
  auto actions = next.drainCheck(0, clock_.now());  // the drain is over: mayRestore said so
  std::erase(actions, core::SplitAction::kRestoreWorkload);  // done by the caller
  QSPLIT_TRY(runDrainActions(actions));
  lifecycle_ = next;
  fallback_.clear();
  return ok();
}

Result<void> QueueSplitter::runDrainActions(const std::vector<core::SplitAction>& actions) {
  auto log = logger("splitter");
  for (auto action : actions) {
    if (action == core::SplitAction::kReturnLeftovers && kind_ != core::QueueKind::kChannel) {
      QSPLIT_ASSIGN_OR_RETURN(auto moved, moveAll(broker_, fallback_, groupOn(fallback_), original_,
                                                  options_.move_patience, options_.stopping));
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

bool QueueSplitter::idle() const {
  std::lock_guard lock(mutex_);
  return lifecycle_.idle();
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
