#include "brokers/kafka/kafka_sink.h"

#include <algorithm>
#include <thread>

namespace qsplit::kafka {

namespace {

void deliveryReport(rd_kafka_t*, const rd_kafka_message_t* record, void*) noexcept {
  if (auto* round = static_cast<KafkaSink::Round*>(record->_private))
    round->sink->delivered(*round, record->err);
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

KafkaSink::KafkaSink(rd_kafka_t* producer, std::string topic, std::chrono::milliseconds timeout)
    : producer_(producer), topic_(std::move(topic)),
      handle_(rd_kafka_topic_new(producer, topic_.c_str(), nullptr)), timeout_(timeout) {}

void KafkaSink::lookUp() {
  if (!handle_) return;  // submit() names the error
  const rd_kafka_metadata_t* raw = nullptr;
  auto wait = std::min(timeout_, std::chrono::milliseconds(5000));
  if (rd_kafka_metadata(producer_, 0, handle_.get(), &raw, static_cast<int>(wait.count())) ==
      RD_KAFKA_RESP_ERR_NO_ERROR)
    rd_kafka_metadata_destroy(raw);
}

KafkaSink::~KafkaSink() {
  // Delivery reports point at this sink's rounds: none may arrive after they are gone.
  auto until = std::chrono::steady_clock::now() + timeout_;
  for (const auto& round : rounds_)
    while (round->outstanding.load() > 0 && std::chrono::steady_clock::now() < until)
      rd_kafka_poll(producer_, 10);
}

void KafkaSink::noteError(Error error) {
  std::lock_guard lock(mutex_);
  if (!error_) error_ = std::move(error);
}

void KafkaSink::delivered(Round& round, rd_kafka_resp_err_t err) noexcept {
  if (err) noteError(kafkaError(err, "producing to topic '" + topic_ + "'"));
  round.outstanding.fetch_sub(1);  // the last touch: the round may be gone after it
}

KafkaSink::Round& KafkaSink::openRound() {
  if (rounds_.empty()) rounds_.push_back(std::unique_ptr<Round>(new Round{this}));
  return *rounds_.back();
}

void KafkaSink::submit(std::span<const core::Message> messages) {
  if (!handle_) {
    noteError(kafkaError(rd_kafka_last_error(), "producing to topic '" + topic_ + "'"));
    return;
  }
  Round& round = openRound();
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
    round.outstanding.fetch_add(1);
    while (true) {
      auto err = rd_kafka_producev(
          producer_, RD_KAFKA_V_RKT(handle_.get()),
          RD_KAFKA_V_PARTITION(partition),
          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
          RD_KAFKA_V_VALUE(const_cast<char*>(m.body.data()), m.body.size()),
          RD_KAFKA_V_KEY(key, key_size), RD_KAFKA_V_TIMESTAMP(timestamp), RD_KAFKA_V_HEADERS(headers),
          RD_KAFKA_V_OPAQUE(&round), RD_KAFKA_V_END);
      if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {  // the local queue drains as reports arrive
        rd_kafka_poll(producer_, 10);
        continue;
      }
      if (err) {
        rd_kafka_headers_destroy(headers);  // not handed over on failure
        round.outstanding.fetch_sub(1);
        noteError(kafkaError(err, "producing to topic '" + topic_ + "'"));
      }
      break;
    }
  }
  rd_kafka_poll(producer_, 0);
}

Result<void> KafkaSink::await() { return awaitRound(endRound()); }

uint64_t KafkaSink::endRound() {
  openRound();
  uint64_t number = first_round_ + rounds_.size() - 1;
  rounds_.push_back(std::unique_ptr<Round>(new Round{this}));
  return number;
}

Result<void> KafkaSink::awaitRound(uint64_t round) {
  auto until = std::chrono::steady_clock::now() + timeout_;
  while (!rounds_.empty() && first_round_ <= round) {
    if (rounds_.front()->outstanding.load() == 0) {
      rounds_.pop_front();
      ++first_round_;
      continue;
    }
    if (std::chrono::steady_clock::now() >= until)
      return fail(ErrorCode::kTimeout, "producing to topic '" + topic_ + "': no delivery report in time");
    // Whoever awaits has nothing else to send: flush rather than poll, so the producer sends
    // what it holds now instead of lingering (linger.ms) on each partition. With many
    // session topics a batch touches hundreds of partitions, and the waits added up.
    // flush() returns after 1 ms while other records (other sinks', or a later round's) are
    // still outstanding.
    rd_kafka_flush(producer_, 1);
  }
  std::lock_guard lock(mutex_);
  if (!error_) return ok();
  Error error = *error_;
  error_.reset();
  return fail(error);
}

}  // namespace qsplit::kafka
