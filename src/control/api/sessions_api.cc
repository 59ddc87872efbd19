// /api/v1/sessions: start, list, get, heartbeat and end developers' sessions.
#include "control/api/server.h"

namespace qsplit::control::api {
namespace {

nlohmann::json sessionJson(const Session& s, Duration heartbeat) {
  nlohmann::json queues = nlohmann::json::array();
  for (const auto& q : s.queues) {
    queues.push_back({{"queue_id", q.queue_id}, {"queue_type", config::queueTypeName(q.type)},
                      {"original", q.original}, {"temporary", q.temporary},
                      {"mode", core::queueModeName(q.mode)}});
    if (!q.filter_error.empty()) queues.back()["filter_error"] = q.filter_error;
  }
  return {{"id", s.id}, {"owner", s.owner}, {"target", s.target}, {"state", s.state},
          {"queues", queues}, {"env", s.env}, {"started_unix_ms", s.started_unix_ms},
          {"heartbeat_interval_ms",
           std::chrono::duration_cast<std::chrono::milliseconds>(heartbeat).count()}};
}

}  // namespace

void addSessionRoutes(httplib::Server& server, Services services) {
  server.Post("/api/v1/sessions", [services](const httplib::Request& req, httplib::Response& res) {
    auto caller = authenticate(services, req, res);
    if (!caller) return;
    auto body = jsonBody(req, res);
    if (!body) return;
    if (!body->contains("config") || !(*body)["config"].is_object())
      return sendError(res, Error(ErrorCode::kInvalidArgument,
                                  "config: expected the user's mirrord.json as a JSON object"));
    std::string target;
    if (body->contains("target")) {
      if (!(*body)["target"].is_string())
        return sendError(res, Error(ErrorCode::kInvalidArgument,
                                    "target: expected a string like deployment/NAME"));
      target = (*body)["target"].get<std::string>();
    }
    auto session = services.sessions.start(*caller, target, (*body)["config"].dump());
    if (!session) return sendError(res, session.error());
    sendJson(res, 201, sessionJson(*session, services.sessions.heartbeatInterval()));
  });

  server.Get("/api/v1/sessions", [services](const httplib::Request& req, httplib::Response& res) {
    if (!authenticate(services, req, res)) return;
    nlohmann::json list = nlohmann::json::array();
    for (const auto& s : services.sessions.list())
      list.push_back(sessionJson(s, services.sessions.heartbeatInterval()));
    sendJson(res, 200, {{"sessions", list}});
  });

  server.Get(R"(/api/v1/sessions/([^/]+))", [services](const httplib::Request& req,
                                                        httplib::Response& res) {
    if (!authenticate(services, req, res)) return;
    auto session = services.sessions.get(req.matches[1]);
    if (!session) return sendError(res, session.error());
    sendJson(res, 200, sessionJson(*session, services.sessions.heartbeatInterval()));
  });

  server.Post(R"(/api/v1/sessions/([^/]+)/heartbeat)", [services](const httplib::Request& req,
                                                                   httplib::Response& res) {
    auto caller = authenticate(services, req, res);
    if (!caller) return;
    auto session = services.sessions.heartbeat(*caller, req.matches[1]);
    if (!session) return sendError(res, session.error());
    sendJson(res, 200, sessionJson(*session, services.sessions.heartbeatInterval()));
  });

  server.Delete(R"(/api/v1/sessions/([^/]+))", [services](const httplib::Request& req,
                                                           httplib::Response& res) {
    auto caller = authenticate(services, req, res);
    if (!caller) return;
    std::string reason = "ended by " + caller->user;
    auto ended = services.sessions.end(*caller, req.matches[1], reason);
    if (!ended) return sendError(res, ended.error());
    nlohmann::json queues = nlohmann::json::array();
    for (const auto& q : ended->queues)
      queues.push_back({{"queue_id", q.queue_id}, {"original", q.original}, {"temporary", q.temporary},
                        {"forwarded", q.forwarded}, {"given_back", q.given_back}});
    sendJson(res, 200, {{"id", req.matches[1]}, {"state", "ended"}, {"queues", queues}});
  });
}

}  // namespace qsplit::control::api
