// KubeStore against the real kube-apiserver of scripts/kube.sh: what one leader writes, the
// next one (a new instance, as a standby that takes the lease) reads back in the same order.
#include <gtest/gtest.h>

#include <cstdlib>

#include "control/kube_store.h"
#include "support/command.h"
#include "support/kube_fixture.h"

namespace qsplit::control {
namespace {

using nlohmann::json;

class KubeStoreTest : public testing::KubeFixture {
 protected:
  KubeStoreTest() : KubeFixture("store") {}

  void SetUp() override {
    KubeFixture::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    // The CRD as the chart installs it, applied with kubectl (the independent client).
    const char* kubectl = std::getenv("QSPLIT_KUBECTL");
    std::string crd = std::string(QSPLIT_SOURCE_DIR) + "/deploy/crds/qsplitrecords.yaml";
    std::string tool = testing::shellQuote(kubectl ? kubectl : "kubectl") + " --kubeconfig " +
                       testing::shellQuote(kubeconfig_);
    // Tests run side by side: two first applies can race, and the loser tries again.
    auto applied = testing::run("for i in 1 2 3; do " + tool + " apply -f " + crd +
                                " >/dev/null && break; sleep 1; done; " + tool +
                                " wait --for condition=established --timeout=60s -f " + crd);
    ASSERT_EQ(applied.status, 0) << applied.out;
  }

  std::unique_ptr<KubeStore> open(const std::string& owner = "qsplit-leader") {
    auto store = KubeStore::open(*client_, ns_, owner);
    EXPECT_TRUE(store.has_value()) << store.error().message();
    return std::move(store).value();
  }

  // The store's records, as `kubectl get qsplitrecords` lists them.
  std::size_t records() {
    auto listed = client_->get("/apis/qsplit.dev/v1alpha1/namespaces/" + ns_ + "/qsplitrecords");
    EXPECT_TRUE(listed.has_value());
    return listed ? (*listed)["items"].size() : 0;
  }

};

TEST_F(KubeStoreTest, ANewLeaderReadsTheRecordsInFirstInsertOrder) {
  // A split's key holds an SQS queue URL: no valid object name, yet a record like any other.
  const std::string url_key = "SQS/http://127.0.0.1:9324/000000000000/memes_queue";
  {
    auto store = open();
    ASSERT_TRUE(store->put("session", "b", R"({"n":1})"));
    ASSERT_TRUE(store->put("session", "a", R"({"n":2})"));
    ASSERT_TRUE(store->put("session", "b", R"({"n":3})"));  // an update keeps b first
    ASSERT_TRUE(store->put("split", url_key, R"({"state":"splitting"})"));
    ASSERT_TRUE(store->put("split", "x", "{}"));
    ASSERT_TRUE(store->remove("split", "x"));
    ASSERT_TRUE(store->remove("split", "never-there"));
  }
  EXPECT_EQ(records(), 3u);
  auto store = open();
  auto sessions = store->list("session");
  ASSERT_TRUE(sessions) << sessions.error().message();
  ASSERT_EQ(sessions->size(), 2u);
  EXPECT_EQ((*sessions)[0].key, "b");
  EXPECT_EQ((*sessions)[0].json, R"({"n":3})");
  EXPECT_EQ((*sessions)[1].key, "a");
  auto splits = store->list("split");
  ASSERT_EQ(splits->size(), 1u);
  EXPECT_EQ((*splits)[0].key, url_key);
  EXPECT_EQ((*splits)[0].json, R"({"state":"splitting"})");
}

TEST_F(KubeStoreTest, JournalsArePerBrokerAndLeaveNothingOnceForgotten) {
  {
    auto store = open();
    auto& sqs = store->journal("SQS");
    ASSERT_TRUE(sqs.record({"orders", "mirrord-tmp-1-orders", ""}));
    ASSERT_TRUE(sqs.record({"orders", "mirrord-tmp-2-orders", ""}));
    // Two Kafka clusters whose journals read alike as labels stay apart.
    ASSERT_TRUE(store->journal("Kafka:127.0.0.1:9092").record({"t", "mirrord-tmp-3-t", "group"}));
    ASSERT_TRUE(store->journal("Kafka:127.0.0.1-9092").record({"t", "mirrord-tmp-4-t", "g"}));
    ASSERT_TRUE(sqs.forget("mirrord-tmp-1-orders"));
  }
  auto store = open();
  auto sqs = store->journal("SQS").entries();
  ASSERT_TRUE(sqs) << sqs.error().message();
  ASSERT_EQ(sqs->size(), 1u);
  EXPECT_EQ((*sqs)[0].name, "mirrord-tmp-2-orders");
  EXPECT_EQ((*sqs)[0].original, "orders");
  auto kafka = store->journal("Kafka:127.0.0.1:9092").entries();
  ASSERT_EQ(kafka->size(), 1u);
  EXPECT_EQ((*kafka)[0].name, "mirrord-tmp-3-t");
  EXPECT_EQ((*kafka)[0].group, "group");
  ASSERT_TRUE(store->journal("Kafka:127.0.0.1:9092").forget("mirrord-tmp-3-t"));
  ASSERT_TRUE(store->journal("Kafka:127.0.0.1-9092").forget("mirrord-tmp-4-t"));
  ASSERT_TRUE(store->journal("SQS").forget("mirrord-tmp-2-orders"));
  EXPECT_EQ(records(), 0u);  // nothing of the store is left behind
}

TEST_F(KubeStoreTest, TwoInstallationsInOneNamespaceKeepApart) {
  auto blue = open("blue-leader");
  auto green = open("green-leader");
  ASSERT_TRUE(blue->put("session", "s1", R"({"n":"blue"})"));
  ASSERT_TRUE(green->put("session", "s1", R"({"n":"green"})"));
  ASSERT_TRUE(green->journal("SQS").record({"orders", "mirrord-tmp-1-orders", ""}));
  EXPECT_EQ(records(), 3u);
  auto sessions = blue->list("session");
  ASSERT_TRUE(sessions);
  ASSERT_EQ(sessions->size(), 1u);
  EXPECT_EQ((*sessions)[0].json, R"({"n":"blue"})");
  EXPECT_TRUE(blue->journal("SQS").entries()->empty());
  ASSERT_TRUE(blue->remove("session", "s1"));
  ASSERT_EQ(green->list("session")->size(), 1u);
}

TEST_F(KubeStoreTest, NoRightToItsRecordsIsAClearErrorAtOpen) {
  auto nobody = connect("nobody.kubeconfig");
  auto store = KubeStore::open(*nobody, ns_, "qsplit-leader");
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().code(), ErrorCode::kPermissionDenied);
  EXPECT_NE(store.error().message().find("the store in the cluster: listing qsplitrecords.qsplit.dev "
                                         "in namespace " + ns_),
            std::string::npos) << store.error().message();
  EXPECT_NE(store.error().message().find("cannot list resource \"qsplitrecords\""), std::string::npos)
      << store.error().message();
}

}  // namespace
}  // namespace qsplit::control
