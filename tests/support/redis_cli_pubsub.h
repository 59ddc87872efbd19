// Redis Pub/Sub as a workload or a developer's process uses it, through redis-cli, the
// independent client: a subscriber (SUBSCRIBE, PSUBSCRIBE or SSUBSCRIBE) running in the
// background and writing what it receives to a file, and a publisher fed one command at a time.
#pragma once

#include <signal.h>
#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/command.h"
#include "support/eventually.h"

namespace qsplit::testing {

class RedisCliSubscriber {
 public:
  // `command`: SUBSCRIBE, PSUBSCRIBE or SSUBSCRIBE. Returns once the server confirmed it.
  RedisCliSubscriber(const std::string& port, const std::string& command, const std::string& name,
                     const std::string& file)
      : file_(file) {
    pid_ = spawn({"/bin/sh", "-c", "exec redis-cli -p " + port + " --csv " + command + " " + shellQuote(name) +
                                       " > " + shellQuote(file)});
    subscribed_ = eventually([&] {
      std::ifstream in(file_);
      std::string text((std::istreambuf_iterator<char>(in)), {});
      return text.find("subscribe\",") != std::string::npos;
    });
  }
  ~RedisCliSubscriber() { stop(); }
  RedisCliSubscriber(const RedisCliSubscriber&) = delete;
  RedisCliSubscriber& operator=(const RedisCliSubscriber&) = delete;

  bool subscribed() const { return subscribed_; }

  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

  // The payloads received so far, in order (redis-cli's CSV: the payload is the last field).
  std::vector<std::string> payloads() const {
    std::vector<std::string> out;
    std::ifstream in(file_);
    for (std::string line; std::getline(in, line);) {
      if (!line.starts_with("\"message\"") && !line.starts_with("\"pmessage\"") && !line.starts_with("\"smessage\""))
        continue;
      auto fields = nlohmann::json::parse("[" + line + "]", nullptr, false);
      if (fields.is_array() && !fields.empty() && fields.back().is_string()) out.push_back(fields.back());
    }
    return out;
  }

 private:
  std::string file_;
  pid_t pid_ = -1;
  bool subscribed_ = false;
};

// redis-cli reading commands from a pipe: each publish() is one PUBLISH (or SPUBLISH).
class RedisCliPublisher {
 public:
  explicit RedisCliPublisher(const std::string& port)
      : pipe_(::popen(("redis-cli -p " + port + " > /dev/null").c_str(), "we")) {}  // "e": not inherited by other children
  ~RedisCliPublisher() { close(); }

  void publish(const std::string& channel, const std::string& payload, const char* command = "PUBLISH") {
    std::string line = std::string(command) + " " + quoted(channel) + " " + quoted(payload) + "\n";
    std::fwrite(line.data(), 1, line.size(), pipe_);
    std::fflush(pipe_);
  }
  // Waits until redis-cli has sent everything and exited.
  int close() {
    if (!pipe_) return 0;
    int status = ::pclose(pipe_);
    pipe_ = nullptr;
    return status;
  }

 private:
  static std::string quoted(const std::string& text) {
    std::string out = "\"";
    for (char c : text) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    return out + "\"";
  }
  FILE* pipe_;
};

}  // namespace qsplit::testing
