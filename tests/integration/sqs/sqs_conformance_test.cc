// The conformance suite against real SQS-compatible servers (scripts/sqs.sh): ElasticMQ and
// moto (with every signature checked), standard and FIFO queues, with boto3 producing every
// message and reading what each consumer got.
#include "conformance/split_conformance.h"
#include "support/sqs_test_broker.h"

namespace qsplit::conformance {
namespace {

template <const testing::SqsServer& Server, bool Fifo>
class SqsHarness {
 public:
  static constexpr bool kTopic = false;
  static constexpr bool kExactlyOnce = false;

  SqsHarness() : suffix_(SecureRandom::instance().digits(8)) {
    keepBroker(testing::connectTestSqs(Server, &client_, &why_), why_, broker_);
  }

  std::string unavailable() { return why_; }
  core::Broker& broker() { return *broker_; }
  std::string originalName() { return "meme-queue-" + suffix_ + (Fifo ? ".fifo" : ""); }
  std::string group() { return ""; }

  void createOriginal(const std::string& name) {
    nlohmann::json attributes = {{"VisibilityTimeout", "30"}};
    if (Fifo) attributes["FifoQueue"] = "true";
    client_.create(name, attributes, {{"team", "memes"}});
  }

  // FIFO: the partition index of the suite's messages becomes their message group.
  void produce(const std::string& name, std::vector<core::Message> messages) {
    for (auto& m : messages)
      if (m.partition >= 0) m.group_id = "g" + std::to_string(m.partition);
    client_.send(name, messages);
  }

  std::vector<core::Message> drain(const std::string& name) { return client_.drain(name); }
  std::vector<std::string> queueNames() { return client_.list(); }

 private:
  std::string suffix_;
  std::string why_;
  testing::SqsTestClient client_;
  std::unique_ptr<sqs::SqsBroker> broker_;
};

using SqsServers =
    ::testing::Types<SqsHarness<testing::kElasticMq, false>, SqsHarness<testing::kElasticMq, true>,
                     SqsHarness<testing::kMoto, false>, SqsHarness<testing::kMoto, true>>;
INSTANTIATE_TYPED_TEST_SUITE_P(Sqs, SplitConformance, SqsServers);

}  // namespace
}  // namespace qsplit::conformance
