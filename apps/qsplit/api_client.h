// The CLI's connection to qsplitd: where it is and the bearer token, from flags, then the
// environment (QSPLIT_SERVER, QSPLIT_TOKEN), then ~/.config/qsplit/client.yaml; and calls
// that turn every failure into a message a user can act on.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <string>

#include "common/result.h"
#include "http/http_client.h"

namespace qsplit::cli {

struct ClientSettings {
  std::string server;  // flag; empty: QSPLIT_SERVER, the client file, http://127.0.0.1:7460
  std::string token;   // flag; empty: QSPLIT_TOKEN, the client file's token or token_file
  std::string ca_cert;  // flag; empty: QSPLIT_CA_CERT, the client file's ca_cert (https)
};

class ApiClient {
 public:
  static Result<std::unique_ptr<ApiClient>> create(ClientSettings settings);

  Result<nlohmann::json> call(const std::string& method, const std::string& path,
                              const std::optional<nlohmann::json>& body = std::nullopt,
                              std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // The same, started now and awaited later (long polls).
  std::future<Result<http::Response>> start(const std::string& method, const std::string& path,
                                            const std::optional<nlohmann::json>& body,
                                            std::chrono::milliseconds timeout);
  Result<nlohmann::json> finish(Result<http::Response> response, const std::string& what);
  const std::string& server() const { return settings_.server; }

 private:
  ApiClient(ClientSettings settings, std::unique_ptr<http::HttpClient> http)
      : settings_(std::move(settings)), http_(std::move(http)) {}
  ClientSettings settings_;
  std::unique_ptr<http::HttpClient> http_;
};

}  // namespace qsplit::cli
