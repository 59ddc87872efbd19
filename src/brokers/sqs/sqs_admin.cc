#include "brokers/sqs/sqs_admin.h"

#include <nlohmann/json.hpp>

#include <set>

namespace qsplit::sqs {

using nlohmann::json;

namespace {

// CreateQueue's settable attributes; the rest (ARN, counts, timestamps) are read-only.
const std::set<std::string> kSettable = {
    "DelaySeconds", "MaximumMessageSize", "MessageRetentionPeriod", "Policy",
    "ReceiveMessageWaitTimeSeconds", "VisibilityTimeout", "RedrivePolicy", "RedriveAllowPolicy",
    "KmsMasterKeyId", "KmsDataKeyReusePeriodSeconds", "SqsManagedSseEnabled", "FifoQueue",
    "ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit"};

// The policy with the original queue's ARN replaced by the new queue's.
std::string renamePolicy(std::string policy, const std::string& original_arn,
                         const std::string& new_arn) {
  if (original_arn.empty()) return policy;
  for (auto at = policy.find(original_arn); at != std::string::npos;
       at = policy.find(original_arn, at + new_arn.size())) {
    char next = at + original_arn.size() < policy.size() ? policy[at + original_arn.size()] : '"';
    if (std::isalnum(static_cast<unsigned char>(next)) || next == '-' || next == '_' || next == '.') {
      at += 1;  // a longer name that starts with the original's: not this queue
      continue;
    }
    policy.replace(at, original_arn.size(), new_arn);
  }
  return policy;
}

}  // namespace

Result<std::string> SqsAdmin::url(const std::string& name) {
  {
    std::lock_guard lock(mutex_);
    if (auto it = urls_.find(name); it != urls_.end()) return it->second;
  }
  auto answer = client_.call("GetQueueUrl", {{"QueueName", name}});
  if (!answer) {
    if (answer.error().code() == ErrorCode::kNotFound)
      return fail(ErrorCode::kNotFound, "SQS queue " + name + " does not exist at " +
                                            client_.settings().endpoint + " (" +
                                            answer.error().message() + ")");
    return fail(answer.error());
  }
  std::string found = answer->value("QueueUrl", "");
  std::lock_guard lock(mutex_);
  urls_[name] = found;
  return found;
}

Result<std::map<std::string, std::string>> SqsAdmin::attributes(const std::string& name) {
  QSPLIT_ASSIGN_OR_RETURN(auto queue_url, url(name));
  QSPLIT_ASSIGN_OR_RETURN(auto answer, client_.call("GetQueueAttributes",
                                                    {{"QueueUrl", queue_url},
                                                     {"AttributeNames", {"All"}}}));
  std::map<std::string, std::string> out;
  if (auto it = answer.find("Attributes"); it != answer.end() && it->is_object())
    for (const auto& [k, v] : it->items())
      if (v.is_string()) out[k] = v.get<std::string>();
  return out;
}

Result<Tags> SqsAdmin::tags(const std::string& name) {
  QSPLIT_ASSIGN_OR_RETURN(auto queue_url, url(name));
  QSPLIT_ASSIGN_OR_RETURN(auto answer, client_.call("ListQueueTags", {{"QueueUrl", queue_url}}));
  Tags out;
  if (auto it = answer.find("Tags"); it != answer.end() && it->is_object())
    for (const auto& [k, v] : it->items())
      if (v.is_string()) out[k] = v.get<std::string>();
  return out;
}

void SqsAdmin::setExtraTags(const std::string& original, Tags tags) {
  std::lock_guard lock(mutex_);
  extra_tags_[original] = std::move(tags);
}

Result<core::QueueInfo> SqsAdmin::describe(const std::string& name) {
  QSPLIT_TRY(attributes(name));
  return core::QueueInfo{name, core::QueueKind::kQueue, 1};
}

Result<void> SqsAdmin::createLike(const std::string& original, const std::string& name) {
  QSPLIT_ASSIGN_OR_RETURN(auto from, attributes(original));
  QSPLIT_ASSIGN_OR_RETURN(auto all_tags, tags(original));
  {
    std::lock_guard lock(mutex_);
    for (const auto& [k, v] : extra_tags_[original]) all_tags[k] = v;
  }
  std::string arn = from.count("QueueArn") ? from["QueueArn"] : "";
  std::string new_arn = arn.substr(0, arn.rfind(':') + 1) + name;
  json attributes = json::object();
  for (const auto& [k, v] : from) {
    if (!kSettable.count(k)) continue;
    attributes[k] = k == "Policy" ? renamePolicy(v, arn, new_arn) : v;
  }
  json request = {{"QueueName", name}, {"Attributes", attributes}};
  if (!all_tags.empty()) request["tags"] = all_tags;
  auto answer = client_.call("CreateQueue", request);
  if (!answer) return fail(answer.error().withContext("creating " + name + " like " + original));
  std::lock_guard lock(mutex_);
  urls_[name] = answer->value("QueueUrl", "");
  return ok();
}

Result<void> SqsAdmin::remove(const std::string& name) {
  QSPLIT_ASSIGN_OR_RETURN(auto queue_url, url(name));
  auto answer = client_.call("DeleteQueue", {{"QueueUrl", queue_url}});
  {
    std::lock_guard lock(mutex_);
    urls_.erase(name);
  }
  if (!answer) return fail(answer.error().withContext("deleting " + name));
  return ok();
}

Result<uint64_t> SqsAdmin::backlog(const std::string& name, const std::string&) {
  QSPLIT_ASSIGN_OR_RETURN(auto a, attributes(name));
  uint64_t total = 0;
  for (const char* key : {"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
                          "ApproximateNumberOfMessagesDelayed"})
    if (a.count(key)) total += std::stoull(a[key]);
  return total;
}

}  // namespace qsplit::sqs
