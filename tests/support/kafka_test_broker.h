// The Kafka broker the integration tests share (scripts/kafka.sh, QSPLIT_KAFKA_BOOTSTRAP).
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "brokers/kafka/kafka_broker.h"
#include "support/brokers.h"

namespace qsplit::testing {

// Connects qsplit's adapter to the test broker. Sets `why` and returns null when the
// broker is not announced; a broker that is announced but does not answer is an error.
inline Result<std::unique_ptr<kafka::KafkaBroker>> connectTestKafka(std::string* bootstrap,
                                                                     std::string* why) {
  *bootstrap = brokerAddress("QSPLIT_KAFKA_BOOTSTRAP", why);
  if (!why->empty()) return std::unique_ptr<kafka::KafkaBroker>();
  return kafka::KafkaBroker::create({{{"bootstrap.servers", *bootstrap}}});
}

// A fixture base with the adapter connected (or the test skipped or failed, as
// QSPLIT_NEED_BROKER decides). Derived SetUps call it first and return if it did not pass.
template <class Base = ::testing::Test>
class KafkaTest : public Base {
 protected:
  void SetUp() override {
    std::string why;
    auto broker = connectTestKafka(&bootstrap_, &why);
    QSPLIT_NEED_BROKER(why);
    ASSERT_TRUE(broker.has_value()) << broker.error().message();
    broker_ = std::move(broker).value();
  }
  bool connected() const { return broker_ != nullptr; }

  std::string bootstrap_;
  std::unique_ptr<kafka::KafkaBroker> broker_;
};

}  // namespace qsplit::testing
