#include "control/daemon/daemon_config.h"

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
  EXPECT_FALSE(file->redis_enabled);
  EXPECT_EQ(file->redis_claim_idle, std::chrono::seconds(30));
  auto redis = loadDaemonConfig(writeConfig("redis:\n  claim_idle: 5s\n"), envOf({}));
  ASSERT_TRUE(redis) << redis.error().message();
  EXPECT_TRUE(redis->redis_enabled);
  EXPECT_TRUE(redis->bullmq_enabled);  // on with redis.enabled unless set
  EXPECT_EQ(redis->redis_claim_idle, std::chrono::seconds(5));
  auto by_env = loadDaemonConfig(writeConfig(""), envOf({{"OPERATOR_REDIS_SPLITTING", "true"}}));
  ASSERT_TRUE(by_env) << by_env.error().message();
  EXPECT_TRUE(by_env->redis_enabled);
  EXPECT_FALSE(by_env->bullmq_enabled);
  auto bullmq = loadDaemonConfig(writeConfig("redis:\n  enabled: false\n  bullmq: true\n"),
                                 envOf({{"OPERATOR_REDIS_PUBSUB_SPLITTING", "false"}}));
  ASSERT_TRUE(bullmq) << bullmq.error().message();
  EXPECT_TRUE(bullmq->bullmq_enabled);
  EXPECT_TRUE(bullmq->anyRedis());
  auto bullmq_env = loadDaemonConfig(writeConfig(""), envOf({{"OPERATOR_BULLMQ_SPLITTING", "true"}}));
  ASSERT_TRUE(bullmq_env) << bullmq_env.error().message();
  EXPECT_TRUE(bullmq_env->bullmq_enabled);
  EXPECT_FALSE(bullmq_env->redis_enabled);
  EXPECT_FALSE(bullmq_env->pubsub_enabled);
  auto pubsub = loadDaemonConfig(writeConfig("pubsub: {}\n"), envOf({{"PUBSUB_EMULATOR_HOST", "127.0.0.1:8085"}}));
  ASSERT_TRUE(pubsub) << pubsub.error().message();
  EXPECT_TRUE(pubsub->pubsub_enabled);
  EXPECT_EQ(pubsub->pubsub_emulator_host, "127.0.0.1:8085");
  auto pubsub_env = loadDaemonConfig(writeConfig("pubsub:\n  enabled: false\n"),
                                     envOf({{"OPERATOR_GCP_PUBSUB_SPLITTING", "true"}}));
  ASSERT_TRUE(pubsub_env) << pubsub_env.error().message();
  EXPECT_TRUE(pubsub_env->pubsub_enabled) << "the variable, as for the other brokers";
  auto unknown = loadDaemonConfig(writeConfig("pubsub:\n  project: p\n"), envOf({}));
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message().find("pubsub.project: unknown field"), std::string::npos)
      << unknown.error().message();
}

TEST(DaemonConfig, ErrorsNameTheFileFieldOrVariable) {
  auto typo = loadDaemonConfig(writeConfig("resources: r\nsqss: {}\n"), envOf({}));
  ASSERT_FALSE(typo);
  EXPECT_NE(typo.error().message().find(": sqss: unknown field; expected one of data_dir,"),
            std::string::npos) << typo.error().message();
  EXPECT_NE(typo.error().message().find("(line 2"), std::string::npos);
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

// A typo below the top level is refused too, naming its whole path and its line: before, it
// started qsplitd silently with the defaults (`sqs.endpiont` sent it to real AWS).
TEST(DaemonConfig, UnknownFieldsAtAnyDepthAreRefusedWithTheirPathAndLine) {
  struct Case {
    std::string text, path;
    int line;
  };
  for (const auto& [text, path, line] : std::vector<Case>{
           {"resources: r\nsessions:\n  unused_ttl: 8\n  unusd_ttl: 3\n", "sessions.unusd_ttl", 4},
           {"sqs:\n  endpiont: http://127.0.0.1:9324\n", "sqs.endpiont", 2},
           {"kafka: {enabled: true, bootstrap: x}\n", "kafka.bootstrap", 1},
           {"kubernetes:\n  store: file\n  leader: false\n", "kubernetes.leader", 3},
           {"splitting:\n  linger: 20\n", "splitting.linger", 2},
           {"tls: {cert: a, key: b, ca: c}\n", "tls.ca", 1},
           {"memory: {queue: [a]}\nsqs: {enabled: false}\n", "memory.queue", 1},
           {"rabbitmq: {enable: true}\n", "rabbitmq.enable", 1}}) {
    auto file = writeConfig(text);
    auto c = loadDaemonConfig(file, envOf({}));
    ASSERT_FALSE(c) << text;
    const std::string& m = c.error().message();
    EXPECT_NE(m.find(file + ": " + path + ": unknown field; expected one of "), std::string::npos) << m;
    EXPECT_NE(m.find("(line " + std::to_string(line) + ","), std::string::npos) << m;
  }
}

TEST(DaemonConfig, DurationsTakeSecondsOrAUnit) {
  auto c = loadDaemonConfig(writeConfig(R"(splitting: {linger_timeout: 20s}
sessions: {setup_deadline: 2m, unused_ttl: 6500ms, max_time: 1h}
kubernetes: {lease_duration: 7.5}
)"), envOf({}));
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->linger_timeout, std::chrono::seconds(20));
  EXPECT_EQ(c->limits.setup_deadline, std::chrono::minutes(2));
  EXPECT_EQ(c->limits.unused_ttl, std::chrono::milliseconds(6500));
  EXPECT_EQ(*c->limits.max_time, std::chrono::hours(1));
  EXPECT_EQ(c->lease_duration, std::chrono::milliseconds(7500));
  auto none = loadDaemonConfig(writeConfig("sessions: {max_time: 0}\n"), envOf({}));
  ASSERT_TRUE(none) << none.error().message();
  EXPECT_FALSE(none->limits.max_time.has_value());  // 0: no limit

  for (const std::string bad : {"20 s", "soon", "-3", "1d", "1.2.3s", "[20]"}) {
    auto file = writeConfig("splitting:\n  linger_timeout: " + bad + "\n");
    auto r = loadDaemonConfig(file, envOf({}));
    ASSERT_FALSE(r) << bad;
    EXPECT_NE(r.error().message().find(file + ": splitting.linger_timeout: expected a duration"),
              std::string::npos) << r.error().message();
    EXPECT_NE(r.error().message().find("(line 2"), std::string::npos) << r.error().message();
  }
  auto pollers = loadDaemonConfig(writeConfig("sqs: {pollers: many}\n"), envOf({}));
  ASSERT_FALSE(pollers);
  EXPECT_NE(pollers.error().message().find("sqs.pollers: expected a whole number >= 0"),
            std::string::npos) << pollers.error().message();
  auto flag = loadDaemonConfig(writeConfig("kafka: {enabled: yes please}\n"), envOf({}));
  ASSERT_FALSE(flag);
  EXPECT_NE(flag.error().message().find("kafka.enabled: expected true or false"), std::string::npos)
      << flag.error().message();
}

TEST(DaemonConfig, JqFiltersBoundsAndWorkers) {
  auto defaults = loadDaemonConfig("", envOf({}));
  ASSERT_TRUE(defaults) << defaults.error().message();
  EXPECT_EQ(defaults->jq.time, std::chrono::milliseconds(200));
  EXPECT_EQ(defaults->jq.memory_mb, 256u);
  EXPECT_EQ(defaults->jq_workers, 2u);
  auto c = loadDaemonConfig(
      writeConfig("filters: {jq_time_limit: 50ms, jq_memory_limit_mb: 64, jq_workers: 1}\n"), envOf({}));
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->jq.time, std::chrono::milliseconds(50));
  EXPECT_EQ(c->jq.memory_mb, 64u);
  EXPECT_EQ(c->jq_workers, 1u);
  for (const std::string bad : {"0", "17"}) {
    auto r = loadDaemonConfig(writeConfig("filters:\n  jq_workers: " + bad + "\n"), envOf({}));
    ASSERT_FALSE(r) << bad;
    EXPECT_NE(r.error().message().find("filters.jq_workers: expected 1 to 16"), std::string::npos)
        << r.error().message();
  }
}

}  // namespace
}  // namespace qsplit::control
