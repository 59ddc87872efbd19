// The conformance suite against Google's Pub/Sub test server (scripts/pubsub.sh), with
// Google's Python library publishing every message and pulling what each consumer got. The
// original is a subscription of a topic of the same ID, its only subscription; filters match
// message attributes, as on SQS.
#include "brokers/pubsub/pubsub_broker.h"
#include "conformance/split_conformance.h"
#include "support/pubsub_test_client.h"

namespace qsplit::conformance {
namespace {

constexpr const char* kProject = "qsplit-conformance";

class PubsubHarness {
 public:
  static constexpr bool kTopic = false;
  static constexpr bool kExactlyOnce = false;

  PubsubHarness() : suffix_(SecureRandom::instance().digits(8)) {
    std::string host = testing::brokerAddress("QSPLIT_PUBSUB_EMULATOR_HOST", &why_);
    client_.emplace(host, kProject);
    if (why_.empty()) keepBroker(pubsub::PubsubBroker::create({kProject, host}), why_, broker_);
  }

  std::string unavailable() { return why_; }
  core::Broker& broker() { return *broker_; }
  std::string originalName() { return "memes-" + suffix_; }
  std::string group() { return ""; }

  void createOriginal(const std::string& name) { client_->setup(name, name, 10); }
  // To the topic of subscription `name` (the same ID, for the original and the temporaries).
  void produce(const std::string& name, std::vector<core::Message> messages) {
    std::vector<nlohmann::json> out;
    for (const auto& m : messages) {
      nlohmann::json attributes = nlohmann::json::object();
      for (const auto& a : m.attributes) attributes[a.name] = a.value;
      out.push_back({{"data", m.body}, {"attributes", attributes}, {"ordering_key", m.key.value_or("")}});
    }
    client_->publish(name, out);
  }
  std::vector<core::Message> drain(const std::string& name) {
    std::vector<core::Message> out;
    for (const auto& j : client_->drain(name)) {
      core::Message m;
      m.body = j["data"];
      for (const auto& [name, value] : j["attributes"].items()) m.attributes.push_back({name, value, ""});
      if (!j["ordering_key"].get<std::string>().empty()) m.key = j["ordering_key"];
      m.id = j["message_id"];
      out.push_back(std::move(m));
    }
    return out;
  }
  // Topics and subscriptions, by ID.
  std::vector<std::string> queueNames() {
    std::vector<std::string> names;
    for (const auto& line : client_->list()) names.push_back(line.substr(line.find(' ') + 1));
    return names;
  }

 private:
  std::string suffix_;
  std::string why_;
  std::optional<testing::PubsubTestClient> client_;
  std::unique_ptr<pubsub::PubsubBroker> broker_;
};

using PubsubSubscriptions = ::testing::Types<PubsubHarness>;
INSTANTIATE_TYPED_TEST_SUITE_P(Pubsub, SplitConformance, PubsubSubscriptions);

}  // namespace
}  // namespace qsplit::conformance
