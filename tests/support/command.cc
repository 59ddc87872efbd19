#include "support/command.h"

#include <spawn.h>
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>

extern char** environ;

namespace qsplit::testing {

std::string shellQuote(const std::string& text) {
  std::string quoted = "'";
  for (char c : text) {
    if (c == '\'') quoted += "'\\''";
    else quoted += c;
  }
  return quoted + "'";
}

CommandResult run(const std::string& command, const std::string* input) {
  CommandResult result;
  std::string full = command;
  std::string input_file;
  if (input) {
    char path[] = "/tmp/qsplit-input-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) return result;
    close(fd);
    input_file = path;
    std::ofstream(input_file, std::ios::binary) << *input;
    full += " < " + shellQuote(input_file);
  }
  FILE* pipe = popen(full.c_str(), "r");
  if (pipe) {
    char buffer[4096];
    size_t n;
    while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) result.out.append(buffer, n);
    int status = pclose(pipe);
    result.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  if (!input_file.empty()) std::remove(input_file.c_str());
  return result;
}

pid_t spawn(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = -1;
  if (posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), environ) != 0) return -1;
  return pid;
}

}  // namespace qsplit::testing
