#include "control/workloads/local_workloads.h"
#include "control/sqlite_store.h"

#include <gtest/gtest.h>

#include <thread>

#include "support/temp_dir.h"

namespace qsplit::control {
namespace {

class LocalWorkloadsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = testing::freshDir("qsplit-workloads") + "/qsplit.db";
    store_ = std::move(SqliteStore::open(path_)).value();
    workloads_ = std::make_unique<LocalWorkloads>(*store_, clock_);
  }

  static WorkloadPatch patchOf(const std::string& replacement, const std::string& original = "orders",
                               const std::string& variable = "QUEUE") {
    config::SqsNamePlace place;
    place.container = "main";
    place.variable = variable;
    return {original, replacement, {place}};
  }
  Result<void> patch(const std::string& workload, const std::string& replacement, Duration timeout) {
    return workloads_->change(workload, {{patchOf(replacement)}, {}}, timeout);
  }
  Result<void> restore(const std::string& workload, Duration timeout) {
    return workloads_->change(workload, {{}, {"orders"}}, timeout);
  }

  // Stands in for `qsplit exec`: acknowledges the next generation once it appears.
  std::thread acknowledgeNext(uint64_t after) {
    return std::thread([this, after] {
      auto view = workloads_->waitChange("deployment/app", after, std::chrono::seconds(5));
      if (view) (void)workloads_->ready("deployment/app", view->generation);
    });
  }

  std::string path_;
  ManualClock clock_;
  std::unique_ptr<SqliteStore> store_;
  std::unique_ptr<LocalWorkloads> workloads_;
};

TEST_F(LocalWorkloadsTest, APatchReturnsOnceTheCommandRestartedWithIt) {
  auto view = workloads_->registerWorkload("deployment/app", "main", {{"QUEUE", "orders"}});
  ASSERT_TRUE(view);
  EXPECT_EQ(view->generation, 1u);
  auto exec = acknowledgeNext(1);
  ASSERT_TRUE(patch("deployment/app", "tmp-fallback", std::chrono::seconds(5)));
  exec.join();
  auto now = workloads_->view("deployment/app");
  EXPECT_EQ(now->env.at("QUEUE"), "tmp-fallback");
  EXPECT_EQ(now->ready_generation, 2u);
  EXPECT_EQ(now->patched, std::vector<std::string>{"orders"});

  exec = acknowledgeNext(2);
  ASSERT_TRUE(restore("deployment/app", std::chrono::seconds(5)));
  exec.join();
  EXPECT_EQ(workloads_->view("deployment/app")->env.at("QUEUE"), "orders");
}

TEST_F(LocalWorkloadsTest, APatchNobodyAppliesTimesOutNamingTheWorkload) {
  ASSERT_TRUE(workloads_->registerWorkload("deployment/app", "main", {{"QUEUE", "orders"}}));
  auto r = patch("deployment/app", "tmp", std::chrono::milliseconds(100));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kTimeout);
  EXPECT_NE(r.error().message().find("deployment/app did not restart"), std::string::npos);
}

TEST_F(LocalWorkloadsTest, ClosingEndsAWaitForARestart) {
  ASSERT_TRUE(workloads_->registerWorkload("deployment/app", "main", {{"QUEUE", "orders"}}));
  std::thread stopping([this] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    workloads_->close();
  });
  // Nobody restarts the workload; without close() this would wait the whole hour.
  auto r = patch("deployment/app", "tmp", std::chrono::hours(1));
  stopping.join();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kCancelled);
  EXPECT_EQ(r.error().message(),
            "workload deployment/app: qsplitd is stopping before it restarted with generation 2");
}

TEST_F(LocalWorkloadsTest, AWorkloadNotRunningCannotBePatchedButIsRestoredAtOnce) {
  auto r = patch("deployment/none", "tmp", std::chrono::seconds(1));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("qsplit exec --workload deployment/none"), std::string::npos);

  ASSERT_TRUE(workloads_->registerWorkload("deployment/app", "main", {{"QUEUE", "orders"}}));
  auto exec = acknowledgeNext(1);
  ASSERT_TRUE(patch("deployment/app", "tmp", std::chrono::seconds(5)));
  exec.join();
  clock_.advance(std::chrono::minutes(5));  // `qsplit exec` went away
  ASSERT_TRUE(restore("deployment/app", std::chrono::seconds(30)));
  EXPECT_EQ(workloads_->view("deployment/app")->env.at("QUEUE"), "orders");
}

TEST_F(LocalWorkloadsTest, AfterARestartOnlyPatchesToLiveQueuesRemain) {
  ASSERT_TRUE(workloads_->registerWorkload("deployment/app", "main", {{"QUEUE", "orders"}}));
  auto exec = acknowledgeNext(1);
  ASSERT_TRUE(patch("deployment/app", "tmp-live", std::chrono::seconds(5)));
  exec.join();

  LocalWorkloads kept(*store_, clock_);
  ASSERT_TRUE(kept.load());
  ASSERT_TRUE(kept.keepPatchesTo({"tmp-live"}));
  EXPECT_EQ(kept.view("deployment/app")->env.at("QUEUE"), "tmp-live");
  LocalWorkloads dropped(*store_, clock_);
  ASSERT_TRUE(dropped.load());
  ASSERT_TRUE(dropped.keepPatchesTo({}));
  EXPECT_EQ(dropped.view("deployment/app")->env.at("QUEUE"), "orders");
}

TEST_F(LocalWorkloadsTest, OneChangeOfSeveralQueuesIsOneRestart) {
  ASSERT_TRUE(workloads_->registerWorkload("deployment/app", "main",
                                           {{"QUEUE", "orders"}, {"PAYMENTS", "payments"}}));
  auto exec = acknowledgeNext(1);
  ASSERT_TRUE(workloads_->change("deployment/app",
                                 {{patchOf("tmp-orders"), patchOf("tmp-payments", "payments", "PAYMENTS")}, {}},
                                 std::chrono::seconds(5)));
  exec.join();
  auto now = workloads_->view("deployment/app");
  EXPECT_EQ(now->generation, 2u);
  EXPECT_EQ(now->env.at("QUEUE"), "tmp-orders");
  EXPECT_EQ(now->env.at("PAYMENTS"), "tmp-payments");

  exec = acknowledgeNext(2);
  ASSERT_TRUE(workloads_->change("deployment/app", {{}, {"orders", "payments"}}, std::chrono::seconds(5)));
  exec.join();
  now = workloads_->view("deployment/app");
  EXPECT_EQ(now->generation, 3u);
  EXPECT_EQ(now->env.at("QUEUE"), "orders");
  EXPECT_EQ(now->env.at("PAYMENTS"), "payments");
  // Restoring what is not patched changes nothing: no generation, no restart.
  ASSERT_TRUE(workloads_->change("deployment/app", {{}, {"orders"}}, std::chrono::seconds(5)));
  EXPECT_EQ(workloads_->view("deployment/app")->generation, 3u);
}

}  // namespace
}  // namespace qsplit::control
