#include "brokers/kafka/kafka_admin.h"

#include <thread>

#include "core/naming.h"

namespace qsplit::kafka {
namespace {

int ms(std::chrono::milliseconds d) { return static_cast<int>(d.count()); }

}  // namespace

Result<EventHandle> KafkaAdmin::await(rd_kafka_queue_t* queue, rd_kafka_event_type_t type,
                                      const std::string& what) {
  EventHandle event(rd_kafka_queue_poll(queue, ms(timeout_) + 1000));
  if (!event) return fail(ErrorCode::kTimeout, what + ": no answer from Kafka in time");
  if (rd_kafka_event_type(event.get()) != type)
    return fail(ErrorCode::kInternal, what + ": unexpected event " + rd_kafka_event_name(event.get()));
  if (rd_kafka_event_error(event.get()))
    return fail(kafkaError(rd_kafka_event_error(event.get()), what));
  return event;
}

Result<TopicSpec> KafkaAdmin::topicSpec(const std::string& name) {
  TopicHandle topic(rd_kafka_topic_new(client_, name.c_str(), nullptr));
  const rd_kafka_metadata_t* raw = nullptr;
  auto err = rd_kafka_metadata(client_, 0, topic.get(), &raw, ms(timeout_));
  MetadataHandle metadata(raw);
  if (err) return fail(kafkaError(err, "reading the metadata of topic '" + name + "'"));
  if (metadata->topic_cnt != 1) return fail(ErrorCode::kNotFound, "topic '" + name + "' does not exist");
  const auto& t = metadata->topics[0];
  if (t.err) return fail(kafkaError(t.err, "topic '" + name + "'"));
  if (t.partition_cnt == 0) return fail(ErrorCode::kNotFound, "topic '" + name + "' does not exist");
  for (int p = 0; p < t.partition_cnt; ++p)
    if (t.partitions[p].leader < 0)
      return fail(ErrorCode::kUnavailable, "topic '" + name + "' has no leader for partition " +
                                               std::to_string(t.partitions[p].id) + " yet");
  TopicSpec spec;
  spec.partitions = t.partition_cnt;
  spec.replication_factor = static_cast<int16_t>(t.partitions[0].replica_cnt);
  return spec;
}

Result<core::QueueInfo> KafkaAdmin::describe(const std::string& name) {
  QSPLIT_ASSIGN_OR_RETURN(TopicSpec spec, topicSpec(name));
  return core::QueueInfo{name, core::QueueKind::kTopic, spec.partitions};
}

Result<std::map<std::string, std::string>> KafkaAdmin::topicConfigs(const std::string& topic) {
  QueueHandle queue(rd_kafka_queue_new(client_));
  ConfigResourceHandle resource(rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic.c_str()));
  rd_kafka_ConfigResource_t* resources[] = {resource.get()};
  rd_kafka_DescribeConfigs(client_, resources, 1, nullptr, queue.get());
  std::string what = "reading the configs of topic '" + topic + "'";
  QSPLIT_ASSIGN_OR_RETURN(EventHandle event, await(queue.get(), RD_KAFKA_EVENT_DESCRIBECONFIGS_RESULT, what));
  size_t count = 0;
  auto result = rd_kafka_event_DescribeConfigs_result(event.get());
  auto described = rd_kafka_DescribeConfigs_result_resources(result, &count);
  std::map<std::string, std::string> configs;
  if (count != 1) return configs;
  if (auto err = rd_kafka_ConfigResource_error(described[0])) return fail(kafkaError(err, what));
  size_t entries = 0;
  auto list = rd_kafka_ConfigResource_configs(described[0], &entries);
  for (size_t i = 0; i < entries; ++i) {
    // Only what was set on the topic itself; defaults follow the cluster anyway.
    if (rd_kafka_ConfigEntry_source(list[i]) != RD_KAFKA_CONFIG_SOURCE_DYNAMIC_TOPIC_CONFIG) continue;
    if (rd_kafka_ConfigEntry_is_sensitive(list[i]) || !rd_kafka_ConfigEntry_value(list[i])) continue;
    configs[rd_kafka_ConfigEntry_name(list[i])] = rd_kafka_ConfigEntry_value(list[i]);
  }
  return configs;
}

Result<void> KafkaAdmin::createTopic(const std::string& name, const TopicSpec& spec) {
  char error[512];
  NewTopicHandle topic(rd_kafka_NewTopic_new(name.c_str(), spec.partitions, spec.replication_factor,
                                             error, sizeof error));
  if (!topic) return fail(ErrorCode::kInvalidArgument, "topic '" + name + "': " + error);
  for (const auto& [key, value] : spec.configs)
    if (auto err = rd_kafka_NewTopic_set_config(topic.get(), key.c_str(), value.c_str()))
      return fail(kafkaError(err, "topic '" + name + "' config " + key));
  QueueHandle queue(rd_kafka_queue_new(client_));
  AdminOptionsHandle options(rd_kafka_AdminOptions_new(client_, RD_KAFKA_ADMIN_OP_CREATETOPICS));
  rd_kafka_AdminOptions_set_operation_timeout(options.get(), ms(timeout_), error, sizeof error);
  rd_kafka_NewTopic_t* topics[] = {topic.get()};
  rd_kafka_CreateTopics(client_, topics, 1, options.get(), queue.get());
  std::string what = "creating topic '" + name + "'";
  QSPLIT_ASSIGN_OR_RETURN(EventHandle event, await(queue.get(), RD_KAFKA_EVENT_CREATETOPICS_RESULT, what));
  size_t count = 0;
  auto results = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(event.get()), &count);
  for (size_t i = 0; i < count; ++i)
    if (auto err = rd_kafka_topic_result_error(results[i])) {
      const char* detail = rd_kafka_topic_result_error_string(results[i]);
      return fail(kafkaError(err, what + (detail ? std::string(" (") + detail + ")" : "")));
    }
  // The controller has the topic; the brokers learn of it a moment later. Return once the
  // metadata shows it, so the caller can produce and consume right away.
  auto until = std::chrono::steady_clock::now() + timeout_;
  while (true) {
    auto described = topicSpec(name);
    if (described && described->partitions == spec.partitions) return ok();
    if (std::chrono::steady_clock::now() >= until)
      return fail(ErrorCode::kTimeout, what + ": created, but the brokers did not report it in time");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

Result<void> KafkaAdmin::createLike(const std::string& original, const std::string& name) {
  QSPLIT_ASSIGN_OR_RETURN(TopicSpec spec, topicSpec(original));
  QSPLIT_ASSIGN_OR_RETURN(spec.configs, topicConfigs(original));
  return createTopic(name, spec);
}

Result<void> KafkaAdmin::remove(const std::string& name) {
  char error[512];
  DeleteTopicHandle topic(rd_kafka_DeleteTopic_new(name.c_str()));
  QueueHandle queue(rd_kafka_queue_new(client_));
  AdminOptionsHandle options(rd_kafka_AdminOptions_new(client_, RD_KAFKA_ADMIN_OP_DELETETOPICS));
  rd_kafka_AdminOptions_set_operation_timeout(options.get(), ms(timeout_), error, sizeof error);
  rd_kafka_DeleteTopic_t* topics[] = {topic.get()};
  rd_kafka_DeleteTopics(client_, topics, 1, options.get(), queue.get());
  std::string what = "deleting topic '" + name + "'";
  QSPLIT_ASSIGN_OR_RETURN(EventHandle event, await(queue.get(), RD_KAFKA_EVENT_DELETETOPICS_RESULT, what));
  size_t count = 0;
  auto results = rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(event.get()), &count);
  for (size_t i = 0; i < count; ++i)
    if (auto err = rd_kafka_topic_result_error(results[i])) return fail(kafkaError(err, what));
  return ok();
}

Result<std::map<int32_t, int64_t>> KafkaAdmin::offsetsAt(rd_kafka_t* client, const std::string& name,
                                                          int32_t partitions, int64_t which) {
  PartitionsHandle list(rd_kafka_topic_partition_list_new(partitions));
  for (int32_t p = 0; p < partitions; ++p)
    rd_kafka_topic_partition_list_add(list.get(), name.c_str(), p)->offset = which;
  std::string what = std::string("reading the ") + (which == RD_KAFKA_OFFSET_END ? "end" : "first") +
                     " offsets of topic '" + name + "'";
  if (auto err = rd_kafka_offsets_for_times(client, list.get(), ms(timeout_)))
    return fail(kafkaError(err, what));
  std::map<int32_t, int64_t> offsets;
  for (int i = 0; i < list->cnt; ++i) {
    if (list->elems[i].err) return fail(kafkaError(list->elems[i].err, what));
    offsets[list->elems[i].partition] = list->elems[i].offset;
  }
  return offsets;
}

Result<ConsumerHandle> KafkaAdmin::groupReader(const std::string& group) {
  Properties properties = properties_;
  properties["group.id"] = group;
  properties["enable.auto.commit"] = "false";
  properties["enable.partition.eof"] = "true";
  properties["isolation.level"] = "read_committed";
  QSPLIT_ASSIGN_OR_RETURN(ConfHandle conf, makeConf(properties));
  return makeConsumer(std::move(conf));
}

Result<PartitionsHandle> KafkaAdmin::committed(rd_kafka_t* reader, const std::string& name,
                                               const std::string& group, int32_t count) {
  PartitionsHandle partitions(rd_kafka_topic_partition_list_new(count));
  for (int32_t p = 0; p < count; ++p)
    rd_kafka_topic_partition_list_add(partitions.get(), name.c_str(), p);
  if (auto err = rd_kafka_committed(reader, partitions.get(), ms(timeout_)))
    return fail(kafkaError(err, "reading the offsets of group '" + group + "' on topic '" + name + "'"));
  return partitions;
}

Result<std::string> KafkaAdmin::groupLike(const std::string& name, const std::string& group) {
  QSPLIT_ASSIGN_OR_RETURN(TopicSpec spec, topicSpec(name));
  QSPLIT_ASSIGN_OR_RETURN(ConsumerHandle reader, groupReader(group));
  QSPLIT_ASSIGN_OR_RETURN(PartitionsHandle at, committed(reader.get(), name, group, spec.partitions));
  PartitionsHandle positions(rd_kafka_topic_partition_list_new(spec.partitions));
  for (int i = 0; i < at->cnt; ++i)  // a partition without one is read from its start
    if (at->elems[i].offset >= 0)
      rd_kafka_topic_partition_list_add(positions.get(), name.c_str(), at->elems[i].partition)->offset =
          at->elems[i].offset;
  std::string fresh = core::shortenWithHash("qsplit-from-" + name, 200);
  // Committed by a consumer that never joins: the broker takes it for a group with no members.
  QSPLIT_ASSIGN_OR_RETURN(ConsumerHandle writer, groupReader(fresh));
  if (positions->cnt > 0)
    if (auto err = rd_kafka_commit(writer.get(), positions.get(), 0))
      return fail(kafkaError(err, "giving group '" + fresh + "' the offsets of group '" + group + "'"));
  return fresh;
}

Result<uint64_t> KafkaAdmin::backlog(const std::string& name, const std::string& group) {
  QSPLIT_ASSIGN_OR_RETURN(TopicSpec spec, topicSpec(name));
  // A consumer that never subscribes: it reads the group's committed offsets without
  // joining the group, so the workload is not disturbed by a rebalance.
  QSPLIT_ASSIGN_OR_RETURN(ConsumerHandle reader, groupReader(group));
  QSPLIT_ASSIGN_OR_RETURN(PartitionsHandle partitions, committed(reader.get(), name, group, spec.partitions));
  std::string what = "reading the offsets of group '" + group + "' on topic '" + name + "'";
  // The partitions' first and end offsets. Not rd_kafka_query_watermark_offsets: before
  // librdkafka 2.3 it can wait forever for a leader that died meanwhile (librdkafka #2588),
  // and it did in the cluster fault test. offsets_for_times keeps to its timeout.
  QSPLIT_ASSIGN_OR_RETURN(auto lows, offsetsAt(reader.get(), name, spec.partitions, RD_KAFKA_OFFSET_BEGINNING));
  QSPLIT_ASSIGN_OR_RETURN(auto highs, offsetsAt(reader.get(), name, spec.partitions, RD_KAFKA_OFFSET_END));
  std::map<int32_t, uint64_t> behind;  // partition -> end - committed
  PartitionsHandle probe(rd_kafka_topic_partition_list_new(spec.partitions));
  for (int i = 0; i < partitions->cnt; ++i) {
    const auto& tp = partitions->elems[i];
    int64_t low = lows[tp.partition], high = highs[tp.partition];
    int64_t from = tp.offset >= 0 ? std::max(tp.offset, low) : low;
    if (high <= from) continue;
    behind[tp.partition] = static_cast<uint64_t>(high - from);
    rd_kafka_topic_partition_list_add(probe.get(), name.c_str(), tp.partition)->offset = from;
  }
  if (behind.empty()) return uint64_t{0};
  // Offsets also number transaction markers and aborted records, which no consumer ever
  // sees: read on from the committed offset until a visible record or the end.
  if (auto err = rd_kafka_assign(reader.get(), probe.get())) return fail(kafkaError(err, what));
  std::map<int32_t, bool> visible;
  auto until = std::chrono::steady_clock::now() + timeout_;
  while (visible.size() < behind.size() && std::chrono::steady_clock::now() < until) {
    MessageHandle record(rd_kafka_consumer_poll(reader.get(), 100));
    if (!record) continue;
    if (record->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) visible.emplace(record->partition, false);
    else if (record->err) return fail(kafkaError(record->err, what));
    else visible.emplace(record->partition, true);
  }
  uint64_t lag = 0;
  for (const auto& [partition, count] : behind) {
    auto seen = visible.find(partition);
    if (seen == visible.end() || seen->second) lag += count;  // unknown counts as not drained
  }
  return lag;
}

Result<std::vector<std::string>> KafkaAdmin::listTopics() {
  const rd_kafka_metadata_t* raw = nullptr;
  auto err = rd_kafka_metadata(client_, 1, nullptr, &raw, ms(timeout_));
  MetadataHandle metadata(raw);
  if (err) return fail(kafkaError(err, "listing topics"));
  std::vector<std::string> names;
  for (int i = 0; i < metadata->topic_cnt; ++i) names.push_back(metadata->topics[i].topic);
  return names;
}

}  // namespace qsplit::kafka
