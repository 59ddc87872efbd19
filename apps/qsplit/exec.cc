// `qsplit exec`: a deployed consumer on this machine, restarted with its queue variables
// patched when splitting starts and restored when it ends, as a Kubernetes rollout would.
#include <fmt/format.h>
#include <re2/re2.h>

#include <thread>

#include "child.h"
#include "run.h"

extern char** environ;

namespace qsplit::cli {
namespace {

void say(const std::string& line) { fmt::print(stderr, "qsplit exec: {}\n", line); }

// The variables of this environment the registry reads queue names from; nothing else of
// the environment is sent to qsplitd.
std::map<std::string, std::string> queueVariables(const nlohmann::json& vars) {
  std::vector<std::unique_ptr<RE2>> patterns;
  for (const auto& p : vars["patterns"]) patterns.push_back(std::make_unique<RE2>(p.get<std::string>(), RE2::Quiet));
  std::map<std::string, std::string> out;
  for (char** e = environ; *e; ++e) {
    std::string entry = *e;
    auto eq = entry.find('=');
    if (eq == std::string::npos) continue;
    std::string name = entry.substr(0, eq);
    bool wanted = std::find(vars["names"].begin(), vars["names"].end(), name) != vars["names"].end();
    for (const auto& p : patterns) wanted = wanted || (p->ok() && RE2::PartialMatch(name, *p));
    if (wanted) out[name] = entry.substr(eq + 1);
  }
  return out;
}

class Exec {
 public:
  Exec(ApiClient& api, const ExecOptions& options)
      : api_(api), options_(options), path_("/api/v1/workloads/" + options.workload) {}

  int run() {
    catchSignals();
    auto vars = api_.call("GET", path_ + "/variables");
    if (!vars) return say(vars.error().message()), 2;
    container_ = !options_.container.empty() ? options_.container
                 : (*vars)["container"].get<std::string>().empty() ? "main"
                                                                   : (*vars)["container"].get<std::string>();
    env_ = queueVariables(*vars);
    auto view = registerWorkload();
    if (!view) return say(view.error().message()), 2;
    if (auto r = startCommand(*view); r != 0) return r;
    return loop();
  }

 private:
  Result<nlohmann::json> registerWorkload() {
    return api_.call("PUT", path_, nlohmann::json{{"container", container_}, {"env", env_}});
  }

  int startCommand(const nlohmann::json& view) {
    running_env_ = view["env"].get<std::map<std::string, std::string>>();
    std::string vars;
    for (const auto& [k, v] : running_env_) vars += " " + k + "=" + v;
    auto child = startChild(options_.command, running_env_);
    if (!child) return say(child.error().message()), 127;
    child_ = *child;
    generation_ = view["generation"];
    say(fmt::format("{} runs generation {}:{}", options_.workload, generation_, vars));
    (void)api_.call("POST", path_ + "/ready", nlohmann::json{{"generation", generation_}});
    return 0;
  }

  // A new generation: restart the command if its variables changed (SIGTERM, grace, start).
  int apply(const nlohmann::json& view) {
    if (view["generation"].get<uint64_t>() <= generation_ && view["ready_generation"] >= generation_)
      return 0;
    if (view["env"].get<std::map<std::string, std::string>>() == running_env_) {
      generation_ = view["generation"];
      (void)api_.call("POST", path_ + "/ready", nlohmann::json{{"generation", generation_}});
      return 0;
    }
    say(fmt::format("generation {}: restarting the command", view["generation"].get<uint64_t>()));
    stopChild(child_, std::chrono::seconds(options_.grace_seconds));
    return startCommand(view);
  }

  int loop() {
    auto poll = [&] {
      return api_.start("GET", path_ + "?after=" + std::to_string(generation_), std::nullopt,
                        std::chrono::seconds(30));
    };
    auto pending = poll();
    for (;;) {
      if (auto status = reap(child_)) {
        say(fmt::format("the command exited with {}", exitCode(*status)));
        return exitCode(*status);
      }
      if (pendingSignal()) return exitCode(stopChild(child_, std::chrono::seconds(options_.grace_seconds)));
      if (pending.wait_for(std::chrono::milliseconds(50)) != std::future_status::ready) continue;
      auto view = api_.finish(pending.get(), "polling " + path_);
      if (!view && view.error().code() == ErrorCode::kNotFound) view = registerWorkload();
      if (view) {
        if (int r = apply(*view); r != 0) return r;
      } else {
        // qsplitd restarting: the command keeps running as it is meanwhile.
        say(view.error().message());
        std::this_thread::sleep_for(std::chrono::seconds(1));
      }
      pending = poll();
    }
  }

  ApiClient& api_;
  ExecOptions options_;
  std::string path_;
  std::string container_;
  std::map<std::string, std::string> env_;
  std::map<std::string, std::string> running_env_;
  pid_t child_ = -1;
  uint64_t generation_ = 0;
};

}  // namespace

int execWorkload(ApiClient& api, const ExecOptions& options) { return Exec(api, options).run(); }

}  // namespace qsplit::cli
