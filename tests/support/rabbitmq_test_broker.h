// The RabbitMQ server the integration tests share (scripts/rabbitmq.sh), qsplit's adapter
// connected to it, and pika (tests/support/rabbitmq_client.py) as the independent client.
#pragma once

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "brokers/rabbitmq/rabbitmq_broker.h"
#include "support/brokers.h"
#include "support/command.h"

namespace qsplit::testing {

class RabbitTestClient {
 public:
  CommandResult py(const std::string& args, const std::string* input = nullptr) const {
    return run("python3 " QSPLIT_SOURCE_DIR "/tests/support/rabbitmq_client.py " + args, input);
  }

  void declare(const std::string& name, const nlohmann::json& arguments = nlohmann::json::object()) const {
    auto r = py("declare " + shellQuote(name) + " " + shellQuote(arguments.dump()));
    ASSERT_EQ(r.status, 0) << "declaring " << name;
  }

  // Headers from the attributes (integers for type "l", else strings); properties from the
  // attributes typed "property".
  void send(const std::string& name, const std::vector<core::Message>& messages) const {
    std::string lines;
    for (const auto& m : messages) {
      nlohmann::json headers = nlohmann::json::object(), properties = nlohmann::json::object();
      for (const auto& a : m.attributes) {
        if (a.type == "property")
          properties[a.name] = a.name == "delivery_mode" || a.name == "priority" || a.name == "timestamp"
                                   ? nlohmann::json(std::stoll(a.value))
                                   : nlohmann::json(a.value);
        else if (a.type == "l")
          headers[a.name] = std::stoll(a.value);
        else
          headers[a.name] = a.value;
      }
      lines += nlohmann::json{{"body", m.body}, {"headers", headers}, {"properties", properties}}
                   .dump() + "\n";
    }
    auto r = py("send " + shellQuote(name), &lines);
    ASSERT_EQ(r.status, 0) << "sending to " << name;
  }

  // Every message waiting, consumed and acked; headers and properties become attributes
  // (properties typed "property", headers typed by their JSON type).
  std::vector<core::Message> drain(const std::string& name) const {
    auto r = py("drain " + shellQuote(name));
    std::vector<core::Message> out;
    std::istringstream lines(r.out);
    for (std::string line; std::getline(lines, line);) {
      auto j = nlohmann::json::parse(line);
      core::Message m;
      m.body = j["body"];
      for (const auto& [k, v] : j["headers"].items())
        m.attributes.push_back({k, v.is_string() ? v.get<std::string>() : v.dump(),
                                v.is_string() ? "S" : v.is_boolean() ? "t" : "l"});
      for (const auto& [k, v] : j["properties"].items())
        m.attributes.push_back({k, v.is_string() ? v.get<std::string>() : v.dump(), "property"});
      out.push_back(std::move(m));
    }
    return out;
  }

  std::vector<std::string> list() const { return py("list").lines(); }

  nlohmann::json describe(const std::string& name) const {
    auto r = py("describe " + shellQuote(name));
    return r.status == 0 ? nlohmann::json::parse(r.out) : nlohmann::json();
  }

  void remove(const std::string& name) const { (void)py("delete " + shellQuote(name)); }
};

inline rabbitmq::RabbitOptions testRabbitOptions(std::string* why) {
  std::string url = brokerAddress("QSPLIT_RABBITMQ_URL", why);
  std::string management = brokerAddress("QSPLIT_RABBITMQ_MANAGEMENT", why);
  rabbitmq::RabbitOptions options;
  if (!why->empty()) return options;
  auto settings = rabbitmq::RabbitSettings::fromUrl(url);
  if (!settings) {
    *why = settings.error().message();
    return options;
  }
  options.settings = *settings;
  options.settings.management_url = management;
  return options;
}

// Sets `why` and returns null when the server is not announced.
inline Result<std::unique_ptr<rabbitmq::RabbitBroker>> connectTestRabbit(std::string* why) {
  auto options = testRabbitOptions(why);
  if (!why->empty()) return std::unique_ptr<rabbitmq::RabbitBroker>();
  return rabbitmq::RabbitBroker::create(options);
}

}  // namespace qsplit::testing
