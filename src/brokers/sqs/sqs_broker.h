// The SQS broker adapter: an SQS endpoint (AWS or a compatible server), its credentials,
// and the sources, sinks and admin the engine uses.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "aws/credentials.h"
#include "brokers/sqs/s3_events.h"
#include "brokers/sqs/sqs_admin.h"
#include "brokers/sqs/sqs_client.h"
#include "core/broker.h"
#include "http/http_client.h"

namespace qsplit::sqs {

struct SqsOptions {
  std::string endpoint;  // empty: https://sqs.REGION.amazonaws.com
  std::string region;    // empty: AWS_REGION, else AWS_DEFAULT_REGION, else us-east-1
  // Where the objects of S3 events are read (`s3Event: true`). Empty: AWS_ENDPOINT_URL_S3,
  // else AWS_ENDPOINT_URL, else https://s3.REGION.amazonaws.com.
  std::string s3_endpoint;
  std::optional<aws::Credentials> credentials;  // none: the standard chain
  std::size_t pollers = 4;                      // ReceiveMessage calls in flight per source
  std::chrono::seconds in_flight_visibility{30};  // extended while a message is in flight
  int max_attempts = 6;
};

class SqsBroker final : public core::Broker {
 public:
  static Result<std::unique_ptr<SqsBroker>> create(SqsOptions options);

  core::Admin& admin() override { return admin_; }
  SqsAdmin& sqsAdmin() { return admin_; }
  Result<std::unique_ptr<core::Source>> openSource(const std::string& name,
                                                   const std::string& group) override;
  Result<std::unique_ptr<core::Sink>> openSink(const std::string& name) override;
  core::NameRules nameRules() const override { return core::sqsNameRules(); }
  std::size_t batchSize() const override { return 10 * options_.pollers; }

  const SqsOptions& options() const { return options_; }
  SqsClient& client() { return client_; }
  S3Metadata& s3() { return s3_; }

 private:
  SqsBroker(SqsOptions options, std::unique_ptr<http::HttpClient> http,
            std::unique_ptr<aws::CredentialsProvider> credentials, SqsSettings settings);

  SqsOptions options_;
  std::unique_ptr<http::HttpClient> http_;
  std::unique_ptr<aws::CredentialsProvider> credentials_;
  SqsClient client_;
  SqsAdmin admin_;
  S3Metadata s3_;
};

}  // namespace qsplit::sqs
