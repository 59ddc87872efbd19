#include "run.h"

#include <fmt/format.h>

#include <signal.h>

#include <thread>

#include "child.h"
#include "common/files.h"
#include "config/user_config.h"
#include "resolve.h"
#include "table.h"

namespace qsplit::cli {
namespace {

void say(const std::string& line) { fmt::print(stderr, "qsplit: {}\n", line); }

// Heartbeats while the command runs; stops the command if qsplitd ended the session.
class Heartbeat {
 public:
  Heartbeat(ApiClient& api, std::string id, std::chrono::milliseconds every, pid_t child)
      : api_(api), id_(std::move(id)), every_(every), child_(child),
        thread_([this] { loop(); }) {}
  ~Heartbeat() {
    stop_ = true;
    thread_.join();
  }

 private:
  void loop() {
    auto next = std::chrono::steady_clock::now();
    while (!stop_) {
      if (std::chrono::steady_clock::now() >= next) {
        next += every_;
        auto r = api_.call("POST", "/api/v1/sessions/" + id_ + "/heartbeat", std::nullopt, every_ * 2);
        if (!r && r.error().code() == ErrorCode::kNotFound) {
          say("session " + id_ + " was ended by qsplitd; stopping the command");
          kill(child_, SIGTERM);
          return;
        }
        if (!r) say("heartbeat: " + r.error().message());
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  ApiClient& api_;
  std::string id_;
  std::chrono::milliseconds every_;
  pid_t child_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

std::string describeEnv(const nlohmann::json& env) {
  std::string out;
  for (const auto& [name, value] : env.items()) out += fmt::format(" {}={}", name, value.get<std::string>());
  return out;
}

std::string str(const nlohmann::json& j, const char* key) { return j.value(key, std::string()); }

// Before the command starts: one line per queue, with the session's queue and the filter.
void sayQueues(const nlohmann::json& session, const config::UserConfig& user) {
  for (const auto& q : session["queues"]) {
    const auto* split = config::splitFor(user, str(q, "queue_id"), str(q, "queue_type"));
    say(fmt::format("{}: {} {} -> {}, filter {} ({})", str(q, "queue_id"), str(q, "queue_type"),
                    str(q, "original"), str(q, "temporary"),
                    split ? config::describeFilter(*split) : "(no entry)", str(q, "mode")));
  }
}

// After the end: per queue, what reached the session's queue and what went back unread.
void sayEnded(const nlohmann::json& ended) {
  if (!ended.contains("queues")) return;
  for (const auto& q : ended["queues"])
    say(fmt::format("{}: {} messages forwarded to your queue, {} of them went back unread to be "
                    "routed again", str(q, "queue_id"), q.value("forwarded", uint64_t{0}),
                    q.value("given_back", uint64_t{0})));
}

}  // namespace

int runSession(ApiClient& api, const RunOptions& options) {
  // What qsplitd would refuse, refused here first, before any thread or session starts.
  auto resolved = resolveConfig(options.config_path);
  if (!resolved) return say(resolved.error().message()), 2;
  nlohmann::json body = {{"config", resolved->json}};
  if (!options.target.empty()) body["target"] = options.target;
  catchSignals();
  // Starting may wait for the deployed workload's restart (up to its restart timeout).
  auto session = api.call("POST", "/api/v1/sessions", body, std::chrono::minutes(10));
  if (!session) return say("starting a session: " + session.error().message()), 2;
  std::string id = (*session)["id"];
  say(fmt::format("session {} ready for {}:{}", id, (*session)["target"].get<std::string>(),
                  describeEnv((*session)["env"])));
  sayQueues(*session, resolved->user);
  if (pendingSignal()) {
    (void)api.call("DELETE", "/api/v1/sessions/" + id);
    return say("interrupted; session ended"), 130;
  }
  auto child = startChild(options.command, (*session)["env"].get<std::map<std::string, std::string>>());
  if (!child) {
    (void)api.call("DELETE", "/api/v1/sessions/" + id);
    return say(child.error().message()), 127;
  }
  int status = 0;
  {
    Heartbeat heartbeat(api, id, std::chrono::milliseconds((*session)["heartbeat_interval_ms"].get<int64_t>()),
                        *child);
    bool forwarded = false;
    for (;;) {
      if (auto done = reap(*child)) {
        status = *done;
        break;
      }
      if (int sig = pendingSignal(); sig && !forwarded) {
        // The command decides how to stop; a second signal forces it.
        if (signalFromProcess()) kill(*child, sig);
        forwarded = true;
        clearSignal();
      } else if (pendingSignal() && forwarded) {
        kill(*child, SIGKILL);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  int code = exitCode(status);
  auto ended = api.call("DELETE", "/api/v1/sessions/" + id, std::nullopt, std::chrono::minutes(5));
  if (!ended && ended.error().code() != ErrorCode::kNotFound) {
    say("ending session " + id + ": " + ended.error().message());
  } else {
    say(fmt::format("command exited with {}; session {} ended", code, id));
    if (ended) sayEnded(*ended);
  }
  return code;
}

int listSessions(ApiClient& api, bool json) {
  auto sessions = api.call("GET", "/api/v1/sessions");
  if (!sessions) return say(sessions.error().message()), 2;
  if (json) return fmt::print("{}\n", (*sessions)["sessions"].dump()), 0;
  if ((*sessions)["sessions"].empty()) return fmt::print("No sessions.\n"), 0;
  // One row per queue of a session; the session's own cells on its first row only.
  Table table({{"SESSION"}, {"OWNER"}, {"TARGET"}, {"STATE"}, {"QUEUE"}, {"SESSION QUEUE"}});
  for (const auto& s : (*sessions)["sessions"]) {
    bool first = true;
    for (const auto& q : s["queues"]) {
      table.add({first ? str(s, "id") : "", first ? str(s, "owner") : "",
                 first ? str(s, "target") : "", first ? str(s, "state") : "", str(q, "original"),
                 str(q, "temporary")});
      first = false;
    }
  }
  fmt::print("{}", table.render());
  return 0;
}

int endSession(ApiClient& api, const std::string& id) {
  auto ended = api.call("DELETE", "/api/v1/sessions/" + id, std::nullopt, std::chrono::minutes(5));
  if (!ended) return say("ending session " + id + ": " + ended.error().message()), 2;
  fmt::print("session {} ended\n", id);
  return 0;
}

}  // namespace qsplit::cli
