// The SessionManager's test fixture: a qsplitd on the memory broker with one registry
// (queue id `orders` of deployment/app), local workloads and a stand-in for `qsplit exec`.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "brokers/memory/memory_broker.h"
#include "brokers/sqs/sns_body.h"
#include "control/workloads/local_workloads.h"
#include "control/sessions.h"
#include "control/sqlite_store.h"
#include "support/eventually.h"
#include "support/messages.h"
#include "support/temp_dir.h"

namespace qsplit::control {

inline constexpr char kRegistry[] = R"(apiVersion: queues.mirrord.metalbear.co/v1alpha
kind: MirrordWorkloadQueueRegistry
metadata: {name: app-registry}
spec:
  queues:
    orders:
      queueType: SQS
      nameSource: {envVar: ORDERS}
  consumer: {name: app, container: main, workloadType: Deployment}
)";

inline std::string userConfig(const std::string& queue_id, const std::string& author) {
  return R"({"target": "deployment/app", "feature": {"split_queues": {")" + queue_id +
         R"(": {"queue_type": "SQS", "message_filter": {"author": ")" + author + R"("}}}}})";
}

// Stands in for `qsplit exec`: registers the workload and acknowledges every generation.
class ExecStandIn {
 public:
  explicit ExecStandIn(LocalWorkloads& workloads) : workloads_(workloads) {
    (void)workloads_.registerWorkload("deployment/app", "main",
                                      {{"ORDERS", "orders"}, {"PAYMENTS", "payments"}});
    thread_ = std::thread([this] {
      uint64_t seen = 0;
      while (!stop_) {
        auto view = workloads_.waitChange("deployment/app", seen, std::chrono::milliseconds(50));
        if (view && view->generation > seen) {
          seen = view->generation;
          (void)workloads_.ready("deployment/app", seen);
        }
      }
    });
  }
  ~ExecStandIn() {
    stop_ = true;
    thread_.join();
  }

 private:
  LocalWorkloads& workloads_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

class SessionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = std::move(SqliteStore::open(testing::freshDir("qsplit-sessions") + "/qsplit.db")).value();
    resources_ = std::make_shared<const config::ResourceSet>(
        std::move(config::parseResources(kRegistry, "registry.yaml")).value());
    ASSERT_TRUE(broker_.createQueue("orders"));
    ASSERT_TRUE(broker_.createQueue("payments"));
    boot();
  }

  // A qsplitd process: what a restart rebuilds from the store.
  void boot() {
    exec_.reset();
    manager_.reset();
    workloads_ = std::make_unique<LocalWorkloads>(*store_, SystemClock::instance());
    manager_ = std::make_unique<SessionManager>(*store_, *workloads_, [this] { return resources_; },
                                                clock_, SecureRandom::instance(), options(replica_));
    // What the workload had before the restart (resume() reads it again): `qsplit exec`
    // registers again with its patches kept.
    EXPECT_TRUE(workloads_->load());
    exec_ = std::make_unique<ExecStandIn>(*workloads_);
  }

  // What boot() gives a qsplitd whose replica is named `replica` (empty: no replicas).
  ManagerOptions options(const std::string& replica) {
    ManagerOptions options;
    options.brokers[config::QueueType::kSqs] = &broker_;
    options.split.forwarder.wait = std::chrono::milliseconds(10);
    options.split.linger_timeout = std::chrono::seconds(0);
    options.split.move_patience = std::chrono::seconds(1);
    options.limits.max_time = max_time_;
    options.sns_view = sns_view_;
    options.workloads_namespace = workloads_namespace_;
    options.replica = replica;
    options.lease = lease_;
    options.jq_worker = jq_worker_;
    return options;
  }

  void produce(const std::string& author, const std::string& body) {
    auto sink = std::move(broker_.openSink("orders")).value();
    std::vector<core::Message> batch{testing::message({{"author", author}}, body)};
    ASSERT_TRUE(sink->send(batch));
  }

  std::vector<std::string> drain(const std::string& queue) {
    auto source = std::move(broker_.openSource(queue, "")).value();
    std::vector<std::string> bodies;
    auto got = source->receive(100, std::chrono::milliseconds(10));
    if (got) {
      for (const auto& m : *got) bodies.push_back(m.body);
      (void)source->ack(*got);
    }
    return bodies;
  }

  // Ends the session and ticks until its splits are restored.
  bool endAndRestore(const std::string& id) {
    if (!manager_->end(alice_, id, "test")) return false;
    return testing::eventually([&] {
      manager_->tick();
      return manager_->queues().empty();
    });
  }

  uint64_t generation() { return workloads_->view("deployment/app")->generation; }

  std::vector<std::string> temporaries() {
    std::vector<std::string> out;
    for (auto& n : broker_.names())
      if (n.rfind("mirrord-", 0) == 0) out.push_back(n);
    return out;
  }

  Caller alice_{"alice", false};
  ManualClock clock_;
  std::optional<Duration> max_time_;
  std::string workloads_namespace_;
  std::string replica_;  // the leader's name, with replicas
  Duration lease_ = std::chrono::seconds(15);
  std::string jq_worker_;  // set: content filters run in this worker (qsplitd --jq-worker)
  std::function<void(core::Message&)> sns_view_ = sqs::useSnsAttributes;
  std::unique_ptr<SqliteStore> store_;
  std::shared_ptr<const config::ResourceSet> resources_;
  memory::MemoryBroker broker_;
  std::unique_ptr<LocalWorkloads> workloads_;
  std::unique_ptr<SessionManager> manager_;
  std::unique_ptr<ExecStandIn> exec_;
};

}  // namespace qsplit::control
