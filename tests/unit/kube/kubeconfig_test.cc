#include "kube/kubeconfig.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <fstream>

#include "support/temp_dir.h"

namespace qsplit::kube {
namespace {

std::string write(const std::string& dir, const std::string& name, const std::string& text) {
  std::string path = dir + "/" + name;
  std::ofstream(path) << text;
  return path;
}

constexpr char kTwoContexts[] = R"(apiVersion: v1
kind: Config
clusters:
- name: staging
  cluster:
    server: https://staging.example:6443
    certificate-authority: certs/ca.crt
- name: local
  cluster:
    server: https://127.0.0.1:6443/
    insecure-skip-tls-verify: true
users:
- name: token-user
  user:
    token: abc
- name: cert-user
  user:
    client-certificate-data: Q0VSVA==
    client-key-data: S0VZ
contexts:
- name: staging
  context: {cluster: staging, user: cert-user, namespace: team-a}
- name: local
  context: {cluster: local, user: token-user}
current-context: staging
)";

TEST(Kubeconfig, TheCurrentContextWithFilesRelativeToTheKubeconfig) {
  auto dir = testing::freshDir("kubeconfig");
  std::filesystem::create_directories(dir + "/certs");
  write(dir, "certs/ca.crt", "CA PEM");
  auto c = loadKubeconfig(write(dir, "config", kTwoContexts));
  ASSERT_TRUE(c.has_value()) << c.error().message();
  EXPECT_EQ(c->server, "https://staging.example:6443");
  EXPECT_EQ(c->ca_pem, "CA PEM");
  EXPECT_EQ(c->client_cert_pem, "CERT");
  EXPECT_EQ(c->client_key_pem, "KEY");
  EXPECT_EQ(c->namespace_, "team-a");
  EXPECT_FALSE(c->insecure);
}

TEST(Kubeconfig, ANamedContextWithATokenAndNoNamespace) {
  auto dir = testing::freshDir("kubeconfig");
  auto c = loadKubeconfig(write(dir, "config", kTwoContexts), "local");
  ASSERT_TRUE(c.has_value()) << c.error().message();
  EXPECT_EQ(c->token, "abc");
  EXPECT_TRUE(c->insecure);
  EXPECT_EQ(c->namespace_, "default");
}

TEST(Kubeconfig, ErrorsNameTheFileAndWhatIsMissing) {
  auto dir = testing::freshDir("kubeconfig");
  std::string path = write(dir, "config", kTwoContexts);
  auto missing_context = loadKubeconfig(path, "prod");
  ASSERT_FALSE(missing_context.has_value());
  EXPECT_EQ(missing_context.error().message(), path + ": no context named prod");
  auto missing_ca = loadKubeconfig(path);  // certs/ca.crt is not there
  ASSERT_FALSE(missing_ca.has_value());
  EXPECT_EQ(missing_ca.error().message().rfind(path + ": cluster staging: certificate-authority: ", 0), 0u)
      << missing_ca.error().message();
  std::string exec = std::string(kTwoContexts) + "";
  exec.replace(exec.find("    token: abc"), 14, "    exec: {command: aws}");
  auto unsupported = loadKubeconfig(write(dir, "exec", exec), "local");
  ASSERT_FALSE(unsupported.has_value());
  EXPECT_NE(unsupported.error().message().find("exec and auth-provider credentials are not supported"),
            std::string::npos);
}

TEST(Kubeconfig, InClusterFromTheServiceAccountFiles) {
  auto dir = testing::freshDir("serviceaccount");
  write(dir, "token", "sa-token\n");
  write(dir, "ca.crt", "CLUSTER CA");
  write(dir, "namespace", "qsplit");
  ::setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1", 1);
  ::setenv("KUBERNETES_SERVICE_PORT", "443", 1);
  auto c = inClusterConfig(dir);
  ::unsetenv("KUBERNETES_SERVICE_HOST");
  ::unsetenv("KUBERNETES_SERVICE_PORT");
  ASSERT_TRUE(c.has_value()) << c.error().message();
  EXPECT_EQ(c->server, "https://10.0.0.1:443");
  EXPECT_EQ(c->ca_pem, "CLUSTER CA");
  EXPECT_EQ(c->token_file, dir + "/token");
  EXPECT_EQ(c->namespace_, "qsplit");
  auto outside = inClusterConfig(dir);
  ASSERT_FALSE(outside.has_value());
  EXPECT_EQ(outside.error().message(), "not in a cluster: KUBERNETES_SERVICE_HOST/_PORT are not set");
}

}  // namespace
}  // namespace qsplit::kube
