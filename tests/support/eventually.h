// Waiting for what a test expects to happen, with a bound so a broken build fails instead
// of hanging. The bound is not a timing assertion.
#pragma once

#include <chrono>
#include <thread>

namespace qsplit::testing {

// Polls `done` every `every` until it returns true or `limit` passes; returns its last answer.
template <class F>
bool eventually(F done, std::chrono::seconds limit = std::chrono::seconds(30),
                std::chrono::milliseconds every = std::chrono::milliseconds(10)) {
  auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (done()) return true;
    std::this_thread::sleep_for(every);
  }
  return done();
}

}  // namespace qsplit::testing
