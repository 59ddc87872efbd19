// Every replica forwards: the leader's confirmations (Replicas) and a follower forwarding by
// the leader's routes (SessionManager::follow), on one shared store and the memory broker.
#include "control/replicas.h"

#include <gtest/gtest.h>

#include <regex>
#include <set>

#include "unit/control/sessions_fixture.h"

namespace qsplit::control {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// The shared store as a replica cut off from it for writes sees it (the API server refusing
// or unreachable): reads still work, writes fail while `refuse` is set.
class CutOffStore : public Store {
 public:
  explicit CutOffStore(Store& inner) : inner_(inner) {}
  Result<void> put(const std::string& kind, const std::string& key,
                   const std::string& json) override {
    if (refuse) return fail(ErrorCode::kUnavailable, "the store is out of reach");
    return inner_.put(kind, key, json);
  }
  Result<void> remove(const std::string& kind, const std::string& key) override {
    return inner_.remove(kind, key);
  }
  Result<std::vector<StoredRecord>> list(const std::string& kind) override {
    return inner_.list(kind);
  }
  core::TemporaryJournal& journal(const std::string& broker) override {
    return inner_.journal(broker);
  }
  std::atomic<bool> refuse{false};

 private:
  Store& inner_;
};

class ReplicasTest : public SessionsTest {
 protected:
  void SetUp() override {
    replica_ = "leader";
    lease_ = seconds(2);
    jq_worker_ = QSPLIT_JQ_WORKER;
    SessionsTest::SetUp();
  }

  void beat(const std::string& replica, const ReplicaAcks& acks, uint64_t n) {
    ASSERT_TRUE(store_->put(kReplicaKind, replica, replicaRecord(acks, n)));
  }

  std::set<std::string> replicaNames() {
    auto records = store_->list(kReplicaKind);
    std::set<std::string> out;
    if (records)
      for (const auto& r : *records) out.insert(r.key);
    return out;
  }

  // Another qsplitd on the same store that does not lead: it forwards.
  std::unique_ptr<SessionManager> startFollower(const std::string& name) {
    follower_store_ = std::make_unique<CutOffStore>(*store_);
    follower_workloads_ = std::make_unique<LocalWorkloads>(*store_, SystemClock::instance());
    auto follower = std::make_unique<SessionManager>(
        *follower_store_, *follower_workloads_, [this] { return resources_; }, clock_,
        SecureRandom::instance(), options(name));
    follower->follow();
    return follower;
  }

  // Whether the follower's /metrics show it forwarding `orders`.
  static bool forwardsOrders(SessionManager& follower) {
    return follower.metrics().find("\"orders\"") != std::string::npos;
  }

  // Messages read from `orders` by the qsplitd whose metrics these are.
  static uint64_t read(const std::string& metrics) {
    std::smatch m;
    std::regex line(R"(mirrord_read_sqs_messages_count\{original_queue="orders"\} (\d+))");
    return std::regex_search(metrics, m, line) ? std::stoull(m[1]) : 0;
  }

  std::unique_ptr<LocalWorkloads> follower_workloads_;
  std::unique_ptr<CutOffStore> follower_store_;
};

TEST_F(ReplicasTest, TheLeaderWaitsForEveryLiveReplicaAndNamesThoseThatDidNotConfirm) {
  Replicas leader(*store_, clock_, "leader", lease_);
  beat("leader", {}, 1);  // its own record (from when it stood by) is never waited for
  beat("b", {{"SQS:orders", "t2"}}, 1);
  beat("c", {{"SQS:orders", "t1"}}, 1);
  auto waited = leader.confirm("SQS:orders", "t2", milliseconds(0));
  ASSERT_FALSE(waited);
  EXPECT_NE(waited.error().message().find("replica c did not confirm the routes of SQS:orders"),
            std::string::npos) << waited.error().message();
  beat("c", {{"SQS:orders", "t2"}}, 2);
  EXPECT_TRUE(leader.confirm("SQS:orders", "t2", milliseconds(0)));
  auto other = leader.confirm("SQS:payments", "t1", milliseconds(0));
  ASSERT_FALSE(other);
  EXPECT_NE(other.error().message().find("replica b, c did not"), std::string::npos);
}

TEST_F(ReplicasTest, AReplicaThatStopsWritingIsGoneAfterALeaseAndItsRecordAfterTwo) {
  Replicas leader(*store_, clock_, "leader", lease_);
  beat("b", {}, 1);
  leader.observe();
  clock_.advance(lease_ - milliseconds(1));
  EXPECT_FALSE(leader.confirm("SQS:orders", "t1", milliseconds(0)));
  clock_.advance(milliseconds(1));
  EXPECT_TRUE(leader.confirm("SQS:orders", "t1", milliseconds(0)));
  EXPECT_EQ(replicaNames(), std::set<std::string>{"b"});
  clock_.advance(lease_);
  leader.observe();
  EXPECT_TRUE(replicaNames().empty());
}

TEST_F(ReplicasTest, AFollowerForwardsByTheLeadersRoutesAndConfirmsThemBeforeAQueueGoes) {
  auto follower = startFollower("follower");
  ASSERT_TRUE(testing::eventually([&] { return replicaNames().count("follower") == 1; }));
  auto session = manager_->start(alice_, "", userConfig("orders", "^alice$"));
  ASSERT_TRUE(session) << session.error().message();
  std::string mine = session->queues[0].temporary;
  std::string fallback = manager_->queues()[0].split.fallback;
  // The start returned once the follower confirmed the table with alice's session in it.
  auto records = store_->list(kReplicaKind);
  ASSERT_TRUE(records && records->size() == 1u);
  EXPECT_NE((*records)[0].json.find("SQS:orders"), std::string::npos) << (*records)[0].json;

  std::map<std::string, std::string> produced;  // body -> who must get it
  for (int i = 0; i < 100; ++i) {
    std::string author = i % 2 ? "alice" : "bob";
    std::string body = author + "-" + std::to_string(i);
    produce(author, body);
    produced[body] = author == "alice" ? mine : fallback;
    std::this_thread::sleep_for(milliseconds(2));
  }
  std::map<std::string, std::vector<std::string>> got;  // body -> where it was read
  ASSERT_TRUE(testing::eventually([&] {
    for (const auto& q : {mine, fallback})
      for (const auto& body : drain(q)) got[body].push_back(q);
    return got.size() == produced.size();
  }));
  for (const auto& [body, where] : produced)
    EXPECT_EQ(got[body], std::vector<std::string>{where}) << body;
  // Both replicas forwarded a share of them.
  EXPECT_GT(read(follower->metrics()), 0u);
  EXPECT_GT(read(manager_->metrics()), 0u);
  EXPECT_EQ(read(follower->metrics()) + read(manager_->metrics()), produced.size());

  // Unread messages of the session when it ends go back, none lost to a follower still
  // routing to its queue: the end waits for the follower's confirmation.
  std::set<std::string> unread;
  for (int i = 0; i < 20; ++i) {
    unread.insert("late-alice-" + std::to_string(i));
    produce("alice", "late-alice-" + std::to_string(i));
  }
  ASSERT_TRUE(endAndRestore(session->id));
  EXPECT_TRUE(temporaries().empty());
  std::set<std::string> back;
  ASSERT_TRUE(testing::eventually([&] {
    for (const auto& body : drain("orders")) back.insert(body);
    return back.size() == unread.size();
  }));
  EXPECT_EQ(back, unread);
  // The follower forwards nothing once the split is restored.
  ASSERT_TRUE(testing::eventually(
      [&] { return follower->metrics().find("orders") == std::string::npos; }));
  follower.reset();
  EXPECT_TRUE(replicaNames().empty());  // a follower that stops removes its record
}

TEST_F(ReplicasTest, AFollowerRoutesContentFiltersInItsOwnJqWorker) {
  auto follower = startFollower("follower");
  ASSERT_TRUE(testing::eventually([&] { return replicaNames().count("follower") == 1; }));
  auto session = manager_->start(alice_, "", R"json({"target": "deployment/app", "feature": {"split_queues": {
      "orders": {"queue_type": "SQS", "jq_filter": ".Body | startswith(\"alice\")"}}}})json");
  ASSERT_TRUE(session) << session.error().message();
  std::string mine = session->queues[0].temporary;
  std::string fallback = manager_->queues()[0].split.fallback;
  std::map<std::string, std::string> produced;  // body -> where it must go
  for (int i = 0; i < 100; ++i) {
    std::string body = (i % 2 ? "alice-" : "bob-") + std::to_string(i);
    produce("anyone", body);  // the attribute says nothing: the body decides
    produced[body] = i % 2 ? mine : fallback;
    std::this_thread::sleep_for(milliseconds(2));
  }
  std::map<std::string, std::vector<std::string>> got;
  ASSERT_TRUE(testing::eventually([&] {
    for (const auto& q : {mine, fallback})
      for (const auto& body : drain(q)) got[body].push_back(q);
    return got.size() == produced.size();
  }));
  for (const auto& [body, where] : produced) EXPECT_EQ(got[body], std::vector<std::string>{where}) << body;
  EXPECT_GT(read(follower->metrics()), 0u);  // the follower routed its share by the program
  EXPECT_GT(read(manager_->metrics()), 0u);
  ASSERT_TRUE(endAndRestore(session->id));
  EXPECT_TRUE(temporaries().empty());
}

TEST_F(ReplicasTest, AFollowerThatCannotWriteItsRecordStopsForwardingWithinHalfALease) {
  auto follower = startFollower("follower");
  auto session = manager_->start(alice_, "", userConfig("orders", "^alice$"));
  ASSERT_TRUE(session) << session.error().message();
  auto forwards = [&] { return forwardsOrders(*follower); };
  ASSERT_TRUE(testing::eventually(forwards));
  // Cut off, it could miss the leader's next table: it stops before the leader, which no
  // longer sees its record change, counts it gone (a lease duration) and stops waiting.
  follower_store_->refuse = true;
  ASSERT_TRUE(testing::eventually([&] { return !forwards(); }));
  follower_store_->refuse = false;
  ASSERT_TRUE(testing::eventually(forwards));  // back in reach: it forwards again
  ASSERT_TRUE(endAndRestore(session->id));
}

TEST_F(ReplicasTest, AFollowerThatCannotFollowTheRoutesStopsForwardingAndStillConfirmsThem) {
  auto follower = startFollower("follower");
  auto session = manager_->start(alice_, "", userConfig("orders", "^alice$"));
  ASSERT_TRUE(session) << session.error().message();
  auto forwards = [&] { return forwardsOrders(*follower); };
  ASSERT_TRUE(testing::eventually(forwards));
  // A table the follower cannot build (a filter that does not compile, as no leader writes
  // one): routing on by the older one could fill a queue about to go, and not confirming
  // would hold the leader for move_patience.
  auto splits = store_->list(kSplitKind);
  ASSERT_TRUE(splits && splits->size() == 1u);
  auto record = nlohmann::json::parse((*splits)[0].json);
  record["routes"]["token"] = "unbuildable";
  record["routes"]["sessions"][0]["filter"] = {{"user", "(alice"}};
  ASSERT_TRUE(store_->put(kSplitKind, (*splits)[0].key, record.dump()));
  ASSERT_TRUE(testing::eventually([&] {
    auto mine = store_->list(kReplicaKind);
    return mine && mine->size() == 1u &&
           (*mine)[0].json.find("\"unbuildable\"") != std::string::npos;
  }));
  EXPECT_FALSE(forwards());
  // The leader's next table is followed again.
  ASSERT_TRUE(endAndRestore(session->id));
  EXPECT_TRUE(temporaries().empty());
}

TEST_F(ReplicasTest, ALeaderWaitsForASilentReplicaOnlyUntilItIsGone) {
  beat("silent", {}, 1);  // a replica killed before it confirmed anything
  std::atomic<bool> started{false};
  std::thread time([&] {  // the clock runs while the start waits
    while (!started) {
      clock_.advance(milliseconds(100));
      std::this_thread::sleep_for(milliseconds(5));
    }
  });
  TimePoint before = clock_.now();
  auto session = manager_->start(alice_, "", userConfig("orders", "^alice$"));
  started = true;
  time.join();
  ASSERT_TRUE(session) << session.error().message();
  EXPECT_GE(clock_.now() - before, lease_);
  clock_.advance(lease_);
  manager_->tick();
  EXPECT_TRUE(replicaNames().empty());
  ASSERT_TRUE(endAndRestore(session->id));
}

}  // namespace
}  // namespace qsplit::control
