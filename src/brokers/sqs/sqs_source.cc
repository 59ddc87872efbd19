#include "brokers/sqs/sqs_source.h"

#include <nlohmann/json.hpp>

#include <set>

#include "brokers/sqs/sqs_messages.h"
#include "common/log.h"

namespace qsplit::sqs {

using nlohmann::json;

SqsSource::SqsSource(SqsClient& client, std::string name, std::string url, std::size_t pollers,
                     std::chrono::seconds visibility)
    : client_(client), name_(std::move(name)), url_(std::move(url)),
      pollers_(std::max<std::size_t>(1, pollers)), visibility_(visibility),
      fifo_(isFifoName(name_)) {
  extender_ = std::thread([this] { extendLoop(); });
}

void SqsSource::extendLoop() {
  auto every = std::chrono::milliseconds(std::max<int64_t>(500, visibility_.count() * 1000 / 2));
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    wake_.wait_for(lock, every);
    if (stopping_ || in_flight_.empty()) continue;
    std::vector<core::Message> held;
    for (const auto& [receipt, m] : in_flight_) held.push_back(m);
    lock.unlock();
    auto extended = perBatch("ChangeMessageVisibilityBatch", held,
                             [&](const core::Message& m, std::size_t i) {
                               return json{{"Id", std::to_string(i)},
                                           {"ReceiptHandle", m.receipt},
                                           {"VisibilityTimeout", visibility_.count()}};
                             });
    // A message settled meanwhile can't be extended: that failure is expected and harmless.
    if (!extended) logger("sqs")->debug("queue={} extending visibility: {}", name_, extended.error().message());
    lock.lock();
  }
}

void SqsSource::track(const std::vector<core::Message>& received) {
  std::lock_guard lock(mutex_);
  for (const auto& m : received) {
    core::Message receipt_only;
    receipt_only.receipt = m.receipt;
    in_flight_.emplace(m.receipt, std::move(receipt_only));
  }
}

void SqsSource::untrack(std::span<const core::Message> settled) {
  std::lock_guard lock(mutex_);
  for (const auto& m : settled) in_flight_.erase(m.receipt);
}

SqsSource::~SqsSource() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  extender_.join();
  // Messages of a poll still in flight are hidden from everyone: give them back at once.
  if (prefetch_.empty()) return;
  auto left = collect(prefetch_);
  if (left && !left->empty()) (void)release(*left);
}

Result<void> SqsSource::startPolls(std::size_t max, std::chrono::milliseconds wait) {
  auto seconds = std::min<int64_t>(20, (wait.count() + 999) / 1000);
  // A FIFO queue is read by one call at a time: SQS hides a group while its messages are in
  // flight, but the order between two calls' answers would be whichever came back first
  // (and some servers, moto among them, do not hide groups at all).
  std::size_t calls = fifo_ ? 1 : std::clamp<std::size_t>((max + 9) / 10, 1, pollers_);
  for (std::size_t i = 0; i < calls; ++i) {
    json request = {{"QueueUrl", url_},
                    {"MaxNumberOfMessages", std::clamp<std::size_t>(max - i * 10, 1, 10)},
                    {"WaitTimeSeconds", seconds},
                    {"VisibilityTimeout", visibility_.count()},
                    {"MessageAttributeNames", {"All"}},
                    {"MessageSystemAttributeNames", {"All"}},
                    {"AttributeNames", {"All"}}};
    QSPLIT_ASSIGN_OR_RETURN(auto started, client_.start("ReceiveMessage", request));
    prefetch_.push_back(std::move(started));
  }
  return ok();
}

Result<std::vector<core::Message>> SqsSource::collect(std::vector<SqsClient::Pending>& polls) {
  std::vector<core::Message> out;
  std::set<std::string> ids;
  std::optional<Error> first_error;
  for (auto& p : polls) {
    auto answer = client_.finish(p);
    if (!answer) {
      if (!first_error) first_error = answer.error().withContext("receiving from " + name_);
      continue;
    }
    auto it = answer->find("Messages");
    if (it == answer->end() || !it->is_array()) continue;
    for (const auto& m : *it) {
      out.push_back(fromSqs(m));
      // Both copies go on: which receipt deletes the message differs between servers (AWS
      // takes only the newest, ElasticMQ refuses the older, moto takes either), so dropping
      // one could leave the message in the queue. Said, so that a duplicate has a cause.
      if (polls.size() > 1 && !ids.insert(out.back().id).second)
        logger("sqs")->warn("queue={} the server returned message {} to two concurrent "
                            "ReceiveMessage calls: it is forwarded twice (at least once)",
                            name_, out.back().id);
    }
  }
  polls.clear();
  // Messages received by the calls that succeeded are returned: failing would leave them
  // hidden until their visibility timeout for nothing.
  if (out.empty() && first_error) return fail(*first_error);
  return out;
}

Result<std::vector<core::Message>> SqsSource::receive(std::size_t max,
                                                      std::chrono::milliseconds wait) {
  if (prefetch_.empty()) QSPLIT_TRY(startPolls(max, wait));
  QSPLIT_ASSIGN_OR_RETURN(auto out, collect(prefetch_));
  track(out);
  // While the caller sends and acknowledges these, the next polls are already on their
  // way (not for FIFO queues: a batch given back must come before what follows it).
  if (!out.empty() && !fifo_) (void)startPolls(max, wait);
  return out;
}

template <class Entry>
Result<void> SqsSource::perBatch(const std::string& action, std::span<const core::Message> messages,
                                 Entry entry) {
  std::vector<std::pair<std::size_t, SqsClient::Pending>> pending;
  for (auto [begin, end] : batches(messages.size(), [](std::size_t) { return 0; })) {
    json entries = json::array();
    for (std::size_t i = begin; i < end; ++i) entries.push_back(entry(messages[i], i - begin));
    QSPLIT_ASSIGN_OR_RETURN(auto started,
                            client_.start(action, {{"QueueUrl", url_}, {"Entries", entries}}));
    pending.emplace_back(end - begin, std::move(started));
  }
  std::size_t failed = 0;
  std::string why;
  for (auto& [count, p] : pending) {
    auto answer = client_.finish(p);
    if (!answer) {
      failed += count;
      why = answer.error().message();
      continue;
    }
    if (auto it = answer->find("Failed"); it != answer->end() && it->is_array() && !it->empty()) {
      failed += it->size();
      why = (*it)[0].value("Code", "") + ": " + (*it)[0].value("Message", "");
    }
  }
  if (failed)
    return fail(ErrorCode::kUnavailable, action + " on " + name_ + ": " + std::to_string(failed) +
                                             " of " + std::to_string(messages.size()) +
                                             " messages failed (" + why + ")");
  return ok();
}

Result<void> SqsSource::ack(std::span<const core::Message> messages) {
  untrack(messages);
  return perBatch("DeleteMessageBatch", messages, [](const core::Message& m, std::size_t i) {
    return json{{"Id", std::to_string(i)}, {"ReceiptHandle", m.receipt}};
  });
}

Result<void> SqsSource::release(std::span<const core::Message> messages) {
  untrack(messages);
  return perBatch("ChangeMessageVisibilityBatch", messages,
                  [](const core::Message& m, std::size_t i) {
                    return json{{"Id", std::to_string(i)},
                                {"ReceiptHandle", m.receipt},
                                {"VisibilityTimeout", 0}};
                  });
}

}  // namespace qsplit::sqs
