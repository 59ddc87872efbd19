#include "stop_watch.h"

#include <spdlog/spdlog.h>

#include <cstdlib>

#include "common/log.h"

namespace qsplit::daemon {
namespace {

constexpr auto kPoll = std::chrono::milliseconds(100);

}  // namespace

StopWatch::StopWatch(const std::atomic<bool>& signalled, std::chrono::milliseconds grace)
    : signalled_(signalled), grace_(grace), thread_([this] { watch(); }) {}

StopWatch::~StopWatch() {
  done_ = true;
  thread_.join();
}

StopWatch::Guard::~Guard() {
  std::lock_guard lock(watch_.mutex_);
  watch_.actions_.erase(it_);
}

StopWatch::Guard StopWatch::onStop(std::function<void()> action) {
  std::lock_guard lock(mutex_);
  actions_.push_back(std::move(action));
  return Guard(*this, std::prev(actions_.end()));
}

void StopWatch::watch() {
  while (!signalled_ && !done_) std::this_thread::sleep_for(kPoll);
  if (done_) return;
  {
    std::lock_guard lock(mutex_);  // a guard going away waits for its action to end
    for (auto& action : actions_) action();
  }
  auto deadline = std::chrono::steady_clock::now() + grace_;
  while (!done_ && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(kPoll);
  if (done_) return;
  logger("qsplitd")->warn("still stopping {} s after the signal (a broker or the cluster does "
                          "not answer): exiting now; what is unfinished is stored and goes on "
                          "at the next start",
                          std::chrono::duration_cast<std::chrono::seconds>(grace_).count());
  spdlog::apply_all([](const auto& l) { l->flush(); });
  std::_Exit(0);
}

}  // namespace qsplit::daemon
