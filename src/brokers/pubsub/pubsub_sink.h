// Publishes to one topic. A submit starts its publish at once (gRPC's callback API), so a
// forwarder's sends to many topics overlap; one topic's publishes run one after the other, so
// messages with one ordering key keep their order.
#pragma once

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>

#include "brokers/pubsub/pubsub_client.h"
#include "core/broker.h"

namespace qsplit::pubsub {

class PubsubPublisher final : public core::Sink {
 public:
  PubsubPublisher(std::shared_ptr<PubsubClient> client, std::string topic)
      : client_(std::move(client)), topic_(std::move(topic)) {}
  ~PubsubPublisher() override;  // waits for the publish in flight

  // Data, attributes and ordering key (the message's key); up to 1,000 messages and 9 MB a
  // publish.
  void submit(std::span<const core::Message> messages) override;
  // Every publish submitted since the last await() answered with an ID for each message, or
  // the first error (what was not yet published then is dropped: the caller gives it back).
  Result<void> await() override;

 private:
  struct Call;
  // With mutex_ held: the next queued publish (busy_ set), or null (busy_ cleared, waiters told).
  std::shared_ptr<Call> next();
  void start(std::shared_ptr<Call> call);  // without mutex_ held
  void finished(const Call& call, const grpc::Status& status);  // on a gRPC thread

  std::shared_ptr<PubsubClient> client_;
  std::string topic_;
  std::mutex mutex_;
  std::condition_variable idle_;
  std::deque<v1::PublishRequest> queued_;
  std::size_t last_bytes_ = 0;  // of queued_.back()
  bool busy_ = false;           // a publish is in flight
  std::optional<Error> error_;
};

}  // namespace qsplit::pubsub
