// Redis Pub/Sub: the broker for channels, channel patterns and shard channels. A channel
// exists while someone subscribes and keeps no message, so the admin creates and deletes
// nothing (a temporary channel is only a name); what it can tell is who subscribes
// (readers()), which the engine needs to unsubscribe only once the restored workload has.
#pragma once

#include <map>
#include <memory>
#include <mutex>

#include "brokers/redis/redis_connection.h"
#include "core/broker.h"

namespace qsplit::redis {

// How the workload subscribes to the original, and so how qsplit does: SUBSCRIBE,
// PSUBSCRIBE or SSUBSCRIBE (then SPUBLISH).
enum class ChannelMode { kChannel, kPattern, kShard };
// "channel", "channelPattern" or "shardChannel", as a MirrordSplitConfig names them.
const char* channelModeName(ChannelMode mode);
// The mode channelModeName() names; an error naming the three otherwise.
Result<ChannelMode> channelModeFromName(const std::string& name);
// The command that subscribes as `mode` says, or unsubscribes: SUBSCRIBE, PSUBSCRIBE, SSUBSCRIBE.
std::string subscribeCommand(ChannelMode mode, bool unsubscribe = false);

// The name qsplit's subscriber connections give themselves (CLIENT SETNAME), so that they
// can be told apart from the workload's.
inline constexpr const char* kSubscriberName = "qsplit-forwarder";

// qsplit's own subscriptions, by name, shared by a broker's admin and its sources.
class Subscriptions {
 public:
  void add(const std::string& name);
  void remove(const std::string& name);
  int count(const std::string& name) const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, int> counts_;
};

class RedisChannelAdmin final : public core::Admin {
 public:
  RedisChannelAdmin(RedisAddress address, ChannelMode mode, std::shared_ptr<const Subscriptions> own)
      : connection_(std::move(address)), mode_(mode), own_(std::move(own)) {}

  Result<core::QueueInfo> describe(const std::string& name) override;
  Result<void> createLike(const std::string&, const std::string&) override { return {}; }
  Result<void> remove(const std::string&) override { return {}; }
  Result<uint64_t> backlog(const std::string&, const std::string&) override { return uint64_t{0}; }
  // SUBSCRIBE and SSUBSCRIBE: the channel's subscribers (PUBSUB NUMSUB, SHARDNUMSUB) less
  // qsplit's. PSUBSCRIBE: Redis does not say who subscribes to which pattern, so every client
  // with a pattern subscription that is not a qsplit subscriber (CLIENT LIST).
  Result<uint64_t> readers(const std::string& name) override;

 private:
  SharedConnection connection_;
  ChannelMode mode_;
  std::shared_ptr<const Subscriptions> own_;
};

class RedisChannelBroker final : public core::Broker {
 public:
  // Checks the server answers (PING) with these credentials, and for shard channels that it
  // has SSUBSCRIBE (Redis 7).
  static Result<std::unique_ptr<RedisChannelBroker>> create(RedisAddress address, ChannelMode mode);

  core::Admin& admin() override { return *admin_; }
  // Subscribes before it returns: a message published after this is received. `group` is
  // not used (a channel has none).
  Result<std::unique_ptr<core::Source>> openSource(const std::string& name, const std::string& group) override;
  Result<std::unique_ptr<core::Sink>> openSink(const std::string& name) override;
  core::NameRules nameRules() const override { return core::redisNameRules(); }
  std::size_t batchSize() const override { return 500; }
  ChannelMode mode() const { return mode_; }

 private:
  RedisChannelBroker(RedisAddress address, ChannelMode mode);

  RedisAddress address_;
  ChannelMode mode_;
  std::shared_ptr<Subscriptions> own_;
  std::unique_ptr<RedisChannelAdmin> admin_;
};

}  // namespace qsplit::redis
