#include "control/api/server.h"

#include "common/log.h"

namespace qsplit::control::api {
namespace {

int httpStatus(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument: return 400;
    case ErrorCode::kNotFound: return 404;
    case ErrorCode::kAlreadyExists: return 409;
    case ErrorCode::kFailedPrecondition: return 409;
    case ErrorCode::kUnavailable: return 503;
    case ErrorCode::kPermissionDenied: return 403;
    case ErrorCode::kTimeout: return 504;
    case ErrorCode::kCancelled: return 503;
    case ErrorCode::kInternal: return 500;
  }
  return 500;
}

const char* statusCode(int status) {
  switch (status) {
    case 400: return "invalid_argument";
    case 401: return "unauthenticated";
    case 404: return "not_found";
    case 405: return "method_not_allowed";
    case 413: return "payload_too_large";
    default: return "error";
  }
}

}  // namespace

void sendJson(httplib::Response& res, int status, const nlohmann::json& body) {
  res.status = status;
  res.set_content(body.dump() + "\n", "application/json");
}

void sendError(httplib::Response& res, const Error& error) {
  std::string code = errorCodeName(error.code());
  sendJson(res, httpStatus(error.code()), {{"error", {{"code", code}, {"message", error.message()}}}});
}

std::optional<Caller> authenticate(const Services& services, const httplib::Request& req,
                                   httplib::Response& res) {
  auto caller = services.tokens.authenticate(req.get_header_value("Authorization"));
  if (caller) return *caller;
  res.set_header("WWW-Authenticate", "Bearer");
  sendJson(res, 401, {{"error", {{"code", "unauthenticated"}, {"message", caller.error().message()}}}});
  return std::nullopt;
}

std::optional<nlohmann::json> jsonBody(const httplib::Request& req, httplib::Response& res) {
  auto body = nlohmann::json::parse(req.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    sendError(res, Error(ErrorCode::kInvalidArgument, "the request body is not a JSON object"));
    return std::nullopt;
  }
  return body;
}

ApiServer::ApiServer(std::unique_ptr<httplib::Server> server, int port)
    : server_(std::move(server)), port_(port) {
  thread_ = std::thread([this] { server_->listen_after_bind(); });
}

ApiServer::~ApiServer() { stop(); }

void ApiServer::stop() {
  server_->stop();
  if (thread_.joinable()) thread_.join();
}

Result<std::unique_ptr<ApiServer>> ApiServer::create(const ServerOptions& options, Services services) {
  std::unique_ptr<httplib::Server> server;
  if (!options.tls_cert.empty() || !options.tls_key.empty()) {
    auto tls = std::make_unique<httplib::SSLServer>(options.tls_cert.c_str(), options.tls_key.c_str());
    if (!tls->is_valid())
      return fail(ErrorCode::kInvalidArgument, "tls: cannot load the certificate " +
                                                   options.tls_cert + " and key " + options.tls_key);
    server = std::move(tls);
  } else {
    server = std::make_unique<httplib::Server>();
  }
  // Long polls of `qsplit exec` hold a thread each; heartbeats are short.
  server->new_task_queue = [] { return new httplib::ThreadPool(64); };
  server->set_payload_max_length(options.max_body);
  server->set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    std::string message = res.status == 404 ? "no such path: " + req.method + " " + req.path
                          : res.status == 413 ? "the request body is larger than qsplitd accepts"
                          : res.status == 400 ? "malformed request (a POST or PUT needs a body, even {})"
                                              : "the request was refused";
    sendJson(res, res.status, {{"error", {{"code", statusCode(res.status)}, {"message", message}}}});
  });
  server->set_exception_handler([](const httplib::Request&, httplib::Response& res,
                                   std::exception_ptr ep) {
    std::string what = "unknown";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    logger("api")->error("a handler failed: {}", what);
    sendError(res, Error(ErrorCode::kInternal, "qsplitd failed to answer: " + what));
  });
  server->set_logger([](const httplib::Request& req, const httplib::Response& res) {
    logger("api")->debug("{} {} -> {}", req.method, req.path, res.status);
  });
  // Sessions wait for the stored ones to resume (and, with leader election, for the lease).
  server->set_pre_routing_handler([services](const httplib::Request& req, httplib::Response& res) {
    bool gated = req.path.rfind("/api/v1/sessions", 0) == 0 || req.path.rfind("/api/v1/queues", 0) == 0;
    if (!gated || services.ready.load()) return httplib::Server::HandlerResponse::Unhandled;
    sendError(res, Error(ErrorCode::kUnavailable,
                         "qsplitd is not serving sessions yet: it is resuming them, or another "
                         "replica leads; try again"));
    return httplib::Server::HandlerResponse::Handled;
  });
  addSessionRoutes(*server, services);
  addQueueRoutes(*server, services);
  addWorkloadRoutes(*server, services);
  addHealthRoutes(*server, services);
  int port = options.port;
  if (port == 0) {
    port = server->bind_to_any_port(options.host);
  } else if (!server->bind_to_port(options.host, port)) {
    port = -1;
  }
  if (port < 0)
    return fail(ErrorCode::kUnavailable,
                "listen: cannot bind " + options.host + ":" + std::to_string(options.port));
  return std::unique_ptr<ApiServer>(new ApiServer(std::move(server), port));
}

}  // namespace qsplit::control::api
