// TemporaryJournal: every temporary queue or topic is recorded before it is created and
// forgotten after it is deleted, so one left behind by a crash can always be found.
#pragma once

#include <string>
#include <vector>

#include "common/result.h"

namespace qsplit::core {

struct JournalEntry {
  std::string original;  // the queue it was split from
  std::string name;      // the temporary queue or topic
  std::string group;     // the consumer group that reads it (topics)
};

// Thread-safe.
class TemporaryJournal {
 public:
  virtual ~TemporaryJournal() = default;
  // Durable before it returns: the caller creates the queue only afterwards.
  virtual Result<void> record(const JournalEntry& entry) = 0;
  virtual Result<void> forget(const std::string& name) = 0;
  // What is recorded and not forgotten, in recording order.
  virtual Result<std::vector<JournalEntry>> entries() = 0;
};

}  // namespace qsplit::core
