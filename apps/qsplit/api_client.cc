#include "api_client.h"

#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <filesystem>

#include "common/files.h"

namespace qsplit::cli {
namespace {

std::string envOr(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::string(v) : fallback;
}

Result<void> readClientFile(ClientSettings& s) {
  std::string path = envOr("QSPLIT_CLIENT_CONFIG", "");
  if (path.empty()) {
    const char* home = std::getenv("HOME");
    if (!home) return ok();
    path = std::string(home) + "/.config/qsplit/client.yaml";
    if (!std::filesystem::exists(path)) return ok();
  }
  try {
    YAML::Node root = YAML::LoadFile(path);
    if (s.server.empty() && root["server"]) s.server = root["server"].as<std::string>();
    if (s.token.empty() && root["token"]) s.token = root["token"].as<std::string>();
    if (s.ca_cert.empty() && root["ca_cert"]) s.ca_cert = root["ca_cert"].as<std::string>();
    if (s.token.empty() && root["token_file"]) {
      QSPLIT_ASSIGN_OR_RETURN(s.token, readFile(root["token_file"].as<std::string>()));
      while (!s.token.empty() && std::isspace(static_cast<unsigned char>(s.token.back())))
        s.token.pop_back();
    }
  } catch (const YAML::Exception& e) {
    return fail(ErrorCode::kInvalidArgument, path + ": " + e.what());
  }
  return ok();
}

ErrorCode codeFromName(const std::string& name) {
  for (auto c : {ErrorCode::kInvalidArgument, ErrorCode::kNotFound, ErrorCode::kAlreadyExists,
                 ErrorCode::kFailedPrecondition, ErrorCode::kUnavailable,
                 ErrorCode::kPermissionDenied, ErrorCode::kTimeout})
    if (name == errorCodeName(c)) return c;
  return ErrorCode::kInternal;
}

}  // namespace

Result<std::unique_ptr<ApiClient>> ApiClient::create(ClientSettings settings) {
  if (settings.server.empty()) settings.server = envOr("QSPLIT_SERVER", "");
  if (settings.token.empty()) settings.token = envOr("QSPLIT_TOKEN", "");
  if (settings.ca_cert.empty()) settings.ca_cert = envOr("QSPLIT_CA_CERT", "");
  QSPLIT_TRY(readClientFile(settings));
  if (settings.server.empty()) settings.server = "http://127.0.0.1:7460";
  while (!settings.server.empty() && settings.server.back() == '/') settings.server.pop_back();
  QSPLIT_ASSIGN_OR_RETURN(auto http, http::HttpClient::create());
  return std::unique_ptr<ApiClient>(new ApiClient(std::move(settings), std::move(http)));
}

std::future<Result<http::Response>> ApiClient::start(const std::string& method,
                                                     const std::string& path,
                                                     const std::optional<nlohmann::json>& body,
                                                     std::chrono::milliseconds timeout) {
  http::Request request;
  request.method = method;
  request.url = settings_.server + path;
  request.headers = {"Content-Type: application/json", "Accept: application/json"};
  if (!settings_.token.empty()) request.headers.push_back("Authorization: Bearer " + settings_.token);
  if (body) request.body = body->dump();
  else if (method == "POST" || method == "PUT") request.body = "{}";
  request.timeout = timeout;
  request.ca_file = settings_.ca_cert;
  return http_->send(std::move(request));
}

Result<nlohmann::json> ApiClient::finish(Result<http::Response> response, const std::string& what) {
  if (!response)
    return fail(ErrorCode::kUnavailable,
                "qsplitd at " + settings_.server + " is unreachable (" + response.error().message() +
                    "); start it with `qsplitd --resources DIR`, or point --server or QSPLIT_SERVER at it");
  auto body = nlohmann::json::parse(response->body, nullptr, false);
  if (response->status >= 200 && response->status < 300) {
    if (body.is_discarded()) return fail(ErrorCode::kInternal, what + ": qsplitd answered non-JSON");
    return body;
  }
  std::string message = "HTTP " + std::to_string(response->status);
  std::string code;
  if (!body.is_discarded() && body.contains("error")) {
    message = body["error"].value("message", message);
    code = body["error"].value("code", "");
  }
  if (response->status == 401)
    return fail(ErrorCode::kPermissionDenied,
                "qsplitd at " + settings_.server + " refused the credentials: " + message +
                    " (set --token, QSPLIT_TOKEN, or token in ~/.config/qsplit/client.yaml)");
  return fail(codeFromName(code), message);
}

Result<nlohmann::json> ApiClient::call(const std::string& method, const std::string& path,
                                       const std::optional<nlohmann::json>& body,
                                       std::chrono::milliseconds timeout) {
  return finish(start(method, path, body, timeout).get(), method + " " + path);
}

}  // namespace qsplit::cli
