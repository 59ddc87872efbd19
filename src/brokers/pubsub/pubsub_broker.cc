#include "brokers/pubsub/pubsub_broker.h"

#include "brokers/pubsub/pubsub_client.h"
#include "brokers/pubsub/pubsub_sink.h"
#include "brokers/pubsub/pubsub_source.h"

namespace qsplit::pubsub {

PubsubBroker::PubsubBroker(std::shared_ptr<PubsubClient> client, const TemporarySettings& settings)
    : client_(std::move(client)), admin_(std::make_unique<PubsubAdmin>(client_, settings)) {}

Result<std::unique_ptr<PubsubBroker>> PubsubBroker::create(const PubsubAddress& address,
                                                           const TemporarySettings& settings) {
  QSPLIT_ASSIGN_OR_RETURN(auto client, PubsubClient::connect(address));
  return std::unique_ptr<PubsubBroker>(new PubsubBroker(std::move(client), settings));
}

Result<std::unique_ptr<core::Source>> PubsubBroker::openSource(const std::string& name, const std::string&) {
  QSPLIT_TRY(admin_->describe(name));
  return std::unique_ptr<core::Source>(std::make_unique<PubsubSubscriber>(client_, name));
}

Result<std::unique_ptr<core::Sink>> PubsubBroker::openSink(const std::string& name) {
  QSPLIT_ASSIGN_OR_RETURN(auto topic, admin_->soleTopicOf(name));
  return std::unique_ptr<core::Sink>(std::make_unique<PubsubPublisher>(client_, std::move(topic)));
}

}  // namespace qsplit::pubsub
