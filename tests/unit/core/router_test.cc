#include "core/router.h"

#include <gtest/gtest.h>

#include <thread>

#include "support/messages.h"

namespace qsplit::core {
namespace {

using testing::filter;
using testing::message;

std::shared_ptr<const RouteTable> table(std::vector<SessionRoute> sessions) {
  auto built = RouteTable::build(std::move(sessions), "fallback");
  if (!built) throw std::runtime_error(built.error().message());
  return *built;
}

std::vector<std::string> routeNames(const RouteTable& t, const Message& m) {
  Decision d;
  t.route(m, d);
  std::vector<std::string> names;
  for (uint32_t i : d.destinations) names.push_back(t.destinations()[i]);
  return names;
}

using Names = std::vector<std::string>;

TEST(Router, NoSessionsSendsEverythingToTheFallback) {
  auto t = table({});
  EXPECT_EQ(routeNames(*t, message({{"author", "me"}})), Names{"fallback"});
}

TEST(Router, MatchingSessionGetsTheMessageOthersGoToFallback) {
  auto t = table({{"alice", filter({{"author", "^alice$"}}), QueueMode::kSteal, "q-alice"}});
  EXPECT_EQ(routeNames(*t, message({{"author", "alice"}})), Names{"q-alice"});
  EXPECT_EQ(routeNames(*t, message({{"author", "bob"}})), Names{"fallback"});
  EXPECT_EQ(routeNames(*t, message({})), Names{"fallback"});
}

TEST(Router, FirstStartedSessionWinsAnOverlap) {
  auto t = table({{"alice", filter({{"level", "beginner"}}), QueueMode::kSteal, "q-alice"},
                  {"bob", filter({{"author", "^bob$"}}), QueueMode::kSteal, "q-bob"}});
  auto both = message({{"author", "bob"}, {"level", "beginner"}});
  EXPECT_EQ(routeNames(*t, both), Names{"q-alice"});
  auto reversed = table({{"bob", filter({{"author", "^bob$"}}), QueueMode::kSteal, "q-bob"},
                         {"alice", filter({{"level", "beginner"}}), QueueMode::kSteal, "q-alice"}});
  EXPECT_EQ(routeNames(*reversed, both), Names{"q-bob"});
}

TEST(Router, AllRulesOfASessionMustHold) {
  auto t = table({{"a", filter({{"author", "^me$"}, {"level", "^x$"}}), QueueMode::kSteal, "q-a"}});
  EXPECT_EQ(routeNames(*t, message({{"author", "me"}})), Names{"fallback"});
  EXPECT_EQ(routeNames(*t, message({{"author", "me"}, {"level", "x"}})), Names{"q-a"});
}

TEST(Router, EmptyFilterSessionReceivesNothing) {
  auto t = table({{"a", Filter(), QueueMode::kSteal, "q-a"},
                  {"b", filter({{"author", "."}}), QueueMode::kSteal, "q-b"}});
  EXPECT_EQ(routeNames(*t, message({{"author", "me"}})), Names{"q-b"});
  EXPECT_EQ(routeNames(*t, message({{"other", "me"}})), Names{"fallback"});
}

TEST(Router, MirrorCopiesAndTheMessageGoesOn) {
  auto t = table({{"m", filter({{"author", "me"}}), QueueMode::kMirror, "q-m"},
                  {"s", filter({{"level", "x"}}), QueueMode::kSteal, "q-s"}});
  EXPECT_EQ(routeNames(*t, message({{"author", "me"}})), (Names{"q-m", "fallback"}));
  EXPECT_EQ(routeNames(*t, message({{"author", "me"}, {"level", "x"}})), (Names{"q-m", "q-s"}));
  EXPECT_EQ(routeNames(*t, message({{"level", "x"}})), Names{"q-s"});
}

TEST(Router, MirrorAfterAStealingSessionGetsNothing) {
  auto t = table({{"s", filter({{"author", "me"}}), QueueMode::kSteal, "q-s"},
                  {"m", filter({{"author", "me"}}), QueueMode::kMirror, "q-m"}});
  EXPECT_EQ(routeNames(*t, message({{"author", "me"}})), Names{"q-s"});
}

TEST(Router, CaseInsensitiveNamesAndRepeatedAttributes) {
  auto t = table({{"a", filter({{"Client", "^a$"}, {"tenant", "^t2$"}}), QueueMode::kSteal, "q-a"}});
  EXPECT_EQ(routeNames(*t, message({{"CLIENT", "A"}, {"tenant", "t1"}, {"Tenant", "t2"}})),
            Names{"q-a"});
  // The same attribute twice must not count as two satisfied rules.
  auto two = table({{"a", filter({{"x", "1"}, {"X", "2"}}), QueueMode::kSteal, "q-a"}});
  EXPECT_EQ(routeNames(*two, message({{"x", "1"}})), Names{"fallback"});
  EXPECT_EQ(routeNames(*two, message({{"x", "1"}, {"x", "2"}})), Names{"q-a"});
}

// Tables of more than three sessions match through RE2::Set; these pad a table past that.
std::vector<SessionRoute> padded(std::vector<SessionRoute> sessions) {
  for (int i = 0; i < 4; ++i)
    sessions.push_back({"pad" + std::to_string(i), filter({{"never", "^x$"}, {"Client", "^zz$"}}),
                        QueueMode::kSteal, "q-pad" + std::to_string(i)});
  return sessions;
}

TEST(Router, SetMatchingKeepsTheRulesOnLargeTables) {
  auto t = table(padded({{"m", filter({{"author", "me"}}), QueueMode::kMirror, "q-m"},
                         {"a", filter({{"Client", "^a$"}, {"tenant", "^t2$"}}), QueueMode::kSteal, "q-a"},
                         {"b", filter({{"client", "a"}}), QueueMode::kSteal, "q-b"},
                         {"two", filter({{"x", "1"}, {"X", "2"}}), QueueMode::kSteal, "q-two"},
                         {"none", Filter(), QueueMode::kSteal, "q-none"}}));
  EXPECT_EQ(routeNames(*t, message({{"CLIENT", "A"}, {"tenant", "t1"}, {"Tenant", "t2"}})), Names{"q-a"});
  EXPECT_EQ(routeNames(*t, message({{"client", "xax"}})), Names{"q-b"});
  EXPECT_EQ(routeNames(*t, message({{"author", "me"}, {"client", "a"}})), (Names{"q-m", "q-b"}));
  EXPECT_EQ(routeNames(*t, message({{"author", "me"}})), (Names{"q-m", "fallback"}));
  EXPECT_EQ(routeNames(*t, message({{"x", "1"}})), Names{"fallback"});
  EXPECT_EQ(routeNames(*t, message({{"x", "1"}, {"x", "2"}})), Names{"q-two"});
  EXPECT_EQ(routeNames(*t, message({})), Names{"fallback"});
}

// An SNS notification's attributes (filter_attributes) are what filters see, on the loop
// over few sessions and on the set-matching path alike; the message's own do not count.
TEST(Router, FilterAttributesReplaceTheMessagesOwn) {
  Message notification = message({{"author", "bob"}});
  notification.filter_attributes = std::vector<Attribute>{{"author", "alice", "String"}};
  Message empty = message({{"author", "alice"}});
  empty.filter_attributes = std::vector<Attribute>{};
  for (auto t : {table({{"a", filter({{"author", "^alice$"}}), QueueMode::kSteal, "q-a"}}),
                 table(padded({{"a", filter({{"author", "^alice$"}}), QueueMode::kSteal, "q-a"}}))}) {
    EXPECT_EQ(routeNames(*t, notification), Names{"q-a"});
    EXPECT_EQ(routeNames(*t, empty), Names{"fallback"});
    EXPECT_EQ(routeNames(*t, message({{"author", "alice"}})), Names{"q-a"});
  }
}

TEST(Router, AgreesWithAPlainLoopOverFilters) {
  std::vector<SessionRoute> sessions;
  for (int i = 0; i < 50; ++i)
    sessions.push_back({"s" + std::to_string(i),
                        filter({{"user", "^u" + std::to_string(i % 7) + "$"},
                                {"region", i % 2 ? "^eu" : "us"}}),
                        i % 5 == 0 ? QueueMode::kMirror : QueueMode::kSteal,
                        "q" + std::to_string(i)});
  auto t = table(sessions);
  for (int u = 0; u < 9; ++u) {
    for (const char* region : {"eu-west", "us-east", "ap"}) {
      auto m = message({{"user", "u" + std::to_string(u)}, {"region", region}});
      Names expected;
      bool taken = false;
      for (const auto& s : sessions) {
        if (!s.filter.matches(m)) continue;
        expected.push_back(s.destination);
        if (s.mode == QueueMode::kSteal) {
          taken = true;
          break;
        }
      }
      if (!taken) expected.push_back("fallback");
      EXPECT_EQ(routeNames(*t, m), expected) << "user u" << u << " region " << region;
    }
  }
}

TEST(Router, SwapsTablesWhileAnotherThreadRoutes) {
  Router router(table({}));
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> routed{0};
  std::thread reader([&] {
    Decision d;
    auto m = message({{"author", "me"}});
    while (!stop) {
      auto t = router.table();
      t->route(m, d);
      ASSERT_LT(d.destinations[0], t->destinations().size());
      ++routed;
    }
  });
  for (int i = 0; i < 200; ++i) {
    router.publish(table({{"a" + std::to_string(i), filter({{"author", "me"}}),
                           QueueMode::kSteal, "q" + std::to_string(i)}}));
    router.publish(table({}));
  }
  while (routed.load() == 0) std::this_thread::yield();
  stop = true;
  reader.join();
  EXPECT_EQ(routeNames(*router.table(), message({{"author", "me"}})), Names{"fallback"});
}

}  // namespace
}  // namespace qsplit::core
