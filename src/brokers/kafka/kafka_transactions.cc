#include "brokers/kafka/kafka_transactions.h"

#include "core/naming.h"

namespace qsplit::kafka {
namespace {

int ms(std::chrono::milliseconds d) { return static_cast<int>(d.count()); }

}  // namespace

std::string KafkaTransactionalPipe::transactionalId(const std::string& topic,
                                                    const std::string& group,
                                                    const std::string& instance) {
  std::string id = "qsplit-" + group + "-" + topic;
  return core::shortenWithHash(instance.empty() ? id : id + "-" + instance, 200);
}

Result<std::unique_ptr<KafkaTransactionalPipe>> KafkaTransactionalPipe::create(
    const Properties& properties, const std::string& topic, const std::string& group,
    const std::string& instance, std::chrono::milliseconds timeout) {
  std::unique_ptr<KafkaTransactionalPipe> pipe(new KafkaTransactionalPipe());
  pipe->topic_ = topic;
  pipe->timeout_ = timeout;
  QSPLIT_ASSIGN_OR_RETURN(pipe->source_, KafkaSource::create(properties, topic, group));
  Properties p = properties;
  p["transactional.id"] = transactionalId(topic, group, instance);
  QSPLIT_ASSIGN_OR_RETURN(pipe->producer_, makeProducer(std::move(p)));
  QSPLIT_TRY(pipe->check(rd_kafka_init_transactions(pipe->producer_.get(), ms(timeout)),
                         "starting transactions for '" + topic + "'"));
  return pipe;
}

KafkaTransactionalPipe::~KafkaTransactionalPipe() {
  if (open_ && producer_) {
    if (auto* error = rd_kafka_abort_transaction(producer_.get(), ms(timeout_)))
      rd_kafka_error_destroy(error);
  }
  sinks_.clear();  // before the producer they poll
}

Result<void> KafkaTransactionalPipe::check(rd_kafka_error_t* error, const std::string& what) {
  if (!error) return ok();
  std::string message = what + ": " + rd_kafka_error_string(error);
  bool fatal = rd_kafka_error_is_fatal(error);
  rd_kafka_error_destroy(error);
  return fail(fatal ? ErrorCode::kInternal : ErrorCode::kUnavailable, message);
}

Result<core::Sink*> KafkaTransactionalPipe::sink(const std::string& destination) {
  auto& sink = sinks_[destination];
  if (!sink) {
    sink = std::make_unique<KafkaSink>(producer_.get(), destination, timeout_);
    sink->lookUp();
  }
  return sink.get();
}

Result<void> KafkaTransactionalPipe::begin() {
  QSPLIT_TRY(check(rd_kafka_begin_transaction(producer_.get()), "beginning a transaction"));
  open_ = true;
  return ok();
}

Result<void> KafkaTransactionalPipe::commit(std::span<const core::Message> consumed) {
  std::map<int32_t, int64_t> next;
  for (const auto& m : consumed) next[m.partition] = std::max(next[m.partition], m.offset + 1);
  PartitionsHandle offsets(rd_kafka_topic_partition_list_new(static_cast<int>(next.size())));
  for (const auto& [partition, offset] : next)
    rd_kafka_topic_partition_list_add(offsets.get(), topic_.c_str(), partition)->offset = offset;
  rd_kafka_consumer_group_metadata_t* group = source_->groupMetadata();
  auto sent = check(rd_kafka_send_offsets_to_transaction(producer_.get(), offsets.get(), group,
                                                         ms(timeout_)),
                    "adding the source offsets to the transaction");
  rd_kafka_consumer_group_metadata_destroy(group);
  if (sent) sent = check(rd_kafka_commit_transaction(producer_.get(), ms(timeout_)),
                         "committing the transaction");
  if (!sent) {
    (void)abort(consumed);
    return sent;
  }
  open_ = false;
  source_->settled(consumed);
  return ok();
}

Result<void> KafkaTransactionalPipe::abort(std::span<const core::Message> consumed) {
  auto aborted = check(rd_kafka_abort_transaction(producer_.get(), ms(timeout_)),
                       "aborting the transaction");
  open_ = false;
  QSPLIT_TRY(source_->release(consumed));
  return aborted;
}

}  // namespace qsplit::kafka
