// A workload's transitions: one change of the workload for all the queues a start splits,
// one for all the queues its last session's end restores, and a restart that finishes or
// undoes a transition it interrupted.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "unit/control/sessions_fixture.h"

namespace qsplit::control {
namespace {

// deployment/app reads orders and payments; neither drain has a limit.
constexpr char kTwoQueues[] = R"(apiVersion: queues.mirrord.metalbear.co/v1
kind: MirrordSplitConfig
metadata: {name: app}
spec:
  targetRef: {apiVersion: apps/v1, kind: Deployment, name: app}
  queues:
  - id: orders
    kind: sqs
    appConfig:
      queue: [{env: ORDERS, containers: [main]}]
  - id: payments
    kind: sqs
    appConfig:
      queue: [{env: PAYMENTS, containers: [main]}]
)";

std::string bothQueues(const std::string& author) {
  std::string filter = R"({"queue_type": "SQS", "message_filter": {"author": ")" + author + R"("}})";
  return R"({"target": "deployment/app", "feature": {"split_queues": {"orders": )" + filter +
         R"(, "payments": )" + filter + "}}}";
}

class WorkloadTransitionsTest : public SessionsTest {
 protected:
  void SetUp() override {
    SessionsTest::SetUp();
    resources_ = std::make_shared<const config::ResourceSet>(
        std::move(config::parseResources(kTwoQueues, "split.yaml")).value());
  }

  std::map<std::string, std::string> env() { return workloads_->view("deployment/app")->env; }
  bool restored() { return env().at("ORDERS") == "orders" && env().at("PAYMENTS") == "payments"; }

  std::string fallbackOf(const std::string& original) {
    for (const auto& q : manager_->queues())
      if (q.split.original == original) return q.split.fallback;
    return "";
  }

  // A message for the workload, sent to `original`, once it waits in the fallback.
  bool forTheWorkload(const std::string& original, const std::string& body) {
    auto sink = std::move(broker_.openSink(original)).value();
    std::vector<core::Message> batch{testing::message({{"author", "bob"}}, body)};
    std::string fallback = fallbackOf(original);
    return sink->send(batch) && testing::eventually([&] {
      auto n = broker_.admin().backlog(fallback, "");
      return n && *n == 1;
    });
  }

  // Rewrites every stored record of `kind` with `edit`: what a qsplitd killed at that point
  // of a transition would have left.
  void editStored(const std::string& kind, const std::function<void(nlohmann::json&)>& edit) {
    auto records = store_->list(kind);
    ASSERT_TRUE(records);
    for (const auto& r : records.value()) {
      auto j = nlohmann::json::parse(r.json);
      edit(j);
      ASSERT_TRUE(store_->put(kind, r.key, j.dump()));
    }
  }
};

TEST_F(WorkloadTransitionsTest, OneStartAndOneEndRestartTheWorkloadOnceEach) {
  uint64_t before = generation();
  auto alice = manager_->start(alice_, "", bothQueues("^alice$"));
  ASSERT_TRUE(alice) << alice.error().message();
  EXPECT_EQ(generation(), before + 1);  // both queues in one restart
  EXPECT_EQ(env().at("ORDERS"), fallbackOf("orders"));
  EXPECT_EQ(env().at("PAYMENTS"), fallbackOf("payments"));

  auto bob = manager_->start(alice_, "", bothQueues("^bob$"));
  ASSERT_TRUE(bob) << bob.error().message();
  EXPECT_EQ(generation(), before + 1);  // already split: the workload is not touched

  ASSERT_TRUE(manager_->end(alice_, alice->id, "test"));
  ASSERT_TRUE(endAndRestore(bob->id));
  EXPECT_EQ(generation(), before + 2);  // both queues restored in one restart
  EXPECT_TRUE(restored());
  EXPECT_TRUE(temporaries().empty());
}

TEST_F(WorkloadTransitionsTest, AQueueStillDrainingHoldsBackTheOthersRestore) {
  uint64_t before = generation();
  auto alice = manager_->start(alice_, "", bothQueues("^alice$"));
  ASSERT_TRUE(alice) << alice.error().message();
  std::string payments = fallbackOf("payments");
  ASSERT_TRUE(forTheWorkload("payments", "for-the-workload"));
  ASSERT_TRUE(manager_->end(alice_, alice->id, "test"));
  for (int i = 0; i < 3; ++i) manager_->tick();
  // orders' fallback is empty, but payments' is not: neither is restored yet.
  EXPECT_EQ(manager_->queues().size(), 2u);
  EXPECT_EQ(generation(), before + 1);
  EXPECT_FALSE(restored());

  EXPECT_EQ(drain(payments), std::vector<std::string>{"for-the-workload"});  // the workload reads it
  ASSERT_TRUE(testing::eventually([&] { manager_->tick(); return manager_->queues().empty(); }));
  EXPECT_EQ(generation(), before + 2);
  EXPECT_TRUE(restored());
  EXPECT_TRUE(temporaries().empty());
}

TEST_F(WorkloadTransitionsTest, AFailedStartUndoesEveryQueueItPrepared) {
  uint64_t before = generation();
  ASSERT_TRUE(broker_.admin().remove("payments"));  // the second queue's start fails
  auto refused = manager_->start(alice_, "", bothQueues("^alice$"));
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message().find("'payments' does not exist"), std::string::npos)
      << refused.error().message();
  manager_->tick();
  EXPECT_EQ(generation(), before);  // nothing was patched
  EXPECT_TRUE(manager_->queues().empty());
  EXPECT_TRUE(temporaries().empty());  // orders' fallback and queue too
  EXPECT_TRUE(manager_->list().empty());

  ASSERT_TRUE(broker_.createQueue("payments"));
  auto started = manager_->start(alice_, "", bothQueues("^alice$"));
  ASSERT_TRUE(started) << started.error().message();
  EXPECT_EQ(generation(), before + 1);
  ASSERT_TRUE(endAndRestore(started->id));
  EXPECT_TRUE(restored());
}

TEST_F(WorkloadTransitionsTest, ARestartUndoesAStartKilledAfterThePatch) {
  auto alice = manager_->start(alice_, "", bothQueues("^alice$"));
  ASSERT_TRUE(alice) << alice.error().message();
  uint64_t patched = generation();
  produce("bob", "in-flight");  // forwarded to orders' fallback, or still in orders
  // Killed after the patch, before the session was ready: the records as they were then.
  editStored("session", [](auto& j) { j["state"] = "starting"; });
  editStored("split", [&](auto& j) { j["started_by"] = alice->id; });

  boot();
  ASSERT_TRUE(manager_->resume());
  EXPECT_TRUE(manager_->list().empty());
  EXPECT_TRUE(manager_->queues().empty());
  EXPECT_TRUE(temporaries().empty());
  EXPECT_TRUE(restored());
  EXPECT_EQ(generation(), patched + 1);  // both patches withdrawn in one change
  EXPECT_EQ(drain("orders"), std::vector<std::string>{"in-flight"});
}

TEST_F(WorkloadTransitionsTest, ARestartFinishesARestoreItInterrupted) {
  auto alice = manager_->start(alice_, "", bothQueues("^alice$"));
  ASSERT_TRUE(alice) << alice.error().message();
  std::string payments = fallbackOf("payments");
  ASSERT_TRUE(forTheWorkload("payments", "left-over"));
  ASSERT_TRUE(manager_->end(alice_, alice->id, "test"));
  manager_->tick();
  uint64_t patched = generation();
  // Killed once the restore had begun (a drain limit passed, say): the records say so.
  editStored("split", [](auto& j) { j["state"] = "restoring"; });

  boot();
  ASSERT_TRUE(manager_->resume());
  ASSERT_TRUE(testing::eventually([&] { manager_->tick(); return manager_->queues().empty(); }));
  EXPECT_TRUE(restored());
  EXPECT_EQ(generation(), patched + 1);  // one change for both, not a drain again
  EXPECT_EQ(drain("payments"), std::vector<std::string>{"left-over"});  // back in the original
  EXPECT_TRUE(temporaries().empty());
}

TEST_F(WorkloadTransitionsTest, WithinTheTtlANewSessionReusesTheSplitWithNoRestart) {
  std::string text = kTwoQueues;
  resources_ = std::make_shared<const config::ResourceSet>(std::move(config::parseResources(
      text.replace(text.find("  queues:"), 0, "  ttl: 30\n"), "split.yaml")).value());
  uint64_t before = generation();
  auto alice = manager_->start(alice_, "", bothQueues("^alice$"));
  ASSERT_TRUE(alice) << alice.error().message();
  std::string orders = fallbackOf("orders");
  ASSERT_TRUE(manager_->end(alice_, alice->id, "test"));
  manager_->tick();
  // The split goes on with no session: everything to the fallback, the workload patched.
  EXPECT_EQ(manager_->queues().size(), 2u);
  EXPECT_EQ(manager_->queues()[0].split.state, core::SplitState::kSplitting);
  produce("alice", "while-nobody-splits");
  ASSERT_TRUE(testing::eventually([&] { auto n = broker_.admin().backlog(orders, ""); return n && *n == 1; }));
  EXPECT_EQ(drain(orders), std::vector<std::string>{"while-nobody-splits"});

  clock_.advance(std::chrono::seconds(29));
  manager_->tick();
  auto again = manager_->start(alice_, "", bothQueues("^alice$"));  // `qsplit run` once more
  ASSERT_TRUE(again) << again.error().message();
  EXPECT_EQ(generation(), before + 1);  // no restart at all
  EXPECT_EQ(fallbackOf("orders"), orders);
  produce("alice", "hers-again");
  ASSERT_TRUE(testing::eventually([&] { return drain(again->queues[0].temporary) ==
                                               std::vector<std::string>{"hers-again"}; }));

  ASSERT_TRUE(manager_->end(alice_, again->id, "test"));
  boot();  // a restart within the window keeps it
  ASSERT_TRUE(manager_->resume());
  manager_->tick();
  EXPECT_EQ(manager_->queues().size(), 2u);
  EXPECT_FALSE(restored());
  clock_.advance(std::chrono::seconds(31));
  ASSERT_TRUE(testing::eventually([&] { manager_->tick(); return manager_->queues().empty(); }));
  EXPECT_EQ(generation(), before + 2);
  EXPECT_TRUE(restored());
  EXPECT_TRUE(temporaries().empty());
}

}  // namespace
}  // namespace qsplit::control
