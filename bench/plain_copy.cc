#include "bench/plain_copy.h"

#include <cstdio>
#include <cstdlib>

namespace qsplit::bench {
namespace {

// A copy that commits must know its records were delivered. Without a delivery report
// callback librdkafka also has nothing to wake rd_kafka_flush(), which then checks only
// every 10 ms: the baseline would be slowed by that, not by the broker.
void delivered(rd_kafka_t*, const rd_kafka_message_t* record, void*) {
  if (!record->err) return;
  std::fprintf(stderr, "plain copy: delivery failed: %s\n", rd_kafka_err2str(record->err));
  std::exit(1);
}

rd_kafka_t* client(rd_kafka_type_t type, std::vector<std::pair<std::string, std::string>> props) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  for (const auto& [k, v] : props) {
    if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof err) == RD_KAFKA_CONF_OK)
      continue;
    std::fprintf(stderr, "plain copy: %s\n", err);
    std::exit(1);
  }
  if (type == RD_KAFKA_PRODUCER) rd_kafka_conf_set_dr_msg_cb(conf, delivered);
  rd_kafka_t* rk = rd_kafka_new(type, conf, err, sizeof err);
  if (!rk) {
    std::fprintf(stderr, "plain copy: %s\n", err);
    std::exit(1);
  }
  return rk;
}

}  // namespace

std::unique_ptr<PlainCopy> PlainCopy::create(kafka::KafkaBroker& broker, const CopyOptions& options,
                                             const std::string& id) {
  std::unique_ptr<PlainCopy> copy(new PlainCopy());
  copy->options_ = options;
  for (int t = 0; t <= options.fanout; ++t) {
    copy->topics_.push_back("bench-copy-" + std::to_string(t) + "-" + id);
    if (!broker.kafkaAdmin().createTopic(copy->topics_.back(), {options.partitions, 1, {}})) std::exit(1);
  }
  copy->producer_ = client(RD_KAFKA_PRODUCER, {{"bootstrap.servers", options.bootstrap},
                                               {"acks", "all"},
                                               {"enable.idempotence", "true"},
                                               {"linger.ms", "5"}});
  std::vector<std::pair<std::string, std::string>> consumer = {
      {"bootstrap.servers", options.bootstrap},
      {"group.id", options.group},
      {"enable.auto.commit", "false"},
      {"auto.offset.reset", "earliest"}};
  consumer.insert(consumer.end(), options.consumer.begin(), options.consumer.end());
  copy->consumer_ = client(RD_KAFKA_CONSUMER, consumer);
  rd_kafka_poll_set_consumer(copy->consumer_);
  rd_kafka_topic_partition_list_t* sub = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(sub, options.original.c_str(), RD_KAFKA_PARTITION_UA);
  rd_kafka_subscribe(copy->consumer_, sub);
  rd_kafka_topic_partition_list_destroy(sub);
  return copy;
}

PlainCopy::~PlainCopy() {
  rd_kafka_consumer_close(consumer_);
  rd_kafka_destroy(consumer_);
  rd_kafka_destroy(producer_);
}

void PlainCopy::removeTopics(kafka::KafkaBroker& broker) {
  for (const auto& t : topics_) (void)broker.admin().remove(t);
}

const std::string& PlainCopy::destination(rd_kafka_headers_t* headers) const {
  const void* user = nullptr;
  size_t size = 0;
  if (options_.fanout == 0 || !headers || rd_kafka_header_get_last(headers, "user", &user, &size) != 0)
    return topics_[0];
  int k = std::atoi(std::string(static_cast<const char*>(user) + 5, size - 5).c_str());
  int step = 100 / options_.fanout;
  if (k < 100 && k % step == 0 && k / step < options_.fanout) return topics_[1 + k / step];
  return topics_[0];
}

int PlainCopy::run(const std::function<bool(int)>& keep_going) {
  int copied = 0;
  bool first = true;
  while (true) {
    std::vector<rd_kafka_message_t*> batch;
    std::size_t bytes = 0;
    while (batch.size() < options_.batch && bytes < options_.batch_bytes) {
      rd_kafka_message_t* m = rd_kafka_consumer_poll(consumer_, batch.empty() ? 100 : 0);
      if (!m) break;
      if (m->err) {
        rd_kafka_message_destroy(m);
        continue;
      }
      if (first) {
        first = false;
        keep_going(0);
      }
      batch.push_back(m);
      bytes += m->len + m->key_len;
    }
    if (batch.empty()) {
      if (!keep_going(copied)) return copied;
      continue;
    }
    for (auto* m : batch) {
      rd_kafka_headers_t* h = nullptr;
      rd_kafka_message_headers(m, &h);
      rd_kafka_producev(producer_, RD_KAFKA_V_TOPIC(destination(h).c_str()),
                        RD_KAFKA_V_PARTITION(m->partition), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                        RD_KAFKA_V_VALUE(m->payload, m->len), RD_KAFKA_V_KEY(m->key, m->key_len),
                        RD_KAFKA_V_TIMESTAMP(rd_kafka_message_timestamp(m, nullptr)),
                        RD_KAFKA_V_HEADERS(h ? rd_kafka_headers_copy(h) : nullptr), RD_KAFKA_V_END);
    }
    for (auto* m : batch) rd_kafka_message_destroy(m);
    rd_kafka_flush(producer_, 30000);
    rd_kafka_commit(consumer_, nullptr, 0);  // every partition's position, synchronously
    copied += static_cast<int>(batch.size());
    if (!keep_going(copied)) return copied;
  }
}

}  // namespace qsplit::bench
