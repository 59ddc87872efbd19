// The conformance suite against a real Redis (scripts/redis.sh), on streams read in the
// workload's consumer group, with redis-cli adding every entry and reading what each consumer
// got.
#include "conformance/split_conformance.h"
#include "support/redis_test_broker.h"

namespace qsplit::conformance {
namespace {

class RedisStreamHarness {
 public:
  static constexpr bool kTopic = false;
  static constexpr bool kExactlyOnce = false;

  RedisStreamHarness() : suffix_(SecureRandom::instance().digits(8)), client_(testing::testRedisPort()) {
    keepBroker(testing::connectTestRedis(&why_), why_, broker_);
  }

  std::string unavailable() { return why_; }
  core::Broker& broker() { return *broker_; }
  std::string originalName() { return "memes:" + suffix_; }
  std::string group() { return "workload"; }

  void createOriginal(const std::string& name) { client_.createWithGroup(name, group()); }
  void produce(const std::string& name, std::vector<core::Message> messages) { client_.send(name, messages); }
  std::vector<core::Message> drain(const std::string& name) { return client_.drain(name, group()); }
  std::vector<std::string> queueNames() { return client_.streams(); }

 private:
  std::string suffix_;
  std::string why_;
  testing::RedisTestClient client_;
  std::unique_ptr<redis::RedisBroker> broker_;
};

using RedisStreams = ::testing::Types<RedisStreamHarness>;
INSTANTIATE_TYPED_TEST_SUITE_P(Redis, SplitConformance, RedisStreams);

}  // namespace
}  // namespace qsplit::conformance
