// The conformance suite: the same splitting scenarios, checked per message, against every
// broker adapter. A broker instantiates it with a Harness type that provides:
//   std::string unavailable();                 why the broker can't be used, or ""
//   core::Broker& broker();                    the adapter under test
//   std::string originalName();                a name no other test uses
//   void createOriginal(const std::string&);   the queue or topic producers already use
//   std::string group();                       the workload's consumer group (topics)
//   void produce(name, std::vector<core::Message>);   with an independent client
//   std::vector<core::Message> drain(name);    consume what is there, as an app would
//   std::vector<std::string> queueNames();     every queue or topic that exists
//   static constexpr bool kTopic;              partitioned topic (true) or queue
//   static constexpr bool kExactlyOnce;        forward in broker transactions
// and may provide
//   std::function<void(std::vector<core::Message>&)> view();   what filters see (the
//                                              forwarder's view), for brokers without headers
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <map>
#include <set>
#include <thread>

#include "common/random.h"
#include "engine/journal_file.h"
#include "engine/orphans.h"
#include "engine/queue_splitter.h"
#include "support/brokers.h"
#include "support/eventually.h"
#include "support/faulty_broker.h"
#include "support/messages.h"
#include "support/recording_patcher.h"

namespace qsplit::conformance {

using std::chrono::milliseconds;

using testing::eventually;

inline std::vector<core::Message> produceSet(int count) {
  static const char* authors[] = {"alice", "bob", "carol"};
  static const char* levels[] = {"beginner", "expert"};
  std::vector<core::Message> out;
  for (int i = 0; i < count; ++i) {
    auto m = testing::message({{"author", authors[i % 3]}, {"level", levels[(i / 3) % 2]},
                               {"seq", std::to_string(i)}},
                              "message " + std::to_string(i));
    m.key = "k" + std::to_string(i % 4);
    m.partition = i % 2;
    out.push_back(m);
  }
  return out;
}

// For a harness's constructor: keeps the broker `made`, or in `why` the reason there is none
// (`why` is already set when the broker's address is not announced).
template <class B>
void keepBroker(Result<std::unique_ptr<B>> made, std::string& why, std::unique_ptr<B>& broker) {
  if (!why.empty()) return;
  if (!made) {
    why = made.error().message();
    return;
  }
  broker = std::move(made).value();
}

template <class Harness>
class SplitConformance : public ::testing::Test {
 protected:
  void SetUp() override {
    QSPLIT_NEED_BROKER(harness_.unavailable());
    kOriginal = harness_.originalName();
    harness_.createOriginal(kOriginal);
  }

  engine::SplitOptions options(Duration linger = std::chrono::seconds(60)) {
    engine::SplitOptions o;
    o.linger_timeout = linger;
    o.group = harness_.group();
    o.forwarder.wait = milliseconds(20);
    o.forwarder.delivery = Harness::kExactlyOnce ? engine::Delivery::kExactlyOnce
                                                 : engine::Delivery::kAtLeastOnce;
    if constexpr (requires { harness_.view(); }) o.forwarder.view = harness_.view();
    return o;
  }

  std::unique_ptr<engine::QueueSplitter> splitter(core::Broker& broker, Duration linger) {
    patcher_.reset(kOriginal);
    return std::make_unique<engine::QueueSplitter>(broker, patcher_, SystemClock::instance(),
                                                   SecureRandom::instance(), kOriginal,
                                                   options(linger));
  }

  // Waits until the forwarder has acknowledged `count` messages on the original.
  void waitForwarded(engine::QueueSplitter& s, uint64_t count) {
    ASSERT_TRUE(eventually([&] { return s.status().counts.acked >= count; }))
        << "forwarded " << s.status().counts.acked << " of " << count;
  }

  // seq attribute -> who received it
  void collect(const std::string& who, const std::string& queue,
               std::map<std::string, std::vector<std::string>>& got) {
    for (const auto& m : harness_.drain(queue)) got[m.findAttribute("seq")->value].push_back(who);
  }

  // This test's temporary queues (their names contain the original's).
  std::set<std::string> temporaryNames() {
    std::set<std::string> names;
    for (const auto& n : harness_.queueNames())
      if (n.starts_with("mirrord-tmp-") && n.find(kOriginal) != std::string::npos) names.insert(n);
    return names;
  }

  // Deleting is asynchronous on some brokers: wait until the names are gone.
  bool temporariesGone() {
    return eventually([&] { return temporaryNames().empty(); });
  }

  Harness harness_;
  std::string kOriginal;
  testing::RecordingPatcher patcher_{""};
};

TYPED_TEST_SUITE_P(SplitConformance);

TYPED_TEST_P(SplitConformance, EachMessageReachesExactlyTheDestinationTheRulesName) {
  auto s = this->splitter(this->harness_.broker(), std::chrono::seconds(60));
  auto alice = s->startSession("alice", testing::filter({{"author", "^alice$"}}), core::QueueMode::kSteal);
  ASSERT_TRUE(alice.has_value()) << alice.error().message();
  auto bob = s->startSession("bob", testing::filter({{"level", "beginner"}}), core::QueueMode::kSteal);
  ASSERT_TRUE(bob.has_value()) << bob.error().message();
  std::string fallback = this->patcher_.current();
  ASSERT_NE(fallback, this->kOriginal);  // the workload was pointed at the fallback

  auto sent = produceSet(60);
  this->harness_.produce(this->kOriginal, sent);
  this->waitForwarded(*s, 60);

  std::map<std::string, std::vector<std::string>> got;
  this->collect("alice", *alice, got);
  this->collect("bob", *bob, got);
  this->collect("workload", fallback, got);
  ASSERT_EQ(got.size(), 60u);
  for (const auto& m : sent) {
    std::string seq = m.findAttribute("seq")->value;
    std::string author = m.findAttribute("author")->value;
    std::string level = m.findAttribute("level")->value;
    // alice started first, so she wins the messages both filters match
    std::string expected = author == "alice" ? "alice" : level == "beginner" ? "bob" : "workload";
    EXPECT_EQ(got[seq], std::vector<std::string>{expected}) << "message " << seq;
  }
  auto status = s->status();
  EXPECT_EQ(status.counts.forwarded[*alice], 20u);
  EXPECT_EQ(status.counts.unmatched, 20u);
}

TYPED_TEST_P(SplitConformance, ForwardedMessagesKeepBodyAttributesKeyAndPartition) {
  auto s = this->splitter(this->harness_.broker(), std::chrono::seconds(60));
  auto q = s->startSession("alice", testing::filter({{"author", "alice"}}), core::QueueMode::kSteal);
  ASSERT_TRUE(q.has_value()) << q.error().message();
  auto sent = produceSet(12);
  this->harness_.produce(this->kOriginal, sent);
  this->waitForwarded(*s, 12);
  auto got = this->harness_.drain(*q);
  ASSERT_EQ(got.size(), 4u);
  std::map<int32_t, int> last_seq;
  for (const auto& m : got) {
    int seq = std::stoi(m.findAttribute("seq")->value);
    const auto& original = sent[static_cast<std::size_t>(seq)];
    EXPECT_EQ(m.body, original.body);
    EXPECT_EQ(m.attributes.size(), original.attributes.size());
    EXPECT_EQ(m.findAttribute("author")->value, "alice");
    if (TypeParam::kTopic) {
      EXPECT_EQ(m.key, original.key);
      EXPECT_EQ(m.partition, original.partition);
      EXPECT_GT(seq, last_seq.count(m.partition) ? last_seq[m.partition] : -1) << "order broken";
      last_seq[m.partition] = seq;
    }
  }
}

TYPED_TEST_P(SplitConformance, MirrorSessionGetsACopyAndTheWorkloadKeepsIt) {
  auto s = this->splitter(this->harness_.broker(), std::chrono::seconds(60));
  auto q = s->startSession("watcher", testing::filter({{"author", "bob"}}), core::QueueMode::kMirror);
  ASSERT_TRUE(q.has_value());
  this->harness_.produce(this->kOriginal, produceSet(9));
  this->waitForwarded(*s, 9);
  EXPECT_EQ(this->harness_.drain(*q).size(), 3u);
  EXPECT_EQ(this->harness_.drain(this->patcher_.current()).size(), 9u);
}

TYPED_TEST_P(SplitConformance, LastSessionEndDrainsRestoresAndLeavesNothingBehind) {
  auto s = this->splitter(this->harness_.broker(), std::chrono::seconds(60));
  ASSERT_TRUE(s->startSession("alice", testing::filter({{"author", "alice"}}), core::QueueMode::kSteal));
  ASSERT_TRUE(s->startSession("bob", testing::filter({{"author", "bob"}}), core::QueueMode::kSteal));
  EXPECT_EQ(this->temporaryNames().size(), 3u);
  EXPECT_EQ(this->patcher_.patches(), 1);  // the second session did not restart the workload
  this->harness_.produce(this->kOriginal, produceSet(30));
  this->waitForwarded(*s, 30);
  std::string fallback = this->patcher_.current();

  ASSERT_TRUE(s->endSession("alice").has_value());
  ASSERT_TRUE(s->endSession("bob").has_value());
  EXPECT_EQ(s->state(), core::SplitState::kDraining);
  ASSERT_TRUE(s->tick().has_value());
  EXPECT_EQ(s->state(), core::SplitState::kDraining);  // the workload has not read the fallback yet
  EXPECT_EQ(this->patcher_.current(), fallback);

  // The workload reads its 10 own messages plus the 20 the sessions never read.
  std::size_t read_by_workload = this->harness_.drain(fallback).size();
  ASSERT_TRUE(eventually([&] { return s->tick() && s->state() == core::SplitState::kRestored; }));
  EXPECT_EQ(this->patcher_.current(), this->kOriginal);
  EXPECT_TRUE(this->temporariesGone());
  std::size_t back_in_original = this->harness_.drain(this->kOriginal).size();
  EXPECT_EQ(read_by_workload + back_in_original, 30u) << "every message read exactly once";
}

TYPED_TEST_P(SplitConformance, EndedSessionsUnreadMessagesAreRoutedAgain) {
  auto s = this->splitter(this->harness_.broker(), std::chrono::seconds(60));
  auto alice = s->startSession("alice", testing::filter({{"author", "alice"}}), core::QueueMode::kSteal);
  auto bob = s->startSession("bob", testing::filter({{"level", "."}}), core::QueueMode::kSteal);
  ASSERT_TRUE(alice && bob);
  this->harness_.produce(this->kOriginal, produceSet(30));
  this->waitForwarded(*s, 30);
  ASSERT_TRUE(s->endSession("alice").has_value());  // alice read none of her 10
  // Queues: routed again, now to bob. Topics: to the fallback, keeping partition order.
  ASSERT_TRUE(eventually([&] { return s->status().counts.acked >= (TypeParam::kTopic ? 30u : 40u); }));
  std::size_t at_bob = this->harness_.drain(*bob).size();
  std::size_t at_fallback = this->harness_.drain(this->patcher_.current()).size();
  EXPECT_EQ(at_bob + at_fallback, 30u);
  EXPECT_EQ(TypeParam::kTopic ? at_fallback : at_bob, TypeParam::kTopic ? 10u : 30u);
  EXPECT_EQ(s->status().returned, 10u);
}

TYPED_TEST_P(SplitConformance, RefusedSendsAreNotAcknowledgedAndArriveLater) {
  testing::FaultyBroker faulty(this->harness_.broker());
  auto s = this->splitter(faulty, std::chrono::seconds(60));
  auto q = s->startSession("alice", testing::filter({{"author", "alice"}}), core::QueueMode::kSteal);
  ASSERT_TRUE(q.has_value());
  faulty.failSends(*q, 3);
  this->harness_.produce(this->kOriginal, produceSet(30));
  this->waitForwarded(*s, 30);
  std::set<std::string> at_alice;
  EXPECT_TRUE(eventually([&] {
    for (const auto& m : this->harness_.drain(*q)) at_alice.insert(m.findAttribute("seq")->value);
    return at_alice.size() == 10u;
  })) << "alice received " << at_alice.size() << " of 10";  // none lost; duplicates allowed
  auto status = s->status();
  EXPECT_EQ(status.counts.send_errors, 3u);
  EXPECT_GE(status.counts.released, 1u);
  EXPECT_EQ(this->harness_.drain(this->patcher_.current()).size() >= 20u, true);
}

TYPED_TEST_P(SplitConformance, LingerTimeoutMovesLeftoversBackInsteadOfDroppingThem) {
  auto s = this->splitter(this->harness_.broker(), std::chrono::seconds(0));
  ASSERT_TRUE(s->startSession("alice", testing::filter({{"author", "alice"}}), core::QueueMode::kSteal));
  this->harness_.produce(this->kOriginal, produceSet(9));
  this->waitForwarded(*s, 9);
  ASSERT_TRUE(s->endSession("alice").has_value());
  ASSERT_TRUE(s->tick().has_value());  // the workload read nothing; the linger time is zero
  EXPECT_EQ(s->state(), core::SplitState::kRestored);
  EXPECT_TRUE(this->temporariesGone());
  EXPECT_EQ(this->harness_.drain(this->kOriginal).size(), 9u);
}

TYPED_TEST_P(SplitConformance, SessionDuringDrainResumesWithoutAnotherRestart) {
  auto s = this->splitter(this->harness_.broker(), std::chrono::seconds(60));
  ASSERT_TRUE(s->startSession("alice", testing::filter({{"author", "alice"}}), core::QueueMode::kSteal));
  this->harness_.produce(this->kOriginal, produceSet(3));
  this->waitForwarded(*s, 3);
  ASSERT_TRUE(s->endSession("alice").has_value());
  ASSERT_EQ(s->state(), core::SplitState::kDraining);
  auto bob = s->startSession("bob", testing::filter({{"author", "bob"}}), core::QueueMode::kSteal);
  ASSERT_TRUE(bob.has_value());
  EXPECT_EQ(s->state(), core::SplitState::kSplitting);
  EXPECT_EQ(this->patcher_.patches(), 1);
  this->harness_.produce(this->kOriginal, produceSet(3));
  ASSERT_TRUE(eventually([&] { return s->status().counts.acked >= (TypeParam::kTopic ? 6u : 7u); }));
  EXPECT_EQ(this->harness_.drain(*bob).size(), 1u);
}

TYPED_TEST_P(SplitConformance, FailedStartLeavesNothingAndRunningSessionsUntouched) {
  auto s = this->splitter(this->harness_.broker(), std::chrono::seconds(60));
  this->patcher_.failNextPatch();
  auto first = s->startSession("alice", testing::filter({{"author", "alice"}}), core::QueueMode::kSteal);
  ASSERT_FALSE(first.has_value());
  EXPECT_NE(first.error().message().find("patching the workload: rollout of " + this->kOriginal +
                                         " timed out"),
            std::string::npos) << first.error().message();
  EXPECT_TRUE(this->temporariesGone());
  EXPECT_EQ(s->state(), core::SplitState::kIdle);
  EXPECT_EQ(this->patcher_.current(), this->kOriginal);  // the written patch is undone

  auto alice = s->startSession("alice", testing::filter({{"author", "alice"}}), core::QueueMode::kSteal);
  ASSERT_TRUE(alice.has_value());
  auto again = s->startSession("alice", testing::filter({{"author", "x"}}), core::QueueMode::kSteal);
  EXPECT_EQ(again.error().message(), "session alice already splits " + this->kOriginal);
  EXPECT_EQ(s->endSession("nobody").error().message(),
            "session nobody does not split " + this->kOriginal);
  this->harness_.produce(this->kOriginal, produceSet(3));
  this->waitForwarded(*s, 3);
  EXPECT_EQ(this->harness_.drain(*alice).size(), 1u);

  engine::QueueSplitter missing(this->harness_.broker(), this->patcher_, SystemClock::instance(),
                                SecureRandom::instance(), "no-such-queue", this->options());
  auto r = missing.startSession("x", testing::filter({{"a", "b"}}), core::QueueMode::kSteal);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("no-such-queue"), std::string::npos);
}

TYPED_TEST_P(SplitConformance, OrphansOfACrashAreFoundEmptiedAndDeleted) {
  engine::MemoryJournal journal;
  {
    auto options = this->options();
    options.journal = &journal;
    engine::QueueSplitter crashed(this->harness_.broker(), this->patcher_, SystemClock::instance(),
                                  SecureRandom::instance(), this->kOriginal, options);
    ASSERT_TRUE(crashed.startSession("alice", testing::filter({{"author", "alice"}}), core::QueueMode::kSteal));
    ASSERT_TRUE(crashed.startSession("bob", testing::filter({{"author", "bob"}}), core::QueueMode::kSteal));
    this->harness_.produce(this->kOriginal, produceSet(30));
    ASSERT_TRUE(eventually([&] { return crashed.status().counts.acked >= 30; }));
  }  // gone without ending its sessions, as after a crash
  EXPECT_EQ(this->temporaryNames().size(), 3u);
  EXPECT_EQ(journal.entries()->size(), 3u);
  auto reclaimed = engine::reclaimOrphans(this->harness_.broker(), journal, {});
  ASSERT_TRUE(reclaimed.has_value()) << reclaimed.error().message();
  EXPECT_EQ(reclaimed->deleted, 3u);
  EXPECT_EQ(reclaimed->returned, 30u);  // nobody had read them: all back in the original
  EXPECT_TRUE(this->temporariesGone());
  EXPECT_TRUE(journal.entries()->empty());
  EXPECT_EQ(this->harness_.drain(this->kOriginal).size(), 30u);
}

REGISTER_TYPED_TEST_SUITE_P(SplitConformance, EachMessageReachesExactlyTheDestinationTheRulesName,
                            ForwardedMessagesKeepBodyAttributesKeyAndPartition,
                            MirrorSessionGetsACopyAndTheWorkloadKeepsIt,
                            LastSessionEndDrainsRestoresAndLeavesNothingBehind,
                            EndedSessionsUnreadMessagesAreRoutedAgain,
                            RefusedSendsAreNotAcknowledgedAndArriveLater,
                            LingerTimeoutMovesLeftoversBackInsteadOfDroppingThem,
                            SessionDuringDrainResumesWithoutAnotherRestart,
                            FailedStartLeavesNothingAndRunningSessionsUntouched,
                            OrphansOfACrashAreFoundEmptiedAndDeleted);

}  // namespace qsplit::conformance
