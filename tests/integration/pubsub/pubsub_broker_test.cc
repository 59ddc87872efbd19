// The Pub/Sub broker against Google's own test server (pstest, scripts/pubsub.sh), with
// Google's Python library as the applications that publish and pull: what qsplit pulls is
// what they published, what it acknowledges is gone for them, what it gives back comes again,
// what it publishes they receive with its attributes and ordering key, and the temporary topic
// and subscription it creates carry the original's settings and are gone after remove().
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <thread>

#include "brokers/pubsub/pubsub_broker.h"
#include "common/random.h"
#include "support/eventually.h"
#include "support/pubsub_test_client.h"

namespace qsplit::pubsub {
namespace {

constexpr const char* kProject = "qsplit-test";

class PubsubBrokerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    host_ = testing::brokerAddress("QSPLIT_PUBSUB_EMULATOR_HOST", &why);
    QSPLIT_NEED_BROKER(why);
    auto broker = PubsubBroker::create({kProject, host_});
    ASSERT_TRUE(broker.has_value()) << broker.error().message();
    broker_ = std::move(broker).value();
    id_ = SecureRandom::instance().digits(8);
    client_.emplace(host_, kProject);
  }

  // `count` messages pulled from `source`, waiting up to 10 s for them.
  std::vector<core::Message> take(core::Source& source, std::size_t count) {
    std::vector<core::Message> got;
    testing::eventually(
        [&] {
          auto batch = source.receive(count - got.size(), std::chrono::milliseconds(500));
          EXPECT_TRUE(batch.has_value()) << batch.error().message();
          if (batch) got.insert(got.end(), batch->begin(), batch->end());
          return got.size() >= count;
        },
        std::chrono::seconds(10));
    return got;
  }

  std::string host_, id_;
  std::unique_ptr<PubsubBroker> broker_;
  std::optional<testing::PubsubTestClient> client_;
};

nlohmann::json message(int i, const std::string& key = "") {
  return {{"data", "order " + std::to_string(i)},
          {"attributes", {{"tenant", i % 2 ? "b" : "a"}, {"seq", std::to_string(i)}}},
          {"ordering_key", key}};
}

TEST_F(PubsubBrokerTest, PullsWhatGooglesClientPublishedAndAcknowledgesIt) {
  std::string topic = "orders-" + id_, subscription = "orders-sub-" + id_;
  client_->setup(topic, subscription);
  std::vector<nlohmann::json> sent;
  for (int i = 0; i < 30; ++i) sent.push_back(message(i, i < 10 ? "customer-7" : ""));
  auto ids = client_->publish(topic, sent);
  ASSERT_EQ(ids.size(), 30u);

  auto source = broker_->openSource(subscription, "");
  ASSERT_TRUE(source.has_value()) << source.error().message();
  auto got = take(**source, 30);
  ASSERT_EQ(got.size(), 30u);
  std::map<std::string, const core::Message*> by_body;
  for (const auto& m : got) by_body[m.body] = &m;
  for (int i = 0; i < 30; ++i) {
    const auto* m = by_body["order " + std::to_string(i)];
    ASSERT_NE(m, nullptr) << i;
    EXPECT_EQ(m->id, ids[static_cast<std::size_t>(i)]);
    ASSERT_EQ(m->attributes.size(), 2u);
    EXPECT_EQ(m->attributes[0].name, "seq") << "sorted by name";
    EXPECT_EQ(m->attributes[0].value, std::to_string(i));
    EXPECT_EQ(m->attributes[1].value, i % 2 ? "b" : "a");
    EXPECT_EQ(m->key.value_or("none"), i < 10 ? "customer-7" : "none");
    EXPECT_GT(m->timestamp_ms.value_or(0), 0);
  }
  ASSERT_TRUE((*source)->ack(got).has_value());
  EXPECT_TRUE(client_->drain(subscription).empty()) << "acknowledged messages are gone for every reader";
}

TEST_F(PubsubBrokerTest, AMessageGivenBackIsDeliveredAgainAtOnce) {
  std::string topic = "orders-" + id_, subscription = "orders-sub-" + id_;
  client_->setup(topic, subscription, 600);  // without the release, 10 minutes away
  std::vector<nlohmann::json> sent;
  for (int i = 0; i < 10; ++i) sent.push_back(message(i));
  client_->publish(topic, sent);
  auto source = broker_->openSource(subscription, "");
  ASSERT_TRUE(source.has_value()) << source.error().message();
  auto got = take(**source, 10);
  ASSERT_EQ(got.size(), 10u);
  ASSERT_TRUE((*source)->release(std::span(got).first(4)).has_value());
  ASSERT_TRUE((*source)->ack(std::span(got).subspan(4)).has_value());
  std::set<std::string> again;
  for (const auto& m : client_->drain(subscription)) again.insert(m["data"].get<std::string>());
  std::set<std::string> released;
  for (const auto& m : std::span(got).first(4)) released.insert(m.body);
  EXPECT_EQ(again, released);
}

TEST_F(PubsubBrokerTest, ATemporaryIsLikeTheOriginalAndReceivesWhatTheSinkPublishes) {
  std::string topic = "orders-" + id_, original = "orders-sub-" + id_, temporary = "mirrord-tmp-" + id_;
  client_->setup(topic, original, 45, true);
  ASSERT_TRUE(broker_->admin().createLike(original, temporary).has_value());
  ASSERT_TRUE(broker_->admin().createLike(original, temporary).has_value()) << "one left by a crash is taken";
  auto settings = client_->get(temporary);
  EXPECT_EQ(settings["topic"], std::string("projects/") + kProject + "/topics/" + temporary);
  EXPECT_EQ(settings["ack_deadline_seconds"], 45);
  EXPECT_EQ(settings["enable_message_ordering"], true);
  EXPECT_EQ(settings["message_retention_seconds"], 3600);
  EXPECT_EQ(settings["labels"], nlohmann::json({{"team", "orders"}}));

  // 300 messages over three ordering keys, through the sink in two batches.
  std::vector<core::Message> messages;
  for (int i = 0; i < 300; ++i) {
    core::Message m;
    m.body = "order " + std::to_string(i);
    m.attributes = {{"seq", std::to_string(i), ""}, {"tenant", "a", ""}};
    m.key = "customer-" + std::to_string(i % 3);
    messages.push_back(std::move(m));
  }
  auto sink = broker_->openSink(temporary);
  ASSERT_TRUE(sink.has_value()) << sink.error().message();
  (*sink)->submit(std::span(messages).first(120));
  (*sink)->submit(std::span(messages).subspan(120));
  ASSERT_TRUE((*sink)->await().has_value());

  auto got = client_->drain(temporary);
  ASSERT_EQ(got.size(), 300u);
  std::map<std::string, int> last;  // per ordering key, the last seq seen
  for (const auto& m : got) {
    int seq = std::stoi(m["attributes"]["seq"].get<std::string>());
    EXPECT_EQ(m["data"], "order " + std::to_string(seq));
    EXPECT_EQ(m["attributes"]["tenant"], "a");
    std::string key = m["ordering_key"];
    EXPECT_EQ(key, "customer-" + std::to_string(seq % 3));
    EXPECT_GT(seq, last.count(key) ? last[key] : -1) << "order kept per ordering key";
    last[key] = seq;
  }

  ASSERT_TRUE(broker_->admin().remove(temporary).has_value());
  for (const auto& line : client_->list()) EXPECT_EQ(line.find(temporary), std::string::npos) << line;
  EXPECT_TRUE(broker_->admin().remove(temporary).has_value()) << "removing what is gone is no error";
  EXPECT_TRUE(broker_->admin().describe(original).has_value()) << "the original is untouched";
}

TEST_F(PubsubBrokerTest, AQueueConfigSetsWhatTemporariesTakeInsteadOfTheOriginals) {
  std::string topic = "orders-" + id_, original = "orders-sub-" + id_, temporary = "mirrord-tmp-" + id_;
  client_->setup(topic, original, 45, true);
  auto settings = TemporarySettings::fromProperties(
      {{"ack_deadline_seconds", "30"}, {"message_retention_seconds", "7200"}, {"expiration_seconds", "172800"}});
  ASSERT_TRUE(settings.has_value()) << settings.error().message();
  auto broker = PubsubBroker::create({kProject, host_}, *settings);
  ASSERT_TRUE(broker.has_value()) << broker.error().message();
  ASSERT_TRUE((*broker)->admin().createLike(original, temporary).has_value());
  auto made = client_->get(temporary);
  EXPECT_EQ(made["ack_deadline_seconds"], 30);
  EXPECT_EQ(made["message_retention_seconds"], 7200);
  EXPECT_EQ(made["expiration_seconds"], 172800);
  EXPECT_EQ(made["enable_message_ordering"], true) << "the rest is the original's";
  ASSERT_TRUE((*broker)->admin().remove(temporary).has_value());

  auto never = TemporarySettings::fromProperties({{"expiration_seconds", "never"}});
  ASSERT_TRUE(never.has_value());
  EXPECT_EQ(never->expiration_seconds, 0) << "an expiration policy without a ttl";
  auto error = [](std::map<std::string, std::string> properties) {
    auto parsed = TemporarySettings::fromProperties(properties);
    return parsed ? std::string("accepted") : parsed.error().message();
  };
  EXPECT_EQ(error({{"ack_deadline_seconds", "5"}}),
            "ack_deadline_seconds: '5' is not a whole number of seconds from 10 to 600");
  EXPECT_EQ(error({{"expiration_seconds", "soon"}}),
            "expiration_seconds: 'soon' is not a whole number of seconds from 86400, or never");
  EXPECT_EQ(error({{"dead_letter_topic", "x"}}),
            "dead_letter_topic: not a googlePubSub queue setting (ack_deadline_seconds, message_retention_seconds, "
            "expiration_seconds)");
}

TEST(PubsubAddress, FromAClientConfigPropertyList) {
  auto address = PubsubAddress::fromProperties({{"project_id", "orders-prod"}}, "127.0.0.1:8085");
  ASSERT_TRUE(address.has_value()) << address.error().message();
  EXPECT_EQ(address->emulator_host, "127.0.0.1:8085") << "PUBSUB_EMULATOR_HOST of qsplitd";
  EXPECT_EQ(address->subscriptionPath("s"), "projects/orders-prod/subscriptions/s");
  auto own = PubsubAddress::fromProperties({{"project_id", "orders-prod"}, {"emulator_host", "10.0.0.1:8681"}}, "");
  ASSERT_TRUE(own.has_value());
  EXPECT_EQ(own->emulator_host, "10.0.0.1:8681");
  auto error = [](std::map<std::string, std::string> properties, std::string emulator = "127.0.0.1:8085") {
    auto parsed = PubsubAddress::fromProperties(properties, emulator);
    return parsed ? std::string("accepted") : parsed.error().message();
  };
  EXPECT_EQ(error({}), "project_id: is required");
  EXPECT_EQ(error({{"project_id", "orders-prod"}, {"region", "eu"}}),
            "region: not a Pub/Sub client setting (project_id, credentials_json, emulator_host, endpoint)");
  EXPECT_EQ(error({{"project_id", "orders-prod"}, {"credentials_json", "{}"}}),
            "credentials_json: an emulator (emulator_host '127.0.0.1:8085', or PUBSUB_EMULATOR_HOST of qsplitd) "
            "takes no credentials; give one or the other");
  EXPECT_EQ(error({{"project_id", "orders-prod"}, {"endpoint", "pubsub.googleapis.com"}}, ""),
            "Pub/Sub endpoint 'pubsub.googleapis.com': expected host:port");
  auto google = PubsubAddress::fromProperties({{"project_id", "orders-prod"}, {"credentials_json", "{}"}}, "");
  ASSERT_TRUE(google.has_value()) << google.error().message();
  EXPECT_EQ(google->describe(), "Pub/Sub project orders-prod at pubsub.googleapis.com:443")
      << "Google's endpoint, and never the key";
  auto key = PubsubBroker::create(*google);
  ASSERT_FALSE(key.has_value());
  EXPECT_EQ(key.error().message(), "credentials_json: not a service-account key (a JSON key of type service_account "
                                   "with client_email, private_key_id and private_key)");
}

TEST_F(PubsubBrokerTest, ErrorsNameWhatIsWrong) {
  auto missing = broker_->admin().describe("nothing-" + id_);
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(missing.error().message().find(std::string("projects/") + kProject + "/subscriptions/nothing-" + id_),
            std::string::npos)
      << missing.error().message();
  EXPECT_FALSE(broker_->openSource("nothing-" + id_, "").has_value());
  EXPECT_FALSE(broker_->openSink("nothing-" + id_).has_value());
  auto like = broker_->admin().createLike("nothing-" + id_, "mirrord-tmp-" + id_);
  ASSERT_FALSE(like.has_value());
  EXPECT_EQ(like.error().code(), ErrorCode::kNotFound);

  auto project = PubsubBroker::create({"Bad_Project", host_});
  ASSERT_FALSE(project.has_value());
  EXPECT_NE(project.error().message().find("project_id 'Bad_Project'"), std::string::npos)
      << project.error().message();
}

TEST_F(PubsubBrokerTest, BacklogCountsWhatCanBePulledAndWhatAReaderMayStillHold) {
  std::string topic = "orders-" + id_, subscription = "orders-sub-" + id_;
  client_->setup(topic, subscription, 10);
  std::vector<nlohmann::json> sent;
  for (int i = 0; i < 25; ++i) sent.push_back(message(i));
  client_->publish(topic, sent);
  auto counted = broker_->admin().backlog(subscription, "");
  ASSERT_TRUE(counted.has_value()) << counted.error().message();
  EXPECT_EQ(*counted, 25u);

  // A reader takes 5 and stops without acknowledging them: they cannot be seen until their ack
  // deadline (10 s) passes, and the count never says 0 meanwhile.
  auto reader = broker_->openSource(subscription, "");
  ASSERT_TRUE(reader.has_value());
  auto held = take(**reader, 25);
  ASSERT_EQ(held.size(), 25u);
  ASSERT_TRUE((*reader)->ack(std::span(held).subspan(5)).has_value());
  uint64_t seen = 0;
  for (int i = 0; i < 30 && seen < 5; ++i) {
    auto n = broker_->admin().backlog(subscription, "");
    ASSERT_TRUE(n.has_value()) << n.error().message();
    EXPECT_GE(*n, 1u) << "said empty while a reader held messages, after " << i << " counts";
    seen = *n;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  EXPECT_EQ(seen, 5u) << "the held messages came back after their ack deadline";
  EXPECT_EQ(client_->drain(subscription).size(), 5u) << "counting took nothing away";

  // Nothing held or waiting: 0 once nothing was seen for the ack deadline and 2 s in a row.
  auto just_drained = broker_->admin().backlog(subscription, "");
  ASSERT_TRUE(just_drained.has_value());
  EXPECT_EQ(*just_drained, 1u) << "a reader may hold what it just pulled";
  ASSERT_TRUE(testing::eventually(
      [&] {
        auto n = broker_->admin().backlog(subscription, "");
        return n && *n == 0;
      },
      std::chrono::seconds(30)));
  auto missing = broker_->admin().backlog("nothing-" + id_, "");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
}

TEST_F(PubsubBrokerTest, PublishingToASubscriptionWhoseTopicOthersReadIsRefused) {
  std::string topic = "orders-" + id_, original = "orders-sub-" + id_, audit = "audit-sub-" + id_;
  client_->setup(topic, original);
  ASSERT_TRUE(broker_->openSink(original).has_value()) << "the topic's only subscription";
  client_->setup(topic, audit);
  auto refused = broker_->openSink(original);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(refused.error().message().find(std::string("projects/") + kProject + "/subscriptions/" + audit +
                                           " reads too"),
            std::string::npos)
      << refused.error().message();
  EXPECT_TRUE(broker_->openSource(original, "").has_value()) << "reading it is another matter";
}

}  // namespace
}  // namespace qsplit::pubsub
