// The client verbs that speak qsplitd's API: run, exec, status, sessions.
#pragma once

#include <string>
#include <vector>

#include "api_client.h"

namespace qsplit::cli {

struct RunOptions {
  std::string config_path;
  std::string target;
  std::vector<std::string> command;
};
// Starts a session, runs the command with the session's queue variables, heartbeats while
// it runs, ends the session when it exits or on SIGINT/SIGTERM; returns its exit status.
int runSession(ApiClient& api, const RunOptions& options);

struct ExecOptions {
  std::string workload;  // deployment/NAME
  std::string container;
  int grace_seconds = 10;
  std::vector<std::string> command;
};
// Runs a deployed consumer and restarts it whenever qsplitd patches or restores it.
int execWorkload(ApiClient& api, const ExecOptions& options);

int showStatus(ApiClient& api, bool watch);
int listSessions(ApiClient& api);
int endSession(ApiClient& api, const std::string& id);

}  // namespace qsplit::cli
