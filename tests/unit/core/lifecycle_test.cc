#include "core/lifecycle.h"

#include <gtest/gtest.h>

namespace qsplit::core {
namespace {

using std::chrono::seconds;
using Actions = std::vector<SplitAction>;

TEST(Lifecycle, FirstSessionCreatesPatchesThenForwards) {
  Lifecycle l(seconds(60));
  EXPECT_EQ(l.state(), SplitState::kIdle);
  EXPECT_EQ(l.sessionStarted(), (Actions{SplitAction::kCreateFallback, SplitAction::kPatchWorkload,
                                         SplitAction::kStartForwarding}));
  EXPECT_EQ(l.state(), SplitState::kSplitting);
  EXPECT_EQ(l.sessionStarted(), Actions{});  // a second session changes nothing here
}

TEST(Lifecycle, LastSessionDrainsThenRestores) {
  ManualClock clock;
  Lifecycle l(seconds(60));
  l.sessionStarted();
  l.sessionStarted();
  EXPECT_EQ(*l.sessionEnded(1, clock.now()), Actions{});
  EXPECT_EQ(*l.sessionEnded(0, clock.now()), Actions{SplitAction::kStopForwarding});
  EXPECT_EQ(l.state(), SplitState::kDraining);
  EXPECT_EQ(l.drainCheck(5, clock.now()), Actions{});  // workload still has messages to read
  EXPECT_EQ(l.drainCheck(0, clock.now()),
            (Actions{SplitAction::kRestoreWorkload, SplitAction::kReturnLeftovers,
                     SplitAction::kDeleteFallback}));
  EXPECT_EQ(l.state(), SplitState::kRestored);
  EXPECT_TRUE(l.finished());
}

TEST(Lifecycle, LingerTimeoutRestoresWithMessagesLeft) {
  ManualClock clock;
  Lifecycle l(seconds(60));
  l.sessionStarted();
  ASSERT_TRUE(l.sessionEnded(0, clock.now()).has_value());
  clock.advance(seconds(59));
  EXPECT_EQ(l.drainCheck(3, clock.now()), Actions{});
  clock.advance(seconds(1));
  EXPECT_EQ(l.drainCheck(3, clock.now()).front(), SplitAction::kRestoreWorkload);
  EXPECT_EQ(l.state(), SplitState::kRestored);
}

TEST(Lifecycle, SessionDuringDrainResumesWithoutAnotherPatch) {
  ManualClock clock;
  Lifecycle l(seconds(60));
  l.sessionStarted();
  ASSERT_TRUE(l.sessionEnded(0, clock.now()).has_value());
  EXPECT_EQ(l.sessionStarted(), Actions{SplitAction::kStartForwarding});
  EXPECT_EQ(l.state(), SplitState::kSplitting);
  EXPECT_FALSE(l.drainDeadline().has_value());
}

TEST(Lifecycle, RestoredStartsANewSplit) {
  ManualClock clock;
  Lifecycle l(seconds(0));
  l.sessionStarted();
  ASSERT_TRUE(l.sessionEnded(0, clock.now()).has_value());
  l.drainCheck(0, clock.now());
  EXPECT_EQ(l.sessionStarted().front(), SplitAction::kCreateFallback);
}

TEST(Lifecycle, EndingASessionWhenNotSplittingIsAnError) {
  ManualClock clock;
  Lifecycle l(seconds(1));
  auto r = l.sessionEnded(0, clock.now());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message(), "a session ended while the queue is idle, not splitting");
}

TEST(Lifecycle, AnIdleTtlKeepsTheSplitForTheNextSessionThenDrains) {
  ManualClock clock;
  Lifecycle l(seconds(60), seconds(30));
  l.sessionStarted();
  EXPECT_EQ(*l.sessionEnded(0, clock.now()), Actions{});  // forwarding goes on, workload patched
  EXPECT_EQ(l.state(), SplitState::kSplitting);
  EXPECT_TRUE(l.idle());
  clock.advance(seconds(29));
  EXPECT_EQ(l.idleCheck(clock.now()), Actions{});
  EXPECT_EQ(l.sessionStarted(), Actions{});  // reused as it is: no fallback, no patch
  EXPECT_FALSE(l.idle());
  clock.advance(seconds(60));
  EXPECT_EQ(l.idleCheck(clock.now()), Actions{});  // a session runs: no TTL counts
  ASSERT_TRUE(l.sessionEnded(0, clock.now()).has_value());
  clock.advance(seconds(30));
  EXPECT_EQ(l.idleCheck(clock.now()), Actions{SplitAction::kStopForwarding});
  EXPECT_EQ(l.state(), SplitState::kDraining);
  EXPECT_EQ(l.drainDeadline(), clock.now() + seconds(60));
}

}  // namespace
}  // namespace qsplit::core
