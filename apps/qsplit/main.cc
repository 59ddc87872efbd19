// qsplit: the user's command line.
#include <CLI/CLI.hpp>

#include <filesystem>

#include "common/log.h"
#include "api_client.h"
#include "demo/demo.h"
#include "run.h"
#include "validate.h"

namespace {

// Examples ship with the sources: found from the working directory (make demo) or from
// the source tree the binary was built from.
std::string example(const std::string& name) {
  std::string local = "examples/demo/" + name;
  if (std::filesystem::exists(local)) return local;
  return std::string(QSPLIT_SOURCE_DIR) + "/examples/demo/" + name;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"qsplit: share one staging environment's message queues between developers"};
  app.require_subcommand(1);
  std::string log_level = "warn";
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error, or module=level,...")
      ->capture_default_str();

  qsplit::demo::DemoOptions demo;
  auto* demo_cmd = app.add_subcommand(
      "demo",
      "Run the whole queue-splitting story in one process on the embedded broker: a deployed "
      "consumer, developers' sessions started one after the other (start order decides "
      "overlaps), a producer, then the sessions ending and the workload restored. Prints who "
      "received what and the lost, duplicated and misrouted counts (all zero).");
  demo_cmd->add_option("-n,--messages", demo.messages, "messages to produce")
      ->capture_default_str()
      ->check(CLI::Range(1, 10'000'000));
  demo_cmd->add_option("-s,--sessions", demo.sessions,
                       "how many of the configs start a session (default: all)");
  demo_cmd->add_option("-f,--config", demo.configs,
                       "a developer's mirrord.json (repeat; sessions start in this order)")
      ->check(CLI::ExistingFile);
  demo_cmd->add_option("-r,--registry", demo.registry,
                       "the workload's MirrordWorkloadQueueRegistry YAML")
      ->check(CLI::ExistingFile);
  demo_cmd->add_option("--linger", demo.linger_seconds,
                       "seconds the workload may take to empty the fallback queue")
      ->capture_default_str();

  std::string config_path, resources_path;
  auto* validate_cmd = app.add_subcommand(
      "validate", "Check a mirrord config (and optionally custom resources) without running");
  validate_cmd->add_option("-f,--config", config_path, "mirrord.json")->required();
  validate_cmd->add_option("-r,--resources", resources_path, "a YAML file or a directory of them");
  // Tables for a person, JSON for a script.
  std::string output = "text";
  auto outputOption = [&](CLI::App* cmd) {
    cmd->add_option("-o,--output", output, "text or json")->check(CLI::IsMember({"text", "json"}));
  };
  outputOption(validate_cmd);

  qsplit::cli::ClientSettings client;
  auto connect = [&](CLI::App* cmd) {
    cmd->add_option("--server", client.server, "qsplitd's URL (QSPLIT_SERVER; default http://127.0.0.1:7460)");
    cmd->add_option("--token", client.token, "bearer token (QSPLIT_TOKEN, or ~/.config/qsplit/client.yaml)");
    cmd->add_option("--ca-cert", client.ca_cert, "PEM file of the CA that signed qsplitd's certificate (QSPLIT_CA_CERT)");
  };
  qsplit::cli::RunOptions run;
  auto* run_cmd = app.add_subcommand(
      "run", "Start a session with a mirrord.json, run COMMAND with the session's queue variables, "
             "end the session when it exits (or on Ctrl-C); exits with its status");
  run_cmd->add_option("-f,--config", run.config_path, "mirrord.json")->required()->check(CLI::ExistingFile);
  run_cmd->add_option("--target", run.target, "deployment/NAME[/CONTAINER] (default: the config's target)");
  run_cmd->add_option("command", run.command, "the command to run, after --")->required();
  connect(run_cmd);
  qsplit::cli::ExecOptions exec;
  auto* exec_cmd = app.add_subcommand(
      "exec", "Run a deployed consumer locally; qsplitd restarts it with its queue variables "
              "patched while split and restored after (local mode, without Kubernetes)");
  exec_cmd->add_option("--workload", exec.workload, "deployment/NAME")->required();
  exec_cmd->add_option("--container", exec.container, "the container it stands for (default: the registry's)");
  exec_cmd->add_option("--grace", exec.grace_seconds, "seconds between SIGTERM and SIGKILL on a restart")
      ->capture_default_str();
  exec_cmd->add_option("command", exec.command, "the command to run, after --")->required();
  connect(exec_cmd);
  bool watch = false;
  auto* status_cmd = app.add_subcommand("status", "Split queues, sessions, temporary names and rates");
  status_cmd->add_flag("-w,--watch", watch, "refresh every 2 seconds");
  outputOption(status_cmd);
  connect(status_cmd);
  auto* sessions_cmd = app.add_subcommand("sessions", "List sessions or end one");
  sessions_cmd->require_subcommand(1);
  auto* list_cmd = sessions_cmd->add_subcommand("list", "every live session");
  std::string end_id;
  auto* end_cmd = sessions_cmd->add_subcommand("end", "end a session (its owner or an admin)");
  end_cmd->add_option("id", end_id, "the session id")->required();
  outputOption(list_cmd);
  connect(list_cmd);
  connect(end_cmd);

  CLI11_PARSE(app, argc, argv);
  std::string error;
  if (!qsplit::setLogLevels(log_level, &error)) {
    std::fprintf(stderr, "qsplit: --log-level: %s\n", error.c_str());
    return 2;
  }
  if (*demo_cmd) {
    if (demo.configs.empty()) demo.configs = {example("alice.json"), example("bob.json")};
    if (demo.registry.empty()) demo.registry = example("registry.yaml");
    return qsplit::demo::runDemo(demo);
  }
  bool json = output == "json";
  if (*validate_cmd) return qsplit::cli::runValidate(config_path, resources_path, json);
  auto api = qsplit::cli::ApiClient::create(client);
  if (!api) {
    std::fprintf(stderr, "qsplit: %s\n", api.error().message().c_str());
    return 2;
  }
  if (*run_cmd) return qsplit::cli::runSession(**api, run);
  if (*exec_cmd) return qsplit::cli::execWorkload(**api, exec);
  if (*status_cmd) return qsplit::cli::showStatus(**api, watch, json);
  if (*list_cmd) return qsplit::cli::listSessions(**api, json);
  return qsplit::cli::endSession(**api, end_id);
}
