// qsplitd's HTTP API: JSON under /api/v1, /metrics, /healthz and /readyz, on cpp-httplib.
// Each resource registers its routes from its own file.
#pragma once

#include <httplib.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "control/api/tokens.h"
#include "control/workloads/local_workloads.h"
#include "control/sessions.h"

namespace qsplit::control::api {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 0;  // 0: a free port, see ApiServer::port()
  std::string tls_cert, tls_key;  // both set: HTTPS
  std::size_t max_body = 1 << 20;
};

// What the handlers reach.
struct Services {
  SessionManager& sessions;
  LocalWorkloads& workloads;
  const Tokens& tokens;
  std::atomic<bool>& ready;
};

class ApiServer {
 public:
  static Result<std::unique_ptr<ApiServer>> create(const ServerOptions& options, Services services);
  ~ApiServer();  // stops serving
  int port() const { return port_; }
  void stop();

 private:
  ApiServer(std::unique_ptr<httplib::Server> server, int port);
  std::unique_ptr<httplib::Server> server_;
  int port_;
  std::thread thread_;
};

// --- shared by the resource files ---

void sendJson(httplib::Response& res, int status, const nlohmann::json& body);
void sendError(httplib::Response& res, const Error& error);
// Authenticates the request; on failure answers 401 and returns nothing.
std::optional<Caller> authenticate(const Services& services, const httplib::Request& req,
                                   httplib::Response& res);
// The request body as a JSON object; on failure answers 400 and returns nothing.
std::optional<nlohmann::json> jsonBody(const httplib::Request& req, httplib::Response& res);

void addSessionRoutes(httplib::Server& server, Services services);
void addQueueRoutes(httplib::Server& server, Services services);
void addWorkloadRoutes(httplib::Server& server, Services services);
void addHealthRoutes(httplib::Server& server, Services services);

}  // namespace qsplit::control::api
