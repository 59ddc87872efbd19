// Pulls one subscription (unary Pull, up to 1,000 messages a call), acknowledges what was
// forwarded and gives back the rest at once (an ack deadline of 0).
#pragma once

#include <memory>

#include "brokers/pubsub/pubsub_client.h"
#include "core/broker.h"

namespace qsplit::pubsub {

// At most this many messages in one pull, publish or acknowledge: Pub/Sub's limit for the
// first two, and well under the acknowledge's 512 KB request limit.
inline constexpr std::size_t kMaxPerCall = 1000;

class PubsubSubscriber final : public core::Source {
 public:
  PubsubSubscriber(std::shared_ptr<PubsubClient> client, const std::string& name)
      : client_(std::move(client)), path_(client_->address().subscriptionPath(name)) {}

  // A message's receipt is its ack ID; its attributes are sorted by name (Pub/Sub keeps them in
  // a map), its key is the ordering key.
  Result<std::vector<core::Message>> receive(std::size_t max, std::chrono::milliseconds wait) override;
  Result<void> ack(std::span<const core::Message> messages) override;
  Result<void> release(std::span<const core::Message> messages) override;

 private:
  std::shared_ptr<PubsubClient> client_;
  std::string path_;
};

}  // namespace qsplit::pubsub
