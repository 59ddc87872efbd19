// S3 event notifications delivered to an SQS queue (registry `s3Event: true`): filters match
// the user metadata of the objects each event names, read from S3 with HeadObject.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "aws/credentials.h"
#include "core/message.h"
#include "http/http_client.h"

namespace qsplit::sqs {

struct S3Object {
  std::string bucket;
  std::string key;  // decoded (events carry it URL-encoded, spaces as '+')
  bool operator==(const S3Object&) const = default;
};

// The objects an S3 event notification body names (`Records[].s3`), also when SNS wrapped the
// event in a notification's `Message`; empty for any other body (the S3 test event included).
std::vector<S3Object> s3EventObjects(std::string_view body);

// Reads objects' user metadata. Thread-safe.
class S3Metadata {
 public:
  // `endpoint`: "https://s3.REGION.amazonaws.com" or a test server's URL; path-style requests.
  S3Metadata(http::HttpClient& http, aws::CredentialsProvider& credentials, std::string endpoint,
             std::string region);

  // For every S3 event in `batch`, what filters see becomes the message's routing attributes
  // plus each named object's user metadata (`x-amz-meta-author: alice` as `author`). All
  // objects of a batch are asked for at once. An object that cannot be read (gone, access
  // denied, S3 unreachable) adds nothing and is logged: its message is routed by the rest.
  void view(std::vector<core::Message>& batch);

  // HeadObject: the object's user metadata, names without the `x-amz-meta-` prefix.
  Result<std::vector<core::Attribute>> userMetadata(const S3Object& object);

 private:
  Result<std::future<Result<http::Response>>> head(const S3Object& object);
  Result<std::vector<core::Attribute>> metadataOf(const S3Object& object,
                                                  Result<http::Response> response);

  http::HttpClient& http_;
  aws::CredentialsProvider& credentials_;
  std::string endpoint_;
  std::string region_;
};

}  // namespace qsplit::sqs
