// KafkaBroker: the Kafka adapter behind core::Broker, on librdkafka.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "brokers/kafka/kafka_admin.h"
#include "brokers/kafka/kafka_client.h"
#include "core/broker.h"

namespace qsplit::kafka {

struct KafkaOptions {
  // The resolved client properties (bootstrap.servers, security, ...); group.id is set by
  // qsplit per consumer. For MSK IAM, pass them through withMskIam().
  Properties properties;
  std::chrono::milliseconds timeout{30000};  // admin operations, delivery, metadata
  // Producers that destination topics are spread over, each topic always on the same one.
  // librdkafka sends each partition's records in a request of its own and an idempotent
  // producer keeps at most 5 requests in flight per broker, so with many session topics a
  // single producer mostly waits on round trips (bench/results/kafka.md). Started on first
  // use; transactions (exactly once) have a producer of their own.
  std::size_t producers = 4;
};

class KafkaBroker final : public core::Broker {
 public:
  // Connects (and checks that the cluster answers within the timeout): an invalid property
  // or an unreachable bootstrap server is an error naming it.
  static Result<std::unique_ptr<KafkaBroker>> create(KafkaOptions options);
  ~KafkaBroker() override;

  core::Admin& admin() override { return *admin_; }
  KafkaAdmin& kafkaAdmin() { return *admin_; }
  Result<std::unique_ptr<core::Source>> openSource(const std::string& name,
                                                   const std::string& group) override;
  Result<std::unique_ptr<core::Sink>> openSink(const std::string& name) override;
  core::NameRules nameRules() const override { return core::kafkaNameRules(); }
  // Each batch costs a flush and a commit (or a transaction) whatever its size, and with many
  // sessions its records spread over hundreds of partitions, each partition's share one
  // produce request: bigger batches make fuller requests (bench/results/kafka.md). Up to
  // 20,000 records and at most 16 MiB (KafkaSource::kMaxBatchBytes). A receive takes only
  // records already fetched, so a slow stream still forwards each record at once.
  std::size_t batchSize() const override { return 20000; }
  bool overlapsBatches() const override { return true; }
  Result<std::unique_ptr<core::TransactionalPipe>> openTransactionalPipe(
      const std::string& name, const std::string& group, const std::string& instance) override;

 private:
  explicit KafkaBroker(KafkaOptions options) : options_(std::move(options)) {}
  Result<rd_kafka_t*> producerFor(const std::string& topic);

  KafkaOptions options_;
  std::mutex producers_mutex_;
  std::vector<ClientHandle> producers_;  // the first one also serves the admin
  std::unique_ptr<KafkaAdmin> admin_;
};

}  // namespace qsplit::kafka
