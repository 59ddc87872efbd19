// `qsplit status [--watch]`: every split queue, its sessions and temporary names, counts
// and the live rate, as a table.
#include <fmt/format.h>

#include <thread>

#include "child.h"
#include "run.h"

namespace qsplit::cli {
namespace {

std::string str(const nlohmann::json& j, const char* key) { return j.value(key, std::string()); }

Result<std::string> render(ApiClient& api) {
  QSPLIT_ASSIGN_OR_RETURN(auto queues, api.call("GET", "/api/v1/queues"));
  QSPLIT_ASSIGN_OR_RETURN(auto sessions, api.call("GET", "/api/v1/sessions"));
  std::map<std::string, std::string> owners;
  for (const auto& s : sessions["sessions"]) owners[str(s, "id")] = str(s, "owner");
  std::string out = fmt::format("qsplitd at {}: {} split queues, {} sessions\n\n", api.server(),
                                queues["queues"].size(), sessions["sessions"].size());
  out += fmt::format("{:<28} {:<5} {:<10} {:<24} {:>8} {:>9} {:>8} {:>8}  {}\n", "QUEUE", "TYPE",
                     "STATE", "WORKLOAD", "READ", "UNMATCHED", "MSG/S", "WAITING", "FALLBACK (deployed)");
  for (const auto& q : queues["queues"]) {
    auto backlog = q["original_backlog"];
    out += fmt::format("{:<28} {:<5} {:<10} {:<24} {:>8} {:>9} {:>8.1f} {:>8}  {}\n", str(q, "original"),
                       str(q, "queue_type"), str(q, "state"), str(q, "workload"),
                       q["read"].get<uint64_t>(), q["unmatched"].get<uint64_t>(),
                       q["rate_per_second"].get<double>(),
                       backlog.is_null() ? "?" : std::to_string(backlog.get<uint64_t>()), str(q, "fallback"));
    for (const auto& s : q["sessions"])
      out += fmt::format("  session {:<14} {:<12} {:<7} forwarded {:>8}  -> {}\n", str(s, "session"),
                         owners[str(s, "session")], str(s, "mode"), s["forwarded"].get<uint64_t>(),
                         str(s, "temporary"));
  }
  if (queues["queues"].empty()) out += "(nothing is split)\n";
  return out;
}

}  // namespace

int showStatus(ApiClient& api, bool watch) {
  if (watch) catchSignals();
  do {
    auto text = render(api);
    if (!text) {
      fmt::print(stderr, "qsplit status: {}\n", text.error().message());
      if (!watch) return 2;
    } else {
      if (watch) fmt::print("\033[H\033[2J");
      fmt::print("{}", *text);
      std::fflush(stdout);
    }
    for (int i = 0; watch && i < 20 && !pendingSignal(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
  } while (watch && !pendingSignal());
  return 0;
}

}  // namespace qsplit::cli
