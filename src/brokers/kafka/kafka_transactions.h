// KafkaTransactionalPipe: consume-transform-produce in Kafka transactions. Each batch's
// records, on every destination topic, commit together with the source offsets past the
// batch, or not at all; a restarted forwarder with the same transactional id fences the
// old one and aborts whatever it left open.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "brokers/kafka/kafka_client.h"
#include "brokers/kafka/kafka_sink.h"
#include "brokers/kafka/kafka_source.h"
#include "core/broker.h"

namespace qsplit::kafka {

class KafkaTransactionalPipe final : public core::TransactionalPipe {
 public:
  // The transactional id is derived from the topic, group and instance (a replica's name;
  // empty for the leader), so it is stable across restarts of the operator (that is what
  // fences a crashed predecessor) and differs between replicas forwarding side by side.
  static Result<std::unique_ptr<KafkaTransactionalPipe>> create(const Properties& properties,
                                                                const std::string& topic,
                                                                const std::string& group,
                                                                const std::string& instance,
                                                                std::chrono::milliseconds timeout);
  ~KafkaTransactionalPipe() override;

  core::Source& source() override { return *source_; }
  Result<core::Sink*> sink(const std::string& destination) override;
  Result<void> begin() override;
  Result<void> commit(std::span<const core::Message> consumed) override;
  Result<void> abort(std::span<const core::Message> consumed) override;

  static std::string transactionalId(const std::string& topic, const std::string& group,
                                     const std::string& instance = "");

 private:
  KafkaTransactionalPipe() = default;
  Result<void> check(rd_kafka_error_t* error, const std::string& what);

  std::string topic_;
  std::chrono::milliseconds timeout_{30000};
  std::unique_ptr<KafkaSource> source_;
  ClientHandle producer_;
  std::map<std::string, std::unique_ptr<KafkaSink>> sinks_;
  bool open_ = false;
};

}  // namespace qsplit::kafka
