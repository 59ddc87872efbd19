// Google Cloud Pub/Sub over its gRPC API (google.pubsub.v1, generated from Google's .proto
// files): one channel with the Publisher and Subscriber stubs that a broker's admin, sources
// and sinks share (gRPC stubs are thread-safe).
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>

#include "brokers/pubsub/pubsub_address.h"
#include "google/pubsub/v1/pubsub.grpc.pb.h"

namespace qsplit::pubsub {

namespace v1 = google::pubsub::v1;

class PubsubClient {
 public:
  // Opens the channel (it connects on first use) after validating the address.
  static Result<std::shared_ptr<PubsubClient>> connect(const PubsubAddress& address);

  const PubsubAddress& address() const { return address_; }
  v1::Publisher::Stub& publisher() { return *publisher_; }
  v1::Subscriber::Stub& subscriber() { return *subscriber_; }
  // A context for one call, ending after `timeout` (the address's when zero).
  std::unique_ptr<grpc::ClientContext> context(std::chrono::milliseconds timeout = {}) const;

 private:
  PubsubClient(PubsubAddress address, std::shared_ptr<grpc::Channel> channel);
  PubsubAddress address_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Publisher::Stub> publisher_;
  std::unique_ptr<v1::Subscriber::Stub> subscriber_;
};

// An error for a failed call: "Pub/Sub WHAT: MESSAGE (CODE)", its code mapped (NOT_FOUND to
// kNotFound, PERMISSION_DENIED and UNAUTHENTICATED to kPermissionDenied, ALREADY_EXISTS,
// INVALID_ARGUMENT, DEADLINE_EXCEEDED; anything else kUnavailable).
Error statusError(const grpc::Status& status, const std::string& what);

}  // namespace qsplit::pubsub
