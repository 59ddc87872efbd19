// Kafka forwarding throughput, end to end on a real broker: qsplit's forwarder (at least
// once, and exactly once in transactions) with 1, 10 and 100 sessions, against a plain
// consume-and-produce copy written directly on librdkafka with the same settings (acks=all,
// idempotence, linger.ms=5, qsplit's batch size, a synchronous commit after each batch's
// delivery), measured in the same run on the same pre-loaded topic. Each run reads the
// topic with a fresh consumer group; the clock starts at its first record.
#include <CLI/CLI.hpp>
#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <thread>

#include "bench/plain_copy.h"
#include "brokers/kafka/kafka_broker.h"
#include "common/random.h"
#include "engine/forwarder.h"

namespace {

using Clock = std::chrono::steady_clock;
using qsplit::kafka::KafkaBroker;

struct Setup {
  std::string bootstrap;
  std::string original;
  int records = 200000;
  int size = 1024;
  int partitions = 2;
  std::size_t batch = 0;  // records per receive; 0: qsplit's default for Kafka
};

double seconds(Clock::time_point from) {
  return std::chrono::duration<double>(Clock::now() - from).count();
}

void check(bool ok, const std::string& what) {
  if (ok) return;
  std::fprintf(stderr, "kafka_bench: %s\n", what.c_str());
  std::exit(1);
}

void preload(KafkaBroker& broker, const Setup& s) {
  auto sink = broker.openSink(s.original);
  check(sink.has_value(), "open sink");
  std::vector<qsplit::core::Message> batch;
  for (int i = 0; i < s.records; ++i) {
    qsplit::core::Message m;
    m.body = std::string(static_cast<std::size_t>(s.size), 'x');
    m.key = "k" + std::to_string(i % 64);
    m.partition = i % s.partitions;
    // Half of the records belong to one of the (up to 100) sessions' users.
    m.attributes = {{"user", "user-" + std::to_string(i % 200), ""}, {"tenant", "acme", ""}};
    batch.push_back(std::move(m));
    if (batch.size() == 1000) {
      check((*sink)->send(batch).has_value(), "preload");
      batch.clear();
    }
  }
  if (!batch.empty()) check((*sink)->send(batch).has_value(), "preload");
}

double plainCopy(KafkaBroker& broker, const Setup& s, const std::string& id, int fanout = 0) {
  qsplit::bench::CopyOptions o{s.bootstrap, s.original, "bench-plain-" + id, s.partitions, s.batch, fanout};
  auto copy = qsplit::bench::PlainCopy::create(broker, o, id);
  Clock::time_point start;
  int copied = copy->run([&](int done) {
    if (done == 0) start = Clock::now();
    return done < s.records;
  });
  double took = seconds(start);
  copy->removeTopics(broker);
  return copied / took;
}

double forward(KafkaBroker& broker, const Setup& s, int sessions, bool exactly_once,
               const std::string& id) {
  std::string fallback = "bench-fallback-" + id;
  check(broker.admin().createLike(s.original, fallback).has_value(), "create fallback");
  std::vector<qsplit::core::SessionRoute> routes;
  std::vector<std::string> topics = {fallback};
  for (int i = 0; i < sessions; ++i) {
    std::string topic = "bench-s" + std::to_string(i) + "-" + id;
    check(broker.admin().createLike(s.original, topic).has_value(), "create session topic");
    auto filter = qsplit::core::Filter::compile({{"user", "^user-" + std::to_string(i * 100 / sessions) + "$"}});
    routes.push_back({topic, *filter, qsplit::core::QueueMode::kSteal, topic});
    topics.push_back(topic);
  }
  qsplit::core::Router router(*qsplit::core::RouteTable::build(routes, fallback, 1));
  std::atomic<bool> started{false};
  Clock::time_point start;
  qsplit::engine::ForwarderOptions options;
  options.delivery = exactly_once ? qsplit::engine::Delivery::kExactlyOnce
                                  : qsplit::engine::Delivery::kAtLeastOnce;
  options.batch_size = s.batch;
  qsplit::engine::Forwarder forwarder(
      broker, s.original, "bench-qsplit-" + id, router, options,
      [&](const qsplit::core::Message&, const qsplit::core::RouteTable&, const qsplit::core::Decision&) {
        if (!started.exchange(true)) start = Clock::now();
      });
  check(forwarder.start().has_value(), "start forwarder");
  while (forwarder.counts().acked < static_cast<uint64_t>(s.records))
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  double took = seconds(start);
  forwarder.stop();
  for (const auto& t : topics) (void)broker.admin().remove(t);
  return s.records / took;
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Kafka forwarding throughput against a plain copy"};
  Setup s;
  app.add_option("--bootstrap", s.bootstrap)->required();
  app.add_option("--records", s.records);
  app.add_option("--size", s.size);
  app.add_option("--batch", s.batch, "records per receive, for both the copy and qsplit");
  std::vector<int> counts = {1, 10, 100};
  int repeat = 3;
  app.add_option("--repeat", repeat, "runs of each path per session count; the median is reported");
  app.add_option("--sessions", counts, "session counts to run");
  CLI11_PARSE(app, argc, argv);
  auto broker = KafkaBroker::create({{{"bootstrap.servers", s.bootstrap}, {"log_level", "3"}}});
  check(broker.has_value(), broker ? "" : broker.error().message());
  bool default_batch = s.batch == 0;
  if (default_batch) s.batch = (*broker)->batchSize();
  std::string run = qsplit::SecureRandom::instance().digits(6);
  s.original = "bench-original-" + run;
  check((*broker)->kafkaAdmin().createTopic(s.original, {s.partitions, 1, {}}).has_value(), "create original");
  preload(**broker, s);
  std::printf("Batches of %zu records for every path%s.\n\n", s.batch,
              default_batch ? " (qsplit's default for Kafka)" : "");
  std::printf("| sessions | plain copy rec/s | plain fan-out rec/s | qsplit at least once rec/s | ratio to copy | ratio to fan-out | qsplit exactly once rec/s | ratio to copy | ratio to fan-out |\n");
  std::printf("|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  int n = 0;
  auto id = [&] { return run + "-" + std::to_string(n++); };
  for (int sessions : counts) {
    // The four paths take turns, `repeat` times, and each reports its median: on a shared
    // machine a single run of one path can be off by half.
    std::vector<double> plain, fan, alo, eo;
    for (int r = 0; r < repeat; ++r) {
      plain.push_back(plainCopy(**broker, s, id()));
      fan.push_back(plainCopy(**broker, s, id(), sessions));
      alo.push_back(forward(**broker, s, sessions, false, id()));
      eo.push_back(forward(**broker, s, sessions, true, id()));
      std::fprintf(stderr, "%d sessions, run %d: copy %.0f, fan-out %.0f, at least once %.0f, exactly once %.0f\n",
                   sessions, r + 1, plain.back(), fan.back(), alo.back(), eo.back());
    }
    double p = median(plain), f = median(fan), a = median(alo), e = median(eo);
    std::printf("| %d | %.0f | %.0f | %.0f | %.2f | %.2f | %.0f | %.2f | %.2f |\n", sessions, p, f,
                a, a / p, a / f, e, e / p, e / f);
    std::fflush(stdout);
  }
  (void)(*broker)->admin().remove(s.original);
  return 0;
}
