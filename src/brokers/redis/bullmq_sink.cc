#include "brokers/redis/bullmq_sink.h"

namespace qsplit::redis {

void BullmqSink::submit(std::span<const core::Message> messages) {
  if (!connection_ && !error_) {
    auto connection = RedisConnection::connect(address_);
    if (!connection) error_ = connection.error();
    else if (auto loaded = scripts_.load(*connection); !loaded) error_ = loaded.error();
    else connection_.emplace(std::move(connection).value());
  }
  if (!connection_) return;
  for (const auto& m : messages) {
    auto argv = addJob(scripts_, queue_, m);
    if (!argv) {
      if (!error_) error_ = argv.error();
      continue;
    }
    connection_->append(*argv);
    ++pending_;
  }
}

Result<void> BullmqSink::await() {
  for (; pending_ > 0 && connection_; --pending_) {
    auto reply = connection_->read();
    if (!reply) {
      if (!error_) error_ = reply.error();
      connection_.reset();  // unusable now; the next submit connects again
    } else if (reply->isError() || (reply->type == RedisReply::Type::kInteger && reply->integer < 0)) {
      // NOSCRIPT: the server lost the scripts; they are loaded again on the next connection.
      if (reply->isError() && reply->text.starts_with("NOSCRIPT")) connection_.reset();
      if (!error_)
        error_ = Error(ErrorCode::kUnavailable, "adding a job to bullmq queue " + queue_.name() + ": " +
                                                    (reply->isError() ? reply->text
                                                                      : "code " + std::to_string(reply->integer)));
    }
  }
  pending_ = 0;
  if (auto error = std::exchange(error_, std::nullopt)) return fail(*error);
  return {};
}

}  // namespace qsplit::redis
