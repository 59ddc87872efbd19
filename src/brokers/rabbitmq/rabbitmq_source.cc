#include "brokers/rabbitmq/rabbitmq_source.h"

#include <amqp_framing.h>

#include <charconv>

#include "brokers/rabbitmq/rabbitmq_message.h"

namespace qsplit::rabbitmq {

Result<std::unique_ptr<RabbitSource>> RabbitSource::open(const RabbitSettings& settings,
                                                         std::string queue, uint16_t prefetch) {
  std::unique_ptr<RabbitSource> source(new RabbitSource(settings, std::move(queue), prefetch));
  QSPLIT_TRY(source->connect());
  return source;
}

Result<void> RabbitSource::connect() {
  connection_.reset();
  pending_.clear();
  QSPLIT_ASSIGN_OR_RETURN(auto connection, RabbitConnection::open(settings_));
  std::string what = "consuming " + queue_ + " on " + settings_.describe();
  amqp_basic_qos(connection->state(), RabbitConnection::kChannel, 0, prefetch_, 0);
  QSPLIT_TRY(connection->check(what));
  amqp_basic_consume(connection->state(), RabbitConnection::kChannel,
                     amqp_cstring_bytes(queue_.c_str()), amqp_empty_bytes, 0, /*no_ack=*/0, 0,
                     amqp_empty_table);
  QSPLIT_TRY(connection->check(what));
  connection_ = std::move(connection);
  ++generation_;
  return ok();
}

Result<std::vector<core::Message>> RabbitSource::receive(std::size_t max,
                                                         std::chrono::milliseconds wait) {
  if (!connection_ || connection_->broken()) QSPLIT_TRY(connect());
  std::vector<core::Message> out;
  amqp_connection_state_t state = connection_->state();
  std::string prefix = std::to_string(generation_) + ":";
  while (out.size() < max) {
    timeval timeout = toTimeval(out.empty() ? wait : std::chrono::milliseconds(0));
    amqp_maybe_release_buffers(state);
    amqp_envelope_t envelope;
    amqp_rpc_reply_t reply = amqp_consume_message(state, &envelope, &timeout, 0);
    if (reply.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
        reply.library_error == AMQP_STATUS_TIMEOUT)
      break;
    if (reply.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
        reply.library_error == AMQP_STATUS_UNEXPECTED_STATE)
      return fail(interrupted());
    if (reply.reply_type != AMQP_RESPONSE_NORMAL) {
      auto checked = connection_->checkReply(reply, "consuming " + queue_);
      connection_.reset();
      return fail(checked.error());
    }
    core::Message m = fromEnvelope(envelope);
    m.receipt = prefix + std::to_string(envelope.delivery_tag);
    pending_.insert(envelope.delivery_tag);
    amqp_destroy_envelope(&envelope);
    out.push_back(std::move(m));
  }
  return out;
}

Error RabbitSource::interrupted() {
  amqp_frame_t frame;
  std::string what = "consuming " + queue_;
  Error error{ErrorCode::kUnavailable, what + ": the server interrupted the consumer"};
  if (amqp_simple_wait_frame(connection_->state(), &frame) == AMQP_STATUS_OK &&
      frame.frame_type == AMQP_FRAME_METHOD) {
    if (frame.payload.method.id == AMQP_BASIC_CANCEL_METHOD)
      error = {ErrorCode::kNotFound, what + ": the server cancelled the consumer (was the queue deleted?)"};
    else if (frame.payload.method.id == AMQP_CHANNEL_CLOSE_METHOD ||
             frame.payload.method.id == AMQP_CONNECTION_CLOSE_METHOD)
      error = connection_->closedByServer(frame, what);
  }
  connection_.reset();  // deliveries not acked are the server's again
  return error;
}

std::vector<uint64_t> RabbitSource::currentTags(std::span<const core::Message> messages) const {
  std::vector<uint64_t> tags;
  std::string prefix = std::to_string(generation_) + ":";
  for (const auto& m : messages) {
    if (!m.receipt.starts_with(prefix)) continue;  // from a connection that is gone
    uint64_t tag = 0;
    const char* begin = m.receipt.data() + prefix.size();
    if (std::from_chars(begin, m.receipt.data() + m.receipt.size(), tag).ec == std::errc())
      tags.push_back(tag);
  }
  return tags;
}

Result<void> RabbitSource::ack(std::span<const core::Message> messages) {
  if (!connection_) return ok();  // the server has them back already
  auto tags = currentTags(messages);
  if (tags.empty()) return ok();
  uint64_t highest = 0;
  for (uint64_t tag : tags) {
    pending_.erase(tag);
    highest = std::max(highest, tag);
  }
  std::string what = "acknowledging on " + queue_;
  // One frame for the whole batch when nothing older is still pending.
  if (pending_.empty() || *pending_.begin() > highest)
    return connection_->checkStatus(
        amqp_basic_ack(connection_->state(), RabbitConnection::kChannel, highest, 1), what);
  for (uint64_t tag : tags)
    QSPLIT_TRY(connection_->checkStatus(
        amqp_basic_ack(connection_->state(), RabbitConnection::kChannel, tag, 0), what));
  return ok();
}

Result<void> RabbitSource::release(std::span<const core::Message> messages) {
  if (!connection_) return ok();
  for (uint64_t tag : currentTags(messages)) {
    pending_.erase(tag);
    QSPLIT_TRY(connection_->checkStatus(
        amqp_basic_nack(connection_->state(), RabbitConnection::kChannel, tag, 0, /*requeue=*/1),
        "releasing on " + queue_));
  }
  return ok();
}

}  // namespace qsplit::rabbitmq
