// Web identity credentials (how an EKS service account gets its IAM role) from a real STS
// endpoint: moto's, started by scripts/sqs.sh. The chain reads the token file and role from
// the environment as the SDKs do, and asks STS again before the credentials expire.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "aws/credentials.h"
#include "support/brokers.h"

namespace qsplit::aws {
namespace {

class WebIdentityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    std::string sts = testing::brokerAddress("QSPLIT_STS_ENDPOINT", &why);
    QSPLIT_NEED_BROKER(why);
    token_file_ = std::filesystem::temp_directory_path() /
                  ("qsplit-web-identity-" + std::to_string(::getpid()));
    std::ofstream(token_file_) << "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQifQ.c2ln\n";
    env_ = {{"AWS_WEB_IDENTITY_TOKEN_FILE", token_file_.string()},
            {"AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/qsplit-operator"},
            {"AWS_ROLE_SESSION_NAME", "qsplit-test"},
            {"AWS_ENDPOINT_URL_STS", sts},
            {"HOME", "/nonexistent"}};
    auto http = http::HttpClient::create();
    ASSERT_TRUE(http.has_value());
    http_ = std::move(http).value();
  }
  void TearDown() override { std::filesystem::remove(token_file_); }

  EnvLookup lookup() {
    return [this](const std::string& name) -> std::optional<std::string> {
      auto it = env_.find(name);
      return it == env_.end() ? std::nullopt : std::optional<std::string>(it->second);
    };
  }

  std::filesystem::path token_file_;
  std::map<std::string, std::string> env_;
  std::unique_ptr<http::HttpClient> http_;
};

TEST_F(WebIdentityTest, AssumesTheRoleAndRefreshesBeforeExpiry) {
  WallClock::time_point now = WallClock::now();
  CredentialsChain chain(*http_, lookup(), [&] { return now; });
  auto first = chain.credentials();
  ASSERT_TRUE(first.has_value()) << first.error().message();
  EXPECT_FALSE(first->access_key_id.empty());
  EXPECT_FALSE(first->session_token.empty());
  EXPECT_EQ(chain.source(), "web identity arn:aws:iam::123456789012:role/qsplit-operator");

  auto cached = chain.credentials();  // still fresh: no second STS call, the same keys
  ASSERT_TRUE(cached.has_value());
  EXPECT_EQ(cached->access_key_id, first->access_key_id);

  now += std::chrono::hours(1);  // STS's default lifetime is one hour: refreshed by now
  auto refreshed = chain.credentials();
  ASSERT_TRUE(refreshed.has_value()) << refreshed.error().message();
  EXPECT_NE(refreshed->access_key_id, first->access_key_id);
}

TEST_F(WebIdentityTest, UnreachableStsIsNamed) {
  env_["AWS_ENDPOINT_URL_STS"] = "http://127.0.0.1:1";
  CredentialsChain chain(*http_, lookup());
  auto c = chain.credentials();
  ASSERT_FALSE(c.has_value());
  EXPECT_NE(c.error().message().find("STS AssumeRoleWithWebIdentity for "
                                     "arn:aws:iam::123456789012:role/qsplit-operator"),
            std::string::npos)
      << c.error().message();
}

}  // namespace
}  // namespace qsplit::aws
