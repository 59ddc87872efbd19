// A WorkloadPatcher for engine tests: remembers which queue the workload reads now.
#pragma once

#include <mutex>
#include <string>

#include "core/broker.h"

namespace qsplit::testing {

class RecordingPatcher : public core::WorkloadPatcher {
 public:
  explicit RecordingPatcher(std::string original) : current_(std::move(original)) {}

  Result<void> patch(const std::string& original, const std::string& replacement) override {
    std::lock_guard lock(mutex_);
    current_ = replacement;
    if (fail_next_patch_) {  // as a real rollout that times out: the change is written
      fail_next_patch_ = false;
      return fail(ErrorCode::kUnavailable, "rollout of " + original + " timed out");
    }
    ++patches_;
    return ok();
  }
  Result<void> restore(const std::string& original) override {
    std::lock_guard lock(mutex_);
    current_ = original;
    ++restores_;
    return ok();
  }

  // Starts over for a workload that reads `original`.
  void reset(std::string original) {
    std::lock_guard lock(mutex_);
    current_ = std::move(original);
    patches_ = restores_ = 0;
    fail_next_patch_ = false;
  }

  std::string current() const {
    std::lock_guard lock(mutex_);
    return current_;
  }
  int patches() const { return patches_; }
  int restores() const { return restores_; }
  void failNextPatch() { fail_next_patch_ = true; }

 private:
  mutable std::mutex mutex_;
  std::string current_;
  int patches_ = 0;
  int restores_ = 0;
  bool fail_next_patch_ = false;
};

}  // namespace qsplit::testing
