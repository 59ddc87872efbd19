// The Redis brokers of qsplitd: one per distinct connection (a redisStream queue's
// clientConfig list, resolved), opened on first use and kept for the daemon's life.
#pragma once

#include <map>
#include <memory>
#include <mutex>

#include "brokers/redis/redis_broker.h"

namespace qsplit::daemon {

class RedisBrokers {
 public:
  explicit RedisBrokers(std::chrono::milliseconds claim_idle) : claim_idle_(claim_idle) {}

  // Thread-safe. Fails when stream `original` lacks consumer group `group`.
  Result<core::Broker*> open(const std::map<std::string, std::string>& connection,
                             const std::string& original, const std::string& group) {
    std::lock_guard lock(mutex_);
    auto it = brokers_.find(connection);
    if (it == brokers_.end()) {
      QSPLIT_ASSIGN_OR_RETURN(auto address, redis::RedisAddress::fromProperties(connection));
      QSPLIT_ASSIGN_OR_RETURN(auto broker, redis::RedisBroker::create({address, claim_idle_}));
      it = brokers_.emplace(connection, std::move(broker)).first;
    }
    QSPLIT_TRY(it->second->redisAdmin().checkGroup(original, group));
    return it->second.get();
  }

 private:
  std::chrono::milliseconds claim_idle_;
  std::mutex mutex_;
  std::map<std::map<std::string, std::string>, std::unique_ptr<redis::RedisBroker>> brokers_;
};

}  // namespace qsplit::daemon
