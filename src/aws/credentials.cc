#include "aws/credentials.h"

#include <cstdlib>
#include <ctime>
#include <iomanip>
#include <sstream>

#include "common/files.h"
#include "common/log.h"
#include "common/random.h"

namespace qsplit::aws {
namespace {

// Temporary credentials are replaced this long before they expire.
constexpr auto kRefreshAhead = std::chrono::minutes(5);

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

// The text of the first <tag>...</tag> in `xml`, or "".
std::string xmlText(const std::string& xml, const std::string& tag) {
  auto open = xml.find("<" + tag + ">");
  if (open == std::string::npos) return "";
  open += tag.size() + 2;
  auto close = xml.find("</" + tag + ">", open);
  return close == std::string::npos ? "" : xml.substr(open, close - open);
}

// "2026-11-25T22:39:09Z" or with fractional seconds.
std::optional<WallClock::time_point> parseIsoTime(const std::string& text) {
  std::tm tm{};
  std::istringstream in(text);
  in >> std::get_time(&tm, "%Y-%m-%dT%H:%M:%S");
  if (in.fail()) return std::nullopt;
  return WallClock::from_time_t(timegm(&tm));
}

std::string formEncode(const std::map<std::string, std::string>& fields) {
  std::string out;
  for (const auto& [k, v] : fields) out += (out.empty() ? "" : "&") + k + "=" + uriEncode(v);
  return out;
}

std::string homeFile(const EnvLookup& env, const std::string& variable, const std::string& rel) {
  if (auto path = env(variable)) return *path;
  return env("HOME").value_or("") + "/.aws/" + rel;
}

}  // namespace

EnvLookup processEnvironment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (!v || !*v) return std::nullopt;
    return std::string(v);
  };
}

CredentialsProvider& defaultCredentials() {
  struct Default {
    // libcurl failing to initialise is not something to recover from.
    std::unique_ptr<http::HttpClient> http = [] {
      auto client = http::HttpClient::create();
      if (!client) {
        logger("aws")->critical("{}", client.error().message());
        std::abort();
      }
      return std::move(client).value();
    }();
    CredentialsChain chain{*http, processEnvironment()};
  };
  static Default instance;
  return instance.chain;
}

IniSections parseIni(const std::string& text) {
  IniSections out;
  std::string section;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    line = trim(line);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[' && line.back() == ']') {
      section = trim(line.substr(1, line.size() - 2));
      out[section];
      continue;
    }
    auto eq = line.find('=');
    if (eq != std::string::npos) out[section][trim(line.substr(0, eq))] = trim(line.substr(eq + 1));
  }
  return out;
}

Result<TimedCredentials> assumeRoleWithWebIdentity(http::HttpClient& http,
                                                   const WebIdentityRequest& r) {
  http::Request request;
  request.url = r.sts_endpoint + "/";
  request.headers = {"Content-Type: application/x-www-form-urlencoded; charset=utf-8"};
  request.body = formEncode({{"Action", "AssumeRoleWithWebIdentity"},
                             {"Version", "2011-06-15"},
                             {"RoleArn", r.role_arn},
                             {"RoleSessionName", r.session_name},
                             {"WebIdentityToken", r.token}});
  std::string what = "STS AssumeRoleWithWebIdentity for " + r.role_arn + " at " + r.sts_endpoint;
  auto answer = http.call(std::move(request));
  if (!answer) return fail(answer.error().withContext(what));
  const http::Response& response = *answer;
  if (response.status != 200) {
    std::string code = xmlText(response.body, "Code");
    return fail(response.status == 403 ? ErrorCode::kPermissionDenied : ErrorCode::kUnavailable,
                what + ": HTTP " + std::to_string(response.status) + " " + code + ": " +
                    xmlText(response.body, "Message"));
  }
  TimedCredentials out;
  out.credentials.access_key_id = xmlText(response.body, "AccessKeyId");
  out.credentials.secret_access_key = xmlText(response.body, "SecretAccessKey");
  out.credentials.session_token = xmlText(response.body, "SessionToken");
  out.expires = parseIsoTime(xmlText(response.body, "Expiration"));
  out.source = "web identity " + r.role_arn;
  if (out.credentials.access_key_id.empty() || out.credentials.secret_access_key.empty() ||
      !out.expires)
    return fail(ErrorCode::kUnavailable, what + ": the answer has no credentials or expiration");
  return out;
}

CredentialsChain::CredentialsChain(http::HttpClient& http, EnvLookup env,
                                   std::function<WallClock::time_point()> now)
    : http_(http), env_(std::move(env)), now_(std::move(now)) {}

Result<Credentials> CredentialsChain::credentials() {
  std::lock_guard lock(mutex_);
  auto fresh = [&](const TimedCredentials& c) {
    return !c.expires || *c.expires - now_() > kRefreshAhead;
  };
  if (cached_ && fresh(*cached_)) return cached_->credentials;
  auto resolved = resolve();
  if (!resolved) {
    // Keep using credentials that have not expired yet; STS may be back next time.
    if (cached_ && cached_->expires && *cached_->expires > now_()) {
      logger("aws")->warn("refreshing AWS credentials failed, using the current ones: {}",
                          resolved.error().message());
      return cached_->credentials;
    }
    return fail(resolved.error());
  }
  cached_ = std::move(resolved).value();
  logger("aws")->debug("AWS credentials from {}", cached_->source);
  return cached_->credentials;
}

std::string CredentialsChain::source() {
  std::lock_guard lock(mutex_);
  return cached_ ? cached_->source : "";
}

Result<TimedCredentials> CredentialsChain::resolve() {
  auto id = env_("AWS_ACCESS_KEY_ID");
  auto secret = env_("AWS_SECRET_ACCESS_KEY");
  if (id || secret) {
    if (!id || !secret)
      return fail(ErrorCode::kInvalidArgument,
                  std::string(id ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID") +
                      " is not set, but its pair is: set both");
    return TimedCredentials{{*id, *secret, env_("AWS_SESSION_TOKEN").value_or("")},
                            std::nullopt, "environment"};
  }

  std::string region = env_("AWS_REGION").value_or(env_("AWS_DEFAULT_REGION").value_or(""));
  std::string sts = env_("AWS_ENDPOINT_URL_STS")
                        .value_or(env_("AWS_ENDPOINT_URL")
                                      .value_or(region.empty()
                                                    ? "https://sts.amazonaws.com"
                                                    : "https://sts." + region + ".amazonaws.com"));
  auto webIdentity = [&](const std::string& token_file, const std::string& role,
                         const std::string& origin) -> Result<TimedCredentials> {
    auto token = readFile(token_file);
    if (!token) return fail(token.error().withContext(origin + " web identity token"));
    std::string session = env_("AWS_ROLE_SESSION_NAME")
                              .value_or("qsplit-" + SecureRandom::instance().digits(10));
    return assumeRoleWithWebIdentity(http_, {sts, role, session, trim(*token)});
  };
  auto token_file = env_("AWS_WEB_IDENTITY_TOKEN_FILE");
  auto role = env_("AWS_ROLE_ARN");
  if (token_file && role) return webIdentity(*token_file, *role, "AWS_WEB_IDENTITY_TOKEN_FILE");

  std::string profile = env_("AWS_PROFILE").value_or("default");
  std::string credentials_path = homeFile(env_, "AWS_SHARED_CREDENTIALS_FILE", "credentials");
  std::string config_path = homeFile(env_, "AWS_CONFIG_FILE", "config");
  struct Place {
    std::string path;
    std::string section;
  };
  for (const Place& place : {Place{credentials_path, profile},
                             Place{config_path, profile == "default" ? profile
                                                                     : "profile " + profile}}) {
    auto text = readFile(place.path);
    if (!text) continue;
    auto sections = parseIni(*text);
    auto it = sections.find(place.section);
    if (it == sections.end()) continue;
    auto& keys = it->second;
    std::string where = place.path + " [" + place.section + "]";
    if (keys.count("role_arn") && keys.count("web_identity_token_file"))
      return webIdentity(keys["web_identity_token_file"], keys["role_arn"], where);
    if (!keys.count("aws_access_key_id") && !keys.count("aws_secret_access_key")) continue;
    if (!keys.count("aws_access_key_id") || !keys.count("aws_secret_access_key"))
      return fail(ErrorCode::kInvalidArgument,
                  where + ": aws_access_key_id and aws_secret_access_key must both be set");
    return TimedCredentials{
        {keys["aws_access_key_id"], keys["aws_secret_access_key"], keys["aws_session_token"]},
        std::nullopt, "profile " + profile + " in " + place.path};
  }
  return fail(ErrorCode::kNotFound,
              "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or "
              "AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN, or profile \"" + profile +
                  "\" in " + credentials_path + " or " + config_path);
}

}  // namespace qsplit::aws
