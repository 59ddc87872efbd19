// The stored form of sessions (JSON in the store's records).
#include <nlohmann/json.hpp>

#include "control/sessions_internal.h"

namespace qsplit::control {

std::string splitKey(config::QueueType type, const std::string& original) {
  return std::string(config::queueTypeName(type)) + ":" + original;
}

std::string kafkaJournal(const config::ResolvedKafkaConfig& client) {
  auto it = client.properties.find("bootstrap.servers");
  return std::string("Kafka:") + (it == client.properties.end() ? "" : it->second);
}

Result<config::QueueType> queueTypeFromName(const std::string& name) {
  for (auto t : {config::QueueType::kSqs, config::QueueType::kKafka, config::QueueType::kRmq,
                 config::QueueType::kRedisStream, config::QueueType::kRedisPubSub, config::QueueType::kBullMQ,
                 config::QueueType::kGcpPubSub})
    if (name == config::queueTypeName(t)) return t;
  return fail(ErrorCode::kInternal, "unknown stored queue type " + name);
}

std::string sessionToJson(const Session& s) {
  nlohmann::json queues = nlohmann::json::array();
  for (const auto& q : s.queues)
    queues.push_back({{"queue_id", q.queue_id}, {"type", config::queueTypeName(q.type)},
                      {"original", q.original}, {"temporary", q.temporary},
                      {"mode", core::queueModeName(q.mode)}});
  nlohmann::json j = {{"id", s.id}, {"owner", s.owner}, {"target", s.target},
                      {"config", s.config_json}, {"state", s.state}, {"queues", queues},
                      {"env", s.env}, {"started_unix_ms", s.started_unix_ms}};
  return j.dump();
}

Result<Session> sessionFromJson(const std::string& text) {
  try {
    auto j = nlohmann::json::parse(text);
    Session s{j.at("id"), j.at("owner"), j.at("target"), j.at("config"), j.at("state"), {},
              j.at("env").get<std::map<std::string, std::string>>(), j.at("started_unix_ms")};
    for (const auto& q : j.at("queues")) {
      QSPLIT_ASSIGN_OR_RETURN(auto type, queueTypeFromName(q.at("type")));
      QSPLIT_ASSIGN_OR_RETURN(auto mode, core::queueModeFromName(q.at("mode")));
      s.queues.push_back({q.at("queue_id"), type, q.at("original"), q.at("temporary"), mode});
    }
    return s;
  } catch (const nlohmann::json::exception& e) {
    return fail(ErrorCode::kInternal, std::string("a stored session: ") + e.what());
  }
}

}  // namespace qsplit::control
