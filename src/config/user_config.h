// The user's mirrord configuration file: qsplit reads `target` and `feature.split_queues`
// (map form and list form, with the `*` wildcard) and ignores the rest, so an existing
// mirrord.json works unchanged.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "core/filter.h"
#include "core/router.h"

namespace qsplit::config {

enum class QueueType { kSqs, kKafka, kRmq };

const char* queueTypeName(QueueType type);  // "SQS", "Kafka", "RMQ" as users write them

struct QueueSplit {
  std::string queue_id;  // "*" applies to every queue of this type without its own entry
  QueueType type = QueueType::kSqs;
  core::QueueMode mode = core::QueueMode::kSteal;
  std::map<std::string, std::string> message_filter;  // as written
  core::Filter filter;                                 // compiled; empty matches nothing
};

// "deployment/NAME[/container/CONTAINER]" (also "deployment/NAME/CONTAINER").
struct Target {
  std::string kind;  // lowercase: deployment, rollout, statefulset, pod, ...
  std::string name;
  std::optional<std::string> container;
  std::optional<std::string> namespace_;

  static Result<Target> parse(const std::string& path);
  std::string toString() const;
};

struct UserConfig {
  std::string source;
  std::optional<Target> target;
  std::vector<QueueSplit> splits;

  // The split that applies to `queue_id` of `type`: its own entry, else the `*` entry of
  // that type, else nullptr (a queue the user did not mention gets nothing).
  const QueueSplit* find(const std::string& queue_id, QueueType type) const;
};

// Parses the JSON text of a mirrord config. Errors name `source` and the field, e.g.
// "mirrord.json: feature.split_queues.meme-queue.message_filter.author: RE2 cannot ...".
Result<UserConfig> parseUserConfig(const std::string& json, const std::string& source);
Result<UserConfig> loadUserConfig(const std::string& path);

}  // namespace qsplit::config
