#include "brokers/pubsub/pubsub_sink.h"

#include "brokers/pubsub/pubsub_source.h"

namespace qsplit::pubsub {
namespace {

constexpr std::size_t kMaxPublishBytes = 9 << 20;  // Pub/Sub takes 10 MB a publish

}  // namespace

struct PubsubPublisher::Call {
  std::unique_ptr<grpc::ClientContext> context;
  v1::PublishRequest request;
  v1::PublishResponse response;
};

PubsubPublisher::~PubsubPublisher() {
  std::unique_lock lock(mutex_);
  queued_.clear();
  idle_.wait(lock, [&] { return !busy_; });
}

void PubsubPublisher::submit(std::span<const core::Message> messages) {
  std::unique_lock lock(mutex_);
  for (const auto& m : messages) {
    std::size_t size = m.body.size() + m.key.value_or("").size();
    for (const auto& a : m.attributes) size += a.name.size() + a.value.size();
    if (queued_.empty() || queued_.back().messages_size() >= static_cast<int>(kMaxPerCall) ||
        last_bytes_ + size > kMaxPublishBytes) {
      queued_.emplace_back().set_topic(topic_);
      last_bytes_ = 0;
    }
    last_bytes_ += size;
    auto& out = *queued_.back().add_messages();
    out.set_data(m.body);
    for (const auto& a : m.attributes) (*out.mutable_attributes())[a.name] = a.value;
    if (m.key && !m.key->empty()) out.set_ordering_key(*m.key);
  }
  if (busy_) return;  // the publish in flight starts the next when it is answered
  auto call = next();
  lock.unlock();
  start(std::move(call));
}

std::shared_ptr<PubsubPublisher::Call> PubsubPublisher::next() {
  if (queued_.empty() || error_) {
    busy_ = false;
    idle_.notify_all();
    return nullptr;
  }
  busy_ = true;
  auto call = std::make_shared<Call>();
  call->context = client_->context();
  call->request = std::move(queued_.front());
  queued_.pop_front();
  if (queued_.empty()) last_bytes_ = 0;
  return call;
}

void PubsubPublisher::start(std::shared_ptr<Call> call) {
  if (!call) return;
  // Started without mutex_ held: gRPC may answer on this thread. The callback keeps the call
  // (its context, request and response) alive until the answer.
  client_->publisher().async()->Publish(call->context.get(), &call->request, &call->response,
                                        [this, call](grpc::Status status) { finished(*call, status); });
}

void PubsubPublisher::finished(const Call& call, const grpc::Status& status) {
  std::shared_ptr<Call> following;
  {
    std::lock_guard lock(mutex_);
    if (!status.ok()) {
      error_ = statusError(status, "publishing to " + topic_);
    } else if (call.response.message_ids_size() != call.request.messages_size()) {
      error_ = Error(ErrorCode::kUnavailable, "Pub/Sub publishing to " + topic_ + ": " +
                                                  std::to_string(call.response.message_ids_size()) + " of " +
                                                  std::to_string(call.request.messages_size()) +
                                                  " messages accepted");
    }
    following = next();
  }
  start(std::move(following));
}

Result<void> PubsubPublisher::await() {
  std::unique_lock lock(mutex_);
  idle_.wait(lock, [&] { return !busy_; });
  queued_.clear();
  last_bytes_ = 0;
  if (auto error = std::exchange(error_, std::nullopt)) return fail(*error);
  return ok();
}

}  // namespace qsplit::pubsub
