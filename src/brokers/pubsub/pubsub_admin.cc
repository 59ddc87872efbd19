#include "brokers/pubsub/pubsub_broker.h"
#include "brokers/pubsub/pubsub_client.h"
#include "brokers/pubsub/pubsub_source.h"

namespace qsplit::pubsub {
namespace {

// How long a count waits for messages to pull: an empty subscription answers nothing.
constexpr std::chrono::milliseconds kPeekFor{300};
// A reader's last lease may end a little after its ack deadline.
constexpr std::chrono::seconds kAckMargin{2};
// Counts further apart than this are not "in a row": the quiet period starts again.
constexpr std::chrono::seconds kLookedAgainWithin{5};

Result<v1::Subscription> getSubscription(PubsubClient& client, const std::string& name) {
  if (name.empty()) return fail(ErrorCode::kInvalidArgument, "a Pub/Sub subscription needs an ID");
  v1::GetSubscriptionRequest request;
  request.set_subscription(client.address().subscriptionPath(name));
  v1::Subscription found;
  auto status = client.subscriber().GetSubscription(client.context().get(), request, &found);
  if (!status.ok()) return fail(statusError(status, "subscription " + request.subscription()));
  return found;
}

}  // namespace

Result<core::QueueInfo> PubsubAdmin::describe(const std::string& name) {
  QSPLIT_TRY(topicOf(name));
  return core::QueueInfo{name, core::QueueKind::kQueue, 1};
}

Result<std::string> PubsubAdmin::topicOf(const std::string& name) {
  QSPLIT_ASSIGN_OR_RETURN(auto found, subscription(name));
  return found.first;
}

Result<std::pair<std::string, int32_t>> PubsubAdmin::subscription(const std::string& name) {
  QSPLIT_ASSIGN_OR_RETURN(auto found, getSubscription(*client_, name));
  return std::pair(found.topic(), found.ack_deadline_seconds());
}

Result<void> PubsubAdmin::createLike(const std::string& original, const std::string& name) {
  const auto& address = client_->address();
  QSPLIT_ASSIGN_OR_RETURN(auto model, getSubscription(*client_, original));
  grpc::Status status;

  v1::Topic topic, created_topic;
  topic.set_name(address.topicPath(name));
  *topic.mutable_labels() = model.labels();
  status = client_->publisher().CreateTopic(client_->context().get(), topic, &created_topic);
  if (!status.ok() && status.error_code() != grpc::StatusCode::ALREADY_EXISTS)
    return fail(statusError(status, "creating topic " + topic.name()));

  v1::Subscription subscription, created;
  subscription.set_name(address.subscriptionPath(name));
  subscription.set_topic(topic.name());
  subscription.set_ack_deadline_seconds(model.ack_deadline_seconds());
  subscription.set_retain_acked_messages(model.retain_acked_messages());
  if (model.has_message_retention_duration())
    *subscription.mutable_message_retention_duration() = model.message_retention_duration();
  if (model.has_expiration_policy()) *subscription.mutable_expiration_policy() = model.expiration_policy();
  if (model.has_retry_policy()) *subscription.mutable_retry_policy() = model.retry_policy();
  subscription.set_enable_message_ordering(model.enable_message_ordering());
  *subscription.mutable_labels() = model.labels();
  if (settings_.ack_deadline_seconds) subscription.set_ack_deadline_seconds(*settings_.ack_deadline_seconds);
  if (settings_.message_retention_seconds)
    subscription.mutable_message_retention_duration()->set_seconds(*settings_.message_retention_seconds);
  if (settings_.expiration_seconds == 0) subscription.mutable_expiration_policy()->clear_ttl();  // never
  else if (settings_.expiration_seconds)
    subscription.mutable_expiration_policy()->mutable_ttl()->set_seconds(*settings_.expiration_seconds);
  status = client_->subscriber().CreateSubscription(client_->context().get(), subscription, &created);
  if (!status.ok() && status.error_code() != grpc::StatusCode::ALREADY_EXISTS)
    return fail(statusError(status, "creating subscription " + subscription.name()));
  return ok();
}

Result<void> PubsubAdmin::remove(const std::string& name) {
  // The topic first: a publish that comes after it fails (NOT_FOUND), so its message is not
  // acknowledged at its source and comes again; one into a subscription about to go would be
  // lost with it.
  const auto& address = client_->address();
  v1::DeleteTopicRequest topic;
  topic.set_topic(address.topicPath(name));
  google::protobuf::Empty empty;
  auto status = client_->publisher().DeleteTopic(client_->context().get(), topic, &empty);
  if (!status.ok() && status.error_code() != grpc::StatusCode::NOT_FOUND)
    return fail(statusError(status, "deleting topic " + topic.topic()));
  v1::DeleteSubscriptionRequest subscription;
  subscription.set_subscription(address.subscriptionPath(name));
  status = client_->subscriber().DeleteSubscription(client_->context().get(), subscription, &empty);
  if (!status.ok() && status.error_code() != grpc::StatusCode::NOT_FOUND)
    return fail(statusError(status, "deleting subscription " + subscription.subscription()));
  return ok();
}

Result<uint64_t> PubsubAdmin::backlog(const std::string& name, const std::string&) {
  // Pub/Sub reports no backlog through its API (Cloud Monitoring does, minutes late): the
  // messages that can be pulled now are pulled and given back at once, unacknowledged.
  QSPLIT_ASSIGN_OR_RETURN(auto found, subscription(name));  // a pull of none would wait in vain
  PubsubSubscriber peek(client_, name);
  QSPLIT_ASSIGN_OR_RETURN(auto pulled, peek.receive(kMaxPerCall, kPeekFor));
  if (!pulled.empty()) QSPLIT_TRY(peek.release(pulled));
  // A message a reader holds is not pulled, and comes back when the reader gives it back or
  // its ack deadline passes without an acknowledgement (the reader stopped): a subscription is
  // empty only once it has shown nothing for an ack deadline (and 2 s) in a row.
  auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mutex_);
  Quiet& quiet = quiet_[name];
  bool in_a_row = quiet.since && now - quiet.last <= kLookedAgainWithin;
  quiet.last = now;
  if (!pulled.empty()) {
    quiet.since.reset();
    return static_cast<uint64_t>(pulled.size());
  }
  if (!in_a_row) quiet.since = now;
  return now - *quiet.since < std::chrono::seconds(found.second) + kAckMargin ? uint64_t{1} : uint64_t{0};
}

Result<std::string> PubsubAdmin::soleTopicOf(const std::string& name) {
  QSPLIT_ASSIGN_OR_RETURN(auto topic, topicOf(name));
  v1::ListTopicSubscriptionsRequest request;
  request.set_topic(topic);
  request.set_page_size(2);
  v1::ListTopicSubscriptionsResponse response;
  auto status = client_->publisher().ListTopicSubscriptions(client_->context().get(), request, &response);
  if (!status.ok()) return fail(statusError(status, "listing the subscriptions of " + topic));
  const std::string path = client_->address().subscriptionPath(name);
  for (const auto& other : response.subscriptions())
    if (other != path)
      return fail(ErrorCode::kFailedPrecondition,
                  "Pub/Sub: publishing to subscription " + path + " means publishing to its topic " + topic +
                      ", which " + other + " reads too: it would receive the messages a second time");
  return topic;
}

}  // namespace qsplit::pubsub
