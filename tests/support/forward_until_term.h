// The loop of the fault tests' forwarding processes: forwards `original` to the sessions'
// queues (QUEUE=ATTRIBUTE:REGEX, in start order) and the fallback until SIGTERM, so a test can
// kill -9 it mid-stream and start it again. Returns the process's exit status.
#pragma once

#include <chrono>
#include <csignal>
#include <cstdio>
#include <thread>

#include "engine/forwarder.h"
#include "support/session_args.h"

namespace qsplit::testing {

inline volatile std::sig_atomic_t forward_stopping = 0;

inline int forwardUntilTerm(core::Broker& broker, const std::string& original,
                            const std::string& fallback, const std::vector<std::string>& sessions,
                            std::chrono::milliseconds wait) {
  auto routes = parseSessionArgs(sessions);
  if (!routes) return 2;
  core::Router router(*core::RouteTable::build(*routes, fallback, 1));
  engine::ForwarderOptions forwarding;
  forwarding.delivery = engine::Delivery::kAtLeastOnce;
  forwarding.wait = wait;
  engine::Forwarder forwarder(broker, original, "", router, forwarding);
  if (auto started = forwarder.start(); !started) {
    std::fprintf(stderr, "%s\n", started.error().message().c_str());
    return 1;
  }
  std::signal(SIGTERM, [](int) { forward_stopping = 1; });
  while (!forward_stopping) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  forwarder.stop();
  return 0;
}

}  // namespace qsplit::testing
