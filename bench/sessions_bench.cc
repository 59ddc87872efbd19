// sessions_bench: qsplitd's session manager on the memory broker, in-process: how long a
// session takes from start to ready when N sessions already run, the memory N sessions take,
// and the routing rate with N sessions. One process per N (so RSS is that N's alone); prints
// one JSON line. bench/report_sessions.py turns the runs into a table with ratios.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "brokers/memory/memory_broker.h"
#include "common/log.h"
#include "control/workloads/local_workloads.h"
#include "control/sqlite_store.h"
#include "control/sessions.h"

namespace {

using namespace qsplit;
using Steady = std::chrono::steady_clock;

constexpr char kRegistry[] = R"(apiVersion: queues.mirrord.metalbear.co/v1alpha
kind: MirrordWorkloadQueueRegistry
metadata: {name: app-registry}
spec:
  queues:
    orders: {queueType: SQS, nameSource: {envVar: ORDERS}}
  consumer: {name: app, container: main, workloadType: Deployment}
)";

long rssKib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

// Acknowledges every generation of the workload, as `qsplit exec` does after a restart.
void acknowledge(control::LocalWorkloads& workloads, std::atomic<bool>& stop) {
  uint64_t seen = 0;
  while (!stop) {
    auto view = workloads.waitChange("deployment/app", seen, std::chrono::milliseconds(20));
    if (view && view->generation > seen) (void)workloads.ready("deployment/app", seen = view->generation);
  }
}

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * v.size()))];
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"sessions_bench"};
  int sessions = 10;
  int messages = 100000;
  std::string dir = "/tmp/qsplit-sessions-bench";
  app.add_option("--sessions", sessions);
  app.add_option("--messages", messages);
  app.add_option("--dir", dir);
  CLI11_PARSE(app, argc, argv);
  std::string error;
  (void)setLogLevels("warn", &error);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  long rss_before = rssKib();

  auto store = std::move(control::SqliteStore::open(dir + "/qsplit.db")).value();
  auto resources = std::make_shared<const config::ResourceSet>(
      std::move(config::parseResources(kRegistry, "registry.yaml")).value());
  memory::MemoryBroker broker;
  (void)broker.createQueue("orders");
  control::LocalWorkloads workloads(*store, SystemClock::instance());
  (void)workloads.registerWorkload("deployment/app", "main", {{"ORDERS", "orders"}});
  std::atomic<bool> stop{false};
  std::thread exec([&] { acknowledge(workloads, stop); });
  control::ManagerOptions options;  // as qsplitd sets them
  options.brokers[config::QueueType::kSqs] = &broker;
  options.split.forwarder.wait = std::chrono::milliseconds(1000);
  control::SessionManager manager(*store, workloads, [&] { return resources; },
                                  SystemClock::instance(), SecureRandom::instance(), options);

  std::vector<double> start_ms;
  auto all_start = Steady::now();
  for (int i = 0; i < sessions; ++i) {
    std::string config = fmt::format(
        R"({{"target": "deployment/app", "feature": {{"split_queues": {{"orders": {{"queue_type": "SQS", "message_filter": {{"author": "^user-{}$"}}}}}}}}}})", i);
    auto t0 = Steady::now();
    auto s = manager.start({"bench", true}, "", config);
    if (!s) return fmt::print(stderr, "start {}: {}\n", i, s.error().message()), 1;
    start_ms.push_back(std::chrono::duration<double, std::milli>(Steady::now() - t0).count());
  }
  double all_seconds = std::chrono::duration<double>(Steady::now() - all_start).count();
  long rss_sessions = rssKib();

  // Routing: half the messages belong to one of the sessions, half to nobody. Three rounds;
  // the median is reported.
  auto sink = std::move(broker.openSink("orders")).value();
  std::vector<double> rates;
  for (int round = 1; round <= 3; ++round) {
    std::vector<core::Message> batch;
    auto t0 = Steady::now();
    for (int i = 0; i < messages; ++i) {
      core::Message m;
      m.body = "{\"n\": " + std::to_string(i) + "}";
      std::string author = i % 2 ? "nobody" : fmt::format("user-{}", (i / 2) % sessions);
      m.attributes = {{"author", author, "String"}, {"n", std::to_string(i), "Number"}};
      batch.push_back(std::move(m));
      if (batch.size() == 100) (void)sink->send(batch), batch.clear();
    }
    (void)sink->send(batch);
    // Done when the original holds nothing, visible or in flight: every message was routed,
    // sent and acknowledged. (Asking the manager's status instead would copy 1000 sessions'
    // counters every poll and disturb what is measured.)
    while (*broker.admin().backlog("orders", "") > 0)
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    rates.push_back(messages / std::chrono::duration<double>(Steady::now() - t0).count());
    // The developers and the workload read their queues between rounds (not timed), so
    // messages do not pile up in the embedded broker's memory.
    for (const auto& name : broker.names()) {
      if (name == "orders") continue;
      auto source = std::move(broker.openSource(name, "")).value();
      for (;;) {
        auto got = source->receive(1000, std::chrono::milliseconds(0));
        if (!got || got->empty()) break;
        (void)source->ack(*got);
      }
    }
  }
  double route_rate = percentile(rates, 0.5);

  fmt::print(R"({{"sessions": {}, "start_ms_p50": {:.3f}, "start_ms_p99": {:.3f}, "start_ms_max": {:.3f}, )"
             R"("start_all_s": {:.3f}, "rss_base_kib": {}, "rss_sessions_kib": {}, "messages": {}, "route_rate": {:.0f}}})"
             "\n",
             sessions, percentile(start_ms, 0.5), percentile(start_ms, 0.99),
             *std::max_element(start_ms.begin(), start_ms.end()), all_seconds, rss_before,
             rss_sessions, messages, route_rate);
  stop = true;
  exec.join();
  std::fflush(stdout);
  std::_Exit(0);  // the sessions stay stored; tearing 1000 splits down is not what is measured
}
