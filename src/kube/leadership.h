// Leadership: qsplitd replicas of one namespace elect one leader through a Lease; only the
// leader resumes sessions, does lifecycle work and serves sessions. The leader renews the
// lease on a thread of its own, so work in hand (a session's start waiting for pods) never
// keeps it from renewing in time; a leader that loses the lease (taken, or not renewed
// within its duration) is told at once: two leaders must never patch the same workload.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <thread>

#include "kube/lease.h"

namespace qsplit::kube {

class Leadership {
 public:
  explicit Leadership(std::unique_ptr<LeaseLock> lease) : lease_(std::move(lease)) {}
  ~Leadership();  // stops renewing (the lease then runs out, for another replica to take)
  Leadership(const Leadership&) = delete;
  Leadership& operator=(const Leadership&) = delete;

  // Blocks until this replica leads; false if `stop` turned true first. `standing_by` runs
  // about once a second meanwhile.
  bool await(const std::atomic<bool>& stop, const std::function<void()>& standing_by = nullptr);
  // After await: renews the lease from a thread of its own until destruction. `on_lost`
  // runs on that thread, once, when the lease is lost.
  void keepRenewing(std::function<void()> on_lost);

 private:
  bool keep();  // renews when due; false once leadership is lost

  std::unique_ptr<LeaseLock> lease_;  // await's thread, then the renewing thread's only
  std::chrono::steady_clock::time_point renewed_{};
  std::thread renewer_;
  std::atomic<bool> stopping_{false};
};

}  // namespace qsplit::kube
