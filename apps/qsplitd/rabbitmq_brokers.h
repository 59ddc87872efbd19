// The RabbitMQ brokers of qsplitd: one per distinct connection (a clusterProperties list,
// resolved), opened on first use and kept for the daemon's life.
#pragma once

#include <map>
#include <memory>
#include <mutex>

#include "brokers/rabbitmq/rabbitmq_broker.h"

namespace qsplit::daemon {

class RabbitBrokers {
 public:
  // Thread-safe. Also records how temporaries of `original` are declared.
  Result<core::Broker*> open(const std::map<std::string, std::string>& connection,
                             const std::string& original,
                             const std::map<std::string, std::string>& queue_properties) {
    QSPLIT_ASSIGN_OR_RETURN(auto declare, rabbitmq::QueueDeclare::fromProperties(queue_properties));
    std::lock_guard lock(mutex_);
    auto it = brokers_.find(connection);
    if (it == brokers_.end()) {
      QSPLIT_ASSIGN_OR_RETURN(auto settings, rabbitmq::RabbitSettings::fromProperties(connection));
      QSPLIT_ASSIGN_OR_RETURN(auto broker, rabbitmq::RabbitBroker::create({settings}));
      it = brokers_.emplace(connection, std::move(broker)).first;
    }
    it->second->rabbitAdmin().setDeclare(original, std::move(declare));
    return it->second.get();
  }

 private:
  std::mutex mutex_;
  std::map<std::map<std::string, std::string>, std::unique_ptr<rabbitmq::RabbitBroker>> brokers_;
};

}  // namespace qsplit::daemon
