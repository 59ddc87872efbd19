#include "brokers/sqs/s3_events.h"

#include <cctype>

#include <nlohmann/json.hpp>

#include "aws/sigv4.h"
#include "brokers/sqs/sns_body.h"
#include "common/log.h"

namespace qsplit::sqs {
namespace {

constexpr std::string_view kMetaPrefix = "x-amz-meta-";
constexpr std::string_view kEmptyPayloadSha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// Keys in S3 events are form-encoded: '+' is a space, %XX a byte.
std::string formDecode(const std::string& text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out += ' ';
    } else if (text[i] == '%' && i + 2 < text.size() &&
               std::isxdigit(static_cast<unsigned char>(text[i + 1])) &&
               std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
      out += static_cast<char>(std::stoi(text.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

// The key as a URL path: each segment percent-encoded, the slashes kept.
std::string keyPath(const std::string& key) {
  std::string out;
  std::size_t begin = 0;
  while (true) {
    auto slash = key.find('/', begin);
    out += aws::uriEncode(std::string_view(key).substr(begin, slash - begin));
    if (slash == std::string::npos) return out;
    out += '/';
    begin = slash + 1;
  }
}

std::vector<S3Object> objectsOf(const nlohmann::json& event) {
  std::vector<S3Object> out;
  auto records = event.find("Records");
  if (records == event.end() || !records->is_array()) return out;
  for (const auto& record : *records) {
    if (!record.is_object() || record.value("eventSource", "") != "aws:s3") continue;
    const auto s3 = record.find("s3");
    if (s3 == record.end() || !s3->is_object()) continue;
    auto bucket = s3->value("/bucket/name"_json_pointer, "");
    auto key = s3->value("/object/key"_json_pointer, "");
    if (!bucket.empty() && !key.empty()) out.push_back({bucket, formDecode(key)});
  }
  return out;
}

}  // namespace

std::vector<S3Object> s3EventObjects(std::string_view body) {
  auto first = body.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos || body[first] != '{') return {};
  auto json = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object()) return {};
  if (isSnsNotification(json)) {  // an S3 event SNS passed on: the event is the notification's text
    auto message = json.find("Message");
    if (message == json.end() || !message->is_string()) return {};
    json = nlohmann::json::parse(message->get<std::string>(), nullptr, false);
    if (!json.is_object()) return {};
  }
  return objectsOf(json);
}

S3Metadata::S3Metadata(http::HttpClient& http, aws::CredentialsProvider& credentials,
                       std::string endpoint, std::string region)
    : http_(http), credentials_(credentials), endpoint_(std::move(endpoint)),
      region_(std::move(region)) {
  while (endpoint_.ends_with("/")) endpoint_.pop_back();
}

Result<std::future<Result<http::Response>>> S3Metadata::head(const S3Object& object) {
  auto credentials = credentials_.credentials();
  if (!credentials) return fail(credentials.error().withContext("S3 HeadObject: AWS credentials"));
  http::Request request;
  request.method = "HEAD";
  request.url = endpoint_ + "/" + aws::uriEncode(object.bucket) + "/" + keyPath(object.key);
  // S3 wants the payload's hash signed with the request; libcurl 7.88 does not add it itself.
  request.headers.push_back("x-amz-content-sha256: " + std::string(kEmptyPayloadSha256));
  if (!credentials->session_token.empty())
    request.headers.push_back("X-Amz-Security-Token: " + credentials->session_token);
  request.aws_sigv4 = "aws:amz:" + region_ + ":s3";
  request.user_password = credentials->access_key_id + ":" + credentials->secret_access_key;
  request.timeout = std::chrono::seconds(10);
  return http_.send(std::move(request));
}

Result<std::vector<core::Attribute>> S3Metadata::metadataOf(const S3Object& object,
                                                            Result<http::Response> response) {
  std::string what = "S3 HeadObject s3://" + object.bucket + "/" + object.key + " at " + endpoint_;
  if (!response) return fail(response.error().withContext(what));
  if (response->status != 200) {
    auto code = response->status == 404   ? ErrorCode::kNotFound
                : response->status == 403 ? ErrorCode::kPermissionDenied
                                          : ErrorCode::kUnavailable;
    return fail(code, what + ": HTTP " + std::to_string(response->status) +
                          (response->status == 403 ? " (access denied: s3:GetObject is needed)" : ""));
  }
  std::vector<core::Attribute> out;
  for (auto& [name, value] : response->headers)
    if (name.starts_with(kMetaPrefix))
      out.push_back({name.substr(kMetaPrefix.size()), value, "String"});
  return out;
}

Result<std::vector<core::Attribute>> S3Metadata::userMetadata(const S3Object& object) {
  QSPLIT_ASSIGN_OR_RETURN(auto pending, head(object));
  return metadataOf(object, pending.get());
}

void S3Metadata::view(std::vector<core::Message>& batch) {
  struct Asked {
    std::size_t message;
    S3Object object;
    Result<std::future<Result<http::Response>>> pending;
  };
  std::vector<Asked> asked;
  for (std::size_t i = 0; i < batch.size(); ++i)
    for (auto& object : s3EventObjects(batch[i].body)) {
      auto pending = head(object);
      asked.push_back({i, std::move(object), std::move(pending)});
    }
  for (auto& a : asked) {
    auto metadata = a.pending ? metadataOf(a.object, a.pending->get())
                              : Result<std::vector<core::Attribute>>(fail(a.pending.error()));
    if (!metadata) {
      logger("sqs")->warn("message {}: its object's metadata is not available, so filters see "
                          "only its attributes: {}", batch[a.message].id, metadata.error().message());
      continue;
    }
    core::Message& m = batch[a.message];
    if (!m.filter_attributes) m.filter_attributes = m.attributes;
    m.filter_attributes->insert(m.filter_attributes->end(), metadata->begin(), metadata->end());
    m.s3_metadata.insert(m.s3_metadata.end(), metadata->begin(), metadata->end());
  }
}

}  // namespace qsplit::sqs
