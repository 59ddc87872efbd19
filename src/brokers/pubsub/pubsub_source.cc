#include "brokers/pubsub/pubsub_source.h"

#include <algorithm>

namespace qsplit::pubsub {
namespace {

// A pull that finds nothing waits on the server; at least this long, whatever the caller's wait.
constexpr std::chrono::milliseconds kShortestPull{50};

}  // namespace

Result<std::vector<core::Message>> PubsubSubscriber::receive(std::size_t max, std::chrono::milliseconds wait) {
  v1::PullRequest request;
  request.set_subscription(path_);
  request.set_max_messages(static_cast<int32_t>(std::clamp<std::size_t>(max, 1, kMaxPerCall)));
  v1::PullResponse response;
  // A pull that finds nothing waits on the server for a while; the deadline bounds it. (A
  // message the server sent as the deadline passed is delivered again after its deadline.)
  auto until = std::chrono::steady_clock::now() + std::max(wait, kShortestPull);
  auto status = client_->subscriber().Pull(client_->context(std::max(wait, kShortestPull)).get(), request, &response);
  std::vector<core::Message> out;
  // The deadline ended the wait: nothing came (it may also end as CANCELLED, the stream reset).
  auto code = status.error_code();
  if (code == grpc::StatusCode::DEADLINE_EXCEEDED ||
      (code == grpc::StatusCode::CANCELLED && std::chrono::steady_clock::now() >= until))
    return out;
  if (!status.ok()) return fail(statusError(status, "pulling " + path_));
  out.reserve(static_cast<std::size_t>(response.received_messages_size()));
  for (auto& received : *response.mutable_received_messages()) {
    auto& m = *received.mutable_message();
    core::Message message;
    message.body = std::move(*m.mutable_data());
    for (auto& [name, value] : *m.mutable_attributes()) message.attributes.push_back({name, value, ""});
    // Pub/Sub keeps attributes in a map: sorted here, so routing sees one order every time.
    std::sort(message.attributes.begin(), message.attributes.end(),
              [](const auto& a, const auto& b) { return a.name < b.name; });
    if (!m.ordering_key().empty()) message.key = m.ordering_key();
    message.id = m.message_id();
    message.timestamp_ms = m.publish_time().seconds() * 1000 + m.publish_time().nanos() / 1000000;
    message.receipt = std::move(*received.mutable_ack_id());
    out.push_back(std::move(message));
  }
  return out;
}

Result<void> PubsubSubscriber::ack(std::span<const core::Message> messages) {
  for (std::size_t from = 0; from < messages.size(); from += kMaxPerCall) {
    v1::AcknowledgeRequest request;
    request.set_subscription(path_);
    for (const auto& m : messages.subspan(from, std::min(kMaxPerCall, messages.size() - from)))
      request.add_ack_ids(m.receipt);
    google::protobuf::Empty empty;
    auto status = client_->subscriber().Acknowledge(client_->context().get(), request, &empty);
    if (!status.ok()) return fail(statusError(status, "acknowledging on " + path_));
  }
  return ok();
}

// Delivered again at once: an ack deadline of 0.
Result<void> PubsubSubscriber::release(std::span<const core::Message> messages) {
  for (std::size_t from = 0; from < messages.size(); from += kMaxPerCall) {
    v1::ModifyAckDeadlineRequest request;
    request.set_subscription(path_);
    request.set_ack_deadline_seconds(0);
    for (const auto& m : messages.subspan(from, std::min(kMaxPerCall, messages.size() - from)))
      request.add_ack_ids(m.receipt);
    google::protobuf::Empty empty;
    auto status = client_->subscriber().ModifyAckDeadline(client_->context().get(), request, &empty);
    if (!status.ok()) return fail(statusError(status, "giving messages back to " + path_));
  }
  return ok();
}

}  // namespace qsplit::pubsub
