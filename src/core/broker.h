// The interfaces every broker adapter implements (memory, Kafka, SQS, RabbitMQ).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"
#include "core/message.h"
#include "core/naming.h"

namespace qsplit::core {

enum class QueueKind {
  kQueue,  // messages are deleted once acknowledged (SQS, RabbitMQ)
  kTopic,  // a partitioned log read through consumer-group offsets (Kafka)
  // Delivered to whoever subscribes at that moment, and kept nowhere (Redis Pub/Sub): the
  // original is forwarded from before the patch until after the restore, and a temporary
  // channel has nothing to drain or give back.
  kChannel,
};

struct QueueInfo {
  std::string name;
  QueueKind kind = QueueKind::kQueue;
  int32_t partitions = 1;
};

// Consumes one queue or topic. Not thread-safe: one forwarding loop owns it.
class Source {
 public:
  virtual ~Source() = default;
  // Up to `max` messages, waiting up to `wait` for the first. An empty vector is not an
  // error. Each message carries the receipt that ack() and release() take.
  virtual Result<std::vector<Message>> receive(std::size_t max, std::chrono::milliseconds wait) = 0;
  // The messages were durably forwarded: remove them from the source (SQS DeleteMessage,
  // Kafka offset commit, AMQP ack). Only called after every destination accepted them.
  virtual Result<void> ack(std::span<const Message> messages) = 0;
  // The messages could not be forwarded: make them available again soon.
  virtual Result<void> release(std::span<const Message> messages) = 0;
  // Channels: stops taking new messages (unsubscribes); what had arrived still comes out of
  // receive(), and once it is all out receive() returns nothing at once. Elsewhere: nothing.
  virtual void stopReceiving() {}
  // Hands back a received batch once it is acknowledged or released, so a later receive
  // may reuse its messages' buffers. Optional for the caller; a source may ignore it.
  virtual void recycle(std::vector<Message>&& batch) { (void)batch; }
};

// Produces to one queue or topic. Not thread-safe.
class Sink {
 public:
  virtual ~Sink() = default;
  // Starts sending `messages` and returns without waiting for the broker, so a caller can
  // start sends to many destinations and then wait for all of them. A message with a
  // partition index goes to that partition. Body, attributes, key and timestamp are kept.
  virtual void submit(std::span<const Message> messages) = 0;
  // Waits until every message submitted since the last await() is durably accepted (SQS
  // SendMessage answered, Kafka delivery report with acks=all, AMQP publisher confirm), or
  // returns the first error, in which case any of them may not have been accepted.
  virtual Result<void> await() = 0;

  // Rounds, for a caller that submits its next batch before waiting for this one: endRound()
  // closes what was submitted since the last endRound() into a round and returns its number;
  // awaitRound(n) waits for the rounds up to n only, and returns the first error of any
  // round (a failure may then belong to a later round too). A sink without rounds waits for
  // everything: still correct, it just does not overlap.
  virtual uint64_t endRound() { return 0; }
  virtual Result<void> awaitRound(uint64_t round) {
    (void)round;
    return await();
  }

  Result<void> send(std::span<const Message> messages) {
    submit(messages);
    return await();
  }
};

// Manages queues and topics. Thread-safe.
class Admin {
 public:
  virtual ~Admin() = default;
  virtual Result<QueueInfo> describe(const std::string& name) = 0;
  // Creates `name` with the original's kind, partition count and settings.
  virtual Result<void> createLike(const std::string& original, const std::string& name) = 0;
  virtual Result<void> remove(const std::string& name) = 0;
  // Messages not yet consumed: visible plus in flight for a queue, the lag of `group`
  // summed over partitions for a topic.
  virtual Result<uint64_t> backlog(const std::string& name, const std::string& group) = 0;
  // Channels (QueueKind::kChannel): how many clients besides qsplit's own sources read
  // `name` now. Where the broker keeps messages: an error.
  virtual Result<uint64_t> readers(const std::string& name) {
    return fail(ErrorCode::kFailedPrecondition, "counting the readers of " + name + ": not a channel");
  }
  // A new consumer group that stands on `name` where `group` stands (its committed
  // positions), for a reader kept out of `group` by a member of another kind: Kafka Streams
  // does not leave its group on close, and its member stays until its session times out.
  // Where the broker has no groups: an error.
  virtual Result<std::string> groupLike(const std::string& name, const std::string& group) {
    (void)group;
    return fail(ErrorCode::kFailedPrecondition, "reading " + name + ": the broker has no groups");
  }
};

// A source and sinks whose batches commit atomically: the records sent to every destination
// together with the source position after the batch, or none of them (Kafka transactions).
// Not thread-safe: one forwarding loop owns it.
class TransactionalPipe {
 public:
  virtual ~TransactionalPipe() = default;
  virtual Source& source() = 0;
  // The sink for `destination`, owned by the pipe; its sends belong to the open transaction.
  virtual Result<Sink*> sink(const std::string& destination) = 0;
  virtual Result<void> begin() = 0;
  // Commits what the sinks sent since begin() and the source position past `consumed`. On
  // error the transaction is aborted and the source rewound to `consumed`.
  virtual Result<void> commit(std::span<const Message> consumed) = 0;
  // Drops what the sinks sent since begin() and rewinds the source to `consumed`.
  virtual Result<void> abort(std::span<const Message> consumed) = 0;
};

class Broker {
 public:
  virtual ~Broker() = default;
  virtual Admin& admin() = 0;
  // `group` is the consumer group for topics (ignored by queues).
  virtual Result<std::unique_ptr<Source>> openSource(const std::string& name,
                                                     const std::string& group) = 0;
  virtual Result<std::unique_ptr<Sink>> openSink(const std::string& name) = 0;
  virtual NameRules nameRules() const = 0;
  // How many messages one receive should ask for (SQS allows at most 10; Kafka prefers more).
  virtual std::size_t batchSize() const { return 10; }
  // Whether a forwarder may receive and send its next batch while the last one's sends are
  // still unconfirmed (its sinks have rounds, and its source acknowledges in any order).
  virtual bool overlapsBatches() const { return false; }
  // Exactly-once forwarding from `name` read as `group`, where the broker has transactions.
  // Pipes of the same name, group and `instance` fence each other (a restarted forwarder
  // fences the one it replaces); different instances forward side by side.
  virtual Result<std::unique_ptr<TransactionalPipe>> openTransactionalPipe(
      const std::string& name, const std::string& group, const std::string& instance = "") {
    (void)group;
    (void)instance;
    return fail(ErrorCode::kFailedPrecondition,
                "forwarding from " + name + " exactly once needs transactions, which this broker lacks");
  }
};

// Points a deployed workload at a queue, as a rollout would. Implemented by the local
// process runner and the Kubernetes patcher.
class WorkloadPatcher {
 public:
  virtual ~WorkloadPatcher() = default;
  // Makes the workload read `replacement` wherever it read `original`; returns once at
  // least one instance does. Blocking.
  virtual Result<void> patch(const std::string& original, const std::string& replacement) = 0;
  // Undoes patch(): the workload reads `original` again. Blocking.
  virtual Result<void> restore(const std::string& original) = 0;
};

}  // namespace qsplit::core
