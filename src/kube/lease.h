// LeaseLock: leader election on a coordination.k8s.io/v1 Lease, as client-go does it: the
// holder renews the lease; another candidate takes it over only after it saw the record
// unchanged for a whole lease duration on its own clock (so clocks need not agree).
#pragma once

#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

#include "kube/kube_client.h"

namespace qsplit::kube {

// Not thread-safe: one thread (qsplitd's main loop) drives it.
class LeaseLock {
 public:
  LeaseLock(KubeClient& client, std::string ns, std::string name, std::string identity,
            std::chrono::seconds duration)
      : client_(client), namespace_(std::move(ns)), name_(std::move(name)),
        identity_(std::move(identity)), duration_(duration) {}

  // Acquires or renews; true when this candidate holds the lease now. An error means the
  // API server could not be asked (the caller keeps what it had until the lease runs out).
  Result<bool> tryAcquireOrRenew();
  // The holder as last read ("" if none).
  const std::string& holder() const { return holder_; }
  std::chrono::seconds duration() const { return duration_; }

 private:
  std::string path() const;
  nlohmann::json spec(int transitions, const std::string& acquired) const;

  KubeClient& client_;
  std::string namespace_, name_, identity_;
  std::chrono::seconds duration_;
  std::string holder_;
  std::string observed_;  // the other holder's record as last seen
  std::chrono::steady_clock::time_point observed_at_{};
};

}  // namespace qsplit::kube
