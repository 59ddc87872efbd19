#include "brokers/kafka/kafka_client.h"

#include <chrono>
#include <future>
#include <memory>
#include <thread>

#include "aws/credentials.h"
#include "aws/sigv4.h"
#include "common/log.h"

namespace qsplit::kafka {

namespace {

constexpr char kMskMarker[] = "qsplit-msk-iam region=";

// librdkafka asks for a token at start and before the last one expires: sign a fresh MSK
// IAM token with credentials from the standard chain. Nothing may throw through here.
void mskTokenRefresh(rd_kafka_t* client, const char* config, void*) noexcept {
  std::string region = std::string(config).substr(sizeof kMskMarker - 1);
  Result<aws::Credentials> credentials = fail(ErrorCode::kInternal, "no credentials");
  try {
    credentials = aws::defaultCredentials().credentials();
  } catch (const std::exception& e) {
    credentials = fail(ErrorCode::kInternal, e.what());
  }
  if (!credentials) {
    rd_kafka_oauthbearer_set_token_failure(
        client, ("MSK IAM: " + credentials.error().message()).c_str());
    return;
  }
  auto now = std::chrono::system_clock::now();
  std::string token = aws::mskIamToken(region, *credentials, now);
  int64_t expires_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                           (now + std::chrono::seconds(900)).time_since_epoch())
                           .count();
  char error[512];
  if (rd_kafka_oauthbearer_set_token(client, token.c_str(), expires_ms, "qsplit", nullptr, 0, error,
                                     sizeof error) != RD_KAFKA_RESP_ERR_NO_ERROR)
    rd_kafka_oauthbearer_set_token_failure(client, error);
}

}  // namespace

Properties withMskIam(Properties properties, const std::string& region) {
  properties["sasl.mechanism"] = "OAUTHBEARER";
  properties["security.protocol"] = "SASL_SSL";
  properties["sasl.oauthbearer.config"] = kMskMarker + region;
  return properties;
}

Result<ConfHandle> makeConf(const Properties& properties) {
  ConfHandle conf(rd_kafka_conf_new());
  auto oauth = properties.find("sasl.oauthbearer.config");
  if (oauth != properties.end() && oauth->second.rfind(kMskMarker, 0) == 0)
    rd_kafka_conf_set_oauthbearer_token_refresh_cb(conf.get(), mskTokenRefresh);
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

Result<ConsumerHandle> makeConsumer(ConfHandle conf) {
  QSPLIT_ASSIGN_OR_RETURN(ClientHandle client, makeClient(RD_KAFKA_CONSUMER, std::move(conf)));
  return ConsumerHandle(client.release());
}

void destroyConsumer(rd_kafka_t* consumer) {
  std::string name = rd_kafka_name(consumer);
  auto done = std::make_shared<std::promise<void>>();
  auto destroyed = done->get_future();
  std::thread([consumer, done] {
    rd_kafka_destroy(consumer);
    done->set_value();
  }).detach();
  if (destroyed.wait_for(std::chrono::seconds(10)) == std::future_status::ready) return;
  logger("kafka")->error("destroying Kafka consumer {} did not end within 10 s (librdkafka #4674, "
                         "after a broker restart); abandoning it", name);
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
    case RD_KAFKA_RESP_ERR_INCONSISTENT_GROUP_PROTOCOL:  // a member of another kind holds it
      return Error(ErrorCode::kFailedPrecondition, message);
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
