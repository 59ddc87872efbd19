// Moving every available message of one queue or topic to another, acknowledging each
// only after the destination accepted it. Used to give a finished session's unread
// messages back and to return the fallback's leftovers to the original.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "common/result.h"
#include "core/broker.h"

namespace qsplit::engine {

// Moves messages from `from` (read as consumer group `group` when it is a topic) to `to`
// until a receive finds nothing. Messages keep body, attributes, key and partition.
// Returns how many were moved. Messages in flight at another consumer are not waited for.
Result<uint64_t> moveAll(core::Broker& broker, const std::string& from, const std::string& group,
                         const std::string& to,
                         std::chrono::milliseconds wait = std::chrono::milliseconds(100));

}  // namespace qsplit::engine
