// Running an independent client (kcat, the aws CLI) from a test, feeding stdin and
// reading stdout.
#pragma once

#include <cstdio>
#include <sys/types.h>

#include <string>
#include <vector>

namespace qsplit::testing {

struct CommandResult {
  int status = -1;
  std::string out;

  // `out` split at newlines (a client's one-name-per-line answer).
  std::vector<std::string> lines() const {
    std::vector<std::string> all;
    for (std::size_t start = 0; start < out.size();) {
      auto end = out.find('\n', start);
      if (end == std::string::npos) end = out.size();
      all.push_back(out.substr(start, end - start));
      start = end + 1;
    }
    return all;
  }
};

// Runs `command` with `/bin/sh -c`, writing `input` to its stdin when given, and returns
// its exit status and stdout (stderr goes to the test's stderr).
CommandResult run(const std::string& command, const std::string* input = nullptr);

// Starts `args[0]` with `args` and this process's environment, without waiting; -1 on error.
pid_t spawn(const std::vector<std::string>& args);

// Quotes `text` for the shell.
std::string shellQuote(const std::string& text);

}  // namespace qsplit::testing
