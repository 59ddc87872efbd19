// The user's mirrord configuration file: qsplit reads `target` and `feature.split_queues`
// (map form and list form, with the `*` wildcard) and ignores the rest, so an existing
// mirrord.json works unchanged.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "core/filter.h"
#include "core/router.h"

namespace qsplit::config {

// kRedisStream is qsplit's own: a Redis stream read in a consumer group.
enum class QueueType { kSqs, kKafka, kRmq, kRedisStream, kRedisPubSub, kBullMQ, kGcpPubSub };

const char* queueTypeName(QueueType type);  // "SQS", "Kafka", "RMQ", "RedisStream", "RedisPubSub", "BullMQ" as users write them

// `payload_protobuf` (Kafka): how the payload decodes into `payload_decoded` for jq. The CLI
// compiles `schema_file` into `descriptor_base64`; qsplitd reads only the descriptor.
struct PayloadProtobuf {
  std::string schema_file;  // a .proto, relative to the current directory; empty: none
  std::vector<std::string> include_directories;
  std::string message_type;       // required
  std::string descriptor_base64;  // a FileDescriptorSet, maybe gzipped; empty: not compiled yet
};

struct QueueSplit {
  std::string queue_id;  // "*" applies to every queue of this type without its own entry
  QueueType type = QueueType::kSqs;
  core::QueueMode mode = core::QueueMode::kSteal;
  std::map<std::string, std::string> message_filter;  // as written
  std::string jq_filter;                               // as written; empty: none
  std::optional<PayloadProtobuf> payload_protobuf;
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

// An entry's filter as a person reads it: `author=~/^alice$/ jq(.Body | ...)`, or
// `matches nothing`.
std::string describeFilter(const QueueSplit& split);
// The entry that applies to queue `queue_id` of the type named `type` (queueTypeName): its
// own, else the `*` entry; null when neither exists.
const QueueSplit* splitFor(const UserConfig& config, const std::string& queue_id,
                           const std::string& type);

// Compiles every content filter with `compile` (jq's compiler and the protobuf schema loader,
// wherever they run), whose errors start with the field inside the entry ("jq_filter: ...",
// "payload_protobuf.message_type: ..."). The errors name the file and the entry too, e.g.
// "mirrord.json: feature.split_queues.orders.jq_filter: syntax error, ...", one line each. A
// `schema_file` that was not compiled into a descriptor is an error here.
using ContentCompiler = std::function<Result<void>(const core::ContentFilter& filter)>;
Result<void> checkContentFilters(const UserConfig& config, const ContentCompiler& compile);

// Compiles every `payload_protobuf.schema_file` of the config `root` (parsed already) with
// `compile`, which returns the descriptor_base64, and rewrites those entries to carry only
// `message_type` and `descriptor_base64`, so the config sent to qsplitd names no local file.
using SchemaCompiler = std::function<Result<std::string>(const PayloadProtobuf& protobuf)>;
Result<void> resolveProtobufSchemas(nlohmann::json& root, const std::string& source,
                                    const SchemaCompiler& compile);

}  // namespace qsplit::config
