#include "brokers/redis/redis_channels.h"

#include <sstream>

#include "brokers/redis/redis_pubsub.h"

namespace qsplit::redis {

const char* channelModeName(ChannelMode mode) {
  switch (mode) {
    case ChannelMode::kChannel: return "channel";
    case ChannelMode::kPattern: return "channelPattern";
    case ChannelMode::kShard: return "shardChannel";
  }
  return "channel";
}

Result<ChannelMode> channelModeFromName(const std::string& name) {
  for (auto mode : {ChannelMode::kChannel, ChannelMode::kPattern, ChannelMode::kShard})
    if (name == channelModeName(mode)) return mode;
  return fail(ErrorCode::kInvalidArgument,
              "unknown redis subscription '" + name + "'; expected channel, channelPattern or shardChannel");
}

std::string subscribeCommand(ChannelMode mode, bool unsubscribe) {
  std::string prefix = mode == ChannelMode::kPattern ? "P" : mode == ChannelMode::kShard ? "S" : "";
  return prefix + (unsubscribe ? "UNSUBSCRIBE" : "SUBSCRIBE");
}

void Subscriptions::add(const std::string& name) {
  std::lock_guard lock(mutex_);
  ++counts_[name];
}

void Subscriptions::remove(const std::string& name) {
  std::lock_guard lock(mutex_);
  if (--counts_[name] <= 0) counts_.erase(name);
}

int Subscriptions::count(const std::string& name) const {
  std::lock_guard lock(mutex_);
  auto it = counts_.find(name);
  return it == counts_.end() ? 0 : it->second;
}

Result<core::QueueInfo> RedisChannelAdmin::describe(const std::string& name) {
  if (name.empty()) return fail(ErrorCode::kInvalidArgument, "a redis channel needs a name");
  return core::QueueInfo{name, core::QueueKind::kChannel, 1};
}

namespace {

// CLIENT LIST: the clients with a pattern subscription, besides qsplit's subscribers.
uint64_t patternReaders(const std::string& list) {
  uint64_t readers = 0;
  std::istringstream lines(list);
  for (std::string line; std::getline(lines, line);) {
    bool ours = line.find(std::string(" name=") + kSubscriberName + " ") != std::string::npos;
    auto psub = line.find(" psub=");
    if (!ours && psub != std::string::npos && line.compare(psub + 6, 2, "0 ") != 0) ++readers;
  }
  return readers;
}

}  // namespace

Result<uint64_t> RedisChannelAdmin::readers(const std::string& name) {
  std::vector<std::string> argv = {"PUBSUB", mode_ == ChannelMode::kShard ? "SHARDNUMSUB" : "NUMSUB", name};
  if (mode_ == ChannelMode::kPattern) argv = {"CLIENT", "LIST"};
  QSPLIT_ASSIGN_OR_RETURN(auto reply, connection_.run(argv));
  auto problem = [&](const std::string& what) {
    return fail(ErrorCode::kUnavailable, "redis " + connection_.address().describe() + ": " + argv[0] + " " +
                                             argv[1] + ": " + what);
  };
  if (reply.isError()) return problem(reply.text);
  if (mode_ == ChannelMode::kPattern) return patternReaders(reply.text);
  if (reply.elements.size() != 2 || reply.elements[1].type != RedisReply::Type::kInteger)
    return problem("unexpected reply");
  long long others = reply.elements[1].integer - own_->count(name);
  return static_cast<uint64_t>(others > 0 ? others : 0);
}

RedisChannelBroker::RedisChannelBroker(RedisAddress address, ChannelMode mode)
    : address_(std::move(address)), mode_(mode), own_(std::make_shared<Subscriptions>()),
      admin_(std::make_unique<RedisChannelAdmin>(address_, mode_, own_)) {}

Result<std::unique_ptr<RedisChannelBroker>> RedisChannelBroker::create(RedisAddress address, ChannelMode mode) {
  QSPLIT_ASSIGN_OR_RETURN(auto connection, RedisConnection::connect(address));
  QSPLIT_ASSIGN_OR_RETURN(auto pong, connection.command({"PING"}));
  if (pong.isError())
    return fail(ErrorCode::kUnavailable, "redis " + address.describe() + ": PING refused: " + pong.text);
  if (mode == ChannelMode::kShard) {
    QSPLIT_ASSIGN_OR_RETURN(auto numsub, connection.command({"PUBSUB", "SHARDNUMSUB"}));
    if (numsub.isError())
      return fail(ErrorCode::kFailedPrecondition, "redis " + address.describe() +
                                                      ": shard channels need Redis 7 or later: " + numsub.text);
  }
  return std::unique_ptr<RedisChannelBroker>(new RedisChannelBroker(std::move(address), mode));
}

Result<std::unique_ptr<core::Source>> RedisChannelBroker::openSource(const std::string& name, const std::string&) {
  QSPLIT_ASSIGN_OR_RETURN(auto source, RedisSubscriber::open(address_, name, mode_, own_));
  return std::unique_ptr<core::Source>(std::move(source));
}

Result<std::unique_ptr<core::Sink>> RedisChannelBroker::openSink(const std::string& name) {
  // A pattern's messages are published to channels: the temporaries are plain channels
  // (their names hold no glob characters), which the patched workload's PSUBSCRIBE matches.
  return std::unique_ptr<core::Sink>(
      std::make_unique<RedisPublisher>(address_, name, mode_ == ChannelMode::kShard ? mode_ : ChannelMode::kChannel));
}

}  // namespace qsplit::redis
