// KafkaSink: produces to one topic through the broker's shared idempotent producer
// (acks=all), keeping partition index, key, value, headers and timestamp.
#pragma once

#include <atomic>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "brokers/kafka/kafka_client.h"
#include "brokers/kafka/kafka_handles.h"
#include "core/broker.h"

namespace qsplit::kafka {

class KafkaSink final : public core::Sink {
 public:
  KafkaSink(rd_kafka_t* producer, std::string topic, std::chrono::milliseconds timeout);
  ~KafkaSink() override;

  // A producer holds a topic's first records until it knows the topic's partitions: this
  // looks them up now rather than at the first batch. Only a head start, so it waits at most
  // 5 s (or the timeout if shorter): a failure here shows again, named, at the first send.
  void lookUp();

  void submit(std::span<const core::Message> messages) override;
  Result<void> await() override;
  uint64_t endRound() override;
  Result<void> awaitRound(uint64_t round) override;

  // What a record's delivery report finds: its sink and the round it was submitted in.
  struct Round {
    KafkaSink* sink;
    std::atomic<int64_t> outstanding{0};
  };
  // Called from the delivery-report callback, on whichever thread polls the producer.
  void delivered(Round& round, rd_kafka_resp_err_t err) noexcept;

 private:
  void noteError(Error error);
  Round& openRound();

  rd_kafka_t* producer_;
  std::string topic_;
  // The producer's handle on the topic, looked up once: producing by name looks the topic up
  // among all of the producer's topics for every record.
  TopicHandle handle_;
  std::chrono::milliseconds timeout_;
  // Rounds not yet awaited, oldest first; the last one takes new records. Each round keeps
  // its address: delivery reports point at it.
  std::deque<std::unique_ptr<Round>> rounds_;
  uint64_t first_round_ = 1;  // the number of rounds_.front()
  std::mutex mutex_;
  std::optional<Error> error_;
};

// A producer whose delivery reports reach the KafkaSinks that use it. Durability and order
// are not negotiable: acks=all and idempotence are forced, so every send is acknowledged by
// all in-sync replicas and retries never reorder or duplicate a partition's records.
Result<ClientHandle> makeProducer(Properties properties);

}  // namespace qsplit::kafka
