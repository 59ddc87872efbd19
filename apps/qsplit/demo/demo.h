// `qsplit demo`: the whole story of queue splitting, in one process, on the memory broker.
#pragma once

#include <string>
#include <vector>

namespace qsplit::demo {

struct DemoOptions {
  uint64_t messages = 5000;
  int sessions = -1;                 // how many of the configs start a session; -1: all
  std::vector<std::string> configs;  // one mirrord.json per developer, in start order
  std::string registry;              // the workload's MirrordWorkloadQueueRegistry
  double linger_seconds = 60;
};

// Runs the demo and prints it. Returns the process exit code: 0 when nothing was lost,
// duplicated or misrouted, 1 otherwise, 2 on bad input.
int runDemo(const DemoOptions& options);

}  // namespace qsplit::demo
