// The SQS-compatible servers the integration tests share (scripts/sqs.sh), qsplit's adapter
// connected to one, and boto3 (tests/support/sqs_client.py) as the independent client.
#pragma once

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "brokers/sqs/sqs_broker.h"
#include "support/brokers.h"
#include "support/command.h"

namespace qsplit::testing {

struct SqsServer {
  const char* name;
  const char* endpoint_var;
  const char* key_var;     // nullptr: the server takes any credentials
  const char* secret_var;
  std::size_t pollers;  // ReceiveMessage calls in flight per source
};
// ElasticMQ accepts any credentials; moto checks every signature and IAM permission. moto's
// receive is not atomic under concurrent long polls (measured with boto3 alone: four threads
// polling one queue of 200 got one message twice), so moto is read by one poller: its tests
// then count exactly, as they do on ElasticMQ with four.
inline constexpr SqsServer kElasticMq{"ElasticMQ", "QSPLIT_ELASTICMQ_ENDPOINT", nullptr, nullptr, 4};
inline constexpr SqsServer kMoto{"moto", "QSPLIT_MOTO_ENDPOINT", "QSPLIT_MOTO_ACCESS_KEY_ID",
                                 "QSPLIT_MOTO_SECRET_ACCESS_KEY", 1};

inline std::string envOr(const char* name, const char* otherwise) {
  const char* v = name ? std::getenv(name) : nullptr;
  return v && *v ? v : otherwise;
}

// boto3 against one server, with the credentials that server allows.
class SqsTestClient {
 public:
  SqsTestClient() = default;
  SqsTestClient(std::string endpoint, aws::Credentials credentials)
      : endpoint_(std::move(endpoint)), credentials_(std::move(credentials)) {}

  CommandResult py(const std::string& args, const std::string* input = nullptr) const {
    std::string command = "QSPLIT_SQS_TEST_ENDPOINT=" + shellQuote(endpoint_) +
                          " AWS_ACCESS_KEY_ID=" + shellQuote(credentials_.access_key_id) +
                          " AWS_SECRET_ACCESS_KEY=" + shellQuote(credentials_.secret_access_key) +
                          " python3 " QSPLIT_SOURCE_DIR "/tests/support/sqs_client.py " + args;
    return run(command, input);
  }

  void create(const std::string& name, const nlohmann::json& attributes = nlohmann::json::object(),
              const nlohmann::json& tags = nlohmann::json::object()) const {
    auto r = py("create " + shellQuote(name) + " " + shellQuote(attributes.dump()) + " " +
                shellQuote(tags.dump()));
    ASSERT_EQ(r.status, 0) << "creating " << name;
  }

  void send(const std::string& name, const std::vector<core::Message>& messages) const {
    std::string lines;
    for (const auto& m : messages) {
      nlohmann::json attributes = nlohmann::json::array();
      for (const auto& a : m.attributes)
        attributes.push_back({{"name", a.name}, {"value", a.value}, {"type", a.type}});
      lines += nlohmann::json{{"body", m.body}, {"attributes", attributes}, {"group", m.group_id}}
                   .dump() + "\n";
    }
    auto r = py("send " + shellQuote(name), &lines);
    ASSERT_EQ(r.status, 0) << "sending to " << name;
  }

  std::vector<core::Message> drain(const std::string& name) const {
    auto r = py("drain " + shellQuote(name));
    std::vector<core::Message> out;
    std::istringstream lines(r.out);
    std::string line;
    while (std::getline(lines, line)) {
      auto j = nlohmann::json::parse(line);
      core::Message m;
      m.body = j["body"];
      m.id = j["id"];
      m.group_id = j["group"];
      for (const auto& a : j["attributes"]) m.attributes.push_back({a["name"], a["value"], a["type"]});
      out.push_back(std::move(m));
    }
    return out;
  }

  std::vector<std::string> list() const { return py("list").lines(); }

  nlohmann::json describe(const std::string& name) const {
    auto r = py("describe " + shellQuote(name));
    return r.status == 0 ? nlohmann::json::parse(r.out) : nlohmann::json();
  }

  const std::string& endpoint() const { return endpoint_; }
  const aws::Credentials& credentials() const { return credentials_; }

 private:
  std::string endpoint_;
  aws::Credentials credentials_;
};

// Connects qsplit's adapter and the independent client to `server`. Sets `why` and returns
// null when the server is not announced.
inline Result<std::unique_ptr<sqs::SqsBroker>> connectTestSqs(const SqsServer& server,
                                                              SqsTestClient* client,
                                                              std::string* why) {
  std::string endpoint = brokerAddress(server.endpoint_var, why);
  if (!why->empty()) return std::unique_ptr<sqs::SqsBroker>();
  aws::Credentials credentials{envOr(server.key_var, "qsplit-test"),
                               envOr(server.secret_var, "qsplit-test"), ""};
  *client = SqsTestClient(endpoint, credentials);
  sqs::SqsOptions options;
  options.endpoint = endpoint;
  options.region = "us-east-1";
  options.credentials = credentials;
  options.pollers = server.pollers;
  return sqs::SqsBroker::create(options);
}

}  // namespace qsplit::testing
