// Receives from one SQS queue with several long polls in flight at once.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "brokers/sqs/sqs_client.h"
#include "core/broker.h"

namespace qsplit::sqs {

class SqsSource final : public core::Source {
 public:
  // `visibility`: how long received messages stay hidden from other consumers. A thread
  // extends it by as much every visibility/2 for messages received and not yet acknowledged
  // or released, however long their sends take; after a crash they are visible again
  // within `visibility`.
  SqsSource(SqsClient& client, std::string name, std::string url, std::size_t pollers,
            std::chrono::seconds visibility);
  // Gives back the messages of a poll still in flight.
  ~SqsSource() override;

  // Returns what the polls started by the previous call brought, if any, and starts the next
  // ones before returning, so receiving overlaps the caller's sends. Otherwise
  // ceil(max / 10) ReceiveMessage calls in parallel (at most `pollers`; one for a FIFO
  // queue, so that order within a message group holds), each long-polling
  // up to `wait` (whole seconds, at most 20), with every message and system attribute.
  Result<std::vector<core::Message>> receive(std::size_t max, std::chrono::milliseconds wait) override;
  // DeleteMessageBatch in parallel batches of 10; partial failures are reported.
  Result<void> ack(std::span<const core::Message> messages) override;
  // ChangeMessageVisibilityBatch to 0: visible again at once.
  Result<void> release(std::span<const core::Message> messages) override;

 private:
  // Runs `action` over batches of 10 messages in parallel, entries made by `entry`.
  void extendLoop();
  void track(const std::vector<core::Message>& received);
  void untrack(std::span<const core::Message> settled);
  Result<void> startPolls(std::size_t max, std::chrono::milliseconds wait);
  Result<std::vector<core::Message>> collect(std::vector<SqsClient::Pending>& polls);
  template <class Entry>
  Result<void> perBatch(const std::string& action, std::span<const core::Message> messages,
                        Entry entry);

  SqsClient& client_;
  std::string name_;
  std::string url_;
  std::size_t pollers_;
  std::chrono::seconds visibility_;
  bool fifo_;
  std::vector<SqsClient::Pending> prefetch_;  // polls started for the next receive()

  std::mutex mutex_;
  std::condition_variable wake_;
  std::map<std::string, core::Message> in_flight_;  // receipt -> message; guarded by mutex_
  bool stopping_ = false;                           // guarded by mutex_
  std::thread extender_;
};

}  // namespace qsplit::sqs
