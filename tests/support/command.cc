#include "support/command.h"

#include <sys/wait.h>

#include <cstdlib>
#include <fstream>

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

}  // namespace qsplit::testing
