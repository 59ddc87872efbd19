// /api/v1/workloads: deployed consumers run by `qsplit exec` register their queue variables,
// wait for patches (a long poll) and report the generation they run.
#include "control/api/server.h"

namespace qsplit::control::api {
namespace {

constexpr char kWorkloadPath[] = R"(/api/v1/workloads/([a-z]+)/([^/]+))";

nlohmann::json viewJson(const WorkloadView& v) {
  return {{"workload", v.name}, {"container", v.container}, {"generation", v.generation},
          {"ready_generation", v.ready_generation}, {"env", v.env}, {"patched", v.patched},
          {"running", v.running}};
}

std::string workloadName(const httplib::Request& req) {
  return std::string(req.matches[1]) + "/" + std::string(req.matches[2]);
}

}  // namespace

void addWorkloadRoutes(httplib::Server& server, Services services) {
  server.Get("/api/v1/workloads", [services](const httplib::Request& req, httplib::Response& res) {
    if (!authenticate(services, req, res)) return;
    nlohmann::json list = nlohmann::json::array();
    for (const auto& v : services.workloads.list()) list.push_back(viewJson(v));
    sendJson(res, 200, {{"workloads", list}});
  });

  server.Get(std::string(kWorkloadPath) + "/variables",
             [services](const httplib::Request& req, httplib::Response& res) {
               if (!authenticate(services, req, res)) return;
               auto vars = services.sessions.queueVariables(workloadName(req));
               if (!vars) return sendError(res, vars.error());
               sendJson(res, 200, {{"container", vars->container}, {"names", vars->names},
                                   {"patterns", vars->patterns}});
             });

  server.Put(kWorkloadPath, [services](const httplib::Request& req, httplib::Response& res) {
    if (!authenticate(services, req, res)) return;
    auto body = jsonBody(req, res);
    if (!body) return;
    std::map<std::string, std::string> env;
    std::string container;
    try {
      container = body->at("container").get<std::string>();
      env = body->at("env").get<std::map<std::string, std::string>>();
    } catch (const nlohmann::json::exception&) {
      return sendError(res, Error(ErrorCode::kInvalidArgument,
                                  "expected {\"container\": NAME, \"env\": {VARIABLE: VALUE}}"));
    }
    if (container.empty())
      return sendError(res, Error(ErrorCode::kInvalidArgument, "container: must not be empty"));
    auto view = services.workloads.registerWorkload(workloadName(req), container, std::move(env));
    if (!view) return sendError(res, view.error());
    sendJson(res, 200, viewJson(*view));
  });

  server.Get(kWorkloadPath, [services](const httplib::Request& req, httplib::Response& res) {
    if (!authenticate(services, req, res)) return;
    uint64_t after = 0;
    if (req.has_param("after")) {
      try {
        after = std::stoull(req.get_param_value("after"));
      } catch (const std::exception&) {
        return sendError(res, Error(ErrorCode::kInvalidArgument, "after: expected a generation number"));
      }
    }
    auto view = req.has_param("after")
                    ? services.workloads.waitChange(workloadName(req), after, std::chrono::seconds(20))
                    : services.workloads.view(workloadName(req));
    if (!view) return sendError(res, view.error());
    sendJson(res, 200, viewJson(*view));
  });

  server.Post(std::string(kWorkloadPath) + "/ready",
              [services](const httplib::Request& req, httplib::Response& res) {
                if (!authenticate(services, req, res)) return;
                auto body = jsonBody(req, res);
                if (!body) return;
                if (!body->contains("generation") || !(*body)["generation"].is_number_unsigned())
                  return sendError(res, Error(ErrorCode::kInvalidArgument,
                                              "generation: expected a generation number"));
                auto done = services.workloads.ready(workloadName(req), (*body)["generation"]);
                if (!done) return sendError(res, done.error());
                sendJson(res, 200, {{"ready", true}});
              });
}

}  // namespace qsplit::control::api
