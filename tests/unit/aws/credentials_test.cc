// The standard credential chain: environment, shared files with profiles, and what each
// broken source says.
#include "aws/credentials.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

namespace qsplit::aws {
namespace {

class CredentialsChainTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("qsplit-credentials-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_ / ".aws");
    env_["HOME"] = dir_.string();
    auto http = http::HttpClient::create();
    ASSERT_TRUE(http.has_value());
    http_ = std::move(http).value();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void write(const std::string& rel, const std::string& text) {
    std::ofstream(dir_ / rel) << text;
  }
  Result<Credentials> resolve() {
    CredentialsChain chain(*http_, [this](const std::string& name) -> std::optional<std::string> {
      auto it = env_.find(name);
      return it == env_.end() ? std::nullopt : std::optional<std::string>(it->second);
    });
    auto c = chain.credentials();
    source_ = chain.source();
    return c;
  }

  std::filesystem::path dir_;
  std::map<std::string, std::string> env_;
  std::unique_ptr<http::HttpClient> http_;
  std::string source_;
};

TEST_F(CredentialsChainTest, EnvironmentComesFirst) {
  write(".aws/credentials", "[default]\naws_access_key_id = FILE\naws_secret_access_key = s\n");
  env_["AWS_ACCESS_KEY_ID"] = "ENV";
  env_["AWS_SECRET_ACCESS_KEY"] = "secret";
  env_["AWS_SESSION_TOKEN"] = "token";
  auto c = resolve();
  ASSERT_TRUE(c.has_value()) << c.error().message();
  EXPECT_EQ(c->access_key_id, "ENV");
  EXPECT_EQ(c->session_token, "token");
  EXPECT_EQ(source_, "environment");
}

TEST_F(CredentialsChainTest, HalfAPairInTheEnvironmentNamesTheMissingVariable) {
  env_["AWS_ACCESS_KEY_ID"] = "ENV";
  auto c = resolve();
  ASSERT_FALSE(c.has_value());
  EXPECT_NE(c.error().message().find("AWS_SECRET_ACCESS_KEY is not set"), std::string::npos);
}

TEST_F(CredentialsChainTest, ProfileFromTheSharedCredentialsFile) {
  write(".aws/credentials",
        "[default]\naws_access_key_id = DEFAULT\naws_secret_access_key = d\n\n"
        "# the team's staging account\n[staging]\naws_access_key_id=STAGING\n"
        "aws_secret_access_key = s3cr3t\naws_session_token = tok\n");
  env_["AWS_PROFILE"] = "staging";
  auto c = resolve();
  ASSERT_TRUE(c.has_value()) << c.error().message();
  EXPECT_EQ(c->access_key_id, "STAGING");
  EXPECT_EQ(c->secret_access_key, "s3cr3t");
  EXPECT_EQ(c->session_token, "tok");
  EXPECT_NE(source_.find("profile staging"), std::string::npos);
}

TEST_F(CredentialsChainTest, ProfileFromTheConfigFileUsesItsProfilePrefix) {
  write("config", "[profile dev]\naws_access_key_id = DEV\naws_secret_access_key = d\n");
  env_["AWS_CONFIG_FILE"] = (dir_ / "config").string();
  env_["AWS_PROFILE"] = "dev";
  auto c = resolve();
  ASSERT_TRUE(c.has_value()) << c.error().message();
  EXPECT_EQ(c->access_key_id, "DEV");
}

TEST_F(CredentialsChainTest, ProfileWithoutItsSecretIsAnErrorNamingFileAndProfile) {
  write(".aws/credentials", "[default]\naws_access_key_id = ONLY\n");
  auto c = resolve();
  ASSERT_FALSE(c.has_value());
  EXPECT_NE(c.error().message().find(".aws/credentials [default]: aws_access_key_id and "
                                     "aws_secret_access_key must both be set"),
            std::string::npos)
      << c.error().message();
}

TEST_F(CredentialsChainTest, NothingFoundSaysWhereItLooked) {
  env_["AWS_PROFILE"] = "nobody";
  auto c = resolve();
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(c.error().message().find("profile \"nobody\""), std::string::npos) << c.error().message();
  EXPECT_NE(c.error().message().find("AWS_WEB_IDENTITY_TOKEN_FILE"), std::string::npos);
}

TEST_F(CredentialsChainTest, MissingWebIdentityTokenFileIsNamed) {
  env_["AWS_WEB_IDENTITY_TOKEN_FILE"] = (dir_ / "no-token").string();
  env_["AWS_ROLE_ARN"] = "arn:aws:iam::123456789012:role/qsplit";
  auto c = resolve();
  ASSERT_FALSE(c.has_value());
  EXPECT_NE(c.error().message().find("no-token"), std::string::npos) << c.error().message();
}

TEST(ParseIni, SectionsKeysCommentsAndSpaces) {
  auto ini = parseIni("; top\n[a]\n k = v \n#x\n[ profile b ]\nkey=with=equals\n");
  EXPECT_EQ(ini["a"]["k"], "v");
  EXPECT_EQ(ini["profile b"]["key"], "with=equals");
}

}  // namespace
}  // namespace qsplit::aws
