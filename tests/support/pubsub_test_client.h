// Google Cloud Pub/Sub as applications use it, for the integration tests: Google's Python
// library (tests/support/pubsub_client.py) publishes and pulls on the test server that
// scripts/pubsub.sh starts (QSPLIT_PUBSUB_EMULATOR_HOST).
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "support/brokers.h"
#include "support/command.h"

namespace qsplit::testing {

class PubsubTestClient {
 public:
  PubsubTestClient(std::string host, std::string project) : host_(std::move(host)), project_(std::move(project)) {}

  // A topic and a subscription on it, as a team would have made them.
  void setup(const std::string& topic, const std::string& subscription, int ack_deadline = 10,
             bool ordering = false) const {
    auto r = python("setup " + shellQuote(topic) + " " + shellQuote(subscription) + " " +
                    std::to_string(ack_deadline) + (ordering ? " ordering" : ""));
    EXPECT_EQ(r.status, 0) << r.out;
  }
  // Publishes {"data", "attributes", "ordering_key"} messages; returns their ids.
  std::vector<std::string> publish(const std::string& topic, const std::vector<nlohmann::json>& messages) const {
    std::string input;
    for (const auto& m : messages) input += m.dump() + "\n";
    auto r = python("publish " + shellQuote(topic), &input);
    EXPECT_EQ(r.status, 0) << r.out;
    return r.lines();
  }
  // Every message pulled (and acknowledged) before none comes for `idle_ms`.
  std::vector<nlohmann::json> drain(const std::string& subscription, int idle_ms = 1500) const {
    auto r = python("drain " + shellQuote(subscription) + " " + std::to_string(idle_ms));
    EXPECT_EQ(r.status, 0) << r.out;
    std::vector<nlohmann::json> out;
    for (const auto& line : r.lines()) out.push_back(nlohmann::json::parse(line));
    return out;
  }
  nlohmann::json get(const std::string& subscription) const {
    auto r = python("get " + shellQuote(subscription));
    EXPECT_EQ(r.status, 0) << r.out;
    return r.status == 0 ? nlohmann::json::parse(r.out) : nlohmann::json();
  }
  // "topic ID" and "subscription ID" lines, for everything in the project.
  std::vector<std::string> list() const { return python("list").lines(); }

 private:
  CommandResult python(const std::string& args, const std::string* input = nullptr) const {
    return run("PUBSUB_EMULATOR_HOST=" + host_ + " python3 " QSPLIT_SOURCE_DIR "/tests/support/pubsub_client.py " +
                   shellQuote(project_) + " " + args,
               input);
  }
  std::string host_, project_;
};

}  // namespace qsplit::testing
