// BullMQ as applications use it, for the integration tests: the real bullmq package's Queue
// adds the jobs and its Worker takes them (tests/support/bullmq_client.js, on node), against
// the Redis the tests share. A message travels as a job whose name is the message's key and
// whose data holds the attributes as fields and the body as the field `body`.
#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

#include "brokers/redis/bullmq_broker.h"
#include "support/brokers.h"
#include "support/command.h"

namespace qsplit::testing {

// One job as the Worker saw it.
struct BullmqJob {
  std::string id, name;
  nlohmann::json data, opts;
  int64_t timestamp = 0, processed_on = 0;
  int priority = 0;
};

class BullmqTestClient {
 public:
  explicit BullmqTestClient(std::string port) : port_(std::move(port)) {}

  // Opens the queue as an application's Queue does.
  void open(const std::string& queue) const {
    auto r = node("open " + shellQuote(queue));
    EXPECT_EQ(r.status, 0) << "opening " << queue;
  }

  // Adds {"name", "data", "opts"} jobs; returns their ids.
  std::vector<std::string> add(const std::string& queue, const std::vector<nlohmann::json>& jobs) const {
    std::string input;
    for (const auto& j : jobs) input += j.dump() + "\n";
    auto r = node("add " + shellQuote(queue), &input);
    EXPECT_EQ(r.status, 0) << "adding to " << queue << ": " << r.out;
    return r.lines();
  }

  // Every job a Worker takes before none comes for `idle_ms`.
  std::vector<BullmqJob> drain(const std::string& queue, int idle_ms = 800) const {
    auto r = node("drain " + shellQuote(queue) + " " + std::to_string(idle_ms));
    EXPECT_EQ(r.status, 0) << "draining " << queue << ": " << r.out;
    std::vector<BullmqJob> out;
    for (const auto& line : r.lines()) {
      auto j = nlohmann::json::parse(line);
      out.push_back({j["id"], j["name"], j["data"], j["opts"], j["timestamp"], j.value("processedOn", int64_t{0}),
                     j.value("priority", 0)});
    }
    return out;
  }

  std::vector<std::string> queues() const { return node("queues").lines(); }

  // The job for a message: its key as the name, its attributes and body as data fields.
  static nlohmann::json job(const core::Message& m, nlohmann::json opts = nlohmann::json::object()) {
    nlohmann::json data = {{"body", m.body}};
    for (const auto& a : m.attributes) data[a.name] = a.value;
    return {{"name", m.key.value_or("job")}, {"data", data}, {"opts", opts}};
  }
  // The message a job carries (the inverse of job()).
  static core::Message message(const BullmqJob& j) {
    core::Message m;
    m.id = j.id;
    m.key = j.name;
    for (const auto& [name, value] : j.data.items()) {
      std::string text = value.is_string() ? value.get<std::string>() : value.dump();
      if (name == "body") m.body = text;
      else m.attributes.push_back({name, text, ""});
    }
    return m;
  }

 private:
  CommandResult node(const std::string& args, const std::string* input = nullptr) const {
    static const std::string modules = [] {
      auto r = run(QSPLIT_SOURCE_DIR "/scripts/bullmq.sh dir");
      return r.out.substr(0, r.out.find('\n'));
    }();
    return run("QSPLIT_REDIS_PORT=" + port_ + " NODE_PATH=" + shellQuote(modules) +
                   " node " QSPLIT_SOURCE_DIR "/tests/support/bullmq_client.js " + args,
               input);
  }

  std::string port_;
};

// Sets `why` and returns null when the server is not announced.
inline Result<std::unique_ptr<redis::BullmqBroker>> connectTestBullmq(
    std::string* why, std::chrono::milliseconds lock = std::chrono::seconds(30)) {
  std::string url = brokerAddress("QSPLIT_REDIS_URL", why);
  if (!why->empty()) return std::unique_ptr<redis::BullmqBroker>();
  QSPLIT_ASSIGN_OR_RETURN(auto address, redis::RedisAddress::parse(url));
  return redis::BullmqBroker::create({address, lock});
}

}  // namespace qsplit::testing
