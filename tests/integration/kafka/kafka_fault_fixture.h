// The fixture of the Kafka fault tests: topics, a stream of 100,000 records produced with
// kcat (header author = alice, bob, carol or dave, a quarter each), a forwarding process
// to start and kill, and the check that reads every destination back with kcat.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <map>
#include <sstream>
#include <thread>

#include "brokers/kafka/kafka_broker.h"
#include "common/random.h"
#include "support/kafka_test_broker.h"
#include "support/command.h"
#include "support/eventually.h"

namespace qsplit::kafka {

using std::chrono::milliseconds;
using testing::run;

constexpr int kRecords = 100000;
const char* kAuthors[] = {"alice", "bob", "carol", "dave"};

std::string authorOf(int seq) { return kAuthors[seq / (kRecords / 4)]; }

using testing::spawn;

// Polls the broker 5 times a second, not more.
template <class F>
bool waitUntil(F done, std::chrono::seconds limit) {
  return testing::eventually(done, limit, milliseconds(200));
}

class KafkaFaultTest : public testing::KafkaTest<::testing::TestWithParam<bool>> {
 protected:
  void SetUp() override {
    KafkaTest::SetUp();
    if (!connected()) return;
    std::string id = SecureRandom::instance().digits(8);
    original_ = "orders-" + id;
    group_ = "orders-app-" + id;
    fallback_ = "mirrord-tmp-" + id + "-fallback-" + original_;
    alice_ = "mirrord-tmp-" + id + "-alice-" + original_;
    bob_ = "mirrord-tmp-" + id + "-bob-" + original_;
    for (const auto& t : {original_, fallback_, alice_, bob_})
      ASSERT_TRUE(broker_->kafkaAdmin().createTopic(t, {3, replicas_, {}}).has_value());
  }

  void produceStream() {
    for (int a = 0; a < 4; ++a) {
      std::string lines;
      for (int i = a * (kRecords / 4); i < (a + 1) * (kRecords / 4); ++i)
        lines += "k" + std::to_string(i % 16) + ":seq-" + std::to_string(i) + "\n";
      auto r = run("kcat -P -b " + bootstrap_ + " -t " + original_ + " -K: -H author=" +
                       kAuthors[a] + " -X linger.ms=20",
                   &lines);
      ASSERT_EQ(r.status, 0);
    }
  }

  pid_t startForwarder() {
    std::vector<std::string> args = {QSPLIT_FORWARD_TOOL, "--bootstrap", bootstrap_, "--original",
                                     original_, "--group", group_, "--fallback", fallback_,
                                     "--session", alice_ + "=author:^alice$",
                                     "--session", bob_ + "=author:^bob$"};
    if (GetParam()) args.push_back("--exactly-once");
    if (content_) {
      // jq programs on the header, in batches of 20,000: a transaction spans ten route shares.
      for (const char* a : {"--jq-worker", QSPLIT_JQ_WORKER, "--batch", "20000"}) args.push_back(a);
    }
    return spawn(args);
  }

  uint64_t left() {
    auto backlog = broker_->admin().backlog(original_, group_);
    return backlog ? *backlog : UINT64_MAX;
  }

  // seq -> how many times each destination has it; also checks per-key order.
  void readDestination(const std::string& topic, const std::string& who,
                       std::map<int, std::map<std::string, int>>& seen, int& out_of_order) {
    auto r = run("kcat -C -b " + bootstrap_ + " -t " + topic +
                 " -o beginning -e -q -X log_level=3 -f '%k %s\\n'");
    std::istringstream lines(r.out);
    std::string key, body;
    std::map<std::string, int> last;
    while (lines >> key >> body) {
      int seq = std::stoi(body.substr(4));
      ++seen[seq][who];
      if (last.count(key) && seq <= last[key]) ++out_of_order;
      last[key] = seq;
    }
  }

  // Reads every destination and checks each record is where its header sends it: never
  // lost or misrouted, and with transactions never duplicated nor out of key order.
  void verifyDestinations(const std::string& what) {
    std::map<int, std::map<std::string, int>> seen;
    int out_of_order = 0;
    readDestination(alice_, "alice", seen, out_of_order);
    readDestination(bob_, "bob", seen, out_of_order);
    readDestination(fallback_, "fallback", seen, out_of_order);
    int lost = 0, duplicated = 0, misrouted = 0;
    for (int seq = 0; seq < kRecords; ++seq) {
      auto it = seen.find(seq);
      if (it == seen.end()) {
        ++lost;
        continue;
      }
      std::string author = authorOf(seq);
      std::string expected = author == "alice" || author == "bob" ? author : "fallback";
      for (const auto& [who, times] : it->second) {
        if (who != expected) misrouted += times;
        duplicated += times - 1;
      }
    }
    std::printf("%s (%s): lost %d, duplicated %d, misrouted %d, out of order %d\n", what.c_str(),
                GetParam() ? "transactional" : "at least once", lost, duplicated, misrouted,
                out_of_order);
    EXPECT_EQ(lost, 0);
    EXPECT_EQ(misrouted, 0);
    if (GetParam()) {
      EXPECT_EQ(duplicated, 0) << "transactions must not duplicate";
      EXPECT_EQ(out_of_order, 0);
    }
  }

  // Waits until the group has consumed the original to its end, then stops the forwarder.
  void finish(pid_t forwarder) {
    bool done = waitUntil([&] { return left() == 0; }, std::chrono::seconds(180));
    kill(forwarder, SIGTERM);
    int status = 0;
    waitpid(forwarder, &status, 0);
    ASSERT_TRUE(done) << left() << " records never forwarded";
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }

  // Produces the stream, kills the forwarder with -9 once it is well into it, starts it
  // again, and checks every destination.
  void killMidStreamAndRestart(const std::string& what) {
    produceStream();
    pid_t first = startForwarder();
    ASSERT_GT(first, 0);
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
    verifyDestinations(what);
  }

  int16_t replicas_ = 1;  // copies of each topic: 3 on the three-broker cluster
  bool content_ = false;   // the sessions' filters are jq programs
  std::string original_, group_, fallback_, alice_, bob_;
};

}  // namespace qsplit::kafka
