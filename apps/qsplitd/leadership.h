// Leadership: qsplitd replicas of one namespace elect one leader through a Lease; only the
// leader resumes sessions, does lifecycle work and serves sessions. A replica that loses the
// lease (or cannot renew it within its duration) stops at once: two leaders must never
// patch the same workload.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>

#include "kube/lease.h"

namespace qsplit::daemon {

class Leadership {
 public:
  explicit Leadership(std::unique_ptr<kube::LeaseLock> lease) : lease_(std::move(lease)) {}
  // Blocks until this replica leads; false if `stop` turned true first.
  bool await(const std::atomic<bool>& stop);
  // Called often (about once a second): renews when due. False once leadership is lost.
  bool keep();

 private:
  std::unique_ptr<kube::LeaseLock> lease_;
  std::chrono::steady_clock::time_point renewed_{};
};

}  // namespace qsplit::daemon
