// `qsplit status [--watch] [--output json]`: every split queue with its counts and live rate,
// and every session with its temporary queue, as two tables (or the API's JSON).
#include <fmt/format.h>

#include <thread>

#include "child.h"
#include "run.h"
#include "table.h"

namespace qsplit::cli {
namespace {

std::string str(const nlohmann::json& j, const char* key) { return j.value(key, std::string()); }
std::string count(const nlohmann::json& j, const char* key) {
  return j.contains(key) && j[key].is_number() ? std::to_string(j[key].get<uint64_t>()) : "?";
}

std::string text(const nlohmann::json& queues, const nlohmann::json& sessions, const std::string& server) {
  std::map<std::string, std::string> owners;
  for (const auto& s : sessions["sessions"]) owners[str(s, "id")] = str(s, "owner");
  std::string out = fmt::format("qsplitd at {}: {} split queues, {} sessions\n", server,
                                queues["queues"].size(), sessions["sessions"].size());
  if (queues["queues"].empty()) return out + "Nothing is split.\n";
  Table split({{"QUEUE"}, {"TYPE"}, {"STATE"}, {"WORKLOAD"}, {"READ", true}, {"UNMATCHED", true},
               {"MSG/S", true}, {"WAITING", true}, {"FALLBACK (the workload reads it)"}});
  Table routed({{"QUEUE"}, {"SESSION"}, {"OWNER"}, {"MODE"}, {"FORWARDED", true}, {"SESSION QUEUE"}});
  for (const auto& q : queues["queues"]) {
    split.add({str(q, "original"), str(q, "queue_type"), str(q, "state"), str(q, "workload"),
               count(q, "read"), count(q, "unmatched"),
               fmt::format("{:.1f}", q.value("rate_per_second", 0.0)), count(q, "original_backlog"),
               str(q, "fallback")});
    for (const auto& s : q["sessions"])
      routed.add({str(q, "original"), str(s, "session"), owners[str(s, "session")], str(s, "mode"),
                  count(s, "forwarded"), str(s, "temporary")});
  }
  out += "\n" + split.render();
  if (!routed.empty()) out += "\n" + routed.render();
  return out;
}

Result<std::string> render(ApiClient& api, bool json) {
  QSPLIT_ASSIGN_OR_RETURN(auto queues, api.call("GET", "/api/v1/queues"));
  QSPLIT_ASSIGN_OR_RETURN(auto sessions, api.call("GET", "/api/v1/sessions"));
  if (json)
    return nlohmann::json{{"queues", queues["queues"]}, {"sessions", sessions["sessions"]}}.dump() + "\n";
  return text(queues, sessions, api.server());
}

}  // namespace

int showStatus(ApiClient& api, bool watch, bool json) {
  if (watch) catchSignals();
  do {
    auto out = render(api, json);
    if (!out) {
      fmt::print(stderr, "qsplit status: {}\n", out.error().message());
      if (!watch) return 2;
    } else {
      if (watch && !json) fmt::print("\033[H\033[2J");  // JSON: one document per line instead
      fmt::print("{}", *out);
      std::fflush(stdout);
    }
    for (int i = 0; watch && i < 20 && !pendingSignal(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
  } while (watch && !pendingSignal());
  return 0;
}

}  // namespace qsplit::cli
