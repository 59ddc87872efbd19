// The SessionManager's private parts shared by its source files: one split's state, a
// session start's plan per original queue, and the stored records' JSON.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "config/kafka_target.h"
#include "config/sqs_target.h"
#include "control/sessions.h"
#include "engine/queue_splitter.h"

namespace qsplit::control {

// One original queue split for one workload.
struct SessionManager::Split {
  config::QueueType type;
  std::string queue_id;   // as the resource declares it (Kafka resumes resolve it again)
  core::Broker* broker;   // not owned
  std::string group;      // the workload's consumer group (topics)
  std::string journal;    // where its temporaries are recorded: "SQS", "Kafka:<bootstrap>"
  std::string original;
  std::string workload;
  std::vector<config::SqsNamePlace> places;
  Duration restart_timeout;
  uint32_t wait_for_pods = 1;      // as in its Plan
  std::optional<Duration> linger;  // as in its Plan
  Duration ttl{};                  // as in its Plan
  bool sns = false;       // SQS bodies are SNS notifications: filters match their attributes
  bool s3_event = false;  // SQS bodies are S3 events: filters see the objects' user metadata
  // Set while the session start that created the split has not finished: a restart finds
  // the split in a start that did not happen, and undoes it with the rest of that start.
  std::string started_by;
  bool restoring = false;  // the drain is over and the workload's restore is under way
  std::unique_ptr<engine::QueueSplitter> splitter;
  std::string routes;  // the table as last shared (JSON), stored with the split
  uint64_t last_read = 0;
  double rate = 0;
};

// What one session start does to one original queue.
struct SessionManager::Plan {
  std::string queue_id;
  config::QueueType type = config::QueueType::kSqs;
  core::Broker* broker = nullptr;
  std::string group;
  bool streams = false;  // Kafka Streams (engine::SplitOptions::streams)
  std::string journal;
  config::SqsOriginal original;
  std::map<std::string, std::string> tags;
  Duration restart_timeout{};
  uint32_t wait_for_pods = 1;      // ready pods that end a restart (config::kAllPods: all)
  std::optional<Duration> linger;  // the resource's drain limit; none: qsplitd's linger timeout
  Duration ttl{};  // the resource's ttl (splitTtl): the split outlives its last session so long
  bool sns = false;
  bool s3_event = false;
  core::Filter filter;
  core::QueueMode mode = core::QueueMode::kSteal;
  // Variables the developer's process gets as the workload has them (a Kafka consumer group:
  // her topic's unread records are counted for that group).
  std::map<std::string, std::string> shared_env;
  // A bullMq queue's queueConfig jq_time_limit: its jq_filters' bound, in place of qsplitd's.
  std::optional<std::chrono::milliseconds> jq_time_limit;
};

// A split as stored: its plan (without broker), fallback, lifecycle state and workload.
struct SessionManager::StoredSplit {
  Plan plan;
  std::string fallback;
  std::string state;  // a lifecycle state's name, or "restoring"
  std::string workload;
  std::string started_by;
};

std::string splitKey(config::QueueType type, const std::string& original);
// The journal of a Kafka cluster: temporaries of different clusters are reclaimed apart.
std::string kafkaJournal(const config::ResolvedKafkaConfig& client);
Result<config::QueueType> queueTypeFromName(const std::string& name);
// The one value `variable` holds in the consumer's containers (a Redis stream's consumer group,
// a Pub/Sub subscription's project); else an error naming `where` + `field` and what it
// must hold (`holds`: "one consumer group").
Result<std::string> oneValueOf(const std::string& variable, const std::string& field, const std::string& holds,
                               const std::optional<std::string>& container, const config::ContainerEnv& env,
                               const std::string& where);
std::string sessionToJson(const Session& s);
Result<Session> sessionFromJson(const std::string& text);

}  // namespace qsplit::control
