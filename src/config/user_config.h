// The user's mirrord configuration file: qsplit reads `target` and `feature.split_queues`
// (map form and list form, with the `*` wildcard) and ignores the rest, so an existing
// mirrord.json works unchanged.
#pragma once

#include <functional>
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
  std::string jq_filter;                               // as written; empty: none
  core::Filter filter;  // regexes compiled, with the jq text; empty matches nothing
  std::string path;     // how errors name the entry: feature.split_queues.orders
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

// Compiles every jq_filter with `compile` (jq's compiler, wherever it may run); the errors
// name the file, the entry and jq's message, e.g. "mirrord.json:
// feature.split_queues.orders.jq_filter: syntax error, ...", one line per program.
using ContentCompiler = std::function<Result<void>(const std::string& program)>;
Result<void> checkContentFilters(const UserConfig& config, const ContentCompiler& compile);

}  // namespace qsplit::config
