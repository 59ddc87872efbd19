// A node of the three-broker cluster (scripts/kafka.sh start-cluster) is killed with -9 while
// records are forwarded: the partitions it led get new leaders, a coordinator it was moves,
// and every record still reaches its one destination. Holds the cluster alone (RESOURCE_LOCK
// kafka-cluster): it kills and restarts nodes that only these tests use.
#include "integration/kafka/kafka_fault_fixture.h"

namespace qsplit::kafka {
namespace {

const std::string kScript = std::string(QSPLIT_SOURCE_DIR) + "/scripts/kafka.sh";

class KafkaClusterFaultTest : public KafkaFaultTest {
 protected:
  KafkaClusterFaultTest() {
    bootstrap_variable_ = "QSPLIT_KAFKA_CLUSTER_BOOTSTRAP";
    replicas_ = 3;
  }

  void TearDown() override {
    // The next test needs all three nodes, whatever happened to this one.
    if (killed_ > 0) {
      EXPECT_EQ(run(kScript + " start-node " + std::to_string(killed_)).status, 0);
    }
    KafkaFaultTest::TearDown();
  }

  // The node that leads partition 0 of the original, as kcat reads the cluster's metadata
  // ("partition 0, leader 2, replicas: 2,3,1, isrs: 2,3,1").
  int leaderOfFirstPartition() {
    auto r = run("kcat -L -b " + bootstrap_ + " -t " + original_ + " -X log_level=3");
    const std::string marker = "partition 0, leader ";
    auto at = r.out.find(marker);
    return at == std::string::npos ? -1 : std::atoi(r.out.c_str() + at + marker.size());
  }

  int killed_ = 0;
};

TEST_P(KafkaClusterFaultTest, ALeaderKilledMidStreamLosesNothing) {
  produceStream();
  int leader = leaderOfFirstPartition();
  ASSERT_TRUE(leader >= 1 && leader <= 3) << "no leader for partition 0 of " << original_;
  pid_t forwarder = startForwarder();
  ASSERT_GT(forwarder, 0);
  ASSERT_TRUE(waitUntil([&] { return left() < 80000; }, std::chrono::seconds(120)));
  ASSERT_EQ(run(kScript + " kill-node " + std::to_string(leader)).status, 0);
  killed_ = leader;
  finish(forwarder);
  verifyDestinations("leader killed mid-stream");
  EXPECT_NE(leaderOfFirstPartition(), leader) << "partition 0 kept its dead leader";
}

INSTANTIATE_TEST_SUITE_P(Modes, KafkaClusterFaultTest, ::testing::Values(true, false),
                         [](const auto& info) { return info.param ? "Transactional" : "AtLeastOnce"; });

}  // namespace
}  // namespace qsplit::kafka
