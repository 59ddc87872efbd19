// The broker itself is restarted (scripts/kafka.sh restart) while records are forwarded.
// Runs alone (RUN_SERIAL): every other Kafka test would see the outage too.
#include "integration/kafka/kafka_fault_fixture.h"

namespace qsplit::kafka {
namespace {

TEST_P(KafkaFaultTest, BrokerRestartMidStreamLosesNothing) {
  produceStream();
  pid_t forwarder = startForwarder();
  ASSERT_GT(forwarder, 0);
  ASSERT_TRUE(waitUntil([&] { return left() < 80000; }, std::chrono::seconds(120)));
  auto restarted = testing::run(std::string(QSPLIT_SOURCE_DIR) + "/scripts/kafka.sh restart");
  ASSERT_EQ(restarted.status, 0) << "the broker did not come back";
  finish(forwarder);
  verifyDestinations("broker restart mid-stream");
}

INSTANTIATE_TEST_SUITE_P(Modes, KafkaFaultTest, ::testing::Values(true, false),
                         [](const auto& info) { return info.param ? "Transactional" : "AtLeastOnce"; });

}  // namespace
}  // namespace qsplit::kafka
