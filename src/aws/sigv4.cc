#include "aws/sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <cstdio>
#include <ctime>
#include <vector>

#include "common/base64.h"

namespace qsplit::aws {
namespace {

std::string hex(const unsigned char* bytes, std::size_t size) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < size; ++i) {
    out.push_back(digits[bytes[i] >> 4]);
    out.push_back(digits[bytes[i] & 15]);
  }
  return out;
}

std::string sha256Hex(std::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  return hex(digest, sizeof digest);
}

std::string hmac(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &size);
  return std::string(reinterpret_cast<char*>(out), size);
}

std::string utc(std::chrono::system_clock::time_point at, const char* format) {
  std::time_t t = std::chrono::system_clock::to_time_t(at);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, format, &tm);
  return text;
}

}  // namespace

Result<Credentials> credentialsFromEnvironment() {
  Credentials c;
  const char* id = std::getenv("AWS_ACCESS_KEY_ID");
  const char* secret = std::getenv("AWS_SECRET_ACCESS_KEY");
  if (!id || !*id) return fail(ErrorCode::kNotFound, "AWS_ACCESS_KEY_ID is not set");
  if (!secret || !*secret) return fail(ErrorCode::kNotFound, "AWS_SECRET_ACCESS_KEY is not set");
  c.access_key_id = id;
  c.secret_access_key = secret;
  if (const char* token = std::getenv("AWS_SESSION_TOKEN")) c.session_token = token;
  return c;
}

std::string uriEncode(std::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '_' || c == '.' || c == '~';
    if (unreserved) {
      out.push_back(static_cast<char>(c));
    } else {
      char escaped[4];
      std::snprintf(escaped, sizeof escaped, "%%%02X", c);
      out += escaped;
    }
  }
  return out;
}

std::string presignGet(const std::string& host, const std::map<std::string, std::string>& query,
                       const std::string& service, const std::string& region,
                       const Credentials& credentials, std::chrono::system_clock::time_point now,
                       int expires) {
  std::string date = utc(now, "%Y%m%d");
  std::string timestamp = utc(now, "%Y%m%dT%H%M%SZ");
  std::string scope = date + "/" + region + "/" + service + "/aws4_request";
  // In URL order: the operation's parameters, then the signing ones.
  std::vector<std::pair<std::string, std::string>> params(query.begin(), query.end());
  params.push_back({"X-Amz-Algorithm", "AWS4-HMAC-SHA256"});
  params.push_back({"X-Amz-Credential", credentials.access_key_id + "/" + scope});
  params.push_back({"X-Amz-Date", timestamp});
  params.push_back({"X-Amz-Expires", std::to_string(expires)});
  params.push_back({"X-Amz-SignedHeaders", "host"});
  if (!credentials.session_token.empty())
    params.push_back({"X-Amz-Security-Token", credentials.session_token});
  std::string url_query;
  for (const auto& [k, v] : params) url_query += (url_query.empty() ? "" : "&") + uriEncode(k) + "=" + uriEncode(v);
  // The canonical query is the same pairs sorted by name.
  std::map<std::string, std::string> sorted;
  for (const auto& [k, v] : params) sorted[uriEncode(k)] = uriEncode(v);
  std::string canonical_query;
  for (const auto& [k, v] : sorted) canonical_query += (canonical_query.empty() ? "" : "&") + k + "=" + v;
  std::string canonical = "GET\n/\n" + canonical_query + "\nhost:" + host + "\n\nhost\n" + sha256Hex("");
  std::string to_sign = "AWS4-HMAC-SHA256\n" + timestamp + "\n" + scope + "\n" + sha256Hex(canonical);
  std::string key = hmac(hmac(hmac(hmac("AWS4" + credentials.secret_access_key, date), region), service),
                         "aws4_request");
  std::string signature = hmac(key, to_sign);
  return "https://" + host + "/?" + url_query + "&X-Amz-Signature=" +
         hex(reinterpret_cast<const unsigned char*>(signature.data()), signature.size());
}

std::string mskIamToken(const std::string& region, const Credentials& credentials,
                        std::chrono::system_clock::time_point now, const std::string& user_agent) {
  std::string url = presignGet("kafka." + region + ".amazonaws.com", {{"Action", "kafka-cluster:Connect"}},
                               "kafka-cluster", region, credentials, now, 900) +
                    "&User-Agent=" + uriEncode(user_agent);
  std::string token = base64Encode(url);
  for (char& c : token) {
    if (c == '+') c = '-';
    else if (c == '/') c = '_';
  }
  while (!token.empty() && token.back() == '=') token.pop_back();
  return token;
}

}  // namespace qsplit::aws
