#include "brokers/kafka/kafka_client.h"

namespace qsplit::kafka {

Result<ConfHandle> makeConf(const Properties& properties) {
  ConfHandle conf(rd_kafka_conf_new());
  char error[512];
  for (const auto& [name, value] : properties) {
    if (rd_kafka_conf_set(conf.get(), name.c_str(), value.c_str(), error, sizeof error) !=
        RD_KAFKA_CONF_OK)
      return fail(ErrorCode::kInvalidArgument,
                  "invalid Kafka client property '" + name + "': " + error);
  }
  return conf;
}

Result<ClientHandle> makeClient(rd_kafka_type_t type, ConfHandle conf) {
  char error[512];
  rd_kafka_t* client = rd_kafka_new(type, conf.get(), error, sizeof error);
  if (!client)
    return fail(ErrorCode::kInvalidArgument, std::string("cannot create a Kafka client: ") + error);
  (void)conf.release();  // rd_kafka_new took ownership
  return ClientHandle(client);
}

Error kafkaError(rd_kafka_resp_err_t err, const std::string& what) {
  std::string message = what + ": " + rd_kafka_err2str(err);
  switch (err) {
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
      return Error(ErrorCode::kNotFound, message);
    case RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS:
      return Error(ErrorCode::kAlreadyExists, message);
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED:
      return Error(ErrorCode::kPermissionDenied, message);
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
      return Error(ErrorCode::kTimeout, message);
    case RD_KAFKA_RESP_ERR_INVALID_CONFIG:
    case RD_KAFKA_RESP_ERR_INVALID_PARTITIONS:
    case RD_KAFKA_RESP_ERR_INVALID_REPLICATION_FACTOR:
    case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
    case RD_KAFKA_RESP_ERR_POLICY_VIOLATION:
      return Error(ErrorCode::kInvalidArgument, message);
    default:
      return Error(ErrorCode::kUnavailable, message);
  }
}

}  // namespace qsplit::kafka
