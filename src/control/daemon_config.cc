#include "control/daemon_config.h"

#include <yaml-cpp/yaml.h>

#include <cstdlib>

#include "core/naming.h"

namespace qsplit::control {
namespace {

Result<void> applyFile(DaemonConfig& c, const std::string& path) {
  YAML::Node root = YAML::LoadFile(path);
  static const std::vector<std::string> known = {
      "listen", "data_dir", "resources", "tokens_file", "tls", "log_level", "sqs", "memory",
      "kafka", "rabbitmq", "operator_namespace", "splitting", "sessions", "kubernetes"};
  for (const auto& field : root) {
    auto key = field.first.as<std::string>();
    if (std::find(known.begin(), known.end(), key) == known.end())
      return fail(ErrorCode::kInvalidArgument, path + ": " + key + ": unknown field (line " +
                                                   std::to_string(field.first.Mark().line + 1) + ")");
  }
  if (root["listen"]) {
    auto listen = root["listen"].as<std::string>();
    auto colon = listen.rfind(':');
    if (colon == std::string::npos)
      return fail(ErrorCode::kInvalidArgument, path + ": listen: expected HOST:PORT, got " + listen);
    c.listen_host = listen.substr(0, colon);
    c.listen_port = std::stoi(listen.substr(colon + 1));
  }
  if (root["data_dir"]) c.data_dir = root["data_dir"].as<std::string>();
  if (root["resources"]) c.resources_dir = root["resources"].as<std::string>();
  if (root["tokens_file"]) c.tokens_file = root["tokens_file"].as<std::string>();
  if (auto tls = root["tls"]) {
    c.tls_cert = tls["cert"].as<std::string>("");
    c.tls_key = tls["key"].as<std::string>("");
  }
  if (root["log_level"]) c.log_level = root["log_level"].as<std::string>();
  if (auto sqs = root["sqs"]) {
    c.sqs_enabled = sqs["enabled"].as<bool>(true);
    c.sqs_endpoint = sqs["endpoint"].as<std::string>("");
    c.sqs_region = sqs["region"].as<std::string>("");
    c.s3_endpoint = sqs["s3_endpoint"].as<std::string>("");
    c.sqs_pollers = sqs["pollers"].as<std::size_t>(4);
  }
  if (auto kafka = root["kafka"]) c.kafka_enabled = kafka["enabled"].as<bool>(true);
  if (auto rabbitmq = root["rabbitmq"]) c.rabbitmq_enabled = rabbitmq["enabled"].as<bool>(true);
  if (auto kube = root["kubernetes"]) {
    c.kube_enabled = kube["enabled"].as<bool>(true);
    c.kubeconfig = kube["kubeconfig"].as<std::string>("");
    c.kube_namespace = kube["namespace"].as<std::string>("");
    c.kube_sessions = kube["session_resources"].as<bool>(true);
    c.leader_election = kube["leader_election"].as<bool>(true);
    c.lease_name = kube["lease_name"].as<std::string>(c.lease_name);
    if (kube["lease_duration"]) c.lease_duration = std::chrono::seconds(kube["lease_duration"].as<int64_t>());
    if (kube["store"]) {
      auto store = kube["store"].as<std::string>();
      if (store != "cluster" && store != "file")
        return fail(ErrorCode::kInvalidArgument, path + ": kubernetes.store: expected cluster or file, got '" +
                                                     store + "'");
      c.kube_store_in_cluster = store == "cluster";
    }
  }
  if (root["operator_namespace"]) c.operator_namespace = root["operator_namespace"].as<std::string>();
  if (auto memory = root["memory"]) c.memory_queues = memory["queues"].as<std::vector<std::string>>();
  if (auto s = root["splitting"]) {
    if (s["linger_timeout"]) c.linger_timeout = std::chrono::seconds(s["linger_timeout"].as<int64_t>());
    c.name_template = s["name_template"].as<std::string>(c.name_template);
    c.return_unread = s["return_unread"].as<bool>(true);
  }
  if (auto s = root["sessions"]) {
    if (s["setup_deadline"]) c.limits.setup_deadline = std::chrono::seconds(s["setup_deadline"].as<int64_t>());
    if (s["unused_ttl"]) c.limits.unused_ttl = std::chrono::seconds(s["unused_ttl"].as<int64_t>());
    if (s["max_time"] && s["max_time"].as<int64_t>() > 0)
      c.limits.max_time = std::chrono::seconds(s["max_time"].as<int64_t>());
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
