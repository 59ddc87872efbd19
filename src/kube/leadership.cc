#include "kube/leadership.h"

#include <thread>

#include "common/log.h"

namespace qsplit::kube {

bool Leadership::await(const std::atomic<bool>& stop, const std::function<void()>& standing_by) {
  auto log = logger("leader");
  std::string waiting_for;
  while (!stop) {
    auto held = lease_->tryAcquireOrRenew();
    if (held && *held) {
      renewed_ = std::chrono::steady_clock::now();
      log->info("leading: this replica holds the lease");
      return true;
    }
    std::string now = held ? "the lease is held by " + lease_->holder() : held.error().message();
    if (now != waiting_for) log->info("standing by: {}", now);
    waiting_for = now;
    if (standing_by) standing_by();
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  return false;
}

Leadership::~Leadership() {
  stopping_ = true;
  if (renewer_.joinable()) renewer_.join();
}

void Leadership::keepRenewing(std::function<void()> on_lost) {
  renewer_ = std::thread([this, on_lost = std::move(on_lost)] {
    while (!stopping_) {
      if (!keep()) {
        on_lost();
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  });
}

bool Leadership::keep() {
  auto now = std::chrono::steady_clock::now();
  if (now - renewed_ < lease_->duration() / 3) return true;
  auto held = lease_->tryAcquireOrRenew();
  if (held && *held) {
    renewed_ = now;
    return true;
  }
  if (held) {
    logger("leader")->critical("the lease was taken by {}: stopping", lease_->holder());
    return false;
  }
  if (now - renewed_ >= lease_->duration()) {
    logger("leader")->critical("the lease could not be renewed within its duration ({}): stopping",
                               held.error().message());
    return false;
  }
  logger("leader")->warn("renewing the lease: {} (retrying)", held.error().message());
  return true;
}

}  // namespace qsplit::kube
