// AWS Signature Version 4: presigned (query-string) requests, and the MSK IAM token that
// SASL OAUTHBEARER carries for Amazon MSK (a presigned kafka-cluster:Connect URL).
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <string_view>

#include "common/result.h"

namespace qsplit::aws {

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty for long-term keys
};

// The first step of the standard chain: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
// AWS_SESSION_TOKEN. Errors name the missing variable.
Result<Credentials> credentialsFromEnvironment();

// RFC 3986 percent-encoding of everything but unreserved characters, as SigV4 requires.
std::string uriEncode(std::string_view text);

// https://HOST/?QUERY&X-Amz-...&X-Amz-Signature=..., signed for a GET at `now`, valid for
// `expires` seconds. Query parameters come first, in name order, then the signing ones.
std::string presignGet(const std::string& host, const std::map<std::string, std::string>& query,
                       const std::string& service, const std::string& region,
                       const Credentials& credentials, std::chrono::system_clock::time_point now,
                       int expires);

// The token for SASL OAUTHBEARER on Amazon MSK with IAM access control: the presigned
// kafka-cluster:Connect URL with a User-Agent, base64url without padding. Valid 15 minutes.
std::string mskIamToken(const std::string& region, const Credentials& credentials,
                        std::chrono::system_clock::time_point now,
                        const std::string& user_agent = "qsplit");

}  // namespace qsplit::aws
