#include "aws/sigv4.h"

#include <gtest/gtest.h>

#include "common/base64.h"
#include "support/command.h"

namespace qsplit::aws {
namespace {

std::chrono::system_clock::time_point at(int64_t unix_seconds) {
  return std::chrono::system_clock::time_point(std::chrono::seconds(unix_seconds));
}

std::string decodeToken(std::string token) {
  for (char& c : token) c = c == '-' ? '+' : c == '_' ? '/' : c;
  while (token.size() % 4) token.push_back('=');
  return base64Decode(token).value_or("(not base64)");
}

TEST(SigV4, UriEncodeKeepsOnlyUnreserved) {
  EXPECT_EQ(uriEncode("kafka-cluster:Connect"), "kafka-cluster%3AConnect");
  EXPECT_EQ(uriEncode("a/b c~d_e.f"), "a%2Fb%20c~d_e.f");
}

TEST(SigV4, PresignedUrlHasTheSigningParameters) {
  Credentials c{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
  std::string url = presignGet("kafka.eu-south-1.amazonaws.com", {{"Action", "kafka-cluster:Connect"}},
                               "kafka-cluster", "eu-south-1", c, at(1795636800), 900);
  EXPECT_EQ(url.rfind("https://kafka.eu-south-1.amazonaws.com/?Action=kafka-cluster%3AConnect&"
                      "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20261125%2F"
                      "eu-south-1%2Fkafka-cluster%2Faws4_request&X-Amz-Date=20261125T200000Z&"
                      "X-Amz-Expires=900&X-Amz-SignedHeaders=host&X-Amz-Signature=", 0),
            0u)
      << url;
}

// The token must be byte for byte what AWS's signer (botocore) makes for the same inputs.
void expectSameAsBotocore(const Credentials& c) {
  std::string token = mskIamToken("eu-south-1", c, at(1795636800), "qsplit");
  auto reference = testing::run(
      "python3 " + std::string(QSPLIT_SOURCE_DIR) + "/tests/support/msk_token_reference.py eu-south-1 " +
      c.access_key_id + " " + testing::shellQuote(c.secret_access_key) + " " +
      (c.session_token.empty() ? "-" : testing::shellQuote(c.session_token)) + " 20261125T200000Z qsplit");
  ASSERT_EQ(reference.status, 0) << "python3 with botocore is needed (scripts/install-deps.sh)";
  std::string expected = reference.out.substr(0, reference.out.find('\n'));
  EXPECT_EQ(decodeToken(token), decodeToken(expected));
  EXPECT_EQ(token, expected);
}

TEST(SigV4, MskTokenMatchesBotocore) {
  expectSameAsBotocore({"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""});
}

TEST(SigV4, MskTokenWithSessionTokenMatchesBotocore) {
  expectSameAsBotocore({"ASIAEXAMPLE", "secret+/key", "FQoGZXIvYXdzE/session+token=="});
}

TEST(SigV4, CredentialsFromEnvironmentNameWhatIsMissing) {
  unsetenv("AWS_ACCESS_KEY_ID");
  EXPECT_EQ(credentialsFromEnvironment().error().message(), "AWS_ACCESS_KEY_ID is not set");
  setenv("AWS_ACCESS_KEY_ID", "AKID", 1);
  unsetenv("AWS_SECRET_ACCESS_KEY");
  EXPECT_EQ(credentialsFromEnvironment().error().message(), "AWS_SECRET_ACCESS_KEY is not set");
  setenv("AWS_SECRET_ACCESS_KEY", "s", 1);
  setenv("AWS_SESSION_TOKEN", "t", 1);
  auto c = credentialsFromEnvironment();
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->session_token, "t");
}

}  // namespace
}  // namespace qsplit::aws
