#include "brokers/sqs/sqs_client.h"

#include <nlohmann/json.hpp>

#include <random>
#include <thread>

#include "common/log.h"

namespace qsplit::sqs {
namespace {

using nlohmann::json;

// SQS's error code from a JSON 1.0 answer ("com.amazonaws.sqs#QueueDoesNotExist") or from the
// XML some servers send for authentication errors (<Code>AccessDenied</Code>).
std::pair<std::string, std::string> errorCodeAndMessage(const std::string& body) {
  auto parsed = json::parse(body, nullptr, false);
  if (parsed.is_object()) {
    std::string type = parsed.value("__type", parsed.value("code", ""));
    auto hash = type.rfind('#');
    std::string message = parsed.value("message", parsed.value("Message", ""));
    return {hash == std::string::npos ? type : type.substr(hash + 1), message};
  }
  auto tag = [&](const std::string& name) {
    auto open = body.find("<" + name + ">");
    if (open == std::string::npos) return std::string();
    open += name.size() + 2;
    auto close = body.find("</" + name + ">", open);
    return close == std::string::npos ? std::string() : body.substr(open, close - open);
  };
  return {tag("Code"), tag("Message")};
}

ErrorCode classify(long status, const std::string& code) {
  if (code == "QueueDoesNotExist" || code == "AWS.SimpleQueueService.NonExistentQueue" ||
      code == "NonExistentQueue")
    return ErrorCode::kNotFound;
  if (code == "AccessDenied" || code == "AccessDeniedException" ||
      code == "SignatureDoesNotMatch" || code == "InvalidClientTokenId" ||
      code == "IncompleteSignature" || code == "MissingAuthenticationToken" ||
      code == "UnrecognizedClientException" || code == "ExpiredToken" ||
      code == "InvalidSecurity" || status == 401 || status == 403)
    return ErrorCode::kPermissionDenied;
  if (code == "QueueAlreadyExists" || code == "QueueNameExists") return ErrorCode::kAlreadyExists;
  if (code == "ThrottlingException" || code == "RequestThrottled" || code == "ServiceUnavailable" ||
      code == "InternalError" || code == "InternalFailure" || code == "KmsThrottled" ||
      status == 429 || status >= 500)
    return ErrorCode::kUnavailable;
  return ErrorCode::kInvalidArgument;
}

}  // namespace

SqsClient::SqsClient(http::HttpClient& http, aws::CredentialsProvider& credentials,
                     SqsSettings settings)
    : http_(http), credentials_(credentials), settings_(std::move(settings)) {}

Result<SqsClient::Pending> SqsClient::start(const std::string& action, const json& body) {
  auto credentials = credentials_.credentials();
  if (!credentials) return fail(credentials.error().withContext("SQS " + action + ": AWS credentials"));
  http::Request request;
  request.url = settings_.endpoint + "/";
  request.headers = {"Content-Type: application/x-amz-json-1.0",
                     "X-Amz-Target: AmazonSQS." + action};
  if (!credentials->session_token.empty())
    request.headers.push_back("X-Amz-Security-Token: " + credentials->session_token);
  try {
    request.body = body.dump();
  } catch (const json::exception& e) {
    return fail(ErrorCode::kInvalidArgument,
                "SQS " + action + ": a message is not valid UTF-8 text, which SQS requires (" +
                    e.what() + ")");
  }
  request.aws_sigv4 = "aws:amz:" + settings_.region + ":sqs";
  request.user_password = credentials->access_key_id + ":" + credentials->secret_access_key;
  request.timeout = settings_.request_timeout;
  requests_.fetch_add(1, std::memory_order_relaxed);
  return Pending{action, http_.send(std::move(request))};
}

Result<json> SqsClient::finish(Pending& pending) {
  std::string what = "SQS " + pending.action + " at " + settings_.endpoint;
  auto response = pending.response.get();
  if (!response) return fail(response.error().withContext(what));
  if (response->status == 200) {
    auto parsed = json::parse(response->body.empty() ? "{}" : response->body, nullptr, false);
    if (parsed.is_discarded() || !parsed.is_object())
      return fail(ErrorCode::kUnavailable, what + ": the answer is not a JSON object: " +
                                               response->body.substr(0, 200));
    return parsed;
  }
  auto [code, message] = errorCodeAndMessage(response->body);
  return fail(classify(response->status, code),
              what + ": HTTP " + std::to_string(response->status) + " " +
                  (code.empty() ? "(no error code)" : code) + ": " +
                  (message.empty() ? response->body.substr(0, 200) : message));
}

bool SqsClient::retryable(const Error& error) {
  return error.code() == ErrorCode::kUnavailable || error.code() == ErrorCode::kTimeout;
}

Result<json> SqsClient::call(const std::string& action, const json& body) {
  thread_local std::minstd_rand jitter(std::random_device{}());
  for (int attempt = 1;; ++attempt) {
    auto pending = start(action, body);
    Result<json> result = pending ? finish(*pending) : Result<json>(fail(pending.error()));
    if (result || !retryable(result.error()) || attempt >= settings_.max_attempts) return result;
    // Full jitter: a random pause up to base * 2^attempt, capped.
    auto ceiling = std::min(settings_.backoff_cap, settings_.backoff_base * (1 << std::min(attempt, 16)));
    auto pause = std::chrono::milliseconds(jitter() % (ceiling.count() + 1));
    logger("sqs")->debug("{} failed (attempt {}), retrying in {} ms: {}", action, attempt,
                         pause.count(), result.error().message());
    std::this_thread::sleep_for(pause);
  }
}

}  // namespace qsplit::sqs
