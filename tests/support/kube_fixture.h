// A fixture for tests on the real kube-apiserver of scripts/kube.sh: an admin client and a
// namespace of the test's own.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <random>
#include <string>

#include "kube/kube_client.h"
#include "support/brokers.h"

namespace qsplit::testing {

class KubeFixture : public ::testing::Test {
 protected:
  explicit KubeFixture(std::string prefix) : prefix_(std::move(prefix)) {}

  void SetUp() override {
    std::string why;
    kubeconfig_ = brokerAddress("QSPLIT_KUBECONFIG", &why);
    QSPLIT_NEED_BROKER(why);
    client_ = connect("admin.kubeconfig");
    ns_ = prefix_ + "-" + std::to_string(std::random_device{}() % 1000000);
    ASSERT_TRUE(client_->create("/api/v1/namespaces", {{"metadata", {{"name", ns_}}}}).has_value());
  }

  // The kubeconfig scripts/kube.sh wrote next to the admin's: admin, cert or nobody.
  std::unique_ptr<kube::KubeClient> connect(const std::string& file) {
    std::string path = kubeconfig_.substr(0, kubeconfig_.rfind('/') + 1) + file;
    auto config = kube::loadKubeconfig(path);
    EXPECT_TRUE(config.has_value()) << config.error().message();
    auto client = kube::KubeClient::create(*config);
    EXPECT_TRUE(client.has_value());
    return std::move(client).value();
  }

  std::string prefix_;
  std::string kubeconfig_;
  std::unique_ptr<kube::KubeClient> client_;
  std::string ns_;
};

}  // namespace qsplit::testing
