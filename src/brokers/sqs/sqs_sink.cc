#include "brokers/sqs/sqs_sink.h"

#include <map>

#include "brokers/sqs/sqs_messages.h"
#include "common/log.h"

namespace qsplit::sqs {

using nlohmann::json;

SqsSink::SqsSink(SqsClient& client, std::string name, std::string url)
    : client_(client), name_(std::move(name)), url_(std::move(url)), fifo_(isFifoName(name_)) {}

json SqsSink::request(json entries) const {
  return {{"QueueUrl", url_}, {"Entries", std::move(entries)}};
}

void SqsSink::submit(std::span<const core::Message> messages) {
  auto runs = batches(messages.size(), [&](std::size_t i) { return payloadSize(messages[i]); });
  for (auto [begin, end] : runs) {
    json entries = json::array();
    for (std::size_t i = begin; i < end; ++i)
      entries.push_back(sendEntry(messages[i], std::to_string(i - begin), fifo_));
    if (fifo_) {
      queued_.push_back(std::move(entries));
      continue;
    }
    auto started = client_.start("SendMessageBatch", request(entries));
    if (!started) {
      if (!start_error_) start_error_ = started.error();
      continue;
    }
    in_flight_.emplace_back(std::move(entries), std::move(started).value());
  }
}

Result<void> SqsSink::await() {
  std::optional<Error> first = std::move(start_error_);
  start_error_.reset();
  auto note = [&](Result<void> r) {
    if (!r && !first) first = r.error();
  };
  for (auto& [entries, pending] : in_flight_) {
    auto answer = client_.finish(pending);
    // A failed attempt is retried whole, with the client's backoff. The server may have
    // stored the batch before the failure, so this is where a copy may be sent twice.
    if (!answer && SqsClient::retryable(answer.error())) {
      logger("sqs")->warn("queue={} sending {} messages again (they may arrive twice): {}", name_,
                          entries.size(), answer.error().message());
      answer = client_.call("SendMessageBatch", request(entries));
    }
    note(settle(std::move(answer), entries));
  }
  in_flight_.clear();
  for (auto& entries : queued_) {
    if (first) break;  // FIFO: nothing after a failed batch, or order would break
    note(settle(client_.call("SendMessageBatch", request(entries)), entries));
  }
  queued_.clear();
  if (first) return fail(first->withContext("sending to " + name_));
  return ok();
}

Result<void> SqsSink::settle(Result<json> answer, json entries) {
  for (int attempt = 1;; ++attempt) {
    if (!answer) return fail(answer.error());
    auto failed = answer->find("Failed");
    if (failed == answer->end() || !failed->is_array() || failed->empty()) return ok();
    std::map<std::string, json> by_id;
    for (auto& e : entries) by_id[e["Id"].get<std::string>()] = e;
    json again = json::array();
    for (const auto& f : *failed) {
      std::string reason = f.value("Code", "") + ": " + f.value("Message", "");
      if (f.value("SenderFault", false) || attempt >= client_.settings().max_attempts)
        return fail(f.value("SenderFault", false) ? ErrorCode::kInvalidArgument
                                                  : ErrorCode::kUnavailable,
                    "SQS refused message " + f.value("Id", "") + " of a batch: " + reason);
      again.push_back(by_id[f.value("Id", "")]);
    }
    entries = std::move(again);
    answer = client_.call("SendMessageBatch", request(entries));
  }
}

}  // namespace qsplit::sqs
