// The queue benchmarks' shared steps: pre-loading a queue with messages of 20 users, and
// qsplit's run: a forwarder, at least once, from `from` to destinations[0] (the fallback) and
// destinations[1..] (session i takes the messages of user-(i-1)).
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

// `messages` bodies of `size` bytes with the attributes user (user-0 .. user-19) and tenant,
// typed `type`, sent in batches of `batch` through qsplit's own sink.
inline void preloadUsers(core::Broker& broker, const std::string& queue, int messages, int size,
                         std::size_t batch, const std::string& type) {
  auto sink = broker.openSink(queue);
  std::vector<core::Message> pending;
  for (int i = 0; i < messages && sink; ++i) {
    core::Message m;
    m.body = std::string(static_cast<std::size_t>(size), 'x');
    m.attributes = {{"user", "user-" + std::to_string(i % 20), type}, {"tenant", "acme", type}};
    pending.push_back(std::move(m));
    if (pending.size() < batch && i + 1 < messages) continue;
    if (auto sent = (*sink)->send(pending); !sent) {
      std::fprintf(stderr, "preloading %s: %s\n", queue.c_str(), sent.error().message().c_str());
      std::exit(1);
    }
    pending.clear();
  }
  if (!sink) {
    std::fprintf(stderr, "preloading %s: %s\n", queue.c_str(), sink.error().message().c_str());
    std::exit(1);
  }
}

// Forwards until `messages` are acknowledged on the original (read in `group` where the broker
// has groups); returns the seconds it took.
// `view`: what filters see, for a broker without headers (the forwarder's view).
inline double forwardRun(core::Broker& broker, const std::string& from,
                         const std::vector<std::string>& destinations, int messages,
                         const std::string& group = "",
                         std::function<void(std::vector<core::Message>&)> view = nullptr) {
  std::vector<core::SessionRoute> routes;
  for (std::size_t i = 1; i < destinations.size(); ++i) {
    auto filter = core::Filter::compile({{"user", "^user-" + std::to_string(i - 1) + "$"}});
    routes.push_back({destinations[i], *filter, core::QueueMode::kSteal, destinations[i]});
  }
  core::Router router(*core::RouteTable::build(routes, destinations[0], 1));
  engine::ForwarderOptions options;
  options.delivery = engine::Delivery::kAtLeastOnce;
  options.wait = std::chrono::milliseconds(1000);
  options.view = std::move(view);
  engine::Forwarder forwarder(broker, from, group, router, options);
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
