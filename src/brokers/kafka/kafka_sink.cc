#include "brokers/kafka/kafka_sink.h"

#include <thread>

namespace qsplit::kafka {

namespace {

void deliveryReport(rd_kafka_t*, const rd_kafka_message_t* record, void*) noexcept {
  if (auto* sink = static_cast<KafkaSink*>(record->_private)) sink->delivered(record->err);
}

}  // namespace

Result<ClientHandle> makeProducer(Properties properties) {
  properties.erase("group.id");
  properties["acks"] = "all";
  properties["enable.idempotence"] = "true";
  if (!properties.count("linger.ms")) properties["linger.ms"] = "5";
  QSPLIT_ASSIGN_OR_RETURN(ConfHandle conf, makeConf(properties));
  rd_kafka_conf_set_dr_msg_cb(conf.get(), deliveryReport);
  return makeClient(RD_KAFKA_PRODUCER, std::move(conf));
}

KafkaSink::~KafkaSink() {
  // Delivery reports point at this sink: none may arrive after it is gone.
  auto until = std::chrono::steady_clock::now() + timeout_;
  while (outstanding_.load() > 0 && std::chrono::steady_clock::now() < until)
    rd_kafka_poll(producer_, 10);
}

void KafkaSink::noteError(Error error) {
  std::lock_guard lock(mutex_);
  if (!error_) error_ = std::move(error);
}

void KafkaSink::delivered(rd_kafka_resp_err_t err) noexcept {
  if (err) noteError(kafkaError(err, "producing to topic '" + topic_ + "'"));
  outstanding_.fetch_sub(1);
}

void KafkaSink::submit(std::span<const core::Message> messages) {
  for (const auto& m : messages) {
    rd_kafka_headers_t* headers = rd_kafka_headers_new(m.attributes.size());
    for (const auto& a : m.attributes)
      rd_kafka_header_add(headers, a.name.data(), static_cast<ssize_t>(a.name.size()),
                          a.value.data(), static_cast<ssize_t>(a.value.size()));
    // librdkafka's macros cast their arguments without parentheses: compute them first.
    const void* key = m.key ? m.key->data() : nullptr;
    size_t key_size = m.key ? m.key->size() : 0;
    int32_t partition = m.partition >= 0 ? m.partition : RD_KAFKA_PARTITION_UA;
    int64_t timestamp = m.timestamp_ms.value_or(0);
    outstanding_.fetch_add(1);
    while (true) {
      auto err = rd_kafka_producev(
          producer_, RD_KAFKA_V_TOPIC(topic_.c_str()),
          RD_KAFKA_V_PARTITION(partition),
          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
          RD_KAFKA_V_VALUE(const_cast<char*>(m.body.data()), m.body.size()),
          RD_KAFKA_V_KEY(key, key_size), RD_KAFKA_V_TIMESTAMP(timestamp), RD_KAFKA_V_HEADERS(headers),
          RD_KAFKA_V_OPAQUE(this), RD_KAFKA_V_END);
      if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {  // the local queue drains as reports arrive
        rd_kafka_poll(producer_, 10);
        continue;
      }
      if (err) {
        rd_kafka_headers_destroy(headers);  // not handed over on failure
        outstanding_.fetch_sub(1);
        noteError(kafkaError(err, "producing to topic '" + topic_ + "'"));
      }
      break;
    }
  }
  rd_kafka_poll(producer_, 0);
}

Result<void> KafkaSink::await() {
  auto until = std::chrono::steady_clock::now() + timeout_;
  while (outstanding_.load() > 0) {
    if (std::chrono::steady_clock::now() >= until)
      return fail(ErrorCode::kTimeout, "producing to topic '" + topic_ + "': no delivery report in time");
    // Whoever awaits has nothing else to send: flush rather than poll, so the producer sends
    // what it holds now instead of lingering (linger.ms) on each partition. With many
    // session topics a batch touches hundreds of partitions, and the waits added up.
    // flush() returns after 5 ms even while other sinks' records are still outstanding.
    rd_kafka_flush(producer_, 5);
  }
  std::lock_guard lock(mutex_);
  if (!error_) return ok();
  Error error = *error_;
  error_.reset();
  return fail(error);
}

}  // namespace qsplit::kafka
