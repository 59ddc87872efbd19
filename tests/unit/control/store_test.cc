#include "control/sqlite_store.h"

#include <gtest/gtest.h>

#include "support/temp_dir.h"

namespace qsplit::control {
namespace {

std::string freshPath(const std::string& name) {
  return testing::freshDir("qsplit-store-" + name) + "/qsplit.db";
}

TEST(SqliteStore, RecordsSurviveReopeningInFirstInsertOrder) {
  std::string path = freshPath("records");
  {
    auto store = SqliteStore::open(path);
    ASSERT_TRUE(store) << store.error().message();
    ASSERT_TRUE((*store)->put("session", "b", R"({"n":1})"));
    ASSERT_TRUE((*store)->put("session", "a", R"({"n":2})"));
    ASSERT_TRUE((*store)->put("session", "b", R"({"n":3})"));  // an update keeps b first
    ASSERT_TRUE((*store)->put("split", "x", "{}"));
    ASSERT_TRUE((*store)->remove("split", "x"));
  }
  auto store = SqliteStore::open(path);
  ASSERT_TRUE(store);
  auto sessions = (*store)->list("session");
  ASSERT_TRUE(sessions);
  ASSERT_EQ(sessions->size(), 2u);
  EXPECT_EQ((*sessions)[0].key, "b");
  EXPECT_EQ((*sessions)[0].json, R"({"n":3})");
  EXPECT_EQ((*sessions)[1].key, "a");
  EXPECT_TRUE((*store)->list("split")->empty());
}

TEST(SqliteStore, JournalsArePerBrokerAndDurable) {
  std::string path = freshPath("journal");
  {
    auto store = SqliteStore::open(path);
    ASSERT_TRUE(store);
    auto& sqs = (*store)->journal("SQS");
    ASSERT_TRUE(sqs.record({"orders", "mirrord-tmp-1-orders", ""}));
    ASSERT_TRUE(sqs.record({"orders", "mirrord-tmp-2-orders", ""}));
    ASSERT_TRUE((*store)->journal("Kafka").record({"t", "mirrord-tmp-3-t", "group"}));
    ASSERT_TRUE(sqs.forget("mirrord-tmp-1-orders"));
  }
  auto store = SqliteStore::open(path);
  auto sqs = (*store)->journal("SQS").entries();
  ASSERT_TRUE(sqs);
  ASSERT_EQ(sqs->size(), 1u);
  EXPECT_EQ((*sqs)[0].name, "mirrord-tmp-2-orders");
  auto kafka = (*store)->journal("Kafka").entries();
  ASSERT_EQ(kafka->size(), 1u);
  EXPECT_EQ((*kafka)[0].group, "group");
}

TEST(SqliteStore, AnUnopenablePathIsANamedError) {
  auto store = SqliteStore::open("/proc/qsplit/no/such/dir/qsplit.db");
  ASSERT_FALSE(store);
  EXPECT_NE(store.error().message().find("/proc/qsplit/no/such/dir/qsplit.db"), std::string::npos);
}

}  // namespace
}  // namespace qsplit::control
