// The Google Cloud Pub/Sub brokers of qsplitd: one per distinct connection (a googlePubSub
// queue's clientConfig list, resolved) and queueConfig list, opened on first use and kept for
// the daemon's life.
#pragma once

#include <map>
#include <memory>
#include <mutex>

#include "brokers/pubsub/pubsub_broker.h"

namespace qsplit::daemon {

class PubsubBrokers {
 public:
  // `emulator`: PUBSUB_EMULATOR_HOST of qsplitd's environment, for a list without emulator_host.
  explicit PubsubBrokers(std::string emulator) : emulator_(std::move(emulator)) {}

  // Thread-safe. Fails naming the property that is wrong, or when subscription `original`
  // does not exist.
  Result<core::Broker*> open(const std::map<std::string, std::string>& connection,
                             const std::map<std::string, std::string>& queue_properties, const std::string& original) {
    std::lock_guard lock(mutex_);
    auto key = std::pair(connection, queue_properties);
    auto it = brokers_.find(key);
    if (it == brokers_.end()) {
      QSPLIT_ASSIGN_OR_RETURN(auto address, pubsub::PubsubAddress::fromProperties(connection, emulator_));
      QSPLIT_ASSIGN_OR_RETURN(auto settings, pubsub::TemporarySettings::fromProperties(queue_properties));
      QSPLIT_ASSIGN_OR_RETURN(auto broker, pubsub::PubsubBroker::create(address, settings));
      it = brokers_.emplace(key, std::move(broker)).first;
    }
    QSPLIT_TRY(it->second->admin().describe(original));
    return it->second.get();
  }

 private:
  std::string emulator_;
  std::mutex mutex_;
  std::map<std::pair<std::map<std::string, std::string>, std::map<std::string, std::string>>,
           std::unique_ptr<pubsub::PubsubBroker>>
      brokers_;
};

}  // namespace qsplit::daemon
