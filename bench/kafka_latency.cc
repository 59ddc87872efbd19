// Added latency of forwarding on a real Kafka broker: records are produced at a steady rate
// with their send time in a header; a consumer of the destination topics, in the same
// process and on the same clock, records how long each took to arrive. Measured for the
// plain copy (bench/plain_copy.h) and for qsplit's forwarder with N sessions, at least once
// and exactly once, on the same broker in the same run.
#include <CLI/CLI.hpp>
#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <thread>

#include "bench/plain_copy.h"
#include "common/random.h"
#include "engine/forwarder.h"

namespace {

using Clock = std::chrono::steady_clock;
using qsplit::kafka::KafkaBroker;

int64_t nowNs() { return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count(); }

rd_kafka_t* client(rd_kafka_type_t type, std::vector<std::pair<std::string, std::string>> props) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  for (const auto& [k, v] : props) rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof err);
  return rd_kafka_new(type, conf, err, sizeof err);
}

struct Run {
  std::string bootstrap;
  int rate = 1000;
  int seconds = 8;
  int sessions = 100;
};

// Reads `topics` and collects each record's latency, until `stop`.
std::vector<double> consume(const Run& r, const std::vector<std::string>& topics,
                            std::atomic<bool>& stop, std::atomic<bool>& ready) {
  rd_kafka_t* consumer = client(RD_KAFKA_CONSUMER, {{"bootstrap.servers", r.bootstrap},
                                                    {"group.id", "lat-" + qsplit::SecureRandom::instance().digits(8)},
                                                    {"auto.offset.reset", "earliest"}});
  rd_kafka_poll_set_consumer(consumer);
  rd_kafka_topic_partition_list_t* sub = rd_kafka_topic_partition_list_new(static_cast<int>(topics.size()));
  for (const auto& t : topics) rd_kafka_topic_partition_list_add(sub, t.c_str(), RD_KAFKA_PARTITION_UA);
  rd_kafka_subscribe(consumer, sub);
  rd_kafka_topic_partition_list_destroy(sub);
  std::vector<double> ms;
  while (!stop) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(consumer, 50);
    if (!m) continue;
    rd_kafka_headers_t* h = nullptr;
    const void* sent = nullptr;
    size_t size = 0;
    if (!m->err && rd_kafka_message_headers(m, &h) == 0 &&
        rd_kafka_header_get_last(h, "sent", &sent, &size) == 0) {
      int64_t at = std::stoll(std::string(static_cast<const char*>(sent), size));
      if (at == 0) ready = true;  // the warm-up record: the whole path is assigned
      else ms.push_back((nowNs() - at) / 1e6);
    }
    rd_kafka_message_destroy(m);
  }
  rd_kafka_consumer_close(consumer);
  rd_kafka_destroy(consumer);
  return ms;
}

void produce(const Run& r, const std::string& topic, int64_t count, bool warmup) {
  rd_kafka_t* producer = client(RD_KAFKA_PRODUCER, {{"bootstrap.servers", r.bootstrap}, {"linger.ms", "0"}});
  std::string body(1024, 'x');
  auto next = Clock::now();
  for (int64_t i = 0; i < count; ++i) {
    std::string user = "user-" + std::to_string(i % 200);
    std::string sent = warmup ? "0" : std::to_string(nowNs());
    rd_kafka_producev(producer, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(int32_t(i % 2)),
                      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_VALUE(body.data(), body.size()),
                      RD_KAFKA_V_HEADER("user", user.data(), ssize_t(user.size())),
                      RD_KAFKA_V_HEADER("sent", sent.data(), ssize_t(sent.size())), RD_KAFKA_V_END);
    rd_kafka_poll(producer, 0);
    next += std::chrono::nanoseconds(1'000'000'000 / r.rate);
    std::this_thread::sleep_until(next);
  }
  rd_kafka_flush(producer, 30000);
  rd_kafka_destroy(producer);
}

// Runs one mode: `start` begins forwarding from `original` and returns the destination topics
// and a function that stops it. Prints a table row.
template <class Start>
void measure(const Run& r, KafkaBroker& broker, const std::string& name, Start start) {
  std::string original = "lat-original-" + qsplit::SecureRandom::instance().digits(8);
  if (!broker.kafkaAdmin().createTopic(original, {2, 1, {}})) std::exit(1);
  auto [topics, stop_forwarding] = start(original);
  std::atomic<bool> stop{false}, ready{false};
  std::vector<double> ms;
  std::thread reader([&] { ms = consume(r, topics, stop, ready); });
  // Warm up until a record has gone the whole way (group joins on both ends).
  for (int i = 0; i < 60 && !ready; ++i) produce(r, original, 2, true);
  produce(r, original, int64_t(r.rate) * r.seconds, false);
  std::this_thread::sleep_for(std::chrono::seconds(2));
  stop = true;
  reader.join();
  stop_forwarding();
  for (const auto& t : topics) (void)broker.admin().remove(t);
  (void)broker.admin().remove(original);
  std::sort(ms.begin(), ms.end());
  auto pct = [&](double p) { return ms.empty() ? 0.0 : ms[std::min(ms.size() - 1, size_t(p * ms.size()))]; };
  std::printf("| %s | %zu | %.1f | %.1f | %.1f |\n", name.c_str(), ms.size(), pct(0.5), pct(0.99), pct(0.999));
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Kafka forwarding latency against a plain copy"};
  Run r;
  app.add_option("--bootstrap", r.bootstrap)->required();
  app.add_option("--rate", r.rate, "records per second");
  app.add_option("--seconds", r.seconds);
  app.add_option("--sessions", r.sessions);
  CLI11_PARSE(app, argc, argv);
  auto broker = KafkaBroker::create({{{"bootstrap.servers", r.bootstrap}, {"log_level", "3"}}});
  if (!broker) return 1;
  std::printf("| path | records | p50 ms | p99 ms | p99.9 ms |\n|---|---:|---:|---:|---:|\n");

  measure(r, **broker, "plain copy", [&](const std::string& original) {
    std::string id = qsplit::SecureRandom::instance().digits(8);
    qsplit::bench::CopyOptions o{r.bootstrap, original, "lat-plain-" + id, 2, (*broker)->batchSize(), 0};
    std::shared_ptr<qsplit::bench::PlainCopy> copy = qsplit::bench::PlainCopy::create(**broker, o, id);
    auto stop = std::make_shared<std::atomic<bool>>(false);
    auto thread = std::make_shared<std::thread>([copy, stop] { copy->run([stop](int) { return !*stop; }); });
    return std::pair{copy->topics(), std::function<void()>([copy, stop, thread] { *stop = true; thread->join(); })};
  });
  for (bool exactly_once : {false, true}) {
    std::string name = std::to_string(r.sessions) + " sessions, " + (exactly_once ? "exactly once" : "at least once");
    measure(r, **broker, name, [&](const std::string& original) {
      std::string id = qsplit::SecureRandom::instance().digits(8);
      std::vector<std::string> topics = {"lat-fallback-" + id};
      std::vector<qsplit::core::SessionRoute> routes;
      for (int i = 0; i < r.sessions; ++i) {
        topics.push_back("lat-s" + std::to_string(i) + "-" + id);
        auto filter = qsplit::core::Filter::compile({{"user", "^user-" + std::to_string(i * 100 / r.sessions) + "$"}});
        routes.push_back({topics.back(), *filter, qsplit::core::QueueMode::kSteal, topics.back()});
      }
      for (const auto& t : topics) (void)(*broker)->admin().createLike(original, t);
      auto router = std::make_shared<qsplit::core::Router>(*qsplit::core::RouteTable::build(routes, topics[0], 1));
      qsplit::engine::ForwarderOptions options;
      options.delivery = exactly_once ? qsplit::engine::Delivery::kExactlyOnce : qsplit::engine::Delivery::kAtLeastOnce;
      auto forwarder = std::make_shared<qsplit::engine::Forwarder>(**broker, original, "lat-qsplit-" + id, *router, options);
      if (!forwarder->start()) std::exit(1);
      return std::pair{topics, std::function<void()>([forwarder, router] { forwarder->stop(); })};
    });
  }
  return 0;
}
