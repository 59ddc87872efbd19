#include "engine/orphans.h"

#include "common/log.h"
#include "engine/mover.h"

namespace qsplit::engine {

Result<ReclaimResult> reclaimOrphans(core::Broker& broker, core::TemporaryJournal& journal,
                                     const std::set<std::string>& live,
                                     std::chrono::milliseconds patience) {
  ReclaimResult result;
  QSPLIT_ASSIGN_OR_RETURN(auto entries, journal.entries());
  for (const auto& entry : entries) {
    if (live.count(entry.name)) continue;
    auto exists = broker.admin().describe(entry.name);
    if (exists && exists->kind == core::QueueKind::kChannel) {
      // A channel keeps nothing: its name is only forgotten.
    } else if (exists) {
      QSPLIT_ASSIGN_OR_RETURN(auto moved, moveAll(broker, entry.name, entry.group, entry.original, patience));
      result.returned += moved.moved;
      if (moved.left > 0)
        return fail(ErrorCode::kFailedPrecondition,
                    std::to_string(moved.left) + " messages of " + entry.name + " are still in flight");
      auto removed = broker.admin().remove(entry.name);
      if (!removed && removed.error().code() != ErrorCode::kNotFound) return fail(removed.error());
    } else if (exists.error().code() != ErrorCode::kNotFound) {
      return fail(exists.error());
    }
    QSPLIT_TRY(journal.forget(entry.name));
    ++result.deleted;
    logger("splitter")->info("queue={} reclaimed orphaned {} ({} messages returned)", entry.original,
                             entry.name, result.returned);
  }
  return result;
}

}  // namespace qsplit::engine
