// The conformance suite on the memory broker, as a queue (SQS-like) and as a topic
// (Kafka-like).
#include "brokers/memory/memory_broker.h"
#include "conformance/split_conformance.h"

namespace qsplit::conformance {
namespace {

template <bool Topic>
class MemoryHarness {
 public:
  static constexpr bool kTopic = Topic;
  static constexpr bool kExactlyOnce = false;

  std::string unavailable() { return ""; }
  std::string originalName() { return "meme-queue"; }
  core::Broker& broker() { return broker_; }
  std::string group() { return "meme-app"; }
  void createOriginal(const std::string& name) {
    auto created = Topic ? broker_.createTopic(name, 2) : broker_.createQueue(name);
    ASSERT_TRUE(created.has_value()) << created.error().message();
  }
  void produce(const std::string& name, std::vector<core::Message> messages) {
    auto sink = broker_.openSink(name);
    ASSERT_TRUE(sink.has_value());
    ASSERT_TRUE((*sink)->send(messages).has_value());
  }
  std::vector<core::Message> drain(const std::string& name) {
    auto source = broker_.openSource(name, group());
    if (!source) return {};
    std::vector<core::Message> all;
    while (true) {
      auto batch = (*source)->receive(100, milliseconds(0));
      if (!batch || batch->empty()) return all;
      EXPECT_TRUE((*source)->ack(*batch).has_value());
      all.insert(all.end(), batch->begin(), batch->end());
    }
  }
  std::vector<std::string> queueNames() { return broker_.names(); }

 private:
  memory::MemoryBroker broker_;
};

using MemoryBrokers = ::testing::Types<MemoryHarness<false>, MemoryHarness<true>>;
INSTANTIATE_TYPED_TEST_SUITE_P(Memory, SplitConformance, MemoryBrokers);

}  // namespace
}  // namespace qsplit::conformance
