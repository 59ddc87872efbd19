// The jq worker: a child process of qsplitd that compiles and runs the sessions' jq filters,
// so libjq (one thread only, no interrupt) never runs inside qsplitd. A watchdog thread ends
// the worker when one evaluation runs past its time or memory limit, after telling qsplitd
// which program did it (jq_wire.h); qsplitd switches that filter off and starts a new worker.
#pragma once

#include <chrono>
#include <cstddef>

namespace qsplit::jq {

struct JqLimits {
  // The longest one evaluation of one program may run (the reference's jq_time_limit).
  std::chrono::milliseconds time{200};
  // The most memory the worker may hold while a program runs (resident set).
  std::size_t memory_mb = 256;
};

// The worker's main: serves the socket `fd` until qsplitd closes it. Runs in a process of its
// own, started as `qsplitd --jq-worker FD TIME_MS MEMORY_MB`.
int runJqWorker(int fd, JqLimits limits);

// The arguments after `--jq-worker`; false when they are not FD TIME_MS MEMORY_MB.
bool parseJqWorkerArgs(int argc, char** argv, int& fd, JqLimits& limits);

}  // namespace qsplit::jq
