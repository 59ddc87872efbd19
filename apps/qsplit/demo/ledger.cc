#include "demo/ledger.h"

namespace qsplit::demo {
namespace {

std::string seqOf(const core::Message& m) {
  const auto* a = m.findAttribute("seq");
  return a ? a->value : "?";
}

}  // namespace

void Ledger::produced(uint64_t count) {
  std::lock_guard lock(mutex_);
  produced_ += count;
}

void Ledger::assign(const std::string& queue, const std::string& who, bool mirror) {
  std::lock_guard lock(mutex_);
  owner_[queue] = who;
  if (mirror) mirrors_.insert(who);
}

void Ledger::routed(const core::Message& message, const core::RouteTable& table,
                    const core::Decision& decision) {
  std::set<std::string> expected;
  std::vector<std::size_t> matching;
  bool taken = false;
  const auto& sessions = table.sessions();
  for (std::size_t i = 0; i < sessions.size() && !taken; ++i) {
    if (!sessions[i].filter.matches(message)) continue;
    expected.insert(sessions[i].destination);
    matching.push_back(i);
    taken = sessions[i].mode == core::QueueMode::kSteal;
  }
  if (!taken) expected.insert(table.destinations()[core::RouteTable::kFallback]);
  // Count every steal session that matches, not only the first, to show overlaps.
  std::size_t steal_matches = 0;
  for (const auto& s : sessions)
    if (s.mode == core::QueueMode::kSteal && s.filter.matches(message)) ++steal_matches;

  std::set<std::string> actual;
  for (uint32_t d : decision.destinations) actual.insert(table.destinations()[d]);
  std::lock_guard lock(mutex_);
  if (actual != expected) ++misrouted_;
  last_route_[seqOf(message)] = actual;
  if (steal_matches >= 2) {
    ++overlap_;
    if (!matching.empty() && actual.count(sessions[matching.front()].destination)) ++overlap_to_first_;
  }
}

void Ledger::consumed(const core::Message& message, const std::string& queue,
                      const std::string& who) {
  std::string seq = seqOf(message);
  std::lock_guard lock(mutex_);
  ++consumed_;
  ++seen_[seq][who];
  ++per_consumer_[who];
  // A message read from a temporary queue must be one the router sent there.
  auto route = last_route_.find(seq);
  bool not_sent_here = route == last_route_.end() || !route->second.count(queue);
  if (not_sent_here && queue.starts_with("mirrord-tmp-")) ++misrouted_;
}

uint64_t Ledger::distinctConsumed() const {
  std::lock_guard lock(mutex_);
  return seen_.size();
}

LedgerTotals Ledger::totals() const {
  std::lock_guard lock(mutex_);
  LedgerTotals t;
  t.produced = produced_;
  t.consumed = consumed_;
  t.misrouted = misrouted_;
  t.overlap = overlap_;
  t.overlap_to_first = overlap_to_first_;
  t.per_consumer = per_consumer_;
  t.lost = produced_ > seen_.size() ? produced_ - seen_.size() : 0;
  for (const auto& [seq, by] : seen_) {
    uint64_t owners = 0;
    for (const auto& [who, times] : by) {
      t.duplicated += times - 1;  // the same consumer got it again
      if (!mirrors_.count(who)) ++owners;
    }
    if (owners > 1) t.duplicated += owners - 1;  // two consumers got the one message
  }
  return t;
}

}  // namespace qsplit::demo
