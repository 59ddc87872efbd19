// KubeWorkloads against the real kube-apiserver of scripts/kube.sh: a patch is done when as
// many pods of the patched template are Ready as restart.waitForPods says. No kubelet runs
// there, so the test plays it: it writes the Pod objects a rollout would make (with the
// variables the patch writes) and marks them Ready through their status.
#include <gtest/gtest.h>

#include <chrono>

#include "control/workloads/kube_workloads.h"
#include "support/kube_fixture.h"

namespace qsplit::control {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

class KubeWorkloadsTest : public testing::KubeFixture {
 protected:
  KubeWorkloadsTest() : KubeFixture("workloads") {}

  void SetUp() override {
    KubeFixture::SetUp();
    if (HasFatalFailure() || IsSkipped()) return;
    json deployment = {
        {"apiVersion", "apps/v1"}, {"kind", "Deployment"}, {"metadata", {{"name", "app"}}},
        {"spec",
         {{"replicas", 2},
          {"selector", {{"matchLabels", {{"app", "app"}}}}},
          {"template", {{"metadata", {{"labels", {{"app", "app"}}}}}, {"spec", podSpec("orders")}}}}}};
    auto created = client_->create("/apis/apps/v1/namespaces/" + ns_ + "/deployments", deployment);
    ASSERT_TRUE(created.has_value()) << created.error().message();
    workloads_ = std::make_unique<KubeWorkloads>(*client_, ns_);
  }

  static json podSpec(const std::string& queue) {
    json env = json::array({{{"name", "ORDERS"}, {"value", queue}}, {{"name", "PAYMENTS"}, {"value", "payments"}}});
    return {{"containers", json::array({{{"name", "main"}, {"image", "meme-app"}, {"env", env}}})}};
  }

  // A pod of the template that reads `queue`, as the rollout of a patch makes it.
  void startPod(const std::string& name, const std::string& queue) {
    json pod = {{"apiVersion", "v1"}, {"kind", "Pod"},
                {"metadata", {{"name", name}, {"labels", {{"app", "app"}}}}}, {"spec", podSpec(queue)}};
    auto created = client_->create("/api/v1/namespaces/" + ns_ + "/pods", pod);
    ASSERT_TRUE(created.has_value()) << created.error().message();
  }

  void markReady(const std::string& name) {
    json status = {{"status", {{"phase", "Running"},
                               {"conditions", json::array({{{"type", "Ready"}, {"status", "True"}}})}}}};
    auto marked = client_->patch("/api/v1/namespaces/" + ns_ + "/pods/" + name + "/status", status);
    ASSERT_TRUE(marked.has_value()) << marked.error().message();
  }

  Result<void> patchTo(const std::string& fallback, Readiness ready) {
    return workloads_->change("deployment/app", {{{"orders", fallback, {places_}}}, {}}, ready);
  }
  Result<void> restore() { return workloads_->change("deployment/app", {{}, {"orders"}}, Readiness(0s, 0)); }

  json deployment() {
    auto d = client_->get("/apis/apps/v1/namespaces/" + ns_ + "/deployments/app");
    EXPECT_TRUE(d.has_value());
    return d ? *d : json::object();
  }

  std::string templateQueue() {
    auto d = client_->get("/apis/apps/v1/namespaces/" + ns_ + "/deployments/app");
    EXPECT_TRUE(d.has_value());
    return d ? (*d)["spec"]["template"]["spec"]["containers"][0]["env"][0].value("value", "") : "";
  }

  config::SqsNamePlace places_{.container = "main", .variable = "ORDERS", .json_key = {}};
  std::unique_ptr<KubeWorkloads> workloads_;
};

TEST_F(KubeWorkloadsTest, APatchIsDoneWhenWaitForPodsPodsOfItsTemplateAreReady) {
  // Two pods of the template the patch writes, one Ready: `all` of the 2 replicas is not met.
  startPod("app-a", "tmp-a");
  startPod("app-b", "tmp-a");
  markReady("app-a");
  auto all = patchTo("tmp-a", Readiness(2s, kAllPods));
  ASSERT_FALSE(all);
  EXPECT_EQ(all.error().code(), ErrorCode::kTimeout);
  EXPECT_NE(all.error().message().find("workload deployment/app: not 2 pods of the patched template "
                                       "became ready within 2 s (2 pods with the template's "
                                       "variables, 1 ready of the 2 waited for"),
            std::string::npos) << all.error().message();
  EXPECT_EQ(templateQueue(), "tmp-a");  // the template is written; undoing it is the caller's

  // One is what the default waits for, and three are capped at the 2 replicas.
  ASSERT_TRUE(restore());
  EXPECT_EQ(templateQueue(), "orders");
  auto one = patchTo("tmp-a", Readiness(20s, 1));
  EXPECT_TRUE(one) << one.error().message();
  ASSERT_TRUE(restore());
  markReady("app-b");
  auto every = patchTo("tmp-a", Readiness(20s, kAllPods));
  EXPECT_TRUE(every) << every.error().message();
  ASSERT_TRUE(restore());
  auto three = patchTo("tmp-a", Readiness(20s, 3));
  EXPECT_TRUE(three) << three.error().message();

  // Pods of another template do not count, however many are Ready.
  ASSERT_TRUE(restore());
  auto other = patchTo("tmp-b", Readiness(1s, 1));
  ASSERT_FALSE(other);
  EXPECT_NE(other.error().message().find("no pod of the patched template became ready within 1 s "
                                         "(0 pods with the template's variables, none ready"),
            std::string::npos) << other.error().message();
}

TEST_F(KubeWorkloadsTest, OneChangeOfTwoQueuesIsOneGenerationAndIsUndoneExactly) {
  json before = deployment();
  config::SqsNamePlace payments{.container = "main", .variable = "PAYMENTS", .json_key = {}};
  WorkloadChange both{{{"orders", "tmp-o", {places_}}, {"payments", "tmp-p", {payments}}}, {}};
  ASSERT_TRUE(workloads_->change("deployment/app", both, Readiness(0s, 0)));
  json patched = deployment();
  EXPECT_EQ(patched["metadata"]["generation"], before["metadata"]["generation"].get<int64_t>() + 1);
  json env = patched["spec"]["template"]["spec"]["containers"][0]["env"];
  EXPECT_EQ(env[0].value("value", ""), "tmp-o");
  EXPECT_EQ(env[1].value("value", ""), "tmp-p");

  ASSERT_TRUE(workloads_->change("deployment/app", {{}, {"orders", "payments"}}, Readiness(0s, 0)));
  json restored = deployment();
  EXPECT_EQ(restored["metadata"]["generation"], before["metadata"]["generation"].get<int64_t>() + 2);
  EXPECT_EQ(restored["spec"]["template"], before["spec"]["template"]);
  EXPECT_FALSE(restored["metadata"].value("labels", json::object()).contains(kPatchedLabel));
  // Nothing left to restore: no write, no generation.
  ASSERT_TRUE(workloads_->change("deployment/app", {{}, {"orders"}}, Readiness(0s, 0)));
  EXPECT_EQ(deployment()["metadata"]["generation"], restored["metadata"]["generation"]);
}

}  // namespace
}  // namespace qsplit::control
