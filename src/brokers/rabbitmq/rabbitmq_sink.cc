#include "brokers/rabbitmq/rabbitmq_sink.h"

#include <amqp_framing.h>

#include "brokers/rabbitmq/rabbitmq_message.h"

namespace qsplit::rabbitmq {

Result<std::unique_ptr<RabbitSink>> RabbitSink::open(const RabbitSettings& settings,
                                                     std::string queue) {
  std::unique_ptr<RabbitSink> sink(new RabbitSink(settings, std::move(queue)));
  QSPLIT_TRY(sink->connect());
  return sink;
}

Result<void> RabbitSink::connect() {
  connection_.reset();
  published_ = 0;
  unconfirmed_.clear();
  QSPLIT_ASSIGN_OR_RETURN(auto connection, RabbitConnection::open(settings_));
  amqp_confirm_select(connection->state(), RabbitConnection::kChannel);
  QSPLIT_TRY(connection->check("turning on publisher confirms on " + settings_.describe()));
  connection_ = std::move(connection);
  return ok();
}

void RabbitSink::drop(Error error) {
  connection_.reset();
  published_ = 0;
  unconfirmed_.clear();
  if (!error_) error_ = std::move(error);
}

void RabbitSink::submit(std::span<const core::Message> messages) {
  if (error_ || messages.empty()) return;
  if (!connection_ || connection_->broken()) {
    if (auto connected = connect(); !connected) return drop(connected.error());
  }
  amqp_pool_t pool;
  init_amqp_pool(&pool, 4096);
  for (const auto& m : messages) {
    PublishProperties properties(m, pool);
    amqp_bytes_t body{m.body.size(), const_cast<char*>(m.body.data())};
    int status = amqp_basic_publish(connection_->state(), RabbitConnection::kChannel,
                                    amqp_empty_bytes, amqp_cstring_bytes(queue_.c_str()),
                                    /*mandatory=*/1, 0, properties.get(), body);
    if (status != AMQP_STATUS_OK) {
      drop({ErrorCode::kUnavailable, "publishing to " + queue_ + ": " + amqp_error_string2(status)});
      break;
    }
    unconfirmed_.insert(++published_);
  }
  empty_amqp_pool(&pool);
}

Result<void> RabbitSink::await() {
  auto deadline = std::chrono::steady_clock::now() + settings_.timeout;
  while (connection_ && !unconfirmed_.empty()) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    timeval timeout = toTimeval(std::max(left, std::chrono::milliseconds(0)));
    amqp_frame_t frame;
    int status = amqp_simple_wait_frame_noblock(connection_->state(), &frame, &timeout);
    if (status == AMQP_STATUS_TIMEOUT) {
      drop({ErrorCode::kTimeout, "publishing to " + queue_ + ": no confirm within " +
                                     std::to_string(settings_.timeout.count()) + " ms"});
    } else if (status != AMQP_STATUS_OK) {
      drop({ErrorCode::kUnavailable, "publishing to " + queue_ + ": " + amqp_error_string2(status)});
    } else if (frame.frame_type == AMQP_FRAME_METHOD) {
      onFrame(frame);
    }
  }
  // The confirms were decoded into the connection's buffers: free them (nothing is pending).
  if (connection_) amqp_maybe_release_buffers(connection_->state());
  Result<void> result = ok();
  if (error_) result = fail(*error_);
  error_.reset();
  return result;
}

void RabbitSink::onFrame(const amqp_frame_t& frame) {
  const amqp_method_t& method = frame.payload.method;
  auto settle = [&](uint64_t tag, bool multiple) {
    if (multiple)
      unconfirmed_.erase(unconfirmed_.begin(), unconfirmed_.upper_bound(tag));
    else
      unconfirmed_.erase(tag);
  };
  std::string what = "publishing to " + queue_;
  switch (method.id) {
    case AMQP_BASIC_ACK_METHOD: {
      auto* ack = static_cast<amqp_basic_ack_t*>(method.decoded);
      settle(ack->delivery_tag, ack->multiple);
      break;
    }
    case AMQP_BASIC_NACK_METHOD: {
      auto* nack = static_cast<amqp_basic_nack_t*>(method.decoded);
      settle(nack->delivery_tag, nack->multiple);
      if (!error_) error_ = Error{ErrorCode::kUnavailable, what + ": the server refused a message"};
      break;
    }
    case AMQP_BASIC_RETURN_METHOD: {
      amqp_message_t returned;
      if (amqp_read_message(connection_->state(), frame.channel, &returned, 0).reply_type ==
          AMQP_RESPONSE_NORMAL)
        amqp_destroy_message(&returned);
      if (!error_)
        error_ = Error{ErrorCode::kNotFound, what + ": the server could not route a message "
                                                    "(does the queue exist?)"};
      break;
    }
    case AMQP_CHANNEL_CLOSE_METHOD:
    case AMQP_CONNECTION_CLOSE_METHOD:
      // A new channel would not be in confirm mode, and its tags would start again: reconnect.
      drop(connection_->closedByServer(frame, what));
      break;
    default:
      break;
  }
}

}  // namespace qsplit::rabbitmq
