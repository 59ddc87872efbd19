// Creating librdkafka clients from resolved properties, and the error mapping.
#pragma once

#include <chrono>
#include <map>
#include <string>

#include "brokers/kafka/kafka_handles.h"
#include "common/result.h"

namespace qsplit::kafka {

using Properties = std::map<std::string, std::string>;

// `properties` set up for Amazon MSK with IAM access control in `region`: SASL OAUTHBEARER
// over TLS, with tokens signed (AWS SigV4) from the environment's credentials whenever
// librdkafka needs a fresh one.
Properties withMskIam(Properties properties, const std::string& region);

// A conf with `properties` applied; an unknown or invalid property is an error naming it.
Result<ConfHandle> makeConf(const Properties& properties);

// Creates a client from `conf`, which is handed to librdkafka only once rd_kafka_new
// succeeded (on failure it is still ours and freed here).
Result<ClientHandle> makeClient(rd_kafka_type_t type, ConfHandle conf);
Result<ConsumerHandle> makeConsumer(ConfHandle conf);

// Maps a librdkafka error to an ErrorCode: retriable transport problems -> kUnavailable,
// missing topics -> kNotFound, and so on. `what` says what was being done.
Error kafkaError(rd_kafka_resp_err_t err, const std::string& what);

}  // namespace qsplit::kafka
