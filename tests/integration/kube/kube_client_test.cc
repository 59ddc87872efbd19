// KubeClient and Reflector against the real kube-apiserver of scripts/kube.sh: CRUD with the
// server's own errors, optimistic concurrency, watches, both kinds of credentials, RBAC.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <random>
#include <thread>

#include "kube/kube_client.h"
#include "kube/leadership.h"
#include "kube/lease.h"
#include "kube/reflector.h"
#include "support/kube_fixture.h"

namespace qsplit::kube {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

class KubeClientTest : public testing::KubeFixture {
 protected:
  KubeClientTest() : KubeFixture("client") {}

  std::string configMaps() const { return "/api/v1/namespaces/" + ns_ + "/configmaps"; }
  json configMap(const std::string& name, const std::string& value) const {
    return {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", name}}},
            {"data", {{"queue", value}}}};
  }
};

TEST_F(KubeClientTest, CreateGetPatchReplaceDeleteWithTheServersErrors) {
  auto created = client_->create(configMaps(), configMap("queues", "memes"));
  ASSERT_TRUE(created.has_value()) << created.error().message();
  auto again = client_->create(configMaps(), configMap("queues", "memes"));
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code(), ErrorCode::kAlreadyExists);

  auto patched = client_->patch(configMaps() + "/queues", {{"data", {{"queue", "ads"}}}});
  ASSERT_TRUE(patched.has_value()) << patched.error().message();
  EXPECT_EQ((*patched)["data"]["queue"], "ads");

  // A replace that carries the version read before the patch is refused: someone changed it.
  json stale = *created;
  stale["data"]["queue"] = "stale";
  auto conflict = client_->replace(configMaps() + "/queues", stale);
  ASSERT_FALSE(conflict.has_value());
  EXPECT_EQ(conflict.error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(conflict.error().message().find("409 Conflict"), std::string::npos) << conflict.error().message();
  json fresh = *patched;
  fresh["data"]["queue"] = "fresh";
  ASSERT_TRUE(client_->replace(configMaps() + "/queues", fresh).has_value());

  ASSERT_TRUE(client_->remove(configMaps() + "/queues").has_value());
  auto gone = client_->get(configMaps() + "/queues");
  ASSERT_FALSE(gone.has_value());
  EXPECT_EQ(gone.error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(gone.error().message(), "GET " + configMaps() + "/queues: 404 NotFound: configmaps \"queues\" not found");
}

TEST_F(KubeClientTest, AWatchSeesEveryChangeInOrderUntilTheServerEndsIt) {
  auto list = client_->get(configMaps());
  ASSERT_TRUE(list.has_value());
  std::string version = (*list)["metadata"]["resourceVersion"];
  std::vector<std::string> events;
  std::mutex mutex;
  std::thread watcher([&] {
    auto end = client_->watch(configMaps(), version, 3s, [&](WatchEvent e) {
      std::lock_guard lock(mutex);
      if (e.type != "BOOKMARK") events.push_back(e.type + " " + e.object["data"].value("queue", ""));
    });
    ASSERT_TRUE(end.has_value()) << end.error().message();
    EXPECT_EQ(*end, WatchEnd::kTimeout);
  });
  ASSERT_TRUE(client_->create(configMaps(), configMap("w", "one")).has_value());
  ASSERT_TRUE(client_->patch(configMaps() + "/w", {{"data", {{"queue", "two"}}}}).has_value());
  ASSERT_TRUE(client_->remove(configMaps() + "/w").has_value());
  watcher.join();
  EXPECT_EQ(events, (std::vector<std::string>{"ADDED one", "MODIFIED two", "DELETED two"}));
}

TEST_F(KubeClientTest, ACancelledWatchEndsAtOnce) {
  std::atomic<bool> cancel{false};
  std::thread stopper([&] {
    std::this_thread::sleep_for(300ms);
    cancel = true;
  });
  auto started = std::chrono::steady_clock::now();
  auto end = client_->watch(configMaps(), "0", 60s, [](WatchEvent) {}, &cancel);
  stopper.join();
  ASSERT_TRUE(end.has_value()) << end.error().message();
  EXPECT_EQ(*end, WatchEnd::kCancelled);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 30s);
}

TEST_F(KubeClientTest, AReflectorKeepsALiveCopyOfACollection) {
  ASSERT_TRUE(client_->create(configMaps(), configMap("before", "a")).has_value());
  std::atomic<int> changes{0};
  Reflector reflector(*client_, configMaps(), [&] { ++changes; }, 5s);
  ASSERT_TRUE(reflector.waitSynced(10s).has_value());
  auto names = [&] {
    std::set<std::string> out;
    for (const auto& item : reflector.items()) out.insert(item["metadata"]["name"]);
    return out;
  };
  EXPECT_TRUE(names().count("before"));
  ASSERT_TRUE(client_->create(configMaps(), configMap("after", "b")).has_value());
  ASSERT_TRUE(client_->remove(configMaps() + "/before").has_value());
  for (int i = 0; i < 100 && (names().count("before") || !names().count("after")); ++i)
    std::this_thread::sleep_for(100ms);
  EXPECT_FALSE(names().count("before"));
  EXPECT_TRUE(names().count("after"));
  EXPECT_GE(changes.load(), 2);
}

TEST_F(KubeClientTest, AClientCertificateAuthenticatesAsWellAsAToken) {
  auto cert = connect("cert.kubeconfig");
  auto ns = cert->get("/api/v1/namespaces/" + ns_);
  ASSERT_TRUE(ns.has_value()) << ns.error().message();
  EXPECT_EQ((*ns)["metadata"]["name"], ns_);
}

TEST_F(KubeClientTest, ForbiddenNamesTheUserAndWhatWasRefused) {
  auto nobody = connect("nobody.kubeconfig");
  auto denied = nobody->get(configMaps());
  ASSERT_FALSE(denied.has_value());
  EXPECT_EQ(denied.error().code(), ErrorCode::kPermissionDenied);
  EXPECT_NE(denied.error().message().find(
                "403 Forbidden: configmaps is forbidden: User \"nobody\" cannot list resource \"configmaps\""),
            std::string::npos)
      << denied.error().message();
}

TEST_F(KubeClientTest, ALeaseHasOneHolderUntilItStopsRenewing) {
  LeaseLock a(*client_, ns_, "leader", "a", 2s), b(*client_, ns_, "leader", "b", 2s);
  ASSERT_TRUE(*a.tryAcquireOrRenew());
  EXPECT_FALSE(*b.tryAcquireOrRenew());
  EXPECT_EQ(b.holder(), "a");
  // While a renews, b never takes it, however long it waits.
  for (int i = 0; i < 6; ++i) {
    std::this_thread::sleep_for(500ms);
    ASSERT_TRUE(*a.tryAcquireOrRenew());
    EXPECT_FALSE(*b.tryAcquireOrRenew());
  }
  // a stops: b takes over once it has seen the same record for a whole duration.
  auto since = std::chrono::steady_clock::now();
  bool taken = false;
  while (!taken && std::chrono::steady_clock::now() - since < 10s) {
    taken = *b.tryAcquireOrRenew();
    if (!taken) std::this_thread::sleep_for(200ms);
  }
  ASSERT_TRUE(taken);
  EXPECT_GE(std::chrono::steady_clock::now() - since, 2s);
  EXPECT_FALSE(*a.tryAcquireOrRenew());
  EXPECT_EQ(a.holder(), "b");
  auto lease = client_->get("/apis/coordination.k8s.io/v1/namespaces/" + ns_ + "/leases/leader");
  EXPECT_EQ((*lease)["spec"]["leaseTransitions"], 1);
}

// The leader's main loop may be busy for longer than the lease lasts (a session's start
// waits for pods): the lease is renewed all the same, and a loss is told at once.
TEST_F(KubeClientTest, ALeaderRenewsWhileBusyAndIsToldWhenItsLeaseIsTaken) {
  std::atomic<int> lost{0};
  auto leader = std::make_unique<Leadership>(std::make_unique<LeaseLock>(*client_, ns_, "busy", "a", 2s));
  std::atomic<bool> stop{false};
  ASSERT_TRUE(leader->await(stop));
  leader->keepRenewing([&] { ++lost; });
  LeaseLock b(*client_, ns_, "busy", "b", 2s);
  for (int i = 0; i < 25; ++i) {  // 5 s of "work" on this thread, 2.5 lease durations
    EXPECT_FALSE(*b.tryAcquireOrRenew());
    std::this_thread::sleep_for(200ms);
  }
  EXPECT_EQ(lost, 0);
  // Someone takes the lease over (an administrator, or a replica that saw it expire).
  auto path = "/apis/coordination.k8s.io/v1/namespaces/" + ns_ + "/leases/busy";
  ASSERT_TRUE(client_->patch(path, {{"spec", {{"holderIdentity", "c"}}}}));
  for (int i = 0; i < 100 && lost == 0; ++i) std::this_thread::sleep_for(100ms);
  EXPECT_EQ(lost, 1);
  leader.reset();  // joins the renewing thread, which ended at the loss
}

}  // namespace
}  // namespace qsplit::kube
