// RabbitMQ queues: describe, create a temporary queue like an original, delete, backlog.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "brokers/rabbitmq/rabbitmq_connection.h"
#include "core/broker.h"
#include "http/http_client.h"

namespace qsplit::rabbitmq {

// How a temporary queue is declared. Values left unset come from the original queue where
// the management API reports them, else from the defaults: durable, not exclusive, not
// auto-delete, no arguments.
struct QueueDeclare {
  std::optional<bool> durable;
  std::optional<bool> exclusive;
  std::optional<bool> auto_delete;
  // "x-queue-type" -> "quorum", "x-max-length" -> "1000": a value that reads as an integer is
  // sent as one, "true"/"false" as a boolean, anything else as a string.
  std::map<std::string, std::string> arguments;

  // From a queue's property list (`queueProperties`/`queueConfig`): durable, exclusive,
  // auto_delete, arguments.<name>. Errors name the property.
  static Result<QueueDeclare> fromProperties(const std::map<std::string, std::string>& properties);
};

// Thread-safe: one connection, used under a lock, opened again when lost.
class RabbitAdmin final : public core::Admin {
 public:
  explicit RabbitAdmin(RabbitSettings settings, std::unique_ptr<http::HttpClient> management)
      : settings_(std::move(settings)), management_(std::move(management)) {}

  Result<core::QueueInfo> describe(const std::string& name) override;
  // Declares `name` as `original` is declared (see QueueDeclare), never exclusive to qsplit's
  // connection unless the queue's properties ask for it.
  Result<void> createLike(const std::string& original, const std::string& name) override;
  // kFailedPrecondition while a consumer still reads the queue: deleting it would take the
  // messages that consumer holds unacknowledged with it. A missing queue is not an error.
  Result<void> remove(const std::string& name) override;
  // Ready messages, plus unacknowledged ones when the management API is configured.
  Result<uint64_t> backlog(const std::string& name, const std::string& group) override;

  // The declare options for temporaries of `original`, from its registry's property list.
  void setDeclare(const std::string& original, QueueDeclare declare);

  struct Counts {
    uint64_t messages = 0;  // ready
    uint32_t consumers = 0;
  };
  Result<Counts> counts(const std::string& name);

 private:
  Result<RabbitConnection*> connection();
  // What the management API reports about a queue (nothing when it is not configured).
  struct Reported {
    QueueDeclare declare;
    uint64_t unacknowledged = 0;
  };
  Result<Reported> reported(const std::string& name);

  RabbitSettings settings_;
  std::unique_ptr<http::HttpClient> management_;  // null when not configured
  std::mutex mutex_;
  std::unique_ptr<RabbitConnection> connection_;
  std::map<std::string, QueueDeclare> declares_;
};

}  // namespace qsplit::rabbitmq
