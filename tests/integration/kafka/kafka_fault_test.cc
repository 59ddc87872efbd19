// The forwarding process is killed with SIGKILL mid-stream and started again.
#include "integration/kafka/kafka_fault_fixture.h"

namespace qsplit::kafka {
namespace {

TEST_P(KafkaFaultTest, KillNineMidStreamLosesNothing) {
  produceStream();
  pid_t first = startForwarder();
  ASSERT_GT(first, 0);
  // Let it get well into the stream, then kill it without warning.
  bool midway = waitUntil([&] { return left() < 70000; }, std::chrono::seconds(120));
  kill(first, SIGKILL);
  waitpid(first, nullptr, 0);
  ASSERT_TRUE(midway) << "the forwarder made no progress";
  uint64_t left_at_kill = left();
  EXPECT_GT(left_at_kill, 0u) << "killed too late to prove anything";
  std::printf("killed with %llu of %d records left\n",
              static_cast<unsigned long long>(left_at_kill), kRecords);
  pid_t second = startForwarder();
  ASSERT_GT(second, 0);
  finish(second);
  verifyDestinations("kill -9 mid-stream");
}

INSTANTIATE_TEST_SUITE_P(Modes, KafkaFaultTest, ::testing::Values(true, false),
                         [](const auto& info) { return info.param ? "Transactional" : "AtLeastOnce"; });

}  // namespace
}  // namespace qsplit::kafka
