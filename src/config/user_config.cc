#include "config/user_config.h"

#include "common/files.h"

#include <nlohmann/json.hpp>

#include <set>
#include <sstream>

namespace qsplit::config {
namespace {

using nlohmann::json;

const std::set<std::string> kEntryFields = {"queue_id", "queue_type", "queue_mode",
                                            "message_filter", "jq_filter", "payload_protobuf"};
const std::set<std::string> kOtherBrokers = {"GCPPubSub", "AzureServiceBus", "Temporal"};

Error fieldError(const std::string& source, const std::string& path, const std::string& what) {
  return Error(ErrorCode::kInvalidArgument, source + ": " + path + ": " + what);
}

std::string lineAndColumn(const std::string& text, std::size_t byte) {
  std::size_t line = 1, column = 1;
  for (std::size_t i = 0; i + 1 < byte && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

Result<QueueType> parseQueueType(const json& entry, const std::string& source,
                                 const std::string& path) {
  if (!entry.contains("queue_type"))
    return fail(fieldError(source, path + ".queue_type", "is required (SQS, Kafka, RMQ, RedisStream, RedisPubSub, BullMQ or GCPPubSub)"));
  const json& type = entry["queue_type"];
  if (!type.is_string()) return fail(fieldError(source, path + ".queue_type", "expected a string"));
  std::string name = type.get<std::string>();
  if (name == "SQS") return QueueType::kSqs;
  if (name == "Kafka") return QueueType::kKafka;
  if (name == "RMQ") return QueueType::kRmq;
  if (name == "RedisStream") return QueueType::kRedisStream;
  if (name == "RedisPubSub") return QueueType::kRedisPubSub;
  if (name == "BullMQ") return QueueType::kBullMQ;
  if (name == "GCPPubSub") return QueueType::kGcpPubSub;
  if (kOtherBrokers.count(name))
    return fail(fieldError(source, path + ".queue_type",
                           "queue type " + name + " is not supported by qsplit (SQS, Kafka, RMQ, RedisStream, RedisPubSub, BullMQ and GCPPubSub are)"));
  return fail(fieldError(source, path, "unknown queue type '" + name + "'; expected SQS, Kafka, RMQ, RedisStream, RedisPubSub, BullMQ or GCPPubSub"));
}

const std::set<std::string> kProtobufFields = {"schema_file", "include_directories", "message_type",
                                               "descriptor_base64"};

Result<std::string> stringField(const json& node, const std::string& name, const std::string& source,
                                const std::string& path) {
  const json& value = node[name];
  if (!value.is_string() || value.get<std::string>().empty())
    return fail(fieldError(source, path + "." + name, "expected a non-empty string"));
  return value.get<std::string>();
}

Result<PayloadProtobuf> parseProtobuf(const json& node, const std::string& source, const std::string& path) {
  if (!node.is_object()) return fail(fieldError(source, path, "expected an object"));
  for (const auto& [key, value] : node.items())
    if (!kProtobufFields.count(key))
      return fail(fieldError(source, path + "." + key, "unknown field; expected schema_file, "
                                                       "include_directories, message_type or descriptor_base64"));
  PayloadProtobuf protobuf;
  if (!node.contains("message_type"))
    return fail(fieldError(source, path + ".message_type", "is required (the fully qualified message name)"));
  QSPLIT_ASSIGN_OR_RETURN(protobuf.message_type, stringField(node, "message_type", source, path));
  if (node.contains("schema_file")) {
    QSPLIT_ASSIGN_OR_RETURN(protobuf.schema_file, stringField(node, "schema_file", source, path));
  }
  if (node.contains("descriptor_base64")) {
    QSPLIT_ASSIGN_OR_RETURN(protobuf.descriptor_base64, stringField(node, "descriptor_base64", source, path));
  }
  if (node.contains("include_directories")) {
    const json& dirs = node["include_directories"];
    if (!dirs.is_array()) return fail(fieldError(source, path + ".include_directories", "expected a list of paths"));
    for (std::size_t i = 0; i < dirs.size(); ++i) {
      if (!dirs[i].is_string() || dirs[i].get<std::string>().empty())
        return fail(fieldError(source, path + ".include_directories[" + std::to_string(i) + "]",
                               "expected a path"));
      protobuf.include_directories.push_back(dirs[i].get<std::string>());
    }
    if (protobuf.schema_file.empty() && !protobuf.include_directories.empty())
      return fail(fieldError(source, path + ".include_directories", "is only used with schema_file"));
  }
  if (protobuf.schema_file.empty() && protobuf.descriptor_base64.empty())
    return fail(fieldError(source, path, "neither schema_file nor descriptor_base64 is set; set "
                                         "schema_file to the .proto that describes the payload"));
  return protobuf;
}

// One entry; `path` is how messages name it ("feature.split_queues.meme-queue").
Result<QueueSplit> parseEntry(const std::string& queue_id, const json& entry,
                              const std::string& source, const std::string& path) {
  if (!entry.is_object()) return fail(fieldError(source, path, "expected an object"));
  for (const auto& [key, value] : entry.items()) {
    if (!kEntryFields.count(key))
      return fail(fieldError(source, path + "." + key,
                             "unknown field; expected queue_type, queue_mode, message_filter or jq_filter"
                             " (and payload_protobuf for Kafka)"));
  }
  QueueSplit split;
  split.queue_id = queue_id;
  QSPLIT_ASSIGN_OR_RETURN(split.type, parseQueueType(entry, source, path));
  split.path = path;
  if (entry.contains("jq_filter") && !entry["jq_filter"].is_null()) {
    const json& program = entry["jq_filter"];
    if (!program.is_string() || program.get<std::string>().find_first_not_of(" \t\r\n") == std::string::npos)
      return fail(fieldError(source, path + ".jq_filter", "expected a jq program (a non-empty string)"));
    split.jq_filter = program.get<std::string>();
  }
  if (entry.contains("payload_protobuf") && !entry["payload_protobuf"].is_null()) {
    if (split.type != QueueType::kKafka)
      return fail(fieldError(source, path + ".payload_protobuf",
                             "unknown field for " + std::string(queueTypeName(split.type)) +
                                 " queues; payload_protobuf is for Kafka only"));
    QSPLIT_ASSIGN_OR_RETURN(split.payload_protobuf,
                            parseProtobuf(entry["payload_protobuf"], source, path + ".payload_protobuf"));
    if (split.jq_filter.empty())
      return fail(fieldError(source, path, "payload_protobuf decodes the payload for jq_filter, which "
                                           "is not set; add a jq_filter that reads .payload_decoded"));
  }
  if (entry.contains("queue_mode")) {
    const json& name = entry["queue_mode"];
    auto mode = core::queueModeFromName(name.is_string() ? name.get<std::string>() : name.dump());
    if (!mode) return fail(fieldError(source, path + ".queue_mode", mode.error().message()));
    split.mode = *mode;
  }
  if (entry.contains("message_filter") && !entry["message_filter"].is_null()) {
    const json& filter = entry["message_filter"];
    if (!filter.is_object())
      return fail(fieldError(source, path + ".message_filter",
                             "expected an object of attribute name to regex"));
    for (const auto& [name, regex] : filter.items()) {
      if (!regex.is_string())
        return fail(fieldError(source, path + ".message_filter." + name, "expected a regex string"));
      split.message_filter[name] = regex.get<std::string>();
    }
  } else if (split.type == QueueType::kRmq && split.jq_filter.empty()) {
    return fail(fieldError(source, path + ".message_filter",
                           "is required for RMQ queues (or a jq_filter)"));
  }
  auto compiled = core::Filter::compile(split.message_filter);
  if (!compiled) return fail(compiled.error().withContext(source + ": " + path));
  core::ContentFilter content{split.jq_filter, {}, {}};
  if (split.payload_protobuf) {
    content.protobuf_descriptor = split.payload_protobuf->descriptor_base64;
    content.protobuf_message = split.payload_protobuf->message_type;
  }
  split.filter = compiled->withContent(std::move(content));
  return split;
}

// Every entry is checked, and every error reported at once (one per line), so a user fixes a
// config in one round.
Result<std::vector<QueueSplit>> parseSplitQueues(const json& node, const std::string& source) {
  const std::string base = "feature.split_queues";
  std::vector<QueueSplit> splits;
  std::vector<Error> errors;
  auto add = [&](Result<QueueSplit> split, const std::string& path) {
    if (!split) return errors.push_back(split.error());
    for (const auto& other : splits)
      if (other.queue_id == split->queue_id && other.type == split->type)
        return errors.push_back(fieldError(source, path, "queue id '" + split->queue_id +
                                                             "' of type " + queueTypeName(split->type) +
                                                             " appears twice"));
    splits.push_back(std::move(split).value());
  };
  if (node.is_object()) {
    for (const auto& [id, entry] : node.items()) {
      std::string path = base + "." + id;
      if (entry.contains("queue_id"))
        errors.push_back(fieldError(source, path + ".queue_id",
                                    "belongs to the list form; in the map form the key is the queue id"));
      else
        add(parseEntry(id, entry, source, path), path);
    }
  } else if (node.is_array()) {
    for (std::size_t i = 0; i < node.size(); ++i) {
      std::string path = base + "[" + std::to_string(i) + "]";
      const json& entry = node[i];
      if (!entry.is_object() || !entry.contains("queue_id") || !entry["queue_id"].is_string())
        errors.push_back(fieldError(source, path + ".queue_id", "is required (a string)"));
      else
        add(parseEntry(entry["queue_id"].get<std::string>(), entry, source, path), path);
    }
  } else if (!node.is_null()) {
    return fail(fieldError(source, base, "expected an object (queue id -> filter) or a list"));
  }
  if (errors.empty()) return splits;
  std::string message = errors.front().message();
  for (std::size_t i = 1; i < errors.size(); ++i) message += "\n" + errors[i].message();
  return fail(ErrorCode::kInvalidArgument, message);
}

}  // namespace

const char* queueTypeName(QueueType type) {
  switch (type) {
    case QueueType::kSqs: return "SQS";
    case QueueType::kKafka: return "Kafka";
    case QueueType::kRmq: return "RMQ";
    case QueueType::kRedisStream: return "RedisStream";
    case QueueType::kRedisPubSub: return "RedisPubSub";
    case QueueType::kBullMQ: return "BullMQ";
    case QueueType::kGcpPubSub: return "GCPPubSub";
  }
  return "?";
}

Result<Target> Target::parse(const std::string& path) {
  std::vector<std::string> parts;
  std::stringstream in(path);
  std::string part;
  while (std::getline(in, part, '/')) parts.push_back(part);
  auto bad = [&] {
    return fail(ErrorCode::kInvalidArgument,
                "target '" + path + "': expected KIND/NAME[/container/CONTAINER], e.g. deployment/meme-app");
  };
  if (parts.size() < 2 || parts.size() > 4 || parts[0].empty() || parts[1].empty()) return bad();
  Target target;
  for (char c : parts[0]) target.kind.push_back(static_cast<char>(std::tolower(c)));
  target.name = parts[1];
  if (parts.size() == 3) target.container = parts[2];
  if (parts.size() == 4) {
    if (parts[2] != "container" || parts[3].empty()) return bad();
    target.container = parts[3];
  }
  return target;
}

std::string Target::toString() const {
  return kind + "/" + name + (container ? "/container/" + *container : "");
}

const QueueSplit* UserConfig::find(const std::string& queue_id, QueueType type) const {
  const QueueSplit* wildcard = nullptr;
  for (const auto& split : splits) {
    if (split.type != type) continue;
    if (split.queue_id == queue_id) return &split;
    if (split.queue_id == "*") wildcard = &split;
  }
  return wildcard;
}

Result<UserConfig> parseUserConfig(const std::string& text, const std::string& source) {
  json root;
  try {
    root = json::parse(text);
  } catch (const json::parse_error& e) {
    return fail(ErrorCode::kInvalidArgument,
                source + ": not valid JSON (" + lineAndColumn(text, e.byte) + ")");
  }
  if (!root.is_object()) return fail(fieldError(source, "(top level)", "expected an object"));
  UserConfig config;
  config.source = source;
  if (root.contains("target") && !root["target"].is_null()) {
    const json& target = root["target"];
    std::string path;
    std::optional<std::string> ns;
    if (target.is_string()) {
      path = target.get<std::string>();
    } else if (target.is_object() && target.contains("path") && target["path"].is_string()) {
      path = target["path"].get<std::string>();
      if (target.contains("namespace") && target["namespace"].is_string())
        ns = target["namespace"].get<std::string>();
    } else {
      return fail(fieldError(source, "target", "expected \"KIND/NAME\" or {\"path\": ..., \"namespace\": ...}"));
    }
    auto parsed = Target::parse(path);
    if (!parsed) return fail(parsed.error().withContext(source + ": target"));
    config.target = *parsed;
    config.target->namespace_ = ns;
  }
  if (root.contains("feature") && root["feature"].is_object() &&
      root["feature"].contains("split_queues")) {
    QSPLIT_ASSIGN_OR_RETURN(config.splits, parseSplitQueues(root["feature"]["split_queues"], source));
  }
  return config;
}

Result<UserConfig> loadUserConfig(const std::string& path) {
  QSPLIT_ASSIGN_OR_RETURN(std::string text, readFile(path));
  return parseUserConfig(text, path);
}

Result<void> checkContentFilters(const UserConfig& config, const ContentCompiler& compile) {
  std::vector<std::string> errors;
  for (const auto& split : config.splits) {
    if (split.jq_filter.empty()) continue;
    if (split.payload_protobuf && split.payload_protobuf->descriptor_base64.empty()) {
      errors.push_back(config.source + ": " + split.path + ".payload_protobuf.schema_file: is not "
                       "compiled; qsplit run compiles it, since qsplitd reads no developer's files");
      continue;
    }
    if (auto compiled = compile(split.filter.content()); !compiled)
      errors.push_back(config.source + ": " + split.path + "." + compiled.error().message());
  }
  if (errors.empty()) return ok();
  std::string message = errors.front();
  for (std::size_t i = 1; i < errors.size(); ++i) message += "\n" + errors[i];
  return fail(ErrorCode::kInvalidArgument, message);
}

Result<void> resolveProtobufSchemas(json& root, const std::string& source, const SchemaCompiler& compile) {
  if (!root.is_object() || !root.contains("feature") || !root["feature"].is_object() ||
      !root["feature"].contains("split_queues"))
    return ok();
  json& queues = root["feature"]["split_queues"];
  std::vector<std::string> errors;
  auto resolve = [&](json& entry, const std::string& path) {
    if (!entry.is_object() || !entry.contains("payload_protobuf")) return;
    json& node = entry["payload_protobuf"];
    if (!node.is_object() || !node.contains("schema_file")) return;
    auto parsed = parseProtobuf(node, source, path + ".payload_protobuf");
    if (!parsed) return errors.push_back(parsed.error().message());
    auto descriptor = compile(*parsed);
    if (!descriptor) return errors.push_back(source + ": " + path + ".payload_protobuf: " + descriptor.error().message());
    node = {{"message_type", parsed->message_type}, {"descriptor_base64", *descriptor}};
  };
  if (queues.is_object())
    for (auto& [id, entry] : queues.items()) resolve(entry, "feature.split_queues." + id);
  if (queues.is_array())
    for (std::size_t i = 0; i < queues.size(); ++i)
      resolve(queues[i], "feature.split_queues[" + std::to_string(i) + "]");
  if (errors.empty()) return ok();
  std::string message = errors.front();
  for (std::size_t i = 1; i < errors.size(); ++i) message += "\n" + errors[i];
  return fail(ErrorCode::kInvalidArgument, message);
}

std::string describeFilter(const QueueSplit& split) {
  std::string out;
  for (const auto& [name, regex] : split.message_filter)
    out += (out.empty() ? "" : " ") + name + "=~/" + regex + "/";
  if (!split.jq_filter.empty()) out += (out.empty() ? "" : " ") + ("jq(" + split.jq_filter + ")");
  if (split.payload_protobuf)
    out += (out.empty() ? "" : " ") + ("payload_decoded as " + split.payload_protobuf->message_type);
  return out.empty() ? "matches nothing" : out;
}

const QueueSplit* splitFor(const UserConfig& config, const std::string& queue_id,
                           const std::string& type) {
  const QueueSplit* any = nullptr;
  for (const auto& s : config.splits) {
    if (type != queueTypeName(s.type)) continue;
    if (s.queue_id == queue_id) return &s;
    if (s.queue_id == "*") any = &s;
  }
  return any;
}

}  // namespace qsplit::config
