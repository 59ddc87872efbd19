// qsplit: the user's command line.
#include <CLI/CLI.hpp>

#include <filesystem>

#include "common/log.h"
#include "demo/demo.h"
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
  return qsplit::cli::runValidate(config_path, resources_path);
}
