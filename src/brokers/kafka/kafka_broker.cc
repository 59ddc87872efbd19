#include "brokers/kafka/kafka_broker.h"

#include "brokers/kafka/kafka_sink.h"
#include "brokers/kafka/kafka_source.h"
#include "brokers/kafka/kafka_transactions.h"

namespace qsplit::kafka {

Result<std::unique_ptr<KafkaBroker>> KafkaBroker::create(KafkaOptions options) {
  if (!options.properties.count("bootstrap.servers"))
    return fail(ErrorCode::kInvalidArgument, "Kafka client config has no bootstrap.servers");
  if (options.producers == 0) options.producers = 1;
  std::unique_ptr<KafkaBroker> broker(new KafkaBroker(std::move(options)));
  broker->producers_.resize(broker->options_.producers);
  QSPLIT_ASSIGN_OR_RETURN(rd_kafka_t * first, broker->producerFor(""));
  Properties connection = broker->options_.properties;
  connection.erase("group.id");
  broker->admin_ = std::make_unique<KafkaAdmin>(first, connection, broker->options_.timeout);
  auto topics = broker->admin_->listTopics();
  if (!topics)
    return fail(topics.error().code(), "cannot reach Kafka at " +
                                           broker->options_.properties.at("bootstrap.servers") +
                                           ": " + topics.error().message());
  return broker;
}

KafkaBroker::~KafkaBroker() {
  for (auto& producer : producers_)
    if (producer) rd_kafka_flush(producer.get(), static_cast<int>(options_.timeout.count()));
}

Result<rd_kafka_t*> KafkaBroker::producerFor(const std::string& topic) {
  std::size_t index = topic.empty() ? 0 : std::hash<std::string>{}(topic) % producers_.size();
  std::lock_guard lock(producers_mutex_);
  ClientHandle& producer = producers_[index];
  if (!producer) {
    Properties p = options_.properties;
    if (!p.count("message.timeout.ms"))
      p["message.timeout.ms"] = std::to_string(options_.timeout.count());
    QSPLIT_ASSIGN_OR_RETURN(producer, makeProducer(std::move(p)));
  }
  return producer.get();
}

Result<std::unique_ptr<core::Source>> KafkaBroker::openSource(const std::string& name,
                                                              const std::string& group) {
  if (group.empty())
    return fail(ErrorCode::kInvalidArgument, "reading topic '" + name + "' needs a consumer group");
  QSPLIT_TRY(admin_->describe(name));  // a missing topic is an error now, not a silent wait
  Properties p = options_.properties;
  QSPLIT_ASSIGN_OR_RETURN(auto source, KafkaSource::create(p, name, group));
  return std::unique_ptr<core::Source>(std::move(source));
}

Result<std::unique_ptr<core::Sink>> KafkaBroker::openSink(const std::string& name) {
  QSPLIT_TRY(admin_->describe(name));
  QSPLIT_ASSIGN_OR_RETURN(rd_kafka_t * producer, producerFor(name));
  auto sink = std::make_unique<KafkaSink>(producer, name, options_.timeout);
  // describe() looked the topic up on the first producer; another one needs a look of its own.
  if (producer != producers_.front().get()) sink->lookUp();
  return std::unique_ptr<core::Sink>(std::move(sink));
}

}  // namespace qsplit::kafka

namespace qsplit::kafka {

Result<std::unique_ptr<core::TransactionalPipe>> KafkaBroker::openTransactionalPipe(
    const std::string& name, const std::string& group, const std::string& instance) {
  if (group.empty())
    return fail(ErrorCode::kInvalidArgument, "reading topic '" + name + "' needs a consumer group");
  QSPLIT_TRY(admin_->describe(name));
  QSPLIT_ASSIGN_OR_RETURN(auto pipe, KafkaTransactionalPipe::create(options_.properties, name, group,
                                                                    instance, options_.timeout));
  return std::unique_ptr<core::TransactionalPipe>(std::move(pipe));
}

}  // namespace qsplit::kafka
