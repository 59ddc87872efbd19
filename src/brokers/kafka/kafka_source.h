// KafkaSource: a consumer-group member reading one topic, committing only offsets whose
// records (and every record before them in the partition) were acknowledged.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <string>

#include "brokers/kafka/kafka_client.h"
#include "core/broker.h"

namespace qsplit::kafka {

class KafkaSource final : public core::Source {
 public:
  // A receive stops once its records hold this many bytes (values, keys and headers), so a
  // batch of large records stays small in memory whatever its record count.
  static constexpr std::size_t kMaxBatchBytes = 16 << 20;

  // Subscribes `group` to `topic`, reading from the start of a partition the group has no
  // offset for. Errors on invalid properties.
  static Result<std::unique_ptr<KafkaSource>> create(const Properties& properties,
                                                     const std::string& topic,
                                                     const std::string& group,
                                                     std::size_t max_batch_bytes = kMaxBatchBytes);
  ~KafkaSource() override;

  Result<std::vector<core::Message>> receive(std::size_t max, std::chrono::milliseconds wait) override;
  Result<void> ack(std::span<const core::Message> messages) override;
  Result<void> release(std::span<const core::Message> messages) override;
  // Keeps the batch whose messages the next receive() overwrites: at 1 KiB, a batch is
  // 16 MiB of buffers that would otherwise be freed and allocated again.
  void recycle(std::vector<core::Message>&& batch) override { spare_ = std::move(batch); }

  // For transactions: the group's metadata (caller destroys it), and forgetting records
  // whose offsets a transaction committed.
  rd_kafka_consumer_group_metadata_t* groupMetadata() {
    return rd_kafka_consumer_group_metadata(consumer_.get());
  }
  void settled(std::span<const core::Message> messages);

  // Called by librdkafka's rebalance callback: forget what the partitions no longer owned had
  // in flight (their next owner reads from the committed offset).
  void forget(const rd_kafka_topic_partition_list_t* partitions);

 private:
  KafkaSource(std::string topic, std::string group, std::size_t max_batch_bytes)
      : topic_(std::move(topic)), group_(std::move(group)), max_batch_bytes_(max_batch_bytes) {}

  std::string topic_;
  std::string group_;
  std::size_t max_batch_bytes_;
  ConsumerHandle consumer_;
  // A delivered record's offset, until it is committed: acknowledged (or settled) yet?
  struct Delivered {
    int64_t offset;
    bool done;
  };
  using Offsets = std::deque<Delivered>;  // ascending
  static Delivered* find(Offsets& offsets, int64_t offset);
  static Offsets::iterator from(Offsets& offsets, int64_t offset);

  // Per partition: the records delivered and not yet committed, in offset order.
  std::map<int32_t, Offsets> in_flight_;
  // Per partition: where release() rewound it, until a record arrives from there again. A
  // later release (of a later batch) then rewinds no further forward than this.
  std::map<int32_t, int64_t> rewound_;
  std::vector<core::Message> spare_;
};

// Converts one consumed record into `m`, keeping key, value, headers, partition, offset and
// timestamp. Every field of `m` is overwritten; its buffers are reused.
void fromKafka(const rd_kafka_message_t& record, core::Message& m);

}  // namespace qsplit::kafka
