// The SQS API over HTTP: the AWS JSON 1.0 protocol, signed with Signature V4 by libcurl,
// many calls in flight at once, retried with jittered backoff on throttling and 5xx.
#pragma once

#include <atomic>
#include <chrono>
#include <future>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "aws/credentials.h"
#include "common/result.h"
#include "http/http_client.h"

namespace qsplit::sqs {

struct SqsSettings {
  std::string endpoint;  // "https://sqs.REGION.amazonaws.com" or a test server's URL
  std::string region;
  int max_attempts = 6;  // per call, the first included
  std::chrono::milliseconds backoff_base{50};
  std::chrono::milliseconds backoff_cap{2000};
  std::chrono::milliseconds request_timeout{30000};  // above the 20 s long poll
};

// Thread-safe.
class SqsClient {
 public:
  SqsClient(http::HttpClient& http, aws::CredentialsProvider& credentials, SqsSettings settings);

  // One attempt of `action` (e.g. "SendMessageBatch"), started at once.
  struct Pending {
    std::string action;
    std::future<Result<http::Response>> response;
  };
  Result<Pending> start(const std::string& action, const nlohmann::json& body);
  // The answer of a started attempt. Errors name the action, the endpoint and SQS's code.
  // Throttling, 5xx and transport errors are kUnavailable or kTimeout (retryable).
  Result<nlohmann::json> finish(Pending& pending);

  // start() and finish(), retried while the error is retryable, up to max_attempts.
  Result<nlohmann::json> call(const std::string& action, const nlohmann::json& body);

  static bool retryable(const Error& error);
  const SqsSettings& settings() const { return settings_; }
  // HTTP requests started so far, retries included.
  uint64_t requests() const { return requests_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> requests_{0};
  http::HttpClient& http_;
  aws::CredentialsProvider& credentials_;
  SqsSettings settings_;
};

}  // namespace qsplit::sqs
