// Consumes one RabbitMQ queue with manual acknowledgements and a prefetch window.
#pragma once

#include <cstdint>
#include <memory>
#include <set>
#include <string>

#include "brokers/rabbitmq/rabbitmq_connection.h"
#include "core/broker.h"

namespace qsplit::rabbitmq {

// Not thread-safe (core::Source). A lost connection is opened again on the next receive();
// the server then redelivers whatever it had delivered and not seen acknowledged, and acks of
// those old deliveries are skipped (at least once: they arrive again).
class RabbitSource final : public core::Source {
 public:
  // Connects and starts consuming `queue`; kNotFound when it does not exist.
  static Result<std::unique_ptr<RabbitSource>> open(const RabbitSettings& settings,
                                                    std::string queue, uint16_t prefetch);

  Result<std::vector<core::Message>> receive(std::size_t max, std::chrono::milliseconds wait) override;
  Result<void> ack(std::span<const core::Message> messages) override;
  Result<void> release(std::span<const core::Message> messages) override;

 private:
  RabbitSource(RabbitSettings settings, std::string queue, uint16_t prefetch)
      : settings_(std::move(settings)), queue_(std::move(queue)), prefetch_(prefetch) {}
  Result<void> connect();
  // The delivery tags of `messages` delivered on the current connection.
  std::vector<uint64_t> currentTags(std::span<const core::Message> messages) const;
  // Handles what interrupted consuming (a cancel, a close): always an error.
  Error interrupted();

  RabbitSettings settings_;
  std::string queue_;
  uint16_t prefetch_;
  std::unique_ptr<RabbitConnection> connection_;
  uint64_t generation_ = 0;     // counts connections; part of every receipt
  std::set<uint64_t> pending_;  // delivered on this connection, not yet acked or released
};

}  // namespace qsplit::rabbitmq
