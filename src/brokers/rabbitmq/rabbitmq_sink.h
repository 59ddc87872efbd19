// Publishes to one RabbitMQ queue through the default exchange, with publisher confirms.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "brokers/rabbitmq/rabbitmq_connection.h"
#include "core/broker.h"

namespace qsplit::rabbitmq {

// Not thread-safe (core::Sink). Messages are published mandatory, so one the server cannot
// route (the queue is gone) comes back and fails await() instead of vanishing. A lost
// connection fails await(); the next submit() connects again.
class RabbitSink final : public core::Sink {
 public:
  static Result<std::unique_ptr<RabbitSink>> open(const RabbitSettings& settings, std::string queue);

  void submit(std::span<const core::Message> messages) override;
  Result<void> await() override;

 private:
  RabbitSink(RabbitSettings settings, std::string queue)
      : settings_(std::move(settings)), queue_(std::move(queue)) {}
  Result<void> connect();
  void drop(Error error);  // forgets the connection, remembering why for await()
  void onFrame(const amqp_frame_t& frame);

  RabbitSettings settings_;
  std::string queue_;
  std::unique_ptr<RabbitConnection> connection_;
  uint64_t published_ = 0;          // the last delivery tag given on this channel
  std::set<uint64_t> unconfirmed_;  // published, neither acked nor nacked yet
  std::optional<Error> error_;      // the first failure since the last await()
};

}  // namespace qsplit::rabbitmq
