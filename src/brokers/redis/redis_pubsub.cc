#include "brokers/redis/redis_pubsub.h"

#include <thread>

#include "common/log.h"

namespace qsplit::redis {

void RedisPublisher::publish(const std::string& channel, const std::string& body) {
  if (!connection_ && !error_) {
    auto connection = RedisConnection::connect(address_);
    if (!connection) error_ = connection.error();
    else connection_.emplace(std::move(connection).value());
  }
  if (!connection_) return;
  connection_->append({mode_ == ChannelMode::kShard ? "SPUBLISH" : "PUBLISH", channel, body});
  pending_.emplace_back(channel, body);
}

void RedisPublisher::submit(std::span<const core::Message> messages) {
  for (const auto& m : messages) publish(channel_, m.body);
}

std::vector<RedisPublisher::Publish> RedisPublisher::unheard(std::vector<Publish> published) {
  std::vector<Publish> none;
  for (auto& p : published) {
    if (!connection_) break;
    auto reply = connection_->read();
    if (!reply) {
      if (!error_) error_ = reply.error();
      connection_.reset();  // unusable now; the next submit connects again
    } else if (reply->isError()) {
      if (!error_) error_ = Error(ErrorCode::kUnavailable, "publishing to redis channel " + channel_ + ": " + reply->text);
    } else if (reply->integer == 0) {
      none.push_back(std::move(p));
    }
  }
  if (!connection_ && !error_) error_ = Error(ErrorCode::kUnavailable, "publishing to redis channel " + channel_);
  return none;
}

Result<void> RedisPublisher::await() {
  using Clock = std::chrono::steady_clock;
  auto silent = unheard(std::exchange(pending_, {}));
  auto now = Clock::now();
  if (silent.empty() && !error_) {
    silent_since_.reset();
    return {};
  }
  bool long_silent = silent_since_ && now - *silent_since_ >= hold_;
  if (!silent_since_) silent_since_ = now;
  // A subscriber that is (re)starting gets them once it has subscribed.
  while (!silent.empty() && !error_ && !long_silent && Clock::now() - *silent_since_ < hold_) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    for (const auto& [channel, body] : silent) publish(channel, body);
    silent = unheard(std::exchange(pending_, {}));
  }
  if (auto error = std::exchange(error_, std::nullopt)) return fail(*error);
  if (silent.empty()) {
    silent_since_.reset();
    return {};
  }
  if (long_silent) {
    if (dropped_ == 0 || (dropped_ + silent.size()) / 1000 > dropped_ / 1000)
      logger("redis")->warn("channel {} has had no subscriber for over {} ms: {} messages published to it reached "
                            "nobody", channel_, hold_.count(), dropped_ + silent.size());
    dropped_ += silent.size();
    return {};
  }
  return fail(ErrorCode::kUnavailable, std::to_string(silent.size()) + " messages reached no subscriber of " +
                                           channel_ + " within " + std::to_string(hold_.count()) + " ms");
}

RedisSubscriber::RedisSubscriber(RedisAddress address, std::string name, ChannelMode mode,
                                 std::shared_ptr<Subscriptions> own)
    : address_(std::move(address)), name_(std::move(name)), mode_(mode), own_(std::move(own)),
      republish_(address_, name_, mode == ChannelMode::kShard ? mode : ChannelMode::kChannel) {
  own_->add(name_);
}

RedisSubscriber::~RedisSubscriber() { own_->remove(name_); }

Result<std::unique_ptr<RedisSubscriber>> RedisSubscriber::open(const RedisAddress& address, const std::string& name,
                                                               ChannelMode mode, std::shared_ptr<Subscriptions> own) {
  std::unique_ptr<RedisSubscriber> source(new RedisSubscriber(address, name, mode, std::move(own)));
  QSPLIT_TRY(source->subscribe());
  return source;
}

Result<void> RedisSubscriber::subscribe() {
  QSPLIT_ASSIGN_OR_RETURN(auto connection, RedisConnection::connect(address_));
  QSPLIT_ASSIGN_OR_RETURN(auto named, connection.command({"CLIENT", "SETNAME", kSubscriberName}));
  const std::string command = subscribeCommand(mode_);
  QSPLIT_ASSIGN_OR_RETURN(auto reply, connection.command({command, name_}));
  if (named.isError() || reply.isError() || reply.elements.empty())
    return fail(ErrorCode::kUnavailable, "redis " + address_.describe() + ": " + command + " " + name_ +
                                             " refused: " + (named.isError() ? named.text : reply.text));
  connection_.emplace(std::move(connection));
  return {};
}

Result<std::vector<core::Message>> RedisSubscriber::receive(std::size_t max, std::chrono::milliseconds wait) {
  std::vector<core::Message> out;
  if (closed_ || (closing_ && !connection_)) return out;
  if (!connection_) {
    // What was published while this subscriber was away is gone: Redis keeps nothing.
    QSPLIT_TRY(subscribe());
    logger("redis")->info("subscribed to {} again", name_);
  }
  // Closing: what arrived before the confirmation is still to come (for up to the timeout).
  auto until = std::chrono::steady_clock::now() + address_.timeout;
  while (out.size() < max) {
    auto next = connection_->next(out.empty() ? wait : std::chrono::milliseconds(0));
    if (next && !*next && closing_ && out.empty() && std::chrono::steady_clock::now() < until) continue;
    if (!next) {
      connection_.reset();
      if (out.empty()) return fail(next.error());
      break;  // hand over what arrived; the next receive subscribes again
    }
    if (!*next) break;
    const auto& e = (*next)->elements;
    const std::string kind = e.empty() ? "" : e[0].text;
    if (closing_ && kind.ends_with("unsubscribe")) {
      closed_ = true;
      break;
    }
    // [message, channel, payload], [smessage, channel, payload], [pmessage, pattern, channel, payload]
    std::size_t at = kind == "pmessage" ? 2 : 1;
    if ((kind != "message" && kind != "smessage" && kind != "pmessage") || e.size() != at + 2) continue;
    core::Message m;
    m.receipt = e[at].text;
    m.body = e[at + 1].text;
    m.id = std::to_string(++received_);
    out.push_back(std::move(m));
  }
  return out;
}

void RedisSubscriber::stopReceiving() {
  if (closing_ || !connection_) {
    closing_ = true;
    return;
  }
  closing_ = true;
  connection_->append({subscribeCommand(mode_, true), name_});
  if (!connection_->flush()) connection_.reset();  // nothing more arrives: nothing to wait for
}

Result<void> RedisSubscriber::release(std::span<const core::Message> messages) {
  for (const auto& m : messages) republish_.publish(m.receipt, m.body);
  return republish_.await();
}

}  // namespace qsplit::redis
