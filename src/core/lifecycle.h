// Lifecycle: the per-queue state machine of a split, as pure decisions. The engine runs
// the actions it returns against a broker and a workload patcher.
#pragma once

#include <optional>
#include <vector>

#include "common/clock.h"
#include "common/result.h"

namespace qsplit::core {

enum class SplitState {
  kIdle,       // no split: the workload reads the original queue
  kSplitting,  // sessions exist: the original is forwarded to temporary queues
  kDraining,   // the last session ended: the workload empties the fallback queue
  kRestored,   // the workload reads the original again; nothing temporary is left
};

const char* splitStateName(SplitState state);

enum class SplitAction {
  kCreateFallback,   // create the fallback queue like the original
  kPatchWorkload,    // point the workload at the fallback (a restart)
  kStartForwarding,  // consume the original and route
  kStopForwarding,
  kRestoreWorkload,   // point the workload at the original again (a restart)
  kReturnLeftovers,   // move what is still in the fallback back to the original
  kDeleteFallback,
};

const char* splitActionName(SplitAction action);

// A linger timeout without a limit: the drain lasts while the fallback holds messages
// (MirrordSplitConfig without drainTimeout).
inline constexpr Duration kNoDrainLimit = Duration::max();

// Not thread-safe: one owner drives it.
class Lifecycle {
 public:
  // `idle_ttl`: how long the split stays as it is (splitting, forwarding everything to the
  // fallback) after its last session ends; zero: it drains at once.
  explicit Lifecycle(Duration linger_timeout, Duration idle_ttl = {})
      : linger_timeout_(linger_timeout), idle_ttl_(idle_ttl) {}

  SplitState state() const { return state_; }
  std::optional<TimePoint> drainDeadline() const { return deadline_; }

  // A session starts. From idle or restored: create the fallback, patch the workload, then
  // forward (in that order, so the workload never races the forwarder for a message meant
  // for a session). From draining: forward again; the workload still reads the fallback.
  std::vector<SplitAction> sessionStarted();

  // A session ended and `remaining` sessions are left. The last one moves to draining
  // and stops forwarding; messages still arriving wait in the original queue. With an idle
  // TTL it starts the TTL instead: the split goes on with no session until idleCheck().
  Result<std::vector<SplitAction>> sessionEnded(std::size_t remaining, TimePoint now);

  // While splitting with no session: once the idle TTL passed, drain (stop forwarding).
  std::vector<SplitAction> idleCheck(TimePoint now);
  bool idle() const { return idle_until_.has_value(); }

  // While draining: once the fallback is empty, or the linger timeout has passed, restore
  // the workload, move any leftovers back to the original (never dropped) and delete it.
  std::vector<SplitAction> drainCheck(uint64_t fallback_backlog, TimePoint now);

  // After an operator restart: the split was in `state` (splitting or draining); a drain
  // restarts its linger timeout from `now`.
  void resume(SplitState state, TimePoint now);

  // Restored is the end of one split; the next session starts a new one.
  bool finished() const { return state_ == SplitState::kRestored; }

 private:
  void startDrain(TimePoint now);

  Duration linger_timeout_;
  Duration idle_ttl_;
  std::optional<TimePoint> idle_until_;
  SplitState state_ = SplitState::kIdle;
  std::optional<TimePoint> deadline_;
};

}  // namespace qsplit::core
