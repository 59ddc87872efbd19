// StopWatch: what qsplitd does when SIGTERM or SIGINT comes. It runs the registered actions
// at once (ending waits on `qsplit exec`, refusing new session calls), and if qsplitd has not
// exited `grace` later, because a broker or the cluster does not answer, it exits anyway:
// every session, split and transition is stored, and the next start finishes them, as after
// a kill -9.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <list>
#include <mutex>
#include <thread>

namespace qsplit::daemon {

class StopWatch {
 public:
  StopWatch(const std::atomic<bool>& signalled, std::chrono::milliseconds grace);
  ~StopWatch();
  StopWatch(const StopWatch&) = delete;
  StopWatch& operator=(const StopWatch&) = delete;

  // Runs `action` when the signal comes, for as long as the returned guard lives (the
  // objects it touches must outlive the guard).
  class Guard {
   public:
    Guard(StopWatch& watch, std::list<std::function<void()>>::iterator it) : watch_(watch), it_(it) {}
    ~Guard();
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;

   private:
    StopWatch& watch_;
    std::list<std::function<void()>>::iterator it_;
  };
  [[nodiscard]] Guard onStop(std::function<void()> action);

 private:
  void watch();

  const std::atomic<bool>& signalled_;
  const std::chrono::milliseconds grace_;
  std::mutex mutex_;
  std::list<std::function<void()>> actions_;
  std::atomic<bool> done_{false};
  std::thread thread_;
};

}  // namespace qsplit::daemon
