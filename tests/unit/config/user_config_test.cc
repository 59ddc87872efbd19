#include "config/user_config.h"

#include <gtest/gtest.h>

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
            "queue_type, queue_mode, message_filter or jq_filter");
  EXPECT_EQ(errorOf(R"({"feature": {"split_queues": {"q": {"queue_type": "NATS"}}}})"),
            "mirrord.json: feature.split_queues.q: unknown queue type 'NATS'; expected SQS, Kafka or RMQ");
  EXPECT_EQ(errorOf(R"({"feature": {"split_queues": {"q": {"queue_type": "Temporal"}}}})"),
            "mirrord.json: feature.split_queues.q.queue_type: queue type Temporal is not "
            "supported by qsplit (SQS, Kafka and RMQ are)");
  EXPECT_EQ(errorOf(R"({"feature": {"split_queues": {"q": {"message_filter": {}}}}})"),
            "mirrord.json: feature.split_queues.q.queue_type: is required (SQS, Kafka or RMQ)");
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
  EXPECT_EQ(orders->filter.content(), ".Body | fromjson | .important == true");
  const QueueSplit* events = config->find("events", QueueType::kRmq);
  ASSERT_NE(events, nullptr);
  EXPECT_EQ(events->filter.rules().size(), 1u);
  EXPECT_EQ(events->filter.content(), ".payload == \"x\"");
  EXPECT_EQ(config->find("any-topic", QueueType::kKafka)->filter.content(), ".payload | fromjson | .x == 1");
  auto list = parseUserConfig(R"({"feature": {"split_queues": [
      {"queue_id": "a", "queue_type": "SQS", "jq_filter": ".x"}]}})", "mirrord.json");
  ASSERT_TRUE(list);
  EXPECT_EQ(list->splits[0].filter.content(), ".x");
}

TEST(UserConfig, ContentFilterErrorsNameTheFileTheEntryAndTheCompilersMessage) {
  auto config = parseUserConfig(R"({"feature": {"split_queues": {
      "orders": {"queue_type": "SQS", "jq_filter": "bad"},
      "ok": {"queue_type": "SQS", "jq_filter": "good"}}}})", "mirrord.json");
  ASSERT_TRUE(config);
  auto compile = [](const std::string& text) -> Result<void> {
    if (text == "bad") return fail(ErrorCode::kInvalidArgument, "bad/0 is not defined");
    return ok();
  };
  auto checked = checkContentFilters(*config, compile);
  ASSERT_FALSE(checked);
  EXPECT_EQ(checked.error().message(),
            "mirrord.json: feature.split_queues.orders.jq_filter: bad/0 is not defined");
}

TEST(UserConfig, MalformedJsonNamesLineAndColumn) {
  EXPECT_EQ(errorOf("{\n  \"feature\": {,}\n}"), "mirrord.json: not valid JSON (line 2, column 15)");
}

}  // namespace
}  // namespace qsplit::config
