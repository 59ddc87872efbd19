// Google Cloud Pub/Sub as a broker. A "queue" is a subscription, named by its ID in the
// address's project: a source pulls it, a sink publishes to its topic (a temporary
// subscription has a topic of the same ID, created with it). Messages keep their data,
// attributes and ordering key; a message is acknowledged to the subscription it came from only
// after the forwarder's publish of it succeeded, and one given back is made available at once
// (its ack deadline set to 0).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>

#include "brokers/pubsub/pubsub_address.h"
#include "core/broker.h"

namespace qsplit::pubsub {

class PubsubClient;

class PubsubAdmin final : public core::Admin {
 public:
  PubsubAdmin(std::shared_ptr<PubsubClient> client, TemporarySettings settings)
      : client_(std::move(client)), settings_(settings) {}

  // The subscription exists (GetSubscription); a queue of one partition.
  Result<core::QueueInfo> describe(const std::string& name) override;
  // A topic `name` and a subscription `name` on it, with the original subscription's ack
  // deadline, retention, expiration, retry policy, message ordering and labels, save what the
  // broker's TemporarySettings set. One left by an earlier attempt is taken as it is.
  Result<void> createLike(const std::string& original, const std::string& name) override;
  // The subscription `name` and the topic `name`; either already gone is no error.
  Result<void> remove(const std::string& name) override;
  // The messages that can be pulled from subscription `name` now (up to 1,000): Pub/Sub's API
  // reports no backlog (Cloud Monitoring does, minutes late), so they are pulled and given
  // back at once. A message a reader holds cannot be seen, and comes back once its ack deadline
  // passed: so with none to pull, 1 until none was seen for the subscription's ack deadline
  // (and 2 s) of counts in a row, then 0.
  Result<uint64_t> backlog(const std::string& name, const std::string& group) override;
  // The full name of the topic subscription `name` reads.
  Result<std::string> topicOf(const std::string& name);
  // The same, when `name` is the only subscription of that topic: publishing to the topic
  // then reaches `name` alone. An error naming the other subscription otherwise.
  Result<std::string> soleTopicOf(const std::string& name);

 private:
  // The topic and the ack deadline (seconds) of subscription `name`.
  Result<std::pair<std::string, int32_t>> subscription(const std::string& name);

  std::shared_ptr<PubsubClient> client_;
  TemporarySettings settings_;
  struct Quiet {
    std::optional<std::chrono::steady_clock::time_point> since;  // counted nothing since
    std::chrono::steady_clock::time_point last;                  // counted last
  };
  std::mutex mutex_;
  std::map<std::string, Quiet> quiet_;
};

class PubsubBroker final : public core::Broker {
 public:
  static Result<std::unique_ptr<PubsubBroker>> create(const PubsubAddress& address,
                                                      const TemporarySettings& settings = {});

  core::Admin& admin() override { return *admin_; }
  // Pulls subscription `name`; `group` is not used (a subscription is its own group).
  Result<std::unique_ptr<core::Source>> openSource(const std::string& name, const std::string& group) override;
  // Publishes to the topic that subscription `name` reads, when `name` is its only
  // subscription (Pub/Sub cannot publish to one subscription of a topic that several read).
  Result<std::unique_ptr<core::Sink>> openSink(const std::string& name) override;
  core::NameRules nameRules() const override { return core::pubsubNameRules(); }
  std::size_t batchSize() const override { return 1000; }

 private:
  PubsubBroker(std::shared_ptr<PubsubClient> client, const TemporarySettings& settings);
  std::shared_ptr<PubsubClient> client_;
  std::unique_ptr<PubsubAdmin> admin_;
};

}  // namespace qsplit::pubsub
