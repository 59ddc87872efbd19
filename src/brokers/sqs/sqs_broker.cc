#include "brokers/sqs/sqs_broker.h"

#include "brokers/sqs/sqs_sink.h"
#include "brokers/sqs/sqs_source.h"

namespace qsplit::sqs {

Result<std::unique_ptr<SqsBroker>> SqsBroker::create(SqsOptions options) {
  auto env = aws::processEnvironment();
  if (options.region.empty())
    options.region = env("AWS_REGION").value_or(env("AWS_DEFAULT_REGION").value_or("us-east-1"));
  if (options.endpoint.empty())
    options.endpoint = env("AWS_ENDPOINT_URL_SQS")
                           .value_or(env("AWS_ENDPOINT_URL")
                                         .value_or("https://sqs." + options.region + ".amazonaws.com"));
  if (options.s3_endpoint.empty())
    options.s3_endpoint = env("AWS_ENDPOINT_URL_S3")
                              .value_or(env("AWS_ENDPOINT_URL")
                                            .value_or("https://s3." + options.region + ".amazonaws.com"));
  for (auto [name, endpoint] : {std::pair{"SQS", &options.endpoint}, {"S3", &options.s3_endpoint}}) {
    while (endpoint->ends_with("/")) endpoint->pop_back();
    if (!endpoint->starts_with("http://") && !endpoint->starts_with("https://"))
      return fail(ErrorCode::kInvalidArgument, std::string(name) + " endpoint \"" + *endpoint +
                                                   "\" must start with http:// or https://");
  }
  QSPLIT_ASSIGN_OR_RETURN(auto http, http::HttpClient::create());
  std::unique_ptr<aws::CredentialsProvider> credentials;
  if (options.credentials)
    credentials = std::make_unique<aws::StaticCredentials>(*options.credentials);
  else
    credentials = std::make_unique<aws::CredentialsChain>(*http, env);
  SqsSettings settings;
  settings.endpoint = options.endpoint;
  settings.region = options.region;
  settings.max_attempts = options.max_attempts;
  return std::unique_ptr<SqsBroker>(
      new SqsBroker(std::move(options), std::move(http), std::move(credentials), settings));
}

SqsBroker::SqsBroker(SqsOptions options, std::unique_ptr<http::HttpClient> http,
                     std::unique_ptr<aws::CredentialsProvider> credentials, SqsSettings settings)
    : options_(std::move(options)), http_(std::move(http)), credentials_(std::move(credentials)),
      client_(*http_, *credentials_, std::move(settings)), admin_(client_),
      s3_(*http_, *credentials_, options_.s3_endpoint, options_.region) {}

Result<std::unique_ptr<core::Source>> SqsBroker::openSource(const std::string& name,
                                                            const std::string&) {
  QSPLIT_ASSIGN_OR_RETURN(auto url, admin_.url(name));
  return std::unique_ptr<core::Source>(std::make_unique<SqsSource>(
      client_, name, url, options_.pollers, options_.in_flight_visibility));
}

Result<std::unique_ptr<core::Sink>> SqsBroker::openSink(const std::string& name) {
  QSPLIT_ASSIGN_OR_RETURN(auto url, admin_.url(name));
  return std::unique_ptr<core::Sink>(std::make_unique<SqsSink>(client_, name, url));
}

}  // namespace qsplit::sqs
