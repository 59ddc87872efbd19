// Ledger: what the demo produced, how each message was routed and who consumed it, and the
// counts a user checks: lost, duplicated, misrouted.
#pragma once

#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "core/message.h"
#include "core/router.h"

namespace qsplit::demo {

struct LedgerTotals {
  uint64_t produced = 0;
  uint64_t consumed = 0;  // deliveries, copies included
  uint64_t lost = 0;
  uint64_t duplicated = 0;
  uint64_t misrouted = 0;
  uint64_t overlap = 0;            // matched two live sessions' filters
  uint64_t overlap_to_first = 0;   // ... and went to the one that started first
  std::map<std::string, uint64_t> per_consumer;
};

// Thread-safe.
class Ledger {
 public:
  void produced(uint64_t count);
  // `queue` is read by `who`; `mirror` consumers receive copies, not the message itself.
  void assign(const std::string& queue, const std::string& who, bool mirror = false);
  // From the forwarder: checks the decision against a plain in-order loop over the
  // sessions' filters, independently of the router's RE2::Set matching.
  void routed(const core::Message& message, const core::RouteTable& table,
              const core::Decision& decision);
  void consumed(const core::Message& message, const std::string& queue, const std::string& who);

  uint64_t distinctConsumed() const;
  LedgerTotals totals() const;

 private:
  mutable std::mutex mutex_;
  uint64_t produced_ = 0;
  uint64_t consumed_ = 0;
  uint64_t misrouted_ = 0;
  uint64_t overlap_ = 0;
  uint64_t overlap_to_first_ = 0;
  std::map<std::string, std::string> owner_;  // queue -> consumer
  std::set<std::string> mirrors_;
  std::map<std::string, std::set<std::string>> last_route_;  // seq -> destination queues
  std::map<std::string, std::map<std::string, uint64_t>> seen_;  // seq -> consumer -> times
  std::map<std::string, uint64_t> per_consumer_;
};

}  // namespace qsplit::demo
