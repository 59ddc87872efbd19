// Moving every message of one queue or topic to another, acknowledging each only after
// the destination accepted it. Used to give a finished session's unread messages back and
// to return the fallback's leftovers to the original.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

#include "common/result.h"
#include "core/broker.h"

namespace qsplit::engine {

struct MoveResult {
  uint64_t moved = 0;
  uint64_t left = 0;  // still not consumed when patience ran out (in flight elsewhere)
};

// Moves messages from `from` (read as consumer group `group` when it is a topic) to `to`
// until the broker reports nothing left to consume there, or `patience` passes without it.
// A consumer group may take a while to be assigned its partitions, and a queue's message
// in flight at another consumer comes back only when its visibility timeout ends: both are
// waited for, up to `patience`, and so is a read refused as kUnavailable. A read refused as
// kFailedPrecondition, for a topic a member of `group` of another protocol that has not
// timed out yet (Kafka Streams does not leave on close), goes on at once as a new group
// given `group`'s committed offsets (Admin::groupLike); where the broker has no groups, it
// fails. Messages keep body, attributes, key and partition. Once `*stop` is true (qsplitd is
// stopping) it ends between two batches with kCancelled: what is left stays in `from`.
Result<MoveResult> moveAll(core::Broker& broker, const std::string& from, std::string group,
                           const std::string& to,
                           std::chrono::milliseconds patience = std::chrono::seconds(60),
                           const std::atomic<bool>* stop = nullptr);

}  // namespace qsplit::engine
