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

void fromKafka(const rd_kafka_message_t& record, core::Message& m) {
  auto text = [](const void* data, size_t size, std::string& out) {
    out.assign(data ? static_cast<const char*>(data) : "", data ? size : 0);
  };
  text(record.payload, record.len, m.body);
  if (!record.key) {
    m.key.reset();
  } else {
    if (!m.key) m.key.emplace();
    text(record.key, record.key_len, *m.key);
  }
  m.partition = record.partition;
  m.offset = record.offset;
  rd_kafka_timestamp_type_t type;
  int64_t ts = rd_kafka_message_timestamp(&record, &type);
  m.timestamp_ms.reset();
  if (type != RD_KAFKA_TIMESTAMP_NOT_AVAILABLE) m.timestamp_ms = ts;
  for (std::string* other : {&m.group_id, &m.deduplication_id, &m.id, &m.receipt}) other->clear();
  m.filter_attributes.reset();
  std::size_t count = 0;
  rd_kafka_headers_t* headers = nullptr;
  if (rd_kafka_message_headers(&record, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    const char* name;
    const void* value;
    size_t size;
    for (; rd_kafka_header_get_all(headers, count, &name, &value, &size) == 0; ++count) {
      if (count == m.attributes.size()) m.attributes.emplace_back();
      core::Attribute& a = m.attributes[count];
      a.name.assign(name);
      text(value, size, a.value);
      a.type.clear();
    }
  }
  m.attributes.resize(count);
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
  // Overwrites the last recycled batch's messages, if any, before adding new ones.
  std::vector<core::Message> out = std::move(spare_);
  spare_.clear();
  std::size_t used = 0, bytes = 0;
  auto until = std::chrono::steady_clock::now() + wait;
  while (used < max && bytes < max_batch_bytes_) {
    // Once something arrived, take only what is already fetched (and read no clock for it).
    int timeout = 0;
    if (used == 0) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          until - std::chrono::steady_clock::now());
      timeout = static_cast<int>(std::max<int64_t>(left.count(), 0));
    }
    MessageHandle record(rd_kafka_consumer_poll(consumer_.get(), timeout));
    if (!record) {
      if (used > 0 || timeout == 0) break;
      continue;
    }
    if (record->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) continue;
    if (record->err) {
      if (used > 0) break;  // deliver what we have; the error comes again
      return fail(kafkaError(record->err, "reading topic '" + topic_ + "' as group '" + group_ + "'"));
    }
    if (used == out.size()) out.emplace_back();
    core::Message& m = out[used++];
    fromKafka(*record, m);
    bytes += m.body.size() + (m.key ? m.key->size() : 0);
    for (const auto& a : m.attributes) bytes += a.name.size() + a.value.size();
    // Offsets arrive in order; one at or before the last means the partition was rewound.
    auto& offsets = in_flight_[record->partition];
    if (!offsets.empty() && offsets.back().offset >= record->offset)
      offsets.erase(from(offsets, record->offset), offsets.end());
    offsets.push_back({record->offset, false});
    rewound_.erase(record->partition);  // a seek drops what was fetched before it
  }
  out.resize(used);
  return out;
}

KafkaSource::Offsets::iterator KafkaSource::from(Offsets& offsets, int64_t offset) {
  return std::lower_bound(offsets.begin(), offsets.end(), offset,
                          [](const Delivered& d, int64_t o) { return d.offset < o; });
}

KafkaSource::Delivered* KafkaSource::find(Offsets& offsets, int64_t offset) {
  auto it = from(offsets, offset);
  return it != offsets.end() && it->offset == offset ? &*it : nullptr;
}

Result<void> KafkaSource::ack(std::span<const core::Message> messages) {
  for (const auto& m : messages) {
    auto partition = in_flight_.find(m.partition);
    if (partition == in_flight_.end()) continue;  // revoked meanwhile: the next owner re-reads it
    if (Delivered* d = find(partition->second, m.offset)) d->done = true;
  }
  PartitionsHandle commit(rd_kafka_topic_partition_list_new(static_cast<int>(in_flight_.size())));
  for (auto& [partition, offsets] : in_flight_) {
    int64_t next = -1;
    while (!offsets.empty() && offsets.front().done) {
      next = offsets.front().offset + 1;
      offsets.pop_front();
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
    if (partition == in_flight_.end()) continue;
    if (Delivered* d = find(partition->second, m.offset)) d->done = true;
  }
  // Their offsets are committed already: only forget them.
  for (auto& [partition, offsets] : in_flight_)
    while (!offsets.empty() && offsets.front().done) offsets.pop_front();
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
    offsets.erase(from(offsets, offset), offsets.end());
  }
  if (auto error = rd_kafka_seek_partitions(consumer_.get(), seek.get(), 5000)) {
    std::string message = rd_kafka_error_string(error);
    rd_kafka_error_destroy(error);
    return fail(ErrorCode::kUnavailable, "rewinding '" + topic_ + "': " + message);
  }
  return ok();
}

}  // namespace qsplit::kafka
