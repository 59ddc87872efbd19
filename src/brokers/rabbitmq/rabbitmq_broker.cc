#include "brokers/rabbitmq/rabbitmq_broker.h"

#include "brokers/rabbitmq/rabbitmq_sink.h"
#include "brokers/rabbitmq/rabbitmq_source.h"

namespace qsplit::rabbitmq {

Result<std::unique_ptr<RabbitBroker>> RabbitBroker::create(RabbitOptions options) {
  QSPLIT_TRY(RabbitConnection::open(options.settings));  // fail early on a bad address or login
  std::unique_ptr<http::HttpClient> management;
  if (!options.settings.management_url.empty()) {
    QSPLIT_ASSIGN_OR_RETURN(management, http::HttpClient::create());
  }
  auto admin = std::make_unique<RabbitAdmin>(options.settings, std::move(management));
  return std::unique_ptr<RabbitBroker>(new RabbitBroker(std::move(options), std::move(admin)));
}

Result<std::unique_ptr<core::Source>> RabbitBroker::openSource(const std::string& name,
                                                               const std::string& group) {
  (void)group;
  QSPLIT_TRY(admin_->describe(name));  // a clear "does not exist" rather than a closed channel
  QSPLIT_ASSIGN_OR_RETURN(auto source, RabbitSource::open(options_.settings, name, options_.prefetch));
  return std::unique_ptr<core::Source>(std::move(source));
}

Result<std::unique_ptr<core::Sink>> RabbitBroker::openSink(const std::string& name) {
  QSPLIT_ASSIGN_OR_RETURN(auto sink, RabbitSink::open(options_.settings, name));
  return std::unique_ptr<core::Sink>(std::move(sink));
}

}  // namespace qsplit::rabbitmq
