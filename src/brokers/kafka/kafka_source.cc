#include "brokers/kafka/kafka_source.h"

#include <algorithm>

#include "common/log.h"

namespace qsplit::kafka {
namespace {

void rebalance(rd_kafka_t* consumer, rd_kafka_resp_err_t err,
               rd_kafka_topic_partition_list_t* partitions, void* opaque) noexcept {
  auto* source = static_cast<KafkaSource*>(opaque);
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    rd_kafka_assign(consumer, partitions);
  } else {
    source->forget(partitions);
    rd_kafka_assign(consumer, nullptr);
  }
}

}  // namespace

core::Message fromKafka(const rd_kafka_message_t& record) {
  core::Message m;
  if (record.payload) m.body.assign(static_cast<const char*>(record.payload), record.len);
  if (record.key) m.key = std::string(static_cast<const char*>(record.key), record.key_len);
  m.partition = record.partition;
  m.offset = record.offset;
  rd_kafka_timestamp_type_t type;
  int64_t ts = rd_kafka_message_timestamp(&record, &type);
  if (type != RD_KAFKA_TIMESTAMP_NOT_AVAILABLE) m.timestamp_ms = ts;
  rd_kafka_headers_t* headers = nullptr;
  if (rd_kafka_message_headers(&record, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    const char* name;
    const void* value;
    size_t size;
    for (size_t i = 0; rd_kafka_header_get_all(headers, i, &name, &value, &size) == 0; ++i)
      m.attributes.push_back({name, value ? std::string(static_cast<const char*>(value), size) : "", ""});
  }
  return m;
}

Result<std::unique_ptr<KafkaSource>> KafkaSource::create(const Properties& properties,
                                                         const std::string& topic,
                                                         const std::string& group,
                                                         std::size_t max_batch_bytes) {
  Properties p = properties;
  p["group.id"] = group;
  p["enable.auto.commit"] = "false";
  p["enable.auto.offset.store"] = "false";
  if (!p.count("auto.offset.reset")) p["auto.offset.reset"] = "earliest";
  if (!p.count("isolation.level")) p["isolation.level"] = "read_committed";
  std::unique_ptr<KafkaSource> source(new KafkaSource(topic, group, max_batch_bytes));
  QSPLIT_ASSIGN_OR_RETURN(ConfHandle conf, makeConf(p));
  rd_kafka_conf_set_rebalance_cb(conf.get(), rebalance);
  rd_kafka_conf_set_opaque(conf.get(), source.get());
  QSPLIT_ASSIGN_OR_RETURN(source->consumer_, makeConsumer(std::move(conf)));
  rd_kafka_poll_set_consumer(source->consumer_.get());
  PartitionsHandle subscription(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(subscription.get(), topic.c_str(), RD_KAFKA_PARTITION_UA);
  if (auto err = rd_kafka_subscribe(source->consumer_.get(), subscription.get()))
    return fail(kafkaError(err, "subscribing group '" + group + "' to topic '" + topic + "'"));
  return source;
}

KafkaSource::~KafkaSource() {
  // Leaves the group cleanly so its partitions move to the other members at once.
  if (consumer_) rd_kafka_consumer_close(consumer_.get());
}

void KafkaSource::forget(const rd_kafka_topic_partition_list_t* partitions) {
  for (int i = 0; i < partitions->cnt; ++i) {
    in_flight_.erase(partitions->elems[i].partition);
    rewound_.erase(partitions->elems[i].partition);
  }
}

Result<std::vector<core::Message>> KafkaSource::receive(std::size_t max,
                                                        std::chrono::milliseconds wait) {
  std::vector<core::Message> out;
  std::size_t bytes = 0;
  auto until = std::chrono::steady_clock::now() + wait;
  while (out.size() < max && bytes < max_batch_bytes_) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
    // Once something arrived, take only what is already fetched.
    int timeout = out.empty() ? static_cast<int>(std::max<int64_t>(left.count(), 0)) : 0;
    MessageHandle record(rd_kafka_consumer_poll(consumer_.get(), timeout));
    if (!record) {
      if (!out.empty() || left.count() <= 0) break;
      continue;
    }
    if (record->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) continue;
    if (record->err) {
      if (!out.empty()) break;  // deliver what we have; the error comes again
      return fail(kafkaError(record->err, "reading topic '" + topic_ + "' as group '" + group_ + "'"));
    }
    out.push_back(fromKafka(*record));
    bytes += out.back().body.size() + (out.back().key ? out.back().key->size() : 0);
    for (const auto& a : out.back().attributes) bytes += a.name.size() + a.value.size();
    in_flight_[record->partition][record->offset] = false;
    rewound_.erase(record->partition);  // a seek drops what was fetched before it
  }
  return out;
}

Result<void> KafkaSource::ack(std::span<const core::Message> messages) {
  for (const auto& m : messages) {
    auto partition = in_flight_.find(m.partition);
    if (partition == in_flight_.end()) continue;  // revoked meanwhile: the next owner re-reads it
    auto offset = partition->second.find(m.offset);
    if (offset != partition->second.end()) offset->second = true;
  }
  PartitionsHandle commit(rd_kafka_topic_partition_list_new(static_cast<int>(in_flight_.size())));
  for (auto& [partition, offsets] : in_flight_) {
    int64_t next = -1;
    while (!offsets.empty() && offsets.begin()->second) {
      next = offsets.begin()->first + 1;
      offsets.erase(offsets.begin());
    }
    if (next >= 0) rd_kafka_topic_partition_list_add(commit.get(), topic_.c_str(), partition)->offset = next;
  }
  if (commit->cnt == 0) return ok();
  if (auto err = rd_kafka_commit(consumer_.get(), commit.get(), 0))
    return fail(kafkaError(err, "committing offsets of group '" + group_ + "' on '" + topic_ + "'"));
  return ok();
}

void KafkaSource::settled(std::span<const core::Message> messages) {
  for (const auto& m : messages) {
    auto partition = in_flight_.find(m.partition);
    if (partition != in_flight_.end()) partition->second.erase(m.offset);
  }
}

Result<void> KafkaSource::release(std::span<const core::Message> messages) {
  std::map<int32_t, int64_t> rewind;
  for (const auto& m : messages) {
    auto it = rewind.find(m.partition);
    if (it == rewind.end() || m.offset < it->second) rewind[m.partition] = m.offset;
  }
  // Batches overlap: an earlier batch may have rewound the partition further back, and its
  // records have not come back yet. Seeking forward to this batch's would skip them.
  for (auto& [partition, offset] : rewind) {
    auto earlier = rewound_.find(partition);
    if (earlier != rewound_.end()) offset = std::min(offset, earlier->second);
    rewound_[partition] = offset;
  }
  PartitionsHandle seek(rd_kafka_topic_partition_list_new(static_cast<int>(rewind.size())));
  for (const auto& [partition, offset] : rewind) {
    rd_kafka_topic_partition_list_add(seek.get(), topic_.c_str(), partition)->offset = offset;
    // Everything from the rewind point on will be delivered again.
    auto& offsets = in_flight_[partition];
    offsets.erase(offsets.lower_bound(offset), offsets.end());
  }
  if (auto error = rd_kafka_seek_partitions(consumer_.get(), seek.get(), 5000)) {
    std::string message = rd_kafka_error_string(error);
    rd_kafka_error_destroy(error);
    return fail(ErrorCode::kUnavailable, "rewinding '" + topic_ + "': " + message);
  }
  return ok();
}

}  // namespace qsplit::kafka
