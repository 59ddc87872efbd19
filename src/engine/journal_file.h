// FileJournal: a TemporaryJournal in an append-only file (one line per record or forget,
// fsync'd), replayed on open. Also MemoryJournal, for the demo and tests.
#pragma once

#include <mutex>
#include <string>
#include <vector>

#include "core/journal.h"

namespace qsplit::engine {

class FileJournal final : public core::TemporaryJournal {
 public:
  explicit FileJournal(std::string path) : path_(std::move(path)) {}
  Result<void> record(const core::JournalEntry& entry) override;
  Result<void> forget(const std::string& name) override;
  Result<std::vector<core::JournalEntry>> entries() override;

 private:
  Result<void> append(const std::string& line);
  std::mutex mutex_;
  std::string path_;
};

class MemoryJournal final : public core::TemporaryJournal {
 public:
  Result<void> record(const core::JournalEntry& entry) override;
  Result<void> forget(const std::string& name) override;
  Result<std::vector<core::JournalEntry>> entries() override;

 private:
  std::mutex mutex_;
  std::vector<core::JournalEntry> entries_;
};

}  // namespace qsplit::engine
