// Routing cost per message with N sessions: the Router (one RE2::Set per attribute name,
// all sessions matched at once) against the plain baseline, a loop over the sessions'
// filters in start order. Both decide the same thing; the router is checked against the
// loop before timing. Messages: 6 attributes and a 1 KiB body; sessions: two regexes each.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>

#include "core/router.h"

namespace {

using qsplit::core::Decision;
using qsplit::core::Filter;
using qsplit::core::Message;
using qsplit::core::QueueMode;
using qsplit::core::RouteTable;
using qsplit::core::SessionRoute;

std::vector<SessionRoute> sessions(int n) {
  std::vector<SessionRoute> out;
  for (int i = 0; i < n; ++i) {
    auto filter = Filter::compile({{"user", "^user-" + std::to_string(i) + "$"},
                                   {"baggage", "mirrord-session=dev-" + std::to_string(i) + "(;|$)"}});
    if (!filter) std::abort();
    out.push_back({"s" + std::to_string(i), *filter, QueueMode::kSteal, "q" + std::to_string(i)});
  }
  return out;
}

// Half of the messages belong to a live session, half to nobody (the fallback).
std::vector<Message> messages(int n) {
  std::vector<Message> out;
  for (int k = 0; k < 1024; ++k) {
    int who = (k * 7919) % (2 * n);
    Message m;
    m.body = std::string(1024, 'x');
    m.attributes = {{"user", "user-" + std::to_string(who), "String"},
                    {"baggage", "mirrord-session=dev-" + std::to_string(who) + ";sampled=1", "String"},
                    {"tenant", "acme", "String"},
                    {"level", "beginner", "String"},
                    {"region", "eu-west-1", "String"},
                    {"trace-id", "4bf92f3577b34da6a3ce929d0e0e4736", "String"}};
    out.push_back(std::move(m));
  }
  return out;
}

uint32_t loopRoute(const std::vector<SessionRoute>& list, const Message& m) {
  for (uint32_t i = 0; i < list.size(); ++i)
    if (list[i].filter.matches(m)) return i + 1;
  return RouteTable::kFallback;
}

void BM_Router(benchmark::State& state) {
  int n = static_cast<int>(state.range(0));
  auto list = sessions(n);
  auto table = *RouteTable::build(list, "fallback");
  auto msgs = messages(n);
  Decision d;
  for (const auto& m : msgs) {  // the router must agree with the loop
    table->route(m, d);
    if (d.destinations.size() != 1 || d.destinations[0] != loopRoute(list, m)) {
      std::fprintf(stderr, "router and loop disagree\n");
      std::abort();
    }
  }
  std::size_t i = 0;
  for (auto _ : state) {
    table->route(msgs[i++ & 1023], d);
    benchmark::DoNotOptimize(d.destinations.data());
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_FilterLoop(benchmark::State& state) {
  int n = static_cast<int>(state.range(0));
  auto list = sessions(n);
  auto msgs = messages(n);
  std::size_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(loopRoute(list, msgs[i++ & 1023]));
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK(BM_Router)->Arg(1)->Arg(10)->Arg(100)->Arg(1000);
BENCHMARK(BM_FilterLoop)->Arg(1)->Arg(10)->Arg(100)->Arg(1000);

}  // namespace

BENCHMARK_MAIN();
