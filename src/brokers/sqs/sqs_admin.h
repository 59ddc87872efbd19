// SQS queue management: queue URLs, temporary queues made like the original (attributes,
// tags, policy), deletion and depth.
#pragma once

#include <map>
#include <mutex>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "brokers/sqs/sqs_client.h"
#include "core/broker.h"

namespace qsplit::sqs {

using Tags = std::map<std::string, std::string>;

// Thread-safe.
class SqsAdmin final : public core::Admin {
 public:
  explicit SqsAdmin(SqsClient& client) : client_(client) {}

  Result<core::QueueInfo> describe(const std::string& name) override;
  // The original's settable attributes (FIFO and content-based deduplication included), its
  // tags plus the extra tags set for it (extra wins), its policy naming the new queue.
  Result<void> createLike(const std::string& original, const std::string& name) override;
  Result<void> remove(const std::string& name) override;
  // ApproximateNumberOfMessages + NotVisible + Delayed.
  Result<uint64_t> backlog(const std::string& name, const std::string& group) override;

  // The URL of queue `name` (GetQueueUrl once, then cached). kNotFound names the queue.
  Result<std::string> url(const std::string& name);
  // Every attribute SQS reports for `name`.
  Result<std::map<std::string, std::string>> attributes(const std::string& name);
  Result<Tags> tags(const std::string& name);
  // Tags every temporary queue made like `original` gets besides the original's own (the
  // registry's `tags`).
  void setExtraTags(const std::string& original, Tags tags);

 private:
  SqsClient& client_;
  std::mutex mutex_;
  std::map<std::string, std::string> urls_;  // guarded by mutex_
  std::map<std::string, Tags> extra_tags_;   // guarded by mutex_
};

}  // namespace qsplit::sqs
