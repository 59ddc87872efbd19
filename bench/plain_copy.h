// The Kafka benchmarks' baseline: a consume-and-produce copy written directly on librdkafka,
// as one would by hand, with qsplit's settings (acks=all, idempotence, linger.ms=5, batches,
// a synchronous commit after each batch is delivered).
#pragma once

#include <librdkafka/rdkafka.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "brokers/kafka/kafka_broker.h"
#include "brokers/kafka/kafka_source.h"

namespace qsplit::bench {

struct CopyOptions {
  std::string bootstrap;
  std::string original;
  std::string group;
  int partitions = 2;
  std::size_t batch = 2000;
  // 0: one copy topic. N > 0: 1 + N topics, routed by hand exactly as a split with N sessions
  // routes (session i takes the records of user-(i*100/N); everything else goes to topic 0).
  int fanout = 0;
  // Added to the consumer's settings (the benchmark's prefetch, the same as qsplit's).
  std::vector<std::pair<std::string, std::string>> consumer;
  // Bodies and keys per batch at most, the limit of qsplit's receive.
  std::size_t batch_bytes = kafka::KafkaSource::kMaxBatchBytes;
};

class PlainCopy {
 public:
  // Creates the copy topics (named after `id`) and the clients.
  static std::unique_ptr<PlainCopy> create(kafka::KafkaBroker& broker, const CopyOptions& options,
                                           const std::string& id);
  ~PlainCopy();

  // Copies until `keep_going(copied so far)` says no; returns how many were copied. The
  // callback is asked before each batch, and with 0 once the first record has arrived.
  int run(const std::function<bool(int)>& keep_going);
  const std::vector<std::string>& topics() const { return topics_; }
  void removeTopics(kafka::KafkaBroker& broker);

 private:
  PlainCopy() = default;
  const std::string& destination(rd_kafka_headers_t* headers) const;

  CopyOptions options_;
  std::vector<std::string> topics_;
  rd_kafka_t* producer_ = nullptr;
  rd_kafka_t* consumer_ = nullptr;
};

}  // namespace qsplit::bench
