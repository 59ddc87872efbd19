#include "brokers/redis/redis_sink.h"

#include "brokers/redis/redis_source.h"

namespace qsplit::redis {

void RedisSink::submit(std::span<const core::Message> messages) {
  if (!connection_ && !error_) {
    auto connection = RedisConnection::connect(address_);
    if (!connection) error_ = connection.error();
    else connection_.emplace(std::move(connection).value());
  }
  if (!connection_) return;
  for (const auto& m : messages) {
    if (m.attributes.empty()) {  // a stream entry has at least one field
      if (!error_) error_ = Error(ErrorCode::kInvalidArgument, "adding to redis stream " + stream_ + ": message " + m.id + " has no fields");
      continue;
    }
    connection_->append(xadd(stream_, m));
    ++pending_;
  }
}

Result<void> RedisSink::await() {
  for (; pending_ > 0 && connection_; --pending_) {
    auto reply = connection_->read();
    if (!reply) {
      if (!error_) error_ = reply.error();
      connection_.reset();  // unusable now; the next submit connects again
    } else if (reply->isError() && !error_) {
      error_ = Error(ErrorCode::kUnavailable, "adding to redis stream " + stream_ + ": " + reply->text);
    }
  }
  pending_ = 0;
  if (auto error = std::exchange(error_, std::nullopt)) return fail(*error);
  return {};
}

}  // namespace qsplit::redis
