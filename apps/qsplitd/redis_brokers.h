// The Redis brokers of qsplitd: one per distinct connection (a redisStream queue's
// clientConfig list, resolved), for Pub/Sub one per connection and subscription kind, and for
// BullMQ one per connection and dequeue_timeout, opened on first use and kept for the daemon's
// life.
#pragma once

#include <map>
#include <memory>
#include <mutex>

#include "brokers/redis/bullmq_broker.h"
#include "brokers/redis/redis_broker.h"
#include "brokers/redis/redis_channels.h"

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

  // Thread-safe. Pub/Sub, subscribing as `mode` says (redis::channelModeName).
  Result<core::Broker*> openChannels(const std::map<std::string, std::string>& connection, const std::string& mode) {
    std::lock_guard lock(mutex_);
    auto key = std::pair(connection, mode);
    auto it = channels_.find(key);
    if (it == channels_.end()) {
      QSPLIT_ASSIGN_OR_RETURN(auto m, redis::channelModeFromName(mode));
      QSPLIT_ASSIGN_OR_RETURN(auto address, redis::RedisAddress::fromProperties(connection));
      QSPLIT_ASSIGN_OR_RETURN(auto broker, redis::RedisChannelBroker::create(address, m));
      it = channels_.emplace(key, std::move(broker)).first;
    }
    return it->second.get();
  }

  // Thread-safe. Fails when BullMQ queue `original` does not exist.
  Result<core::Broker*> openBullmq(const std::map<std::string, std::string>& connection, const std::string& original,
                                   std::chrono::seconds dequeue_timeout) {
    std::lock_guard lock(mutex_);
    auto key = std::pair(connection, dequeue_timeout.count());
    auto it = bullmq_.find(key);
    if (it == bullmq_.end()) {
      redis::BullmqOptions options;
      QSPLIT_ASSIGN_OR_RETURN(options.address, redis::RedisAddress::fromProperties(connection));
      options.dequeue_timeout = dequeue_timeout;
      QSPLIT_ASSIGN_OR_RETURN(auto broker, redis::BullmqBroker::create(options));
      it = bullmq_.emplace(key, std::move(broker)).first;
    }
    QSPLIT_TRY(it->second->admin().describe(original));
    return it->second.get();
  }

 private:
  std::chrono::milliseconds claim_idle_;
  std::mutex mutex_;
  std::map<std::map<std::string, std::string>, std::unique_ptr<redis::RedisBroker>> brokers_;
  std::map<std::pair<std::map<std::string, std::string>, std::string>, std::unique_ptr<redis::RedisChannelBroker>>
      channels_;
  std::map<std::pair<std::map<std::string, std::string>, int64_t>, std::unique_ptr<redis::BullmqBroker>> bullmq_;
};

}  // namespace qsplit::daemon
