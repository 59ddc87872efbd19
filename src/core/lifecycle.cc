#include "core/lifecycle.h"

#include <string>

namespace qsplit::core {

const char* splitStateName(SplitState state) {
  switch (state) {
    case SplitState::kIdle: return "idle";
    case SplitState::kSplitting: return "splitting";
    case SplitState::kDraining: return "draining";
    case SplitState::kRestored: return "restored";
  }
  return "?";
}

const char* splitActionName(SplitAction action) {
  switch (action) {
    case SplitAction::kCreateFallback: return "create-fallback";
    case SplitAction::kPatchWorkload: return "patch-workload";
    case SplitAction::kStartForwarding: return "start-forwarding";
    case SplitAction::kStopForwarding: return "stop-forwarding";
    case SplitAction::kRestoreWorkload: return "restore-workload";
    case SplitAction::kReturnLeftovers: return "return-leftovers";
    case SplitAction::kDeleteFallback: return "delete-fallback";
  }
  return "?";
}

std::vector<SplitAction> Lifecycle::sessionStarted() {
  switch (state_) {
    case SplitState::kIdle:
    case SplitState::kRestored:
      state_ = SplitState::kSplitting;
      return {SplitAction::kCreateFallback, SplitAction::kPatchWorkload,
              SplitAction::kStartForwarding};
    case SplitState::kDraining:
      state_ = SplitState::kSplitting;
      deadline_.reset();
      return {SplitAction::kStartForwarding};
    case SplitState::kSplitting:
      idle_until_.reset();  // within the idle TTL: the split is reused as it is
      return {};
  }
  return {};
}

Result<std::vector<SplitAction>> Lifecycle::sessionEnded(std::size_t remaining, TimePoint now) {
  if (state_ != SplitState::kSplitting)
    return fail(ErrorCode::kFailedPrecondition,
                std::string("a session ended while the queue is ") + splitStateName(state_) +
                    ", not splitting");
  if (remaining > 0) return std::vector<SplitAction>{};
  if (idle_ttl_ > Duration::zero()) {
    idle_until_ = now + idle_ttl_;
    return std::vector<SplitAction>{};
  }
  startDrain(now);
  return std::vector<SplitAction>{SplitAction::kStopForwarding};
}

std::vector<SplitAction> Lifecycle::idleCheck(TimePoint now) {
  if (state_ != SplitState::kSplitting || !idle_until_ || now < *idle_until_) return {};
  idle_until_.reset();
  startDrain(now);
  return {SplitAction::kStopForwarding};
}

std::vector<SplitAction> Lifecycle::drainCheck(uint64_t fallback_backlog, TimePoint now) {
  if (state_ != SplitState::kDraining) return {};
  if (fallback_backlog > 0 && now < *deadline_) return {};
  state_ = SplitState::kRestored;
  deadline_.reset();
  return {SplitAction::kRestoreWorkload, SplitAction::kReturnLeftovers,
          SplitAction::kDeleteFallback};
}

void Lifecycle::resume(SplitState state, TimePoint now) {
  state_ = state;
  deadline_.reset();
  idle_until_.reset();
  if (state == SplitState::kDraining) startDrain(now);
}

void Lifecycle::startDrain(TimePoint now) {
  state_ = SplitState::kDraining;
  deadline_ = linger_timeout_ == kNoDrainLimit ? TimePoint::max() : now + linger_timeout_;
}

}  // namespace qsplit::core
