// The Kafka broker the integration tests share (scripts/kafka.sh, QSPLIT_KAFKA_BOOTSTRAP).
#pragma once

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

}  // namespace qsplit::testing
