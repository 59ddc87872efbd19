// Store: what qsplitd must remember across a restart or a kill -9, in one SQLite file:
// sessions, each split's lifecycle state, local workloads' patches, and the journal of
// temporary queues (recorded before each is created).
#pragma once

#include <sqlite3.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/c_handle.h"
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

// Thread-safe. Every write is durable (synchronous=FULL) before it returns.
class Store {
 public:
  static Result<std::unique_ptr<Store>> open(const std::string& path);
  ~Store();

  Result<void> put(const std::string& kind, const std::string& key, const std::string& json);
  Result<void> remove(const std::string& kind, const std::string& key);
  Result<std::vector<StoredRecord>> list(const std::string& kind);

  // The journal of temporary queues of one broker ("SQS", "Kafka", ...).
  core::TemporaryJournal& journal(const std::string& broker);

  class Journal;

 private:
  using Db = CHandle<sqlite3, sqlite3_close>;
  explicit Store(Db db);
  Result<void> exec(const std::string& sql, const std::vector<std::string>& params);
  Result<std::vector<std::vector<std::string>>> query(const std::string& sql,
                                                      const std::vector<std::string>& params);
  friend class Journal;

  std::mutex mutex_;
  Db db_;
  std::vector<std::unique_ptr<Journal>> journals_;  // guarded by mutex_
};

}  // namespace qsplit::control
