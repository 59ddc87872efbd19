// The Redis server the integration tests share (scripts/redis.sh), qsplit's adapter connected
// to it, and redis-cli as the independent client. A message's body travels as an entry field
// named `body` (streams have fields only); its attributes are the other fields.
#pragma once

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

#include "brokers/redis/redis_broker.h"
#include "support/brokers.h"
#include "support/command.h"

namespace qsplit::testing {

class RedisTestClient {
 public:
  explicit RedisTestClient(std::string port = "") : port_(std::move(port)) {}

  // redis-cli's answer to one command, as JSON (RESP2 shapes); null when it failed.
  nlohmann::json command(const std::string& args) const {
    auto r = run("redis-cli -p " + port_ + " --json -2 " + args);
    if (r.status != 0 || r.out.empty()) return nullptr;
    return nlohmann::json::parse(r.out, nullptr, false);
  }

  // The stream with `group` reading it from the start.
  void createWithGroup(const std::string& stream, const std::string& group) const {
    auto r = run("redis-cli -p " + port_ + " XGROUP CREATE " + shellQuote(stream) + " " + shellQuote(group) +
                 " 0 MKSTREAM");
    ASSERT_EQ(r.status, 0) << "creating " << stream;
  }

  void send(const std::string& stream, const std::vector<core::Message>& messages) const {
    std::string commands;
    for (const auto& m : messages) {
      commands += "XADD " + quoted(stream) + " *";
      for (const auto& a : m.attributes) commands += " " + quoted(a.name) + " " + quoted(a.value);
      commands += " body " + quoted(m.body) + "\n";
    }
    auto r = run("redis-cli -p " + port_, &commands);
    ASSERT_EQ(r.status, 0) << "adding to " << stream;
  }

  // Every entry not yet delivered to `group`, read and acknowledged as a workload would.
  std::vector<core::Message> drain(const std::string& stream, const std::string& group) const {
    std::vector<core::Message> out;
    for (;;) {
      auto reply = command("XREADGROUP GROUP " + shellQuote(group) + " drain COUNT 1000 STREAMS " +
                           shellQuote(stream) + " '>'");
      if (!reply.is_array() || reply.empty()) return out;
      std::string ack = "XACK " + shellQuote(stream) + " " + shellQuote(group);
      for (const auto& entry : reply[0][1]) {
        core::Message m;
        m.id = entry[0];
        const auto& fields = entry[1];
        for (std::size_t i = 0; i + 1 < fields.size(); i += 2) {
          if (fields[i] == "body") m.body = fields[i + 1];
          else m.attributes.push_back({fields[i], fields[i + 1], ""});
        }
        ack += " " + m.id;
        out.push_back(std::move(m));
      }
      command(ack);
    }
  }

  std::vector<std::string> streams() const {
    auto reply = command("SCAN 0 COUNT 100000 TYPE stream");
    std::vector<std::string> names;
    if (reply.is_array() && reply.size() == 2)
      for (const auto& n : reply[1]) names.push_back(n);
    return names;
  }

 private:
  // A redis-cli argument, double-quoted with its escapes.
  static std::string quoted(const std::string& text) {
    std::string out = "\"";
    for (unsigned char c : text) {
      if (c == '"' || c == '\\') out += '\\', out += static_cast<char>(c);
      else if (c < 0x20 || c >= 0x7f) {
        char hex[5];
        std::snprintf(hex, sizeof hex, "\\x%02x", c);
        out += hex;
      } else {
        out += static_cast<char>(c);
      }
    }
    return out + "\"";
  }

  std::string port_;
};

// Sets `why` and returns null when the server is not announced.
inline Result<std::unique_ptr<redis::RedisBroker>> connectTestRedis(std::string* why,
                                                                    std::chrono::milliseconds claim_idle = std::chrono::seconds(30)) {
  std::string url = brokerAddress("QSPLIT_REDIS_URL", why);
  if (!why->empty()) return std::unique_ptr<redis::RedisBroker>();
  QSPLIT_ASSIGN_OR_RETURN(auto address, redis::RedisAddress::parse(url));
  return redis::RedisBroker::create({address, claim_idle});
}

// What `source` gives in up to 50 receives of 100 ms, until it has `count` messages.
inline std::vector<core::Message> receiveAll(core::Source& source, std::size_t count) {
  std::vector<core::Message> got;
  for (int i = 0; i < 50 && got.size() < count; ++i) {
    auto batch = source.receive(100, std::chrono::milliseconds(100));
    EXPECT_TRUE(batch) << batch.error().message();
    if (batch) got.insert(got.end(), batch->begin(), batch->end());
  }
  return got;
}

inline std::string testRedisPort() {
  const char* port = std::getenv("QSPLIT_REDIS_PORT");
  return port ? port : "";
}

}  // namespace qsplit::testing
