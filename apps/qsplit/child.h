// Running the user's command as a child process: with extra environment variables, with
// SIGINT and SIGTERM sent to qsplit passed on to it, stopped like a rollout stops a pod.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace qsplit::cli {

// Catches SIGINT, SIGTERM and SIGHUP from now on; pendingSignal() reports the last one.
void catchSignals();
int pendingSignal();  // 0: none
// The pending signal came from kill(), not from the terminal (which signals the command too).
bool signalFromProcess();
void clearSignal();

// Starts `args` with this environment plus `env` (which wins).
Result<pid_t> startChild(const std::vector<std::string>& args,
                         const std::map<std::string, std::string>& env);
// The exit status once the child has ended, or none while it runs (does not block).
std::optional<int> reap(pid_t pid);
// Sends SIGTERM, waits up to `grace`, then SIGKILL; returns the exit status.
int stopChild(pid_t pid, std::chrono::milliseconds grace);
// A wait status as a shell reports it: the exit code, or 128 + the signal.
int exitCode(int status);

}  // namespace qsplit::cli
