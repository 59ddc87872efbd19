// The queue benchmarks' qsplit run: a forwarder at least once from `from` to destinations[0]
// (the fallback) and destinations[1..] (session i takes the messages of user-(i-1)), until
// `messages` are acknowledged on the original. Returns the seconds it took; `during` is called
// right after the forwarder starts and again just before it stops (request counters).
#pragma once

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "engine/forwarder.h"

namespace qsplit::bench {

inline double forwardRun(core::Broker& broker, const std::string& from,
                         const std::vector<std::string>& destinations, int messages) {
  std::vector<core::SessionRoute> routes;
  for (std::size_t i = 1; i < destinations.size(); ++i) {
    auto filter = core::Filter::compile({{"user", "^user-" + std::to_string(i - 1) + "$"}});
    routes.push_back({destinations[i], *filter, core::QueueMode::kSteal, destinations[i]});
  }
  core::Router router(*core::RouteTable::build(routes, destinations[0], 1));
  engine::ForwarderOptions options;
  options.delivery = engine::Delivery::kAtLeastOnce;
  options.wait = std::chrono::milliseconds(1000);
  engine::Forwarder forwarder(broker, from, "", router, options);
  auto start = std::chrono::steady_clock::now();
  if (auto started = forwarder.start(); !started) {
    std::fprintf(stderr, "starting the forwarder: %s\n", started.error().message().c_str());
    std::exit(1);
  }
  while (forwarder.counts().acked < static_cast<uint64_t>(messages))
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  forwarder.stop();
  return seconds;
}

}  // namespace qsplit::bench
