// KafkaAdmin: topics (describe, create like another, delete) and consumer-group lag.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "brokers/kafka/kafka_client.h"
#include "core/broker.h"

namespace qsplit::kafka {

struct TopicSpec {
  int32_t partitions = 1;
  int16_t replication_factor = 1;
  std::map<std::string, std::string> configs;  // retention.ms, cleanup.policy, ...
};

// Thread-safe (librdkafka's admin calls are).
class KafkaAdmin final : public core::Admin {
 public:
  // `client` is any client of the cluster (the broker's producer); `properties` are the
  // resolved connection properties, used for the short-lived consumer that reads offsets.
  KafkaAdmin(rd_kafka_t* client, Properties properties, std::chrono::milliseconds timeout)
      : client_(client), properties_(std::move(properties)), timeout_(timeout) {}

  Result<core::QueueInfo> describe(const std::string& name) override;
  // Same partition count and replication factor as the original, and the topic configs
  // set on it explicitly (retention, cleanup policy, max message size, ...).
  Result<void> createLike(const std::string& original, const std::string& name) override;
  Result<void> remove(const std::string& name) override;
  // Sum over partitions of (end offset - the group's committed offset, or the start).
  Result<uint64_t> backlog(const std::string& name, const std::string& group) override;
  // "qsplit-from-<name>" (shortened), given `group`'s committed offsets on `name` by a
  // consumer that commits them without joining either group.
  Result<std::string> groupLike(const std::string& name, const std::string& group) override;

  Result<void> createTopic(const std::string& name, const TopicSpec& spec);
  Result<TopicSpec> topicSpec(const std::string& name);
  Result<std::vector<std::string>> listTopics();
  // The configs set on the topic itself (not the cluster's defaults).
  Result<std::map<std::string, std::string>> topicConfigs(const std::string& topic);

 private:
  Result<EventHandle> await(rd_kafka_queue_t* queue, rd_kafka_event_type_t type,
                            const std::string& what);
  // Each partition's first (RD_KAFKA_OFFSET_BEGINNING) or end (RD_KAFKA_OFFSET_END) offset.
  // A consumer of `group` that never subscribes (reads committed offsets, assigns).
  Result<ConsumerHandle> groupReader(const std::string& group);
  // `group`'s committed offsets on the `count` partitions of `name` (negative: none).
  Result<PartitionsHandle> committed(rd_kafka_t* reader, const std::string& name,
                                     const std::string& group, int32_t count);
  Result<std::map<int32_t, int64_t>> offsetsAt(rd_kafka_t* client, const std::string& name,
                                               int32_t partitions, int64_t which);

  rd_kafka_t* client_;
  Properties properties_;
  std::chrono::milliseconds timeout_;
};

}  // namespace qsplit::kafka
