// The conformance suite against a real Redis (scripts/redis.sh), on BullMQ queues, with the
// bullmq package's Queue adding every job and its Worker taking what each consumer got. Filters
// match the job data's fields, as qsplitd sets them up for BullMQ.
#include "conformance/split_conformance.h"
#include "jq/json_payload.h"
#include "support/bullmq_test_client.h"
#include "support/redis_test_broker.h"

namespace qsplit::conformance {
namespace {

class BullmqHarness {
 public:
  static constexpr bool kTopic = false;
  static constexpr bool kExactlyOnce = false;

  BullmqHarness() : suffix_(SecureRandom::instance().digits(8)), client_(testing::testRedisPort()) {
    keepBroker(testing::connectTestBullmq(&why_), why_, broker_);
  }

  std::string unavailable() { return why_; }
  core::Broker& broker() { return *broker_; }
  std::string originalName() { return "memes-" + suffix_; }
  std::string group() { return ""; }
  std::function<void(std::vector<core::Message>&)> view() { return jq::useJsonPayloadFields; }

  void createOriginal(const std::string& name) { client_.open(name); }
  void produce(const std::string& name, std::vector<core::Message> messages) {
    std::vector<nlohmann::json> jobs;
    for (const auto& m : messages) jobs.push_back(testing::BullmqTestClient::job(m));
    client_.add(name, jobs);
  }
  std::vector<core::Message> drain(const std::string& name) {
    std::vector<core::Message> out;
    for (const auto& j : client_.drain(name)) out.push_back(testing::BullmqTestClient::message(j));
    return out;
  }
  std::vector<std::string> queueNames() { return client_.queues(); }

 private:
  std::string suffix_;
  std::string why_;
  testing::BullmqTestClient client_;
  std::unique_ptr<redis::BullmqBroker> broker_;
};

using BullmqQueues = ::testing::Types<BullmqHarness>;
INSTANTIATE_TYPED_TEST_SUITE_P(Bullmq, SplitConformance, BullmqQueues);

}  // namespace
}  // namespace qsplit::conformance
