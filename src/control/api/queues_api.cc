// /api/v1/queues: each split queue's state, temporary names, counts and rate.
#include "control/api/server.h"

namespace qsplit::control::api {
namespace {

nlohmann::json queueJson(const QueueStatus& q) {
  const auto& s = q.split;
  auto forwarded = [&](const std::string& queue) {
    auto it = s.counts.forwarded.find(queue);
    return it == s.counts.forwarded.end() ? uint64_t{0} : it->second;
  };
  nlohmann::json sessions = nlohmann::json::array();
  for (const auto& r : s.sessions)
    sessions.push_back({{"session", r.session_id}, {"temporary", r.queue},
                        {"mode", core::queueModeName(r.mode)}, {"forwarded", forwarded(r.queue)}});
  return {{"queue_type", config::queueTypeName(q.type)}, {"original", s.original},
          {"workload", q.workload}, {"state", core::splitStateName(s.state)},
          {"fallback", s.fallback}, {"sessions", sessions},
          {"read", s.counts.read}, {"unmatched", s.counts.unmatched},
          {"forwarded_to_fallback", s.fallback.empty() ? 0 : forwarded(s.fallback)},
          {"returned", s.returned}, {"send_errors", s.counts.send_errors},
          {"receive_errors", s.counts.receive_errors}, {"rate_per_second", q.rate},
          {"original_backlog", q.original_backlog ? nlohmann::json(*q.original_backlog) : nlohmann::json()},
          {"fallback_backlog", q.fallback_backlog ? nlohmann::json(*q.fallback_backlog) : nlohmann::json()}};
}

}  // namespace

void addQueueRoutes(httplib::Server& server, Services services) {
  server.Get("/api/v1/queues", [services](const httplib::Request& req, httplib::Response& res) {
    if (!authenticate(services, req, res)) return;
    nlohmann::json list = nlohmann::json::array();
    for (const auto& q : services.sessions.queues(true)) list.push_back(queueJson(q));
    sendJson(res, 200, {{"queues", list}});
  });

  server.Get(R"(/api/v1/queues/([^/]+))", [services](const httplib::Request& req,
                                                      httplib::Response& res) {
    if (!authenticate(services, req, res)) return;
    for (const auto& q : services.sessions.queues(true))
      if (q.split.original == req.matches[1]) return sendJson(res, 200, queueJson(q));
    sendError(res, Error(ErrorCode::kNotFound, "queue " + std::string(req.matches[1]) +
                                                   " is not split by qsplitd"));
  });
}

}  // namespace qsplit::control::api
