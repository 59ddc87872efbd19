// Reclaiming temporary queues that no live split owns (left by a crash): their messages go
// back to the original queue first, so nothing is lost, then they are deleted.
#pragma once

#include <set>
#include <string>

#include "common/result.h"
#include "core/broker.h"
#include "core/journal.h"

namespace qsplit::engine {

struct ReclaimResult {
  uint64_t deleted = 0;
  uint64_t returned = 0;  // messages moved back to their original
};

// Every journal entry whose name is not in `live` is emptied into its original and deleted
// (one already gone counts as deleted), then forgotten.
Result<ReclaimResult> reclaimOrphans(core::Broker& broker, core::TemporaryJournal& journal,
                                     const std::set<std::string>& live,
                                     std::chrono::milliseconds patience = std::chrono::seconds(60));

}  // namespace qsplit::engine
