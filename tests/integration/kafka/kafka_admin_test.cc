// The Kafka adapter's own contract on a real broker: temporary topics copy the original's
// shape and settings, and every bad input gets an error that names its cause while a split
// that is already running goes on undisturbed.
#include <gtest/gtest.h>

#include <algorithm>

#include "brokers/kafka/kafka_broker.h"
#include "brokers/kafka/kafka_source.h"
#include "common/random.h"
#include "engine/queue_splitter.h"
#include "support/kafka_test_broker.h"
#include "support/command.h"
#include "support/messages.h"
#include "support/recording_patcher.h"

namespace qsplit::kafka {
namespace {

class KafkaAdminTest : public testing::KafkaTest<> {
 protected:
  void SetUp() override {
    KafkaTest::SetUp();
    id_ = SecureRandom::instance().digits(8);
  }
  std::string id_;
};

TEST_F(KafkaAdminTest, TemporaryTopicCopiesPartitionsAndTopicConfigs) {
  std::string original = "views-" + id_, copy = "mirrord-tmp-" + id_ + "-views";
  ASSERT_TRUE(broker_->kafkaAdmin()
                  .createTopic(original, {3, 1,
                                          {{"retention.ms", "7200000"},
                                           {"cleanup.policy", "compact"},
                                           {"max.message.bytes", "2000000"}}})
                  .has_value());
  ASSERT_TRUE(broker_->admin().createLike(original, copy).has_value());
  auto info = broker_->admin().describe(copy);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->partitions, 3);
  EXPECT_EQ(info->kind, core::QueueKind::kTopic);
  // kcat, independently, sees the same partition count.
  auto listed = testing::run("kcat -L -b " + bootstrap_ + " -t " + copy);
  EXPECT_NE(listed.out.find("topic \"" + copy + "\" with 3 partitions"), std::string::npos) << listed.out;
  auto spec = broker_->kafkaAdmin().topicSpec(copy);
  ASSERT_TRUE(spec.has_value());
  EXPECT_EQ(spec->replication_factor, 1);
  auto configs = broker_->kafkaAdmin().topicConfigs(copy);
  ASSERT_TRUE(configs.has_value()) << configs.error().message();
  EXPECT_EQ((*configs)["retention.ms"], "7200000");
  EXPECT_EQ((*configs)["cleanup.policy"], "compact");
  EXPECT_EQ((*configs)["max.message.bytes"], "2000000");
  EXPECT_EQ(broker_->admin().createLike(original, copy).error().code(), ErrorCode::kAlreadyExists);
  ASSERT_TRUE(broker_->admin().remove(copy).has_value());
  EXPECT_EQ(broker_->admin().remove("no-such-topic-" + id_).error().code(), ErrorCode::kNotFound);
}

TEST_F(KafkaAdminTest, AGroupLikeAnotherStandsWhereItsCommittedOffsetsStand) {
  std::string topic = "views-" + id_, group = "views-app-" + id_;
  ASSERT_TRUE(broker_->kafkaAdmin().createTopic(topic, {2, 1, {}}).has_value());
  for (int partition : {0, 1})
    ASSERT_EQ(testing::run("seq 10 | kcat -P -b " + bootstrap_ + " -t " + topic + " -p " +
                           std::to_string(partition)).status, 0);
  uint64_t read = 0;
  {
    auto source = std::move(broker_->openSource(topic, group)).value();
    while (read < 5) {  // some of the 20 records, committed by acking them
      auto batch = source->receive(3, std::chrono::milliseconds(500));
      ASSERT_TRUE(batch) << batch.error().message();
      ASSERT_TRUE(source->ack(*batch));
      read += batch->size();
    }
  }
  ASSERT_EQ(*broker_->admin().backlog(topic, group), 20 - read);
  auto like = broker_->admin().groupLike(topic, group);
  ASSERT_TRUE(like) << like.error().message();
  EXPECT_EQ(*like, "qsplit-from-" + topic);
  EXPECT_EQ(*broker_->admin().backlog(topic, *like), 20 - read);
  // kcat, independently, reads as that group exactly the records the first did not.
  uint64_t rest = 0;
  for (int partition : {0, 1}) {
    // From the group's stored offset, else the start (as backlog counts and qsplit reads).
    auto got = testing::run("kcat -C -b " + bootstrap_ + " -t " + topic + " -p " +
                            std::to_string(partition) + " -o stored -X group.id=" + *like +
                            " -X auto.offset.reset=earliest -e -q -f '%s\\n'");
    ASSERT_EQ(got.status, 0) << got.out;
    rest += std::count(got.out.begin(), got.out.end(), '\n');
  }
  EXPECT_EQ(rest, 20 - read);
}

TEST_F(KafkaAdminTest, UnreachableBootstrapIsNamed) {
  // A port nothing listens on: connect fails fast, the error says where.
  auto broker = KafkaBroker::create({{{"bootstrap.servers", "127.0.0.1:1"}}, std::chrono::milliseconds(3000)});
  ASSERT_FALSE(broker.has_value());
  EXPECT_NE(broker.error().message().find("cannot reach Kafka at 127.0.0.1:1"), std::string::npos)
      << broker.error().message();
}

TEST_F(KafkaAdminTest, InvalidClientPropertyIsNamed) {
  auto broker = KafkaBroker::create({{{"bootstrap.servers", bootstrap_}, {"linger.mss", "5"}}});
  ASSERT_FALSE(broker.has_value());
  EXPECT_EQ(broker.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(broker.error().message().find("invalid Kafka client property 'linger.mss'"),
            std::string::npos)
      << broker.error().message();
  auto missing = KafkaBroker::create({{{"client.id", "x"}}});
  EXPECT_EQ(missing.error().message(), "Kafka client config has no bootstrap.servers");
}

TEST_F(KafkaAdminTest, MissingTopicFailsTheSessionAndLeavesTheRunningSplitAlone) {
  std::string original = "clicks-" + id_;
  ASSERT_TRUE(broker_->kafkaAdmin().createTopic(original, {1, 1, {}}).has_value());
  testing::RecordingPatcher running_workload(original), missing_workload("nope-" + id_);
  engine::SplitOptions options;
  options.group = "clicks-app-" + id_;
  options.forwarder.wait = std::chrono::milliseconds(20);
  engine::QueueSplitter running(*broker_, running_workload, SystemClock::instance(),
                                SecureRandom::instance(), original, options);
  auto alice = running.startSession("alice", testing::filter({{"author", "alice"}}),
                                    core::QueueMode::kSteal);
  ASSERT_TRUE(alice.has_value()) << alice.error().message();

  engine::QueueSplitter missing(*broker_, missing_workload, SystemClock::instance(),
                                SecureRandom::instance(), "nope-" + id_, options);
  auto failed = missing.startSession("bob", testing::filter({{"a", "b"}}), core::QueueMode::kSteal);
  ASSERT_FALSE(failed.has_value());
  EXPECT_EQ(failed.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(failed.error().message().find("nope-" + id_), std::string::npos) << failed.error().message();
  EXPECT_EQ(missing_workload.patches(), 0);

  // The running split still forwards: a record for alice reaches her topic.
  std::string body = "still here";
  ASSERT_EQ(testing::run("kcat -P -b " + bootstrap_ + " -t " + original + " -H author=alice", &body).status, 0);
  bool forwarded = false;
  for (int i = 0; i < 300 && !forwarded; ++i) {
    forwarded = running.status().counts.acked >= 1;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(forwarded);
  auto read = testing::run("kcat -C -b " + bootstrap_ + " -t " + *alice + " -o beginning -e -q -X log_level=3");
  EXPECT_NE(read.out.find("still here"), std::string::npos);
  ASSERT_TRUE(running.endSession("alice").has_value());
}

TEST_F(KafkaAdminTest, AReceiveStopsAtItsByteLimit) {
  std::string topic = "large-" + id_;
  ASSERT_TRUE(broker_->kafkaAdmin().createTopic(topic, {1, 1, {}}).has_value());
  std::string lines;
  for (int i = 0; i < 50; ++i) lines += std::string(997, 'a' + i % 26) + std::to_string(100 + i) + "\n";
  ASSERT_EQ(testing::run("kcat -P -b " + bootstrap_ + " -t " + topic + " -p 0", &lines).status, 0);
  // A limit of ten 1,000-byte records; no limit on the count.
  auto source = KafkaSource::create({{"bootstrap.servers", bootstrap_}}, topic, "large-" + id_, 10000);
  ASSERT_TRUE(source.has_value()) << source.error().message();
  auto first = (*source)->receive(1, std::chrono::seconds(20));
  ASSERT_TRUE(first.has_value() && first->size() == 1);
  std::this_thread::sleep_for(std::chrono::seconds(1));  // everything else is fetched by now
  std::vector<core::Message> all = *first;
  std::vector<std::size_t> sizes;
  while (all.size() < 50) {
    auto batch = (*source)->receive(5000, std::chrono::seconds(20));
    ASSERT_TRUE(batch.has_value() && !batch->empty());
    sizes.push_back(batch->size());
    all.insert(all.end(), batch->begin(), batch->end());
  }
  EXPECT_EQ(sizes, (std::vector<std::size_t>{10, 10, 10, 10, 9}));
  for (int i = 0; i < 50; ++i) EXPECT_EQ(all[i].body.substr(997), std::to_string(100 + i));
}

// Overlapping batches: the forwarder settles the earlier batch before the later one, so when
// both are given back the later release must not seek past the earlier one's records.
TEST_F(KafkaAdminTest, ReleasingALaterBatchAfterAnEarlierOneLosesNeither) {
  std::string topic = "released-" + id_;
  ASSERT_TRUE(broker_->kafkaAdmin().createTopic(topic, {1, 1, {}}).has_value());
  std::string lines;
  for (int i = 0; i < 10; ++i) lines += "record-" + std::to_string(i) + "\n";
  ASSERT_EQ(testing::run("kcat -P -b " + bootstrap_ + " -t " + topic + " -p 0", &lines).status, 0);
  auto source = KafkaSource::create({{"bootstrap.servers", bootstrap_}}, topic, "released-" + id_);
  ASSERT_TRUE(source.has_value()) << source.error().message();
  auto receive = [&](std::size_t count) {
    std::vector<core::Message> got;
    for (int i = 0; i < 200 && got.size() < count; ++i) {
      auto batch = (*source)->receive(count - got.size(), std::chrono::milliseconds(100));
      if (batch) got.insert(got.end(), batch->begin(), batch->end());
    }
    return got;
  };
  auto earlier = receive(4), later = receive(6);
  ASSERT_EQ(earlier.size() + later.size(), 10u);
  ASSERT_TRUE((*source)->release(earlier).has_value());
  ASSERT_TRUE((*source)->release(later).has_value());
  auto again = receive(10);
  ASSERT_EQ(again.size(), 10u);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(again[i].body, "record-" + std::to_string(i));
  ASSERT_TRUE((*source)->ack(again).has_value());
  // The group's committed offsets reach the end of the partition.
  auto lag = broker_->admin().backlog(topic, "released-" + id_);
  ASSERT_TRUE(lag.has_value()) << lag.error().message();
  EXPECT_EQ(*lag, 0u);
}

// The forwarder hands each settled batch back, and the next receive writes its records over
// those messages: nothing of a recycled record (key, headers) may show in the next one.
TEST_F(KafkaAdminTest, ARecycledBatchLeavesNothingOfItsRecordsInTheNext) {
  std::string topic = "recycled-" + id_;
  ASSERT_TRUE(broker_->kafkaAdmin().createTopic(topic, {1, 1, {}}).has_value());
  std::string keyed = "key-1:first\n", plain = "second\n";
  std::string kcat = "kcat -P -b " + bootstrap_ + " -t " + topic + " -p 0";
  ASSERT_EQ(testing::run(kcat + " -K: -H a=1 -H b=2 -H c=3", &keyed).status, 0);
  ASSERT_EQ(testing::run(kcat + " -H only=x", &plain).status, 0);
  auto source = KafkaSource::create({{"bootstrap.servers", bootstrap_}}, topic, "recycled-" + id_);
  ASSERT_TRUE(source.has_value()) << source.error().message();
  auto receiveOne = [&] {
    for (int i = 0; i < 200; ++i) {
      auto batch = (*source)->receive(1, std::chrono::milliseconds(100));
      if (batch && !batch->empty()) return std::move(*batch);
    }
    return std::vector<core::Message>{};
  };
  auto first = receiveOne();
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].key, "key-1");
  ASSERT_EQ(first[0].attributes.size(), 3u);
  ASSERT_TRUE((*source)->ack(first).has_value());
  (*source)->recycle(std::move(first));

  auto second = receiveOne();
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].body, "second");
  EXPECT_FALSE(second[0].key.has_value());
  ASSERT_EQ(second[0].attributes.size(), 1u);
  EXPECT_EQ(second[0].attributes[0].name, "only");
  EXPECT_EQ(second[0].attributes[0].value, "x");
  EXPECT_EQ(second[0].offset, 1);
  EXPECT_TRUE(second[0].timestamp_ms.has_value());
  ASSERT_TRUE((*source)->ack(second).has_value());
  auto lag = broker_->admin().backlog(topic, "recycled-" + id_);
  ASSERT_TRUE(lag.has_value()) << lag.error().message();
  EXPECT_EQ(*lag, 0u);
}

}  // namespace
}  // namespace qsplit::kafka
