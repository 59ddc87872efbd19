// QueueSplitter: runs the split of one original queue or topic through its lifecycle:
// temporary queues, the workload patch, forwarding, session ends, drain and restore.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/random.h"
#include "common/result.h"
#include "core/broker.h"
#include "core/lifecycle.h"
#include "core/naming.h"
#include "core/router.h"
#include "core/journal.h"
#include "engine/forwarder.h"
#include "engine/journal_file.h"

namespace qsplit::engine {

// The routes of a split as every other replica must follow them (qsplitd replicas all
// forward; SplitOptions::share_routes). `token` names this table among all tables of all
// splits ever published, so a replica's confirmation of it cannot be an older one's.
struct SharedRoutes {
  std::string token;
  core::SplitState state;
  std::string fallback;
  bool forwarding = false;  // false: other replicas stop forwarding the original
  std::vector<core::SessionRoute> sessions;
  // Set: return only once every live replica confirmed it routes by this table (and has
  // nothing routed by an older one in flight), or fail after this long (zero: look once).
  std::optional<std::chrono::milliseconds> confirm_within;
};

struct SplitOptions {
  core::NameTemplate names;
  Duration linger_timeout = std::chrono::seconds(60);  // OPERATOR_SQS_SPLITTING_LINGER_TIMEOUT
  // How long the split stays as it is after its last session ends (a resource's `ttl`): a
  // session starting within it is routed at once, with no restart. Zero: it drains at once.
  Duration idle_ttl{};
  std::string group;  // the workload's consumer group (topics only)
  // Kafka Streams: the workload and each developer read a temporary topic as an application
  // (consumer group) named after that topic, so the temporaries are drained and given back
  // by that group; the original is still read as `group`.
  bool streams = false;
  // How long giving messages back may wait for a consumer group's assignment or for
  // messages in flight at another consumer to become visible again.
  std::chrono::milliseconds move_patience{60000};
  // A session's unread messages when it ends: true moves them back to be routed again;
  // false deletes them with its queue, as the reference operator does.
  bool return_unread = true;
  ForwarderOptions forwarder;
  RouteObserver observer;
  // Set once qsplitd is stopping (not owned): giving messages back ends early, leaving them
  // where they are for the next start. None: never.
  const std::atomic<bool>* stopping = nullptr;
  // Where temporary queues are recorded before they are created (not owned). None: an
  // in-memory journal, which does not survive the process.
  core::TemporaryJournal* journal = nullptr;
  // Called, under the splitter's lock, each time the route table changes: after a start and
  // an end, before a session's queue is emptied and deleted, and before a restore. None: no
  // other replica forwards.
  std::function<Result<void>(const SharedRoutes&)> share_routes;
  // Makes the evaluator of this queue's content filters (jq), once, when the splitter is
  // made; it starts nothing until a session has one. None: a content filter is refused.
  std::function<std::shared_ptr<core::ContentMatcher>()> content;
};

struct SessionQueue {
  std::string session_id;
  std::string queue;  // the session's temporary queue or topic
  core::QueueMode mode;
};

struct SplitStatus {
  std::string original;
  std::string fallback;  // empty when idle or restored
  core::SplitState state;
  std::vector<SessionQueue> sessions;  // in start order
  ForwarderCounts counts;
  uint64_t returned = 0;  // messages given back from ended sessions and leftovers
};

// What prepareSession() made: the session's queue, and for the split's first session the
// fallback the workload must read before beginSession() (empty: the workload stays as it is).
struct PreparedSession {
  std::string queue;
  std::string patch_to;
};

// Thread-safe: start, end and tick may come from different threads.
class QueueSplitter {
 public:
  // A split alone: startSession() and tick() patch and restore `workload` themselves.
  QueueSplitter(core::Broker& broker, core::WorkloadPatcher& workload, Clock& clock,
                Random& random, std::string original, SplitOptions options);
  // A split whose owner changes the workload, once for several splits: it calls the phases
  // (prepareSession, then the patch, then beginSession; mayRestore, the restore, finishRestore)
  // and never startSession() or tick(), which refuse.
  QueueSplitter(core::Broker& broker, Clock& clock, Random& random, std::string original,
                SplitOptions options);
  ~QueueSplitter();

  // Creates the session's temporary queue (and, for the first session, the fallback and
  // the workload patch) and starts routing to it. Returns the session's queue name. On
  // error nothing is left behind and other sessions are untouched.
  Result<std::string> startSession(const std::string& session_id, core::Filter filter,
                                   core::QueueMode mode);

  // startSession() in phases. prepareSession creates the session's queue and, for the
  // split's first session, the fallback (PreparedSession::patch_to); nothing routes to them
  // yet. beginSession then starts routing (and for the first session forwarding), once the
  // workload reads patch_to. abandonSession instead undoes what prepareSession made. One
  // session at a time is prepared.
  Result<PreparedSession> prepareSession(const std::string& session_id, core::Filter filter,
                                         core::QueueMode mode);
  Result<void> beginSession(const std::string& session_id);
  void abandonSession(const std::string& session_id);

  // What a session's end did on this queue.
  struct SessionEnded {
    uint64_t forwarded = 0;   // messages this forwarder sent to the session's queue
    uint64_t given_back = 0;  // unread ones of them, given back at the end
  };
  // Stops routing to the session, gives its unread messages back (to the original queue
  // to be routed again; to the fallback for topics, keeping partition order) and deletes
  // its queue. The last session starts the drain.
  Result<SessionEnded> endSession(const std::string& session_id);

  // After an operator restart: takes over a split that was running in `state` (splitting
  // or draining), whose fallback and session queues exist and whose workload is patched.
  // Splitting starts forwarding again (with no session: a fresh idle TTL); draining resumes
  // the drain with a fresh linger.
  Result<void> resume(std::string fallback, std::vector<core::SessionRoute> sessions,
                      core::SplitState state);

  // While draining: restores the workload once the fallback is empty or the linger
  // timeout passed, moves any leftovers back to the original, deletes the fallback.
  Result<void> tick();

  // Within the idle TTL: once it passed, the split drains.
  Result<void> tickIdle();

  // tick() in phases: whether the drain is over (the fallback is empty or the drain limit
  // passed), and then, once the workload reads the original again, the leftovers' return and
  // the fallback's removal.
  Result<bool> mayRestore();
  Result<void> finishRestore();

  core::SplitState state() const;
  // Splitting with no session, within the idle TTL.
  bool idle() const;
  SplitStatus status() const;
  // The consumer group that reads temporary queue or topic `name` (SplitOptions::streams).
  const std::string& groupOn(const std::string& name) const {
    return options_.streams ? name : options_.group;
  }

 private:
  Result<std::string> createTemporary(bool fallback);
  Result<void> removeTemporary(const std::string& name);
  void publishTable();
  // Compiles a session's content filter, if it has one, before its first table.
  Result<void> compileContent(const std::string& session_id, const core::Filter& filter);
  // A channel: waits (at most move_patience) until a client besides qsplit reads the original.
  void awaitReaders();
  Result<void> runDrainActions(const std::vector<core::SplitAction>& actions);
  Result<void> shareRoutes(bool forwarding, std::optional<std::chrono::milliseconds> confirm);

  core::Broker& broker_;
  core::WorkloadPatcher* workload_;  // none: the owner changes the workload
  Clock& clock_;
  Random& random_;
  const std::string original_;
  SplitOptions options_;
  MemoryJournal own_journal_;
  core::TemporaryJournal* journal_;

  mutable std::mutex mutex_;
  core::Lifecycle lifecycle_;
  core::QueueKind kind_ = core::QueueKind::kQueue;
  std::string fallback_;
  std::vector<core::SessionRoute> sessions_;
  uint64_t generation_ = 0;
  const std::string routes_id_;  // random: with generation_, SharedRoutes::token
  uint64_t returned_ = 0;
  // Between prepareSession and beginSession: the lifecycle it moves to, and its actions.
  struct Pending {
    std::string session_id;
    core::Lifecycle next;
    std::vector<core::SplitAction> actions;
  };
  std::optional<Pending> pending_;
  bool cut_short_logged_ = false;
  core::Router router_;
  Forwarder forwarder_;
  std::shared_ptr<core::ContentMatcher> content_;  // none: content filters are refused
};

}  // namespace qsplit::engine
