// The Kafka broker the integration tests share (scripts/kafka.sh, QSPLIT_KAFKA_BOOTSTRAP), or
// the three-broker cluster of the node fault tests (QSPLIT_KAFKA_CLUSTER_BOOTSTRAP).
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "brokers/kafka/kafka_broker.h"
#include "support/brokers.h"

namespace qsplit::testing {

// Connects qsplit's adapter to the test broker. Sets `why` and returns null when the
// broker is not announced; a broker that is announced but does not answer is an error.
inline Result<std::unique_ptr<kafka::KafkaBroker>> connectTestKafka(
    std::string* bootstrap, std::string* why, const char* variable = "QSPLIT_KAFKA_BOOTSTRAP") {
  *bootstrap = brokerAddress(variable, why);
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
    auto broker = connectTestKafka(&bootstrap_, &why, bootstrap_variable_);
    QSPLIT_NEED_BROKER(why);
    ASSERT_TRUE(broker.has_value()) << broker.error().message();
    broker_ = std::move(broker).value();
  }
  bool connected() const { return broker_ != nullptr; }

  const char* bootstrap_variable_ = "QSPLIT_KAFKA_BOOTSTRAP";  // derived constructors may change it
  std::string bootstrap_;
  std::unique_ptr<kafka::KafkaBroker> broker_;
};

}  // namespace qsplit::testing
