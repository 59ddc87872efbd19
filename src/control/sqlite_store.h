// SqliteStore: the store in one SQLite file (local mode, or `kubernetes.store: file`).
#pragma once

#include <sqlite3.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/c_handle.h"
#include "control/store.h"

namespace qsplit::control {

// Thread-safe. Every write is durable (synchronous=FULL) before it returns.
class SqliteStore final : public Store {
 public:
  static Result<std::unique_ptr<SqliteStore>> open(const std::string& path);
  ~SqliteStore() override;

  Result<void> put(const std::string& kind, const std::string& key, const std::string& json) override;
  Result<void> remove(const std::string& kind, const std::string& key) override;
  Result<std::vector<StoredRecord>> list(const std::string& kind) override;
  core::TemporaryJournal& journal(const std::string& broker) override;

  class Journal;

 private:
  using Db = CHandle<sqlite3, sqlite3_close>;
  explicit SqliteStore(Db db);
  Result<void> exec(const std::string& sql, const std::vector<std::string>& params);
  Result<std::vector<std::vector<std::string>>> query(const std::string& sql,
                                                      const std::vector<std::string>& params);
  friend class Journal;

  std::mutex mutex_;
  Db db_;
  std::vector<std::unique_ptr<Journal>> journals_;  // guarded by mutex_
};

}  // namespace qsplit::control
