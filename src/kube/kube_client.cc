#include "kube/kube_client.h"

#include "common/files.h"

namespace qsplit::kube {
namespace {

constexpr auto kTokenReread = std::chrono::seconds(60);

const char* contentType(PatchType type) {
  switch (type) {
    case PatchType::kMerge: return "application/merge-patch+json";
    case PatchType::kStrategicMerge: return "application/strategic-merge-patch+json";
    case PatchType::kJson: return "application/json-patch+json";
  }
  return "application/merge-patch+json";
}

ErrorCode codeFor(long status, const std::string& reason) {
  if (status == 404) return ErrorCode::kNotFound;
  if (status == 401 || status == 403) return ErrorCode::kPermissionDenied;
  if (status == 409) return reason == "AlreadyExists" ? ErrorCode::kAlreadyExists : ErrorCode::kFailedPrecondition;
  if (status == 400 || status == 422) return ErrorCode::kInvalidArgument;
  if (status == 410) return ErrorCode::kFailedPrecondition;
  if (status == 504) return ErrorCode::kTimeout;
  if (status == 429 || status >= 500) return ErrorCode::kUnavailable;
  return ErrorCode::kInternal;
}

}  // namespace

Error statusError(long status, const std::string& body, const std::string& what) {
  std::string message, reason;
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_object() && j.value("kind", "") == "Status") {
    message = j.value("message", "");
    reason = j.value("reason", "");
  }
  if (message.empty()) message = body.substr(0, 300);
  return Error(codeFor(status, reason),
               what + ": " + std::to_string(status) + (reason.empty() ? "" : " " + reason) + ": " + message);
}

Result<std::unique_ptr<KubeClient>> KubeClient::create(KubeConfig config) {
  if (config.server.rfind("https://", 0) != 0 && config.server.rfind("http://", 0) != 0)
    return fail(ErrorCode::kInvalidArgument,
                config.source + ": server " + config.server + " is not an http(s) URL");
  QSPLIT_ASSIGN_OR_RETURN(auto http, http::HttpClient::create());
  while (!config.server.empty() && config.server.back() == '/') config.server.pop_back();
  return std::unique_ptr<KubeClient>(new KubeClient(std::move(config), std::move(http)));
}

Result<http::Request> KubeClient::request(const std::string& method, const std::string& path) {
  http::Request r;
  r.method = method;
  r.url = config_.server + path;
  r.ca_pem = config_.ca_pem;
  r.insecure = config_.insecure;
  r.client_cert_pem = config_.client_cert_pem;
  r.client_key_pem = config_.client_key_pem;
  r.headers.push_back("Accept: application/json");
  std::string token = config_.token;
  if (!config_.token_file.empty()) {
    std::lock_guard lock(token_mutex_);
    auto now = std::chrono::steady_clock::now();
    if (file_token_.empty() || now - token_read_ > kTokenReread) {
      QSPLIT_ASSIGN_OR_RETURN(file_token_, readFile(config_.token_file));
      while (!file_token_.empty() && std::isspace(static_cast<unsigned char>(file_token_.back())))
        file_token_.pop_back();
      token_read_ = now;
    }
    token = file_token_;
  }
  if (!token.empty()) r.headers.push_back("Authorization: Bearer " + token);
  return r;
}

Result<nlohmann::json> KubeClient::call(const std::string& method, const std::string& path,
                                        const std::string& body, const std::string& content_type) {
  QSPLIT_ASSIGN_OR_RETURN(auto r, request(method, path));
  r.body = body;
  if (!content_type.empty()) r.headers.push_back("Content-Type: " + content_type);
  QSPLIT_ASSIGN_OR_RETURN(auto response, http_->call(std::move(r)));
  if (response.status < 200 || response.status >= 300)
    return fail(statusError(response.status, response.body, method + " " + path));
  if (response.body.empty()) return nlohmann::json::object();
  auto j = nlohmann::json::parse(response.body, nullptr, false);
  if (j.is_discarded())
    return fail(ErrorCode::kUnavailable, method + " " + path + ": the answer is not JSON");
  return j;
}

Result<nlohmann::json> KubeClient::get(const std::string& path) { return call("GET", path, "", ""); }

Result<nlohmann::json> KubeClient::create(const std::string& path, const nlohmann::json& object) {
  return call("POST", path, object.dump(), "application/json");
}

Result<nlohmann::json> KubeClient::replace(const std::string& path, const nlohmann::json& object) {
  return call("PUT", path, object.dump(), "application/json");
}

Result<nlohmann::json> KubeClient::patch(const std::string& path, const nlohmann::json& patch,
                                         PatchType type) {
  return call("PATCH", path, patch.dump(), contentType(type));
}

Result<void> KubeClient::remove(const std::string& path) {
  QSPLIT_TRY(call("DELETE", path, "", ""));
  return {};
}

Result<WatchEnd> KubeClient::watch(const std::string& path, const std::string& resource_version,
                                   std::chrono::seconds timeout,
                                   const std::function<void(WatchEvent)>& on_event,
                                   const std::atomic<bool>* cancel) {
  std::string query = path + (path.find('?') == std::string::npos ? "?" : "&") +
                      "watch=true&allowWatchBookmarks=true&timeoutSeconds=" +
                      std::to_string(timeout.count()) + "&resourceVersion=" + resource_version;
  QSPLIT_ASSIGN_OR_RETURN(auto r, request("GET", query));
  r.timeout = timeout + std::chrono::seconds(30);  // the server ends it first
  r.cancel = cancel;
  std::string pending;
  bool expired = false;
  r.on_body = [&](std::string_view chunk) {
    pending.append(chunk);
    size_t start = 0;
    for (size_t end; (end = pending.find('\n', start)) != std::string::npos; start = end + 1) {
      auto j = nlohmann::json::parse(pending.begin() + start, pending.begin() + end, nullptr, false);
      if (!j.is_object()) continue;
      std::string type = j.value("type", "");
      if (type == "ERROR") {
        // The version is too old (410 Gone / Expired): the caller lists again.
        expired = j["object"].value("code", 0) == 410;
        return false;
      }
      on_event({type, std::move(j["object"])});
    }
    pending.erase(0, start);
    return true;
  };
  auto response = http_->call(std::move(r));
  if (expired) return WatchEnd::kExpired;
  if (!response) {
    if (response.error().code() == ErrorCode::kCancelled) return WatchEnd::kCancelled;
    return fail(response.error());
  }
  if (response->status == 410) return WatchEnd::kExpired;
  if (response->status < 200 || response->status >= 300)
    return fail(statusError(response->status, response->body, "watch " + path));
  return WatchEnd::kTimeout;
}

}  // namespace qsplit::kube
