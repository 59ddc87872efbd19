// Store: what qsplitd must remember across a restart or a kill -9: sessions, each split's
// lifecycle state, local workloads' patches, and the journal of temporary queues (recorded
// before each is created). Kept in SQLite (SqliteStore) or in the cluster (KubeStore).
#pragma once

#include <string>
#include <vector>

#include "common/result.h"
#include "core/journal.h"

namespace qsplit::control {

// One stored record: `kind` groups records ("session", "split", "workload"), `key` is unique
// within its kind, `json` is the record's JSON text. `seq` orders records by first insert.
struct StoredRecord {
  int64_t seq = 0;
  std::string key;
  std::string json;
};

// Thread-safe. Every write is durable before it returns.
class Store {
 public:
  virtual ~Store() = default;
  // Inserts or updates; an update keeps the record's place in its kind's order.
  virtual Result<void> put(const std::string& kind, const std::string& key,
                           const std::string& json) = 0;
  // Removing what is not there is not an error.
  virtual Result<void> remove(const std::string& kind, const std::string& key) = 0;
  // The kind's records in first-insert order.
  virtual Result<std::vector<StoredRecord>> list(const std::string& kind) = 0;
  // The journal of temporary queues of one broker ("SQS", "Kafka:<bootstrap>", ...), owned by
  // the store.
  virtual core::TemporaryJournal& journal(const std::string& broker) = 0;
};

}  // namespace qsplit::control
