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

// `json`: the API's JSON instead of tables (with --watch, one document per line).
int showStatus(ApiClient& api, bool watch, bool json);
int listSessions(ApiClient& api, bool json);
int endSession(ApiClient& api, const std::string& id);

}  // namespace qsplit::cli
