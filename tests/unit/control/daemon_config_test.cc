#include "control/daemon_config.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

namespace qsplit::control {
namespace {

std::string writeConfig(const std::string& text) {
  auto path = std::filesystem::temp_directory_path() /
              ("qsplitd-" + std::to_string(::getpid()) + "-" +
               ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".yaml");
  std::ofstream(path) << text;
  return path.string();
}

EnvLookup envOf(std::map<std::string, std::string> vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

TEST(DaemonConfig, FileThenTheReferenceEnvironmentVariables) {
  auto path = writeConfig(R"(listen: 0.0.0.0:9000
resources: /etc/qsplit/resources
sqs:
  endpoint: http://localhost:4566
  pollers: 8
splitting:
  linger_timeout: 30
sessions:
  unused_ttl: 12
  max_time: 3600
)");
  auto c = loadDaemonConfig(path, envOf({{"OPERATOR_SQS_SPLITTING_LINGER_TIMEOUT", "90000"},
                                         {"OPERATOR_KAFKA_SPLITTING", "true"},
                                         {"OPERATOR_KAFKA_SPLITTING_TOPIC_FORMAT",
                                          "tmp-{{RANDOM}}{{FALLBACK}}{{ORIGINAL_TOPIC}}"},
                                         {"RUST_LOG", "info,sessions=debug"}}));
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->listen_host, "0.0.0.0");
  EXPECT_EQ(c->listen_port, 9000);
  EXPECT_TRUE(c->sqs_enabled);
  EXPECT_EQ(c->sqs_pollers, 8u);
  EXPECT_EQ(c->linger_timeout, std::chrono::seconds(90));  // the variable is in milliseconds
  EXPECT_EQ(c->limits.unused_ttl, std::chrono::seconds(12));
  EXPECT_EQ(*c->limits.max_time, std::chrono::hours(1));
  EXPECT_EQ(c->log_level, "info,sessions=debug");
  EXPECT_EQ(c->limits.setup_deadline, std::chrono::seconds(180));
  EXPECT_TRUE(c->kafka_enabled);
  EXPECT_EQ(c->kafka_topic_format, "tmp-{{RANDOM}}{{FALLBACK}}{{ORIGINAL_TOPIC}}");
  EXPECT_EQ(c->operator_namespace, "mirrord");
  EXPECT_TRUE(c->kube_store_in_cluster);
  auto file = loadDaemonConfig(writeConfig("kubernetes:\n  store: file\n"), envOf({}));
  ASSERT_TRUE(file) << file.error().message();
  EXPECT_FALSE(file->kube_store_in_cluster);
}

TEST(DaemonConfig, ErrorsNameTheFileFieldOrVariable) {
  auto typo = loadDaemonConfig(writeConfig("resources: r\nsqss: {}\n"), envOf({}));
  ASSERT_FALSE(typo);
  EXPECT_NE(typo.error().message().find("sqss: unknown field (line 2)"), std::string::npos);
  auto ttl = loadDaemonConfig(writeConfig("sessions:\n  unused_ttl: 2\n"), envOf({}));
  ASSERT_FALSE(ttl);
  EXPECT_NE(ttl.error().message().find("sessions.unused_ttl: at least 6 seconds"), std::string::npos);
  auto linger = loadDaemonConfig("", envOf({{"OPERATOR_SQS_SPLITTING_LINGER_TIMEOUT", "soon"}}));
  ASSERT_FALSE(linger);
  EXPECT_NE(linger.error().message().find("OPERATOR_SQS_SPLITTING_LINGER_TIMEOUT=soon"), std::string::npos);
  auto format = loadDaemonConfig("", envOf({{"OPERATOR_KAFKA_SPLITTING_TOPIC_FORMAT", "tmp-{{RANDOM}}"}}));
  ASSERT_FALSE(format);
  EXPECT_NE(format.error().message().find("OPERATOR_KAFKA_SPLITTING_TOPIC_FORMAT"), std::string::npos);
  auto store = loadDaemonConfig(writeConfig("kubernetes:\n  store: etcd\n"), envOf({}));
  ASSERT_FALSE(store);
  EXPECT_NE(store.error().message().find("kubernetes.store: expected cluster or file, got 'etcd'"),
            std::string::npos);
  auto both = loadDaemonConfig(writeConfig("sqs: {}\nmemory: {queues: [a]}\n"), envOf({}));
  ASSERT_FALSE(both);
  EXPECT_NE(both.error().message().find("memory:"), std::string::npos);
}

}  // namespace
}  // namespace qsplit::control
