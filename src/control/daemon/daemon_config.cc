#include "control/daemon/daemon_config.h"

#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <set>

#include "config/yaml_fields.h"
#include "core/naming.h"

namespace qsplit::control {
namespace {

using config::YamlFields;

// One mapping of the file. Each reader takes an optional field into `target`, which keeps its
// default when the field is absent; a value of the wrong kind is an error naming the field.
struct Section {
  const YamlFields& f;
  YAML::Node node;
  std::string at;  // the mapping's path ("" for the top level)

  Result<void> only(const std::set<std::string>& known) const { return f.onlyKnownKeys(node, at, known); }
  Result<void> text(const char* key, std::string& target) const {
    return into(f.optionalString(node, key, at), target);
  }
  Result<void> flag(const char* key, bool& target) const {
    return into(f.optionalFlag(node, key, at), target);
  }
  Result<void> count(const char* key, std::size_t& target) const {
    return into(f.optionalCount(node, key, at), target);
  }
  Result<void> duration(const char* key, Duration& target) const {
    return into(f.optionalDuration(node, key, at), target);
  }
  // A nested mapping; a null node when it is absent.
  Result<Section> section(const char* key) const {
    QSPLIT_ASSIGN_OR_RETURN(YAML::Node inner, f.map(node, key, at, true));
    return Section{f, inner, config::joinPath(at, key)};
  }
  bool present() const { return node.IsDefined() && !node.IsNull(); }

 private:
  template <class T, class Target>
  static Result<void> into(Result<std::optional<T>> value, Target& target) {
    if (!value) return fail(value.error());
    if (*value) target = **value;
    return ok();
  }
};

Result<void> readSqs(const Section& s, DaemonConfig& c) {
  QSPLIT_TRY(s.only({"enabled", "endpoint", "region", "s3_endpoint", "pollers"}));
  c.sqs_enabled = true;  // a section of its own turns it on unless it says otherwise
  QSPLIT_TRY(s.flag("enabled", c.sqs_enabled));
  QSPLIT_TRY(s.text("endpoint", c.sqs_endpoint));
  QSPLIT_TRY(s.text("region", c.sqs_region));
  QSPLIT_TRY(s.text("s3_endpoint", c.s3_endpoint));
  return s.count("pollers", c.sqs_pollers);
}

Result<void> readKubernetes(const Section& s, DaemonConfig& c) {
  QSPLIT_TRY(s.only({"enabled", "kubeconfig", "namespace", "session_resources", "leader_election",
                     "lease_name", "lease_duration", "store"}));
  c.kube_enabled = true;
  QSPLIT_TRY(s.flag("enabled", c.kube_enabled));
  QSPLIT_TRY(s.text("kubeconfig", c.kubeconfig));
  QSPLIT_TRY(s.text("namespace", c.kube_namespace));
  QSPLIT_TRY(s.flag("session_resources", c.kube_sessions));
  QSPLIT_TRY(s.flag("leader_election", c.leader_election));
  QSPLIT_TRY(s.text("lease_name", c.lease_name));
  QSPLIT_TRY(s.duration("lease_duration", c.lease_duration));
  std::string store = "cluster";
  QSPLIT_TRY(s.text("store", store));
  if (store != "cluster" && store != "file")
    return fail(s.f.error("kubernetes.store", s.node["store"],
                          "expected cluster or file, got '" + store + "'"));
  c.kube_store_in_cluster = store == "cluster";
  return ok();
}

Result<void> readSplitting(const Section& s, DaemonConfig& c) {
  QSPLIT_TRY(s.only({"linger_timeout", "name_template", "return_unread"}));
  QSPLIT_TRY(s.duration("linger_timeout", c.linger_timeout));
  QSPLIT_TRY(s.text("name_template", c.name_template));
  return s.flag("return_unread", c.return_unread);
}

Result<void> readSessions(const Section& s, DaemonConfig& c) {
  QSPLIT_TRY(s.only({"setup_deadline", "unused_ttl", "max_time"}));
  QSPLIT_TRY(s.duration("setup_deadline", c.limits.setup_deadline));
  QSPLIT_TRY(s.duration("unused_ttl", c.limits.unused_ttl));
  Duration max_time{0};
  QSPLIT_TRY(s.duration("max_time", max_time));
  if (max_time.count() > 0) c.limits.max_time = max_time;  // 0: no limit
  return ok();
}

Result<void> readFilters(const Section& s, DaemonConfig& c) {
  QSPLIT_TRY(s.only({"jq_time_limit", "jq_memory_limit_mb", "jq_workers"}));
  QSPLIT_TRY(s.count("jq_workers", c.jq_workers));
  Duration time = c.jq.time;
  QSPLIT_TRY(s.duration("jq_time_limit", time));
  QSPLIT_TRY(s.count("jq_memory_limit_mb", c.jq.memory_mb));
  c.jq.time = std::chrono::duration_cast<std::chrono::milliseconds>(time);
  if (c.jq.time.count() < 1)
    return fail(s.f.error("filters.jq_time_limit", s.node["jq_time_limit"], "expected at least 1ms"));
  if (c.jq_workers < 1 || c.jq_workers > 16)
    return fail(s.f.error("filters.jq_workers", s.node["jq_workers"], "expected 1 to 16 (processes)"));
  if (c.jq.memory_mb < 16)
    return fail(s.f.error("filters.jq_memory_limit_mb", s.node["jq_memory_limit_mb"],
                          "expected at least 16 (MiB)"));
  return ok();
}

// `enabled` (default true) is the only field of the kafka, rabbitmq and pubsub sections.
Result<void> readEnabled(const Section& s, bool& enabled) {
  QSPLIT_TRY(s.only({"enabled"}));
  enabled = true;
  return s.flag("enabled", enabled);
}

Result<void> readKafka(const Section& s, DaemonConfig& c) { return readEnabled(s, c.kafka_enabled); }
Result<void> readRabbitMq(const Section& s, DaemonConfig& c) {
  return readEnabled(s, c.rabbitmq_enabled);
}
Result<void> readRedis(const Section& s, DaemonConfig& c) {
  QSPLIT_TRY(s.only({"enabled", "pubsub", "bullmq", "claim_idle"}));
  c.redis_enabled = true;
  QSPLIT_TRY(s.flag("enabled", c.redis_enabled));
  c.redis_pubsub_enabled = c.redis_enabled;
  QSPLIT_TRY(s.flag("pubsub", c.redis_pubsub_enabled));
  c.bullmq_enabled = c.redis_enabled;
  QSPLIT_TRY(s.flag("bullmq", c.bullmq_enabled));
  return s.duration("claim_idle", c.redis_claim_idle);
}

Result<void> readPubsub(const Section& s, DaemonConfig& c) { return readEnabled(s, c.pubsub_enabled); }

Result<void> readTls(const Section& s, DaemonConfig& c) {
  QSPLIT_TRY(s.only({"cert", "key"}));
  QSPLIT_TRY(s.text("cert", c.tls_cert));
  return s.text("key", c.tls_key);
}

Result<void> readMemory(const Section& s, DaemonConfig& c) {
  QSPLIT_TRY(s.only({"queues"}));
  QSPLIT_ASSIGN_OR_RETURN(c.memory_queues, s.f.stringList(s.node, "queues", s.at));
  return ok();
}

Result<void> readListen(const Section& s, DaemonConfig& c) {
  std::string listen;
  QSPLIT_TRY(s.text("listen", listen));
  if (listen.empty()) return ok();
  auto colon = listen.rfind(':');
  std::string port = colon == std::string::npos ? "" : listen.substr(colon + 1);
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos)
    return fail(s.f.error("listen", s.node["listen"], "expected HOST:PORT, got '" + listen + "'"));
  c.listen_host = listen.substr(0, colon);
  c.listen_port = std::stoi(port);
  return ok();
}

Result<void> applyFile(DaemonConfig& c, const std::string& path) {
  YAML::Node root = YAML::LoadFile(path);
  YamlFields f(path);
  if (root.IsNull()) return ok();  // an empty file: every default
  if (!root.IsMap()) return fail(f.error("(top level)", root, "expected a mapping of fields"));
  Section top{f, root, ""};
  QSPLIT_TRY(top.only({"listen", "data_dir", "resources", "tokens_file", "tls", "log_level", "sqs",
                       "memory", "kafka", "rabbitmq", "redis", "pubsub", "operator_namespace", "splitting",
                       "sessions", "kubernetes", "filters"}));
  QSPLIT_TRY(readListen(top, c));
  QSPLIT_TRY(top.text("data_dir", c.data_dir));
  QSPLIT_TRY(top.text("resources", c.resources_dir));
  QSPLIT_TRY(top.text("tokens_file", c.tokens_file));
  QSPLIT_TRY(top.text("log_level", c.log_level));
  QSPLIT_TRY(top.text("operator_namespace", c.operator_namespace));
  using Reader = Result<void> (*)(const Section&, DaemonConfig&);
  for (auto [name, read] : {std::pair<const char*, Reader>{"sqs", readSqs}, {"kafka", readKafka},
                            {"rabbitmq", readRabbitMq}, {"redis", readRedis}, {"pubsub", readPubsub},
                            {"kubernetes", readKubernetes},
                            {"splitting", readSplitting}, {"sessions", readSessions},
                            {"tls", readTls}, {"memory", readMemory}, {"filters", readFilters}}) {
    QSPLIT_ASSIGN_OR_RETURN(Section section, top.section(name));
    if (section.present()) QSPLIT_TRY(read(section, c));
  }
  return ok();
}

Result<int64_t> integer(const std::string& name, const std::string& value) {
  try {
    std::size_t used = 0;
    int64_t n = std::stoll(value, &used);
    if (used == value.size() && n >= 0) return n;
  } catch (const std::exception&) {
  }
  return fail(ErrorCode::kInvalidArgument, name + "=" + value + ": expected a whole number >= 0");
}

Result<void> applyEnv(DaemonConfig& c, const EnvLookup& env) {
  if (auto v = env("OPERATOR_SQS_SPLITTING")) c.sqs_enabled = *v == "true" || *v == "1";
  if (auto v = env("OPERATOR_KAFKA_SPLITTING")) c.kafka_enabled = *v == "true" || *v == "1";
  if (auto v = env("OPERATOR_RABBITMQ_SPLITTING")) c.rabbitmq_enabled = *v == "true" || *v == "1";
  if (auto v = env("OPERATOR_REDIS_SPLITTING")) c.redis_enabled = *v == "true" || *v == "1";
  if (auto v = env("OPERATOR_REDIS_PUBSUB_SPLITTING")) c.redis_pubsub_enabled = *v == "true" || *v == "1";
  if (auto v = env("OPERATOR_BULLMQ_SPLITTING")) c.bullmq_enabled = *v == "true" || *v == "1";
  if (auto v = env("OPERATOR_GCP_PUBSUB_SPLITTING")) c.pubsub_enabled = *v == "true" || *v == "1";
  if (auto v = env("PUBSUB_EMULATOR_HOST")) c.pubsub_emulator_host = *v;
  if (auto v = env("OPERATOR_SQS_SPLITTING_LINGER_TIMEOUT")) {
    QSPLIT_ASSIGN_OR_RETURN(int64_t ms, integer("OPERATOR_SQS_SPLITTING_LINGER_TIMEOUT", *v));
    c.linger_timeout = std::chrono::milliseconds(ms);
  }
  if (auto v = env("OPERATOR_KAFKA_SPLITTING_TOPIC_FORMAT")) c.kafka_topic_format = *v;
  if (auto v = env("OPERATOR_NAMESPACE"); v && !v->empty()) c.operator_namespace = *v;
  if (auto v = env("QSPLIT_LOG")) c.log_level = *v;
  else if (auto rust = env("RUST_LOG")) c.log_level = *rust;
  return ok();
}

Result<void> validate(const DaemonConfig& c, const std::string& where) {
  if (c.listen_port < 0 || c.listen_port > 65535)
    return fail(ErrorCode::kInvalidArgument, where + "listen: port out of range");
  if (c.tls_cert.empty() != c.tls_key.empty())
    return fail(ErrorCode::kInvalidArgument, where + "tls: needs both cert and key");
  if (c.sqs_enabled && !c.memory_queues.empty())
    return fail(ErrorCode::kInvalidArgument,
                where + "memory: the embedded broker stands in for SQS; disable sqs to use it");
  if (c.limits.unused_ttl < std::chrono::seconds(6))
    return fail(ErrorCode::kInvalidArgument, where + "sessions.unused_ttl: at least 6 seconds");
  if (c.sqs_pollers < 1 || c.sqs_pollers > 64)
    return fail(ErrorCode::kInvalidArgument, where + "sqs.pollers: between 1 and 64");
  for (const auto& [field, text] : {std::pair{"splitting.name_template", c.name_template},
                                    std::pair{"OPERATOR_KAFKA_SPLITTING_TOPIC_FORMAT", c.kafka_topic_format}})
    if (!text.empty())
      if (auto t = core::NameTemplate::parse(text); !t)
        return fail(t.error().withContext(where + field));
  return ok();
}

}  // namespace

Result<DaemonConfig> loadDaemonConfig(const std::string& path, const EnvLookup& env) {
  DaemonConfig c;
  if (!path.empty()) {
    try {
      QSPLIT_TRY(applyFile(c, path));
    } catch (const YAML::Exception& e) {
      return fail(ErrorCode::kInvalidArgument, path + ": " + e.what());
    }
  }
  QSPLIT_TRY(applyEnv(c, env));
  QSPLIT_TRY(validate(c, path.empty() ? "" : path + ": "));
  return c;
}

EnvLookup processEnv() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (!v) return std::nullopt;
    return std::string(v);
  };
}

}  // namespace qsplit::control
