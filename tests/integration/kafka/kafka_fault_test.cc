// The forwarding process is killed with SIGKILL mid-stream and started again.
#include "integration/kafka/kafka_fault_fixture.h"

namespace qsplit::kafka {
namespace {

TEST_P(KafkaFaultTest, KillNineMidStreamLosesNothing) {
  killMidStreamAndRestart("kill -9 mid-stream");
}

// The same with jq filters and batches of 20,000: exactly once, the kill lands in a transaction
// whose batch is routed and sent in shares (Forwarder::transact).
TEST_P(KafkaFaultTest, KillNineMidStreamWithContentFiltersLosesNothing) {
  content_ = true;
  killMidStreamAndRestart("kill -9 mid-stream, jq filters");
}

INSTANTIATE_TEST_SUITE_P(Modes, KafkaFaultTest, ::testing::Values(true, false),
                         [](const auto& info) { return info.param ? "Transactional" : "AtLeastOnce"; });

}  // namespace
}  // namespace qsplit::kafka
