#include "config/user_config.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/messages.h"

namespace qsplit::config {
namespace {

using testing::message;

std::string errorOf(const std::string& json) {
  auto r = parseUserConfig(json, "mirrord.json");
  return r ? "(parsed)" : r.error().message();
}

TEST(UserConfig, ReadsTheReferenceExampleMapForm) {
  auto c = parseUserConfig(R"({
    "operator": true,
    "target": "deployment/meme-app/main",
    "feature": {"network": {"incoming": "steal"}, "split_queues": {
      "meme-queue": {"queue_type": "SQS", "message_filter": {"author": "^me$", "level": "^(beginner|intermediate)$"}},
      "ad-queue": {"queue_type": "SQS", "message_filter": {}},
      "views-topic": {"queue_type": "Kafka", "message_filter": {"author": "^me$", "source": "^my-session-"}}
    }}})", "mirrord.json");
  ASSERT_TRUE(c.has_value()) << c.error().message();
  EXPECT_EQ(c->target->kind, "deployment");
  EXPECT_EQ(c->target->name, "meme-app");
  EXPECT_EQ(c->target->container, "main");
  ASSERT_EQ(c->splits.size(), 3u);
  const QueueSplit* meme = c->find("meme-queue", QueueType::kSqs);
  ASSERT_NE(meme, nullptr);
  EXPECT_TRUE(meme->filter.matches(message({{"author", "me"}, {"level", "beginner"}})));
  EXPECT_TRUE(c->find("ad-queue", QueueType::kSqs)->filter.matchesNothing());
  EXPECT_EQ(c->find("views-topic", QueueType::kSqs), nullptr);  // wrong type
  EXPECT_EQ(c->find("unmentioned", QueueType::kSqs), nullptr);  // gets nothing
}

TEST(UserConfig, ReadsListFormWithRepeatedIdsOnDifferentBrokers) {
  auto c = parseUserConfig(R"({"feature": {"split_queues": [
      {"queue_id": "orders", "queue_type": "SQS", "message_filter": {"region": "^eu"}},
      {"queue_id": "orders", "queue_type": "Kafka", "message_filter": {"region": "^us"}, "queue_mode": "mirror"}
    ]}})", "mirrord.json");
  ASSERT_TRUE(c.has_value()) << c.error().message();
  EXPECT_EQ(c->find("orders", QueueType::kKafka)->mode, core::QueueMode::kMirror);
  EXPECT_EQ(c->find("orders", QueueType::kSqs)->mode, core::QueueMode::kSteal);
  EXPECT_FALSE(c->target.has_value());
}

TEST(UserConfig, WildcardAppliesWhereNoOwnEntryExists) {
  auto c = parseUserConfig(R"({"feature": {"split_queues": {
      "*": {"queue_type": "SQS", "message_filter": {"baggage": "mirrord-session=pr-123"}},
      "special": {"queue_type": "SQS", "message_filter": {"x": "y"}}}}})", "mirrord.json");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->find("anything", QueueType::kSqs)->queue_id, "*");
  EXPECT_EQ(c->find("special", QueueType::kSqs)->queue_id, "special");
  EXPECT_EQ(c->find("anything", QueueType::kKafka), nullptr);
}

TEST(UserConfig, TargetForms) {
  EXPECT_EQ(Target::parse("deployment/a/container/c")->container, "c");
  EXPECT_EQ(Target::parse("Rollout/a")->kind, "rollout");
  EXPECT_FALSE(Target::parse("deployment").has_value());
  auto c = parseUserConfig(R"({"target": {"path": "deployment/a", "namespace": "team"}})", "m.json");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->target->namespace_, "team");
  EXPECT_EQ(errorOf(R"({"target": "pod"})"),
            "mirrord.json: target: target 'pod': expected KIND/NAME[/container/CONTAINER], e.g. "
            "deployment/meme-app");
}

TEST(UserConfig, InvalidRegexNamesQueueAndAttribute) {
  std::string e = errorOf(R"j({"feature": {"split_queues": {
      "meme-queue": {"queue_type": "SQS", "message_filter": {"author": "^(?!bot)"}}}}})j");
  EXPECT_NE(e.find("mirrord.json: feature.split_queues.meme-queue: message_filter.author: RE2 "
                   "cannot compile the regular expression '^(?!bot)'"),
            std::string::npos)
      << e;
}

TEST(UserConfig, BadEntriesGetClearErrors) {
  EXPECT_EQ(errorOf(R"({"feature": {"split_queues": {"q": {"queue_type": "SQS", "message_filtr": {}}}}})"),
            "mirrord.json: feature.split_queues.q.message_filtr: unknown field; expected "
            "queue_type, queue_mode, message_filter or jq_filter (and payload_protobuf for Kafka)");
  EXPECT_EQ(errorOf(R"({"feature": {"split_queues": {"q": {"queue_type": "NATS"}}}})"),
            "mirrord.json: feature.split_queues.q: unknown queue type 'NATS'; expected SQS, Kafka, RMQ, RedisStream, "
            "RedisPubSub, BullMQ or GCPPubSub");
  EXPECT_EQ(errorOf(R"({"feature": {"split_queues": {"q": {"queue_type": "Temporal"}}}})"),
            "mirrord.json: feature.split_queues.q.queue_type: queue type Temporal is not "
            "supported by qsplit (SQS, Kafka, RMQ, RedisStream, RedisPubSub, BullMQ and GCPPubSub are)");
  EXPECT_EQ(errorOf(R"({"feature": {"split_queues": {"q": {"message_filter": {}}}}})"),
            "mirrord.json: feature.split_queues.q.queue_type: is required (SQS, Kafka, RMQ, RedisStream, RedisPubSub, "
            "BullMQ or GCPPubSub)");
  EXPECT_EQ(errorOf(R"({"feature": {"split_queues": {"q": {"queue_type": "RMQ"}}}})"),
            "mirrord.json: feature.split_queues.q.message_filter: is required for RMQ queues (or a "
            "jq_filter)");
  EXPECT_EQ(errorOf(R"({"feature": {"split_queues": {"q": {"queue_type": "SQS", "queue_mode": "copy"}}}})"),
            "mirrord.json: feature.split_queues.q.queue_mode: unknown queue mode 'copy': expected "
            "\"steal\" or \"mirror\"");
  EXPECT_EQ(errorOf(R"({"feature": {"split_queues": {"q": {"queue_type": "SQS", "message_filter": {"a": 1}}}}})"),
            "mirrord.json: feature.split_queues.q.message_filter.a: expected a regex string");
  EXPECT_EQ(errorOf(R"({"feature": {"split_queues": {"q": {"queue_type": "SQS", "jq_filter": 3}}}})"),
            "mirrord.json: feature.split_queues.q.jq_filter: expected a jq program (a non-empty string)");
  EXPECT_EQ(errorOf(R"({"feature": {"split_queues": {"q": {"queue_type": "SQS", "jq_filter": " "}}}})"),
            "mirrord.json: feature.split_queues.q.jq_filter: expected a jq program (a non-empty string)");
  EXPECT_EQ(errorOf(R"({"feature": {"split_queues": [{"queue_type": "SQS"}]}})"),
            "mirrord.json: feature.split_queues[0].queue_id: is required (a string)");
  EXPECT_EQ(errorOf(R"({"feature": {"split_queues": [
      {"queue_id": "a", "queue_type": "SQS"}, {"queue_id": "a", "queue_type": "SQS"}]}})"),
            "mirrord.json: feature.split_queues[1]: queue id 'a' of type SQS appears twice");
  EXPECT_EQ(errorOf(R"({"feature": {"split_queues": 3}})"),
            "mirrord.json: feature.split_queues: expected an object (queue id -> filter) or a list");
}

TEST(UserConfig, JqFiltersInEveryFormAloneOrWithMessageFilter) {
  auto config = parseUserConfig(R"({"feature": {"split_queues": {
      "orders": {"queue_type": "SQS", "jq_filter": ".Body | fromjson | .important == true"},
      "events": {"queue_type": "RMQ", "jq_filter": ".payload == \"x\"", "message_filter": {"a": "^b$"}},
      "*": {"queue_type": "Kafka", "jq_filter": ".payload | fromjson | .x == 1"}}}})",
                                "mirrord.json");
  ASSERT_TRUE(config) << config.error().message();
  const QueueSplit* orders = config->find("orders", QueueType::kSqs);
  ASSERT_NE(orders, nullptr);
  EXPECT_FALSE(orders->filter.matchesNothing());  // a real filter, not match-none
  EXPECT_EQ(orders->filter.content().program, ".Body | fromjson | .important == true");
  const QueueSplit* events = config->find("events", QueueType::kRmq);
  ASSERT_NE(events, nullptr);
  EXPECT_EQ(events->filter.rules().size(), 1u);
  EXPECT_EQ(events->filter.content().program, ".payload == \"x\"");
  EXPECT_EQ(config->find("any-topic", QueueType::kKafka)->filter.content().program, ".payload | fromjson | .x == 1");
  auto list = parseUserConfig(R"({"feature": {"split_queues": [
      {"queue_id": "a", "queue_type": "SQS", "jq_filter": ".x"}]}})", "mirrord.json");
  ASSERT_TRUE(list);
  EXPECT_EQ(list->splits[0].filter.content().program, ".x");
}

TEST(UserConfig, ContentFilterErrorsNameTheFileTheEntryAndTheCompilersMessage) {
  auto config = parseUserConfig(R"({"feature": {"split_queues": {
      "orders": {"queue_type": "SQS", "jq_filter": "bad"},
      "ok": {"queue_type": "SQS", "jq_filter": "good"}}}})", "mirrord.json");
  ASSERT_TRUE(config);
  auto compile = [](const core::ContentFilter& filter) -> Result<void> {
    if (filter.program == "bad") return fail(ErrorCode::kInvalidArgument, "jq_filter: bad/0 is not defined");
    return ok();
  };
  auto checked = checkContentFilters(*config, compile);
  ASSERT_FALSE(checked);
  EXPECT_EQ(checked.error().message(),
            "mirrord.json: feature.split_queues.orders.jq_filter: bad/0 is not defined");
}

TEST(UserConfig, PayloadProtobufIsKafkasWithAJqFilterAndNamesEachBadField) {
  auto entry = [](const std::string& type, const std::string& protobuf, const std::string& jq = R"("jq_filter": ".payload_decoded.x == 1", )") {
    return R"({"feature": {"split_queues": {"orders": {"queue_type": ")" + type + R"(", )" + jq +
           R"("payload_protobuf": )" + protobuf + "}}}}";
  };
  auto good = parseUserConfig(entry("Kafka", R"({"descriptor_base64": "AAAA", "message_type": "a.B"})"), "m.json");
  ASSERT_TRUE(good) << good.error().message();
  const auto& split = good->splits[0];
  ASSERT_TRUE(split.payload_protobuf);
  EXPECT_EQ(split.filter.content().protobuf_descriptor, "AAAA");
  EXPECT_EQ(split.filter.content().protobuf_message, "a.B");
  auto error = [&](const std::string& text) {
    auto parsed = parseUserConfig(text, "m.json");
    return parsed ? std::string("accepted") : parsed.error().message();
  };
  EXPECT_EQ(error(entry("SQS", R"({"descriptor_base64": "AAAA", "message_type": "a.B"})")),
            "m.json: feature.split_queues.orders.payload_protobuf: unknown field for SQS queues; "
            "payload_protobuf is for Kafka only");
  EXPECT_EQ(error(entry("Kafka", R"({"descriptor_base64": "AAAA", "message_type": "a.B"})", "")),
            "m.json: feature.split_queues.orders: payload_protobuf decodes the payload for jq_filter, "
            "which is not set; add a jq_filter that reads .payload_decoded");
  EXPECT_EQ(error(entry("Kafka", R"({"schema_file": "a.proto"})")),
            "m.json: feature.split_queues.orders.payload_protobuf.message_type: is required (the fully "
            "qualified message name)");
  EXPECT_EQ(error(entry("Kafka", R"({"message_type": "a.B"})")),
            "m.json: feature.split_queues.orders.payload_protobuf: neither schema_file nor "
            "descriptor_base64 is set; set schema_file to the .proto that describes the payload");
  EXPECT_EQ(error(entry("Kafka", R"({"message_type": "a.B", "schema_file": "a.proto", "registry": 1})")),
            "m.json: feature.split_queues.orders.payload_protobuf.registry: unknown field; expected "
            "schema_file, include_directories, message_type or descriptor_base64");
  EXPECT_EQ(error(entry("Kafka", R"({"message_type": "a.B", "schema_file": "a.proto", "include_directories": [3]})")),
            "m.json: feature.split_queues.orders.payload_protobuf.include_directories[0]: expected a path");
  EXPECT_EQ(error(entry("Kafka", R"({"message_type": 7, "schema_file": "a.proto"})")),
            "m.json: feature.split_queues.orders.payload_protobuf.message_type: expected a non-empty string");
}

TEST(UserConfig, SchemaFilesAreCompiledIntoDescriptorsBeforeTheConfigLeaves) {
  std::string text = R"({"feature": {"split_queues": [{"queue_id": "orders", "queue_type": "Kafka",
      "jq_filter": ".payload_decoded.x == 1",
      "payload_protobuf": {"schema_file": "a.proto", "include_directories": ["p"], "message_type": "a.B"}}]}})";
  auto parsed = parseUserConfig(text, "m.json");
  ASSERT_TRUE(parsed) << parsed.error().message();
  // Not compiled: qsplitd refuses it, since it reads no developer's files.
  auto unresolved = checkContentFilters(*parsed, [](const core::ContentFilter&) { return ok(); });
  ASSERT_FALSE(unresolved);
  EXPECT_EQ(unresolved.error().message(),
            "m.json: feature.split_queues[0].payload_protobuf.schema_file: is not compiled; qsplit run "
            "compiles it, since qsplitd reads no developer's files");
  auto root = nlohmann::json::parse(text);
  std::vector<std::string> asked;
  auto resolved = resolveProtobufSchemas(root, "m.json", [&](const PayloadProtobuf& p) -> Result<std::string> {
    asked.push_back(p.schema_file + " " + p.include_directories.at(0));
    return std::string("REVTQw==");
  });
  ASSERT_TRUE(resolved) << resolved.error().message();
  EXPECT_EQ(asked, std::vector<std::string>{"a.proto p"});
  EXPECT_EQ(root["feature"]["split_queues"][0]["payload_protobuf"],
            nlohmann::json({{"message_type", "a.B"}, {"descriptor_base64", "REVTQw=="}}));
  auto again = resolveProtobufSchemas(root, "m.json", [&](const PayloadProtobuf&) -> Result<std::string> {
    return fail(ErrorCode::kInternal, "compiled twice");
  });
  EXPECT_TRUE(again);  // resolving a resolved config changes nothing
  auto failing = nlohmann::json::parse(text);
  auto refused = resolveProtobufSchemas(failing, "m.json", [](const PayloadProtobuf&) -> Result<std::string> {
    return fail(ErrorCode::kInvalidArgument, "failed to compile `a.proto`: a.proto:1:1: Expected \"message\".");
  });
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().message(), "m.json: feature.split_queues[0].payload_protobuf: failed to compile "
                                       "`a.proto`: a.proto:1:1: Expected \"message\".");
}

TEST(UserConfig, MalformedJsonNamesLineAndColumn) {
  EXPECT_EQ(errorOf("{\n  \"feature\": {,}\n}"), "mirrord.json: not valid JSON (line 2, column 15)");
}

}  // namespace
}  // namespace qsplit::config
