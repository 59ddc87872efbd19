// Where AWS credentials come from: the standard chain of the AWS SDKs (environment, web
// identity token, shared credentials and config files with profiles), cached and refreshed
// before temporary credentials expire.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "aws/sigv4.h"
#include "common/result.h"
#include "http/http_client.h"

namespace qsplit::aws {

using WallClock = std::chrono::system_clock;

struct TimedCredentials {
  Credentials credentials;
  std::optional<WallClock::time_point> expires;  // none for long-term keys
  std::string source;                              // "environment", "profile default", ...
};

// Reads an environment variable; empty values count as unset. Injectable for tests.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
EnvLookup processEnvironment();

class CredentialsProvider {
 public:
  virtual ~CredentialsProvider() = default;
  // Credentials valid for at least a few more minutes. Thread-safe; may block on STS.
  virtual Result<Credentials> credentials() = 0;
};

class StaticCredentials final : public CredentialsProvider {
 public:
  explicit StaticCredentials(Credentials c) : credentials_(std::move(c)) {}
  Result<Credentials> credentials() override { return credentials_; }

 private:
  Credentials credentials_;
};

// The chain, first source found wins:
//   1. AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN
//   2. AWS_WEB_IDENTITY_TOKEN_FILE with AWS_ROLE_ARN (and AWS_ROLE_SESSION_NAME): STS
//      AssumeRoleWithWebIdentity, as an EKS service account with an IAM role gets them
//   3. the profile AWS_PROFILE (or "default") in AWS_SHARED_CREDENTIALS_FILE
//      (~/.aws/credentials), then in AWS_CONFIG_FILE (~/.aws/config); a config profile
//      may itself name role_arn and web_identity_token_file
// A source that is present but broken (a profile without its secret, an STS refusal) is an
// error naming it, not a silent fall-through. STS is AWS_ENDPOINT_URL_STS, else
// AWS_ENDPOINT_URL, else https://sts.REGION.amazonaws.com.
class CredentialsChain final : public CredentialsProvider {
 public:
  CredentialsChain(http::HttpClient& http, EnvLookup env,
                   std::function<WallClock::time_point()> now = WallClock::now);
  Result<Credentials> credentials() override;
  // Which source the current credentials came from (after a successful credentials()).
  std::string source();

 private:
  Result<TimedCredentials> resolve();

  http::HttpClient& http_;
  EnvLookup env_;
  std::function<WallClock::time_point()> now_;
  std::mutex mutex_;
  std::optional<TimedCredentials> cached_;  // guarded by mutex_
};

// The process-wide chain over the process environment, created on first use. Thread-safe.
CredentialsProvider& defaultCredentials();

struct WebIdentityRequest {
  std::string sts_endpoint;  // http(s)://host[:port]
  std::string role_arn;
  std::string session_name;
  std::string token;
};

// One STS AssumeRoleWithWebIdentity call (unsigned, as the SDKs make it).
Result<TimedCredentials> assumeRoleWithWebIdentity(http::HttpClient& http,
                                                   const WebIdentityRequest& request);

// Parses an INI file of the AWS shared files: section -> key -> value.
using IniSections = std::map<std::string, std::map<std::string, std::string>>;
IniSections parseIni(const std::string& text);

}  // namespace qsplit::aws
