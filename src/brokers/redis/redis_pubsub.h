// The source and sink of Redis Pub/Sub. RedisSubscriber subscribes on a connection of its
// own and turns what the server pushes into messages; nothing is kept for it while it is away,
// so a message published while it reconnects is gone, as for any subscriber. RedisPublisher
// publishes (PUBLISH or SPUBLISH, pipelined), and does not let a message go to a channel
// nobody reads in a transition: see await().
#pragma once

#include <cstdint>
#include <memory>
#include <optional>

#include "brokers/redis/redis_channels.h"
#include "brokers/redis/redis_connection.h"
#include "core/broker.h"

namespace qsplit::redis {

// How long a channel may have no subscriber before a message is published to it regardless
// (and so reaches nobody): a restarting workload or a developer's process that is starting.
inline constexpr std::chrono::milliseconds kSilenceHold{1000};

class RedisPublisher final : public core::Sink {
 public:
  RedisPublisher(RedisAddress address, std::string channel, ChannelMode mode,
                 std::chrono::milliseconds hold = kSilenceHold)
      : address_(std::move(address)), channel_(std::move(channel)), mode_(mode), hold_(hold) {}

  void submit(std::span<const core::Message> messages) override;
  // Every message reached a subscriber. One that reached none is published again every 50 ms
  // while the channel has had no subscriber for less than `hold`; what still reaches none
  // then is an error (the forwarder gives it back to the original). Once the channel has had
  // none for longer, messages are published to it as they come, reaching nobody, as Redis does.
  Result<void> await() override;
  // Publishes `body` to `channel` on this publisher's connection (a released message).
  void publish(const std::string& channel, const std::string& body);

 private:
  RedisAddress address_;
  std::string channel_;
  ChannelMode mode_;
  using Publish = std::pair<std::string, std::string>;  // channel, body
  // Reads the replies to `published` and returns those that reached no subscriber.
  std::vector<Publish> unheard(std::vector<Publish> published);

  std::chrono::milliseconds hold_;
  std::optional<RedisConnection> connection_;
  std::vector<Publish> pending_;  // published, their replies not read yet
  std::optional<Error> error_;
  std::optional<std::chrono::steady_clock::time_point> silent_since_;
  uint64_t dropped_ = 0;  // published to the channel while nobody subscribed for long
};

class RedisSubscriber final : public core::Source {
 public:
  static Result<std::unique_ptr<RedisSubscriber>> open(const RedisAddress& address, const std::string& name,
                                                       ChannelMode mode, std::shared_ptr<Subscriptions> own);
  ~RedisSubscriber() override;

  // A message's receipt is the channel it was published to (a pattern's messages come from
  // many).
  Result<std::vector<core::Message>> receive(std::size_t max, std::chrono::milliseconds wait) override;
  Result<void> ack(std::span<const core::Message>) override { return {}; }
  // Published again to the channel it came from, where this subscriber receives it again.
  Result<void> release(std::span<const core::Message> messages) override;
  // Unsubscribes; receive() returns what arrived before the server confirmed it.
  void stopReceiving() override;

 private:
  RedisSubscriber(RedisAddress address, std::string name, ChannelMode mode, std::shared_ptr<Subscriptions> own);
  Result<void> subscribe();

  RedisAddress address_;
  std::string name_;
  ChannelMode mode_;
  std::shared_ptr<Subscriptions> own_;
  std::optional<RedisConnection> connection_;
  RedisPublisher republish_;
  uint64_t received_ = 0;
  bool closing_ = false;  // unsubscribed; the server's confirmation not read yet
  bool closed_ = false;   // nothing more will come
};

}  // namespace qsplit::redis
