// An HTTP client over libcurl's multi interface: one thread drives every transfer, so many
// requests are in flight at once over connections that are kept and reused.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace qsplit::http {

struct Request {
  std::string method = "POST";  // "HEAD" asks for the headers alone
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  std::string body;
  // When set ("aws:amz:REGION:SERVICE"), libcurl signs the request with AWS Signature V4
  // using `user_password` ("ACCESS_KEY_ID:SECRET"). Otherwise `user_password`
  // ("USER:PASSWORD"), when set, goes as HTTP Basic authentication.
  std::string aws_sigv4;
  std::string user_password;
  std::chrono::milliseconds timeout{30000};
  std::string ca_file;  // PEM certificates to trust for https, instead of the system's
  std::string ca_pem;   // the same, given as PEM text
  // A client certificate and its key (PEM text), for servers that authenticate clients by TLS.
  std::string client_cert_pem;
  std::string client_key_pem;
  bool insecure = false;  // do not verify the server's certificate (a kubeconfig may ask)
  // Streaming: when set, the body of a 2xx response goes to `on_body` chunk by chunk instead
  // of into Response::body; returning false ends the transfer (kCancelled). Runs on the
  // client's transfer thread: it must not wait for this client.
  std::function<bool(std::string_view)> on_body;
  // Checked about once a second while the transfer runs; true ends it (kCancelled).
  const std::atomic<bool>* cancel = nullptr;
};

struct Response {
  long status = 0;
  std::string body;
  // The response's headers, names in lower case, values trimmed, in arrival order.
  std::vector<std::pair<std::string, std::string>> headers;
};

class HttpClient {
 public:
  static Result<std::unique_ptr<HttpClient>> create();
  // Stops the transfer thread; requests still running complete with kUnavailable.
  ~HttpClient();

  // Starts `request` and returns at once. The future holds the response of any HTTP status,
  // or an error when no response came (kUnavailable: unreachable, reset; kTimeout).
  // Thread-safe.
  std::future<Result<Response>> send(Request request);
  Result<Response> call(Request request) { return send(std::move(request)).get(); }

  struct Loop;

 private:
  explicit HttpClient(std::unique_ptr<Loop> loop);
  std::unique_ptr<Loop> loop_;
};

}  // namespace qsplit::http
