// The conformance suite against a real RabbitMQ (scripts/rabbitmq.sh), on classic and quorum
// queues, with pika producing every message and reading what each consumer got.
#include "conformance/split_conformance.h"
#include "support/rabbitmq_test_broker.h"

namespace qsplit::conformance {
namespace {

template <bool Quorum>
class RabbitHarness {
 public:
  static constexpr bool kTopic = false;
  static constexpr bool kExactlyOnce = false;

  RabbitHarness() : suffix_(SecureRandom::instance().digits(8)) {
    keepBroker(testing::connectTestRabbit(&why_), why_, broker_);
  }

  std::string unavailable() { return why_; }
  core::Broker& broker() { return *broker_; }
  std::string originalName() { return std::string(Quorum ? "quorum" : "classic") + "-memes-" + suffix_; }
  std::string group() { return ""; }

  void createOriginal(const std::string& name) {
    client_.declare(name, Quorum ? nlohmann::json{{"x-queue-type", "quorum"}} : nlohmann::json::object());
  }
  void produce(const std::string& name, std::vector<core::Message> messages) {
    client_.send(name, messages);
  }
  std::vector<core::Message> drain(const std::string& name) { return client_.drain(name); }
  std::vector<std::string> queueNames() { return client_.list(); }

 private:
  std::string suffix_;
  std::string why_;
  testing::RabbitTestClient client_;
  std::unique_ptr<rabbitmq::RabbitBroker> broker_;
};

using RabbitQueues = ::testing::Types<RabbitHarness<false>, RabbitHarness<true>>;
INSTANTIATE_TYPED_TEST_SUITE_P(RabbitMq, SplitConformance, RabbitQueues);

}  // namespace
}  // namespace qsplit::conformance
