// Sends to one SQS queue with SendMessageBatch: batches to a standard queue go out in
// parallel; batches to a FIFO queue one after another, so order within a group holds.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "brokers/sqs/sqs_client.h"
#include "core/broker.h"

namespace qsplit::sqs {

class SqsSink final : public core::Sink {
 public:
  SqsSink(SqsClient& client, std::string name, std::string url);

  void submit(std::span<const core::Message> messages) override;
  // Entries SQS refused for its own reasons (not the sender's fault) are sent again, up to
  // the client's attempts; the first error that remains is returned.
  Result<void> await() override;

 private:
  nlohmann::json request(nlohmann::json entries) const;
  Result<void> settle(Result<nlohmann::json> answer, nlohmann::json entries);

  SqsClient& client_;
  std::string name_;
  std::string url_;
  bool fifo_;
  std::vector<std::pair<nlohmann::json, SqsClient::Pending>> in_flight_;  // standard queues
  std::vector<nlohmann::json> queued_;  // FIFO: entry batches sent in order by await()
  std::optional<Error> start_error_;
};

}  // namespace qsplit::sqs
