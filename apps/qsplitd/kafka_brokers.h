// The Kafka brokers of qsplitd: one per distinct client configuration (cluster and
// credentials), opened on first use and kept for the daemon's life.
#pragma once

#include <map>
#include <memory>
#include <mutex>

#include "brokers/kafka/kafka_broker.h"
#include "config/kafka_client_config.h"

namespace qsplit::daemon {

class KafkaBrokers {
 public:
  // Thread-safe. The group.id of `client` is the workload's and is not part of the key:
  // qsplit sets it per consumer.
  Result<core::Broker*> open(const config::ResolvedKafkaConfig& client) {
    config::Properties properties = client.properties;
    properties.erase("group.id");
    if (client.msk_iam_region) properties = kafka::withMskIam(properties, *client.msk_iam_region);
    std::lock_guard lock(mutex_);
    auto it = brokers_.find(properties);
    if (it != brokers_.end()) return it->second.get();
    QSPLIT_ASSIGN_OR_RETURN(auto broker, kafka::KafkaBroker::create({properties}));
    return (brokers_[properties] = std::move(broker)).get();
  }

 private:
  std::mutex mutex_;
  std::map<config::Properties, std::unique_ptr<kafka::KafkaBroker>> brokers_;
};

}  // namespace qsplit::daemon
