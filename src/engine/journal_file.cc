#include "engine/journal_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace qsplit::engine {
namespace {

// Names and groups never contain tabs or newlines (broker name rules), so a tab separates.
std::vector<std::string> fields(const std::string& line) {
  std::vector<std::string> out;
  std::stringstream in(line);
  std::string f;
  while (std::getline(in, f, '\t')) out.push_back(f);
  return out;
}

void erase(std::vector<core::JournalEntry>& entries, const std::string& name) {
  entries.erase(std::remove_if(entries.begin(), entries.end(),
                               [&](const auto& e) { return e.name == name; }),
                entries.end());
}

}  // namespace

Result<void> FileJournal::append(const std::string& line) {
  int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0)
    return fail(ErrorCode::kUnavailable, path_ + ": cannot open the journal (" + std::strerror(errno) + ")");
  std::string text = line + "\n";
  bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!written || !synced)
    return fail(ErrorCode::kUnavailable, path_ + ": cannot write the journal (" + std::strerror(errno) + ")");
  return ok();
}

Result<void> FileJournal::record(const core::JournalEntry& entry) {
  std::lock_guard lock(mutex_);
  return append("+\t" + entry.original + "\t" + entry.name + "\t" + entry.group);
}

Result<void> FileJournal::forget(const std::string& name) {
  std::lock_guard lock(mutex_);
  return append("-\t" + name);
}

Result<std::vector<core::JournalEntry>> FileJournal::entries() {
  std::lock_guard lock(mutex_);
  std::vector<core::JournalEntry> entries;
  std::ifstream in(path_);
  std::string line;
  while (std::getline(in, line)) {
    auto f = fields(line);
    if (f.size() >= 3 && f[0] == "+") entries.push_back({f[1], f[2], f.size() > 3 ? f[3] : ""});
    else if (f.size() == 2 && f[0] == "-") erase(entries, f[1]);
    // A torn last line (a crash mid-write) is skipped: its queue was never created.
  }
  return entries;
}

Result<void> MemoryJournal::record(const core::JournalEntry& entry) {
  std::lock_guard lock(mutex_);
  entries_.push_back(entry);
  return ok();
}

Result<void> MemoryJournal::forget(const std::string& name) {
  std::lock_guard lock(mutex_);
  erase(entries_, name);
  return ok();
}

Result<std::vector<core::JournalEntry>> MemoryJournal::entries() {
  std::lock_guard lock(mutex_);
  return entries_;
}

}  // namespace qsplit::engine
