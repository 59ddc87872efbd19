#include "brokers/pubsub/pubsub_broker.h"

#include <algorithm>

#include "brokers/pubsub/pubsub_client.h"

namespace qsplit::pubsub {
namespace {

// Pub/Sub's own limits: at most 1,000 messages and 10 MB a publish, 1,000 a pull; an
// acknowledge of 1,000 ack IDs stays well under its 512 KB request limit.
constexpr std::size_t kMaxPerCall = 1000;
constexpr std::size_t kMaxPublishBytes = 9 << 20;
constexpr std::chrono::milliseconds kShortestPull{50};

class PubsubSubscriber final : public core::Source {
 public:
  PubsubSubscriber(std::shared_ptr<PubsubClient> client, std::string name)
      : client_(std::move(client)), name_(std::move(name)), path_(client_->address().subscriptionPath(name_)) {}

  Result<std::vector<core::Message>> receive(std::size_t max, std::chrono::milliseconds wait) override {
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

  Result<void> ack(std::span<const core::Message> messages) override {
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
  Result<void> release(std::span<const core::Message> messages) override {
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

 private:
  std::shared_ptr<PubsubClient> client_;
  std::string name_, path_;
};

class PubsubPublisher final : public core::Sink {
 public:
  PubsubPublisher(std::shared_ptr<PubsubClient> client, std::string topic)
      : client_(std::move(client)), topic_(std::move(topic)) {}

  void submit(std::span<const core::Message> messages) override {
    for (const auto& m : messages) {
      std::size_t size = m.body.size() + m.key.value_or("").size();
      for (const auto& a : m.attributes) size += a.name.size() + a.value.size();
      if (pending_.empty() || pending_.back().messages_size() >= static_cast<int>(kMaxPerCall) ||
          bytes_ + size > kMaxPublishBytes) {
        pending_.emplace_back().set_topic(topic_);
        bytes_ = 0;
      }
      bytes_ += size;
      auto& out = *pending_.back().add_messages();
      out.set_data(m.body);
      for (const auto& a : m.attributes) (*out.mutable_attributes())[a.name] = a.value;
      if (m.key && !m.key->empty()) out.set_ordering_key(*m.key);
    }
  }

  // One publish after the other, in order: messages of one ordering key keep their order.
  Result<void> await() override {
    auto requests = std::exchange(pending_, {});
    bytes_ = 0;
    for (const auto& request : requests) {
      v1::PublishResponse response;
      auto status = client_->publisher().Publish(client_->context().get(), request, &response);
      if (!status.ok()) return fail(statusError(status, "publishing to " + topic_));
      if (response.message_ids_size() != request.messages_size())
        return fail(ErrorCode::kUnavailable, "Pub/Sub publishing to " + topic_ + ": " +
                                                 std::to_string(response.message_ids_size()) + " of " +
                                                 std::to_string(request.messages_size()) + " messages accepted");
    }
    return ok();
  }

 private:
  std::shared_ptr<PubsubClient> client_;
  std::string topic_;
  std::vector<v1::PublishRequest> pending_;
  std::size_t bytes_ = 0;
};

}  // namespace

PubsubBroker::PubsubBroker(std::shared_ptr<PubsubClient> client)
    : client_(std::move(client)), admin_(std::make_unique<PubsubAdmin>(client_)) {}

Result<std::unique_ptr<PubsubBroker>> PubsubBroker::create(const PubsubAddress& address) {
  QSPLIT_ASSIGN_OR_RETURN(auto client, PubsubClient::connect(address));
  return std::unique_ptr<PubsubBroker>(new PubsubBroker(std::move(client)));
}

Result<std::unique_ptr<core::Source>> PubsubBroker::openSource(const std::string& name, const std::string&) {
  QSPLIT_TRY(admin_->describe(name));
  return std::unique_ptr<core::Source>(std::make_unique<PubsubSubscriber>(client_, name));
}

Result<std::unique_ptr<core::Sink>> PubsubBroker::openSink(const std::string& name) {
  QSPLIT_ASSIGN_OR_RETURN(auto topic, admin_->soleTopicOf(name));
  return std::unique_ptr<core::Sink>(std::make_unique<PubsubPublisher>(client_, std::move(topic)));
}

}  // namespace qsplit::pubsub
