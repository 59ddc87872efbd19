// KubeClient: the Kubernetes REST calls qsplit makes (get, list, create, patch, delete,
// watch), over libcurl, with the API server's errors turned into Results that name the
// object and carry the server's own message.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "http/http_client.h"
#include "kube/kubeconfig.h"

namespace qsplit::kube {

enum class PatchType { kMerge, kStrategicMerge, kJson };

struct WatchEvent {
  std::string type;  // ADDED, MODIFIED, DELETED, BOOKMARK
  nlohmann::json object;
};

// Why a watch ended. kExpired: the resourceVersion is too old (410): list again.
enum class WatchEnd { kTimeout, kExpired, kCancelled };

// Thread-safe.
class KubeClient {
 public:
  static Result<std::unique_ptr<KubeClient>> create(KubeConfig config);

  const KubeConfig& config() const { return config_; }

  // `path` is the API path ("/api/v1/namespaces/ns/configmaps/name"), query included.
  // Errors: kNotFound (404), kPermissionDenied (401, 403), kAlreadyExists (409
  // AlreadyExists), kFailedPrecondition (409 Conflict: the object changed meanwhile),
  // kInvalidArgument (400, 422), kUnavailable (unreachable, 429, 5xx).
  Result<nlohmann::json> get(const std::string& path);
  Result<nlohmann::json> create(const std::string& path, const nlohmann::json& object);
  Result<nlohmann::json> replace(const std::string& path, const nlohmann::json& object);
  Result<nlohmann::json> patch(const std::string& path, const nlohmann::json& patch,
                               PatchType type = PatchType::kMerge);
  Result<void> remove(const std::string& path);

  // Watches the collection at `path` from `resource_version` (bookmarks asked for), calling
  // `on_event` for each event, until the server ends the watch after `timeout`, the version
  // expires, or `cancel` turns true. `on_event` runs on the client's transfer thread: it
  // must not call this client.
  Result<WatchEnd> watch(const std::string& path, const std::string& resource_version,
                         std::chrono::seconds timeout,
                         const std::function<void(WatchEvent)>& on_event,
                         const std::atomic<bool>* cancel = nullptr);

 private:
  KubeClient(KubeConfig config, std::unique_ptr<http::HttpClient> http)
      : config_(std::move(config)), http_(std::move(http)) {}
  Result<http::Request> request(const std::string& method, const std::string& path);
  Result<nlohmann::json> call(const std::string& method, const std::string& path,
                              const std::string& body, const std::string& content_type);

  KubeConfig config_;
  std::unique_ptr<http::HttpClient> http_;
  std::mutex token_mutex_;
  std::string file_token_;
  std::chrono::steady_clock::time_point token_read_{};
};

// The error of a non-2xx answer: the server's Status message, with `what` in front.
Error statusError(long status, const std::string& body, const std::string& what);

}  // namespace qsplit::kube
