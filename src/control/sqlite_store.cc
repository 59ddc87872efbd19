#include "control/sqlite_store.h"

#include <algorithm>

namespace qsplit::control {
namespace {

using Statement = CHandle<sqlite3_stmt, sqlite3_finalize>;

constexpr char kSchema[] = R"sql(
PRAGMA journal_mode=WAL;
PRAGMA synchronous=FULL;
CREATE TABLE IF NOT EXISTS records (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  kind TEXT NOT NULL, key TEXT NOT NULL, json TEXT NOT NULL, UNIQUE(kind, key));
CREATE TABLE IF NOT EXISTS temporaries (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  broker TEXT NOT NULL, name TEXT NOT NULL, original TEXT NOT NULL, grp TEXT NOT NULL,
  UNIQUE(broker, name));
)sql";

Error sqliteError(sqlite3* db, const std::string& what) {
  return Error(ErrorCode::kUnavailable, "the store: " + what + ": " + sqlite3_errmsg(db));
}

}  // namespace

class SqliteStore::Journal final : public core::TemporaryJournal {
 public:
  Journal(SqliteStore& store, std::string broker) : store_(store), broker_(std::move(broker)) {}
  const std::string& broker() const { return broker_; }

  Result<void> record(const core::JournalEntry& e) override {
    return store_.exec("INSERT OR REPLACE INTO temporaries (broker, name, original, grp) "
                       "VALUES (?, ?, ?, ?)", {broker_, e.name, e.original, e.group});
  }
  Result<void> forget(const std::string& name) override {
    return store_.exec("DELETE FROM temporaries WHERE broker = ? AND name = ?", {broker_, name});
  }
  Result<std::vector<core::JournalEntry>> entries() override {
    QSPLIT_ASSIGN_OR_RETURN(auto rows, store_.query("SELECT original, name, grp FROM temporaries "
                                                    "WHERE broker = ? ORDER BY seq", {broker_}));
    std::vector<core::JournalEntry> out;
    for (auto& r : rows) out.push_back({r[0], r[1], r[2]});
    return out;
  }

 private:
  SqliteStore& store_;
  std::string broker_;
};

SqliteStore::SqliteStore(Db db) : db_(std::move(db)) {}
SqliteStore::~SqliteStore() = default;

Result<std::unique_ptr<SqliteStore>> SqliteStore::open(const std::string& path) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                                                   SQLITE_OPEN_FULLMUTEX, nullptr);
  Db db(raw);  // owns the handle even when opening failed
  if (rc != SQLITE_OK)
    return fail(ErrorCode::kUnavailable, "opening the store " + path + ": " +
                                             (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
  sqlite3_busy_timeout(db.get(), 5000);
  char* message = nullptr;
  if (sqlite3_exec(db.get(), kSchema, nullptr, nullptr, &message) != SQLITE_OK) {
    std::string text = message ? message : "unknown error";
    sqlite3_free(message);
    return fail(ErrorCode::kUnavailable, "preparing the store " + path + ": " + text);
  }
  return std::unique_ptr<SqliteStore>(new SqliteStore(std::move(db)));
}

Result<std::vector<std::vector<std::string>>> SqliteStore::query(const std::string& sql,
                                                          const std::vector<std::string>& params) {
  std::lock_guard lock(mutex_);
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db_.get(), sql.c_str(), -1, &raw, nullptr) != SQLITE_OK)
    return fail(sqliteError(db_.get(), "preparing " + sql));
  Statement statement(raw);
  for (std::size_t i = 0; i < params.size(); ++i)
    sqlite3_bind_text(raw, static_cast<int>(i + 1), params[i].data(),
                      static_cast<int>(params[i].size()), SQLITE_TRANSIENT);
  std::vector<std::vector<std::string>> rows;
  for (;;) {
    int rc = sqlite3_step(raw);
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) return fail(sqliteError(db_.get(), "running " + sql));
    std::vector<std::string> row;
    for (int c = 0; c < sqlite3_column_count(raw); ++c) {
      auto* text = reinterpret_cast<const char*>(sqlite3_column_text(raw, c));
      row.emplace_back(text ? std::string(text, sqlite3_column_bytes(raw, c)) : std::string());
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

Result<void> SqliteStore::exec(const std::string& sql, const std::vector<std::string>& params) {
  QSPLIT_TRY(query(sql, params));
  return ok();
}

Result<void> SqliteStore::put(const std::string& kind, const std::string& key, const std::string& json) {
  // An upsert keeps the row (and so its seq, the first-insert order).
  return exec("INSERT INTO records (kind, key, json) VALUES (?, ?, ?) "
              "ON CONFLICT(kind, key) DO UPDATE SET json = excluded.json", {kind, key, json});
}

Result<void> SqliteStore::remove(const std::string& kind, const std::string& key) {
  return exec("DELETE FROM records WHERE kind = ? AND key = ?", {kind, key});
}

Result<std::vector<StoredRecord>> SqliteStore::list(const std::string& kind) {
  QSPLIT_ASSIGN_OR_RETURN(auto rows, query("SELECT seq, key, json FROM records WHERE kind = ? "
                                           "ORDER BY seq", {kind}));
  std::vector<StoredRecord> out;
  for (auto& r : rows) out.push_back({std::stoll(r[0]), r[1], r[2]});
  return out;
}

core::TemporaryJournal& SqliteStore::journal(const std::string& broker) {
  std::lock_guard lock(mutex_);
  auto it = std::find_if(journals_.begin(), journals_.end(),
                         [&](const auto& j) { return j->broker() == broker; });
  if (it != journals_.end()) return **it;
  journals_.push_back(std::make_unique<Journal>(*this, broker));
  return *journals_.back();
}

}  // namespace qsplit::control
