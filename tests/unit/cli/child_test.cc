#include "child.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include <gtest/gtest.h>

namespace qsplit::cli {
namespace {

using namespace std::chrono_literals;

// Waits up to `limit` for the child to end; its wait status, or none if it still runs.
std::optional<int> endedWithin(pid_t pid, std::chrono::milliseconds limit) {
  auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (auto status = reap(pid)) return status;
    std::this_thread::sleep_for(5ms);
  }
  return std::nullopt;
}

// `qsplit run` passes a signal on as soon as it has the command's pid, which may be before the
// child has run at all: the signal must still stop the command, never be lost on the way.
TEST(ChildTest, ASignalPassedOnWhileTheCommandStartsStopsIt) {
  catchSignals();
  for (int round = 0; round < 300; ++round) {
    std::atomic<bool> starting{true};
    std::thread interrupter([&] {  // signals reaching qsplit while it forks
      while (starting) kill(getpid(), SIGINT), std::this_thread::sleep_for(20us);
    });
    auto child = startChild({"sleep", "30"}, {});
    starting = false;
    interrupter.join();
    ASSERT_TRUE(child.has_value()) << child.error().message();
    kill(*child, SIGINT);  // as run.cc passes a signal on
    auto status = endedWithin(*child, 10s);
    if (!status) kill(*child, SIGKILL), waitpid(*child, nullptr, 0);
    ASSERT_TRUE(status.has_value()) << "round " << round << ": the command ignored the signal";
    EXPECT_TRUE(WIFSIGNALED(*status) && WTERMSIG(*status) == SIGINT) << "round " << round;
    clearSignal();
  }
}

TEST(ChildTest, ACommandThatCannotRunIsAnErrorNamingIt) {
  auto child = startChild({"/nonexistent/qsplit-command"}, {});
  ASSERT_FALSE(child.has_value());
  EXPECT_NE(child.error().message().find("cannot run /nonexistent/qsplit-command"), std::string::npos)
      << child.error().message();
}

}  // namespace
}  // namespace qsplit::cli
