// Kafka forwarding throughput, end to end on a real broker: qsplit's forwarder (at least
// once, and exactly once in transactions) with 1, 10 and 100 sessions, against a plain
// consume-and-produce copy written directly on librdkafka with the same settings (acks=all,
// idempotence, linger.ms=5, qsplit's batch size, a synchronous commit after each batch's
// delivery, the same prefetch), measured in the same run on the same pre-loaded topic. Each
// run reads the topic with a fresh consumer group. Each clock starts once the warm-up's
// records are through (the first writes to new topics cost the broker more) and stops at
// the last record; the rate counts the records in between. The CPU time the process spent
// per record in the same window is reported too: it varies less than the rates.
#include <CLI/CLI.hpp>
#include <librdkafka/rdkafka.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <thread>

#include "bench/plain_copy.h"
#include "brokers/kafka/kafka_broker.h"
#include "common/random.h"
#include "engine/forwarder.h"
#include "jq/documents.h"
#include "jq/jq_matcher.h"

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
  int warmup = 20000;     // records through before the clock starts
  std::string prefetch;   // queued.max.messages.kbytes of every consumer; empty: librdkafka's
  bool overlap = true;    // qsplit receives the next batch while the last one's sends are out
  std::string jq_worker;  // set: the sessions' filters are jq programs run by this worker
  std::size_t jq_workers = 1;  // worker processes sharing each batch
  // With jq: each program in parentheses, which qsplit does not split into a left side that
  // sessions share (jq/comparison.h): every program runs whole, as any that is not a plain
  // comparison does.
  bool jq_whole = false;
};

// The jq program of the session for `user`.
std::string jqProgram(const Setup& s, const std::string& user) {
  std::string program = ".headers.user == \"" + user + "\"";
  return s.jq_whole ? "(" + program + ")" : program;
}

// CPU time the whole machine has spent so far (every process, the broker's and the jq
// workers' too), in seconds, from /proc/stat.
double machineCpu() {
  std::FILE* f = std::fopen("/proc/stat", "r");
  if (!f) return 0;
  unsigned long long user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0,
                     steal = 0;
  int got = std::fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &user, &nice, &system,
                        &idle, &iowait, &irq, &softirq, &steal);
  std::fclose(f);
  if (got < 8) return 0;
  return static_cast<double>(user + nice + system + irq + softirq + steal) /
         static_cast<double>(sysconf(_SC_CLK_TCK));
}

// One path's run: records per second after the warm-up, how long the warm-up took from
// the first record, and the CPU time this process (its own threads and librdkafka's) spent
// per record after the warm-up.
struct Rate {
  double per_second = 0;
  double warmup_seconds = 0;
  double cpu_microseconds = 0;
  double machine_microseconds = 0;  // CPU time of the whole machine (both cores) per record
};

// CPU time of the whole process so far, in seconds.
double processCpu() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// Follows a path's count of records through, as it grows.
class Stopwatch {
 public:
  explicit Stopwatch(int warmup) : warmup_(warmup) {}
  void see(int done) {
    auto now = Clock::now();
    if (!started_) {
      started_ = true;
      first_ = now;
    }
    if (warm_count_ < 0 && done >= warmup_) {
      warm_count_ = done;
      warm_ = now;
      warm_cpu_ = processCpu();
      warm_machine_ = machineCpu();
    }
    if (done > last_count_) {
      last_cpu_ = processCpu();
      last_machine_ = machineCpu();
    }
    last_count_ = done;
    last_ = now;
  }
  Rate rate() const {
    double took = std::chrono::duration<double>(last_ - warm_).count();
    double warmup = std::chrono::duration<double>(warm_ - first_).count();
    int records = last_count_ - warm_count_;
    return {records / took, warmup, (last_cpu_ - warm_cpu_) * 1e6 / records,
            (last_machine_ - warm_machine_) * 1e6 / records};
  }

 private:
  int warmup_;
  bool started_ = false;
  int warm_count_ = -1;
  int last_count_ = 0;
  Clock::time_point first_, warm_, last_;
  double warm_cpu_ = 0, last_cpu_ = 0;
  double warm_machine_ = 0, last_machine_ = 0;
};

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

// librdkafka 2.0 stops fetching for a whole second once a consumer's prefetch queue is full
// (fetch.queue.backoff.ms came in 2.1), so every path gets the same prefetch.
std::vector<std::pair<std::string, std::string>> prefetch(const Setup& s) {
  if (s.prefetch.empty()) return {};
  return {{"queued.max.messages.kbytes", s.prefetch}, {"queued.min.messages", "10000000"}};
}

Rate plainCopy(KafkaBroker& broker, const Setup& s, const std::string& id, int fanout = 0) {
  qsplit::bench::CopyOptions o{s.bootstrap, s.original, "bench-plain-" + id, s.partitions,
                               s.batch, fanout, prefetch(s)};
  auto copy = qsplit::bench::PlainCopy::create(broker, o, id);
  Stopwatch watch(s.warmup);
  copy->run([&](int done) {
    watch.see(done);
    return done < s.records;
  });
  copy->removeTopics(broker);
  return watch.rate();
}

// The Kafka adapter with each batch awaited and settled before the next is received, as
// qsplit forwarded before 2026-11-27 (and still does on brokers without rounds).
class OneBatchAtATime final : public qsplit::core::Broker {
 public:
  explicit OneBatchAtATime(KafkaBroker& inner) : inner_(inner) {}
  qsplit::core::Admin& admin() override { return inner_.admin(); }
  qsplit::Result<std::unique_ptr<qsplit::core::Source>> openSource(
      const std::string& name, const std::string& group) override {
    return inner_.openSource(name, group);
  }
  qsplit::Result<std::unique_ptr<qsplit::core::Sink>> openSink(const std::string& name) override {
    return inner_.openSink(name);
  }
  qsplit::core::NameRules nameRules() const override { return inner_.nameRules(); }
  std::size_t batchSize() const override { return inner_.batchSize(); }
  qsplit::Result<std::unique_ptr<qsplit::core::TransactionalPipe>> openTransactionalPipe(
      const std::string& name, const std::string& group, const std::string& instance) override {
    return inner_.openTransactionalPipe(name, group, instance);
  }

 private:
  KafkaBroker& inner_;
};

Rate forward(KafkaBroker& kafka, const Setup& s, int sessions, bool exactly_once,
             const std::string& id) {
  OneBatchAtATime one_at_a_time(kafka);
  qsplit::core::Broker& broker =
      s.overlap ? static_cast<qsplit::core::Broker&>(kafka) : one_at_a_time;
  std::string fallback = "bench-fallback-" + id;
  check(broker.admin().createLike(s.original, fallback).has_value(), "create fallback");
  std::vector<qsplit::core::SessionRoute> routes;
  std::vector<std::string> topics = {fallback};
  for (int i = 0; i < sessions; ++i) {
    std::string topic = "bench-s" + std::to_string(i) + "-" + id;
    check(broker.admin().createLike(s.original, topic).has_value(), "create session topic");
    std::string user = "user-" + std::to_string(i * 100 / sessions);
    auto filter = s.jq_worker.empty() ? *qsplit::core::Filter::compile({{"user", "^" + user + "$"}})
                                      : qsplit::core::Filter().withContent(jqProgram(s, user));
    routes.push_back({topic, filter, qsplit::core::QueueMode::kSteal, topic});
    topics.push_back(topic);
  }
  std::shared_ptr<qsplit::jq::JqMatcher> content;
  if (!s.jq_worker.empty())
    content = std::make_shared<qsplit::jq::JqMatcher>(
        qsplit::jq::JqMatcherOptions{s.jq_worker, {}, qsplit::jq::kafkaDocument(s.original), {},
                                     s.jq_workers});
  qsplit::core::Router router(*qsplit::core::RouteTable::build(routes, fallback, 1, content));
  std::atomic<bool> started{false};
  qsplit::engine::ForwarderOptions options;
  options.delivery = exactly_once ? qsplit::engine::Delivery::kExactlyOnce
                                  : qsplit::engine::Delivery::kAtLeastOnce;
  options.batch_size = s.batch;
  qsplit::engine::Forwarder forwarder(
      broker, s.original, "bench-qsplit-" + id, router, options,
      [&](const qsplit::core::Message&, const qsplit::core::RouteTable&, const qsplit::core::Decision&) {
        started = true;
      });
  check(forwarder.start().has_value(), "start forwarder");
  while (!started) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  Stopwatch watch(s.warmup);
  for (int done = 0; done < s.records;) {
    watch.see(done);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    done = static_cast<int>(forwarder.counts().acked);
  }
  watch.see(s.records);
  forwarder.stop();
  for (const auto& t : topics) (void)broker.admin().remove(t);
  return watch.rate();
}

double median(const std::vector<Rate>& runs, double Rate::*field = &Rate::per_second) {
  std::vector<double> values;
  for (const auto& r : runs) values.push_back(r.*field);
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

// Exactly once with N sessions whose filters are jq programs, run by `workers` worker
// processes, as comparisons sharing their left side and as whole programs, against the same N
// sessions with attribute filters, the three taking turns; one table row per N.
int compareJq(KafkaBroker& broker, Setup s, const std::vector<int>& counts, int repeat,
              const std::string& run, const std::string& worker, std::size_t workers) {
  std::printf("| sessions | attribute filters rec/s | jq rec/s | ratio | jq, each program whole rec/s | ratio |\n"
              "|---:|---:|---:|---:|---:|---:|\n");
  int n = 0;
  std::string machine_rows;
  s.jq_workers = workers;
  for (int sessions : counts) {
    std::vector<Rate> attribute, shared, whole;
    for (int r = 0; r < repeat; ++r) {
      s.jq_worker.clear();
      attribute.push_back(forward(broker, s, sessions, true, run + "-a" + std::to_string(n++)));
      s.jq_worker = worker;
      s.jq_whole = false;
      shared.push_back(forward(broker, s, sessions, true, run + "-j" + std::to_string(n++)));
      s.jq_whole = true;
      whole.push_back(forward(broker, s, sessions, true, run + "-w" + std::to_string(n++)));
      std::fprintf(stderr, "%d sessions, run %d: attribute %.0f, jq %.0f, jq whole %.0f\n", sessions,
                   r + 1, attribute.back().per_second, shared.back().per_second, whole.back().per_second);
    }
    double a = median(attribute), j = median(shared), w = median(whole);
    std::printf("| %d | %.0f | %.0f | %.2f | %.0f | %.2f |\n", sessions, a, j, j / a, w, w / a);
    char row[160];
    std::snprintf(row, sizeof row, "| %d | %.1f | %.1f | %.1f |\n", sessions,
                  median(attribute, &Rate::machine_microseconds), median(shared, &Rate::machine_microseconds),
                  median(whole, &Rate::machine_microseconds));
    machine_rows += row;
  }
  std::printf("\nCPU time of the whole machine (broker, forwarder and jq workers; both cores) per "
              "record, microseconds:\n\n| sessions | attribute filters | jq | jq, each program whole |\n"
              "|---:|---:|---:|---:|\n%s", machine_rows.c_str());
  (void)broker.admin().remove(s.original);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Kafka forwarding throughput against a plain copy"};
  Setup s;
  app.add_option("--bootstrap", s.bootstrap)->required();
  app.add_option("--records", s.records);
  app.add_option("--size", s.size);
  app.add_option("--batch", s.batch, "records per receive, for both the copy and qsplit");
  app.add_option("--warmup", s.warmup, "records through before each clock starts");
  app.add_option("--prefetch-kbytes", s.prefetch,
                 "queued.max.messages.kbytes of every path's consumer (default: librdkafka's)");
  std::vector<int> counts = {1, 10, 100};
  int repeat = 3;
  app.add_option("--repeat", repeat, "runs of each path per session count; the median is reported");
  app.add_option("--sessions", counts, "session counts to run");
  std::size_t producers = qsplit::kafka::KafkaOptions{}.producers;
  app.add_option("--producers", producers, "producers qsplit spreads destination topics over");
  std::string jq_worker;
  app.add_option("--jq", jq_worker,
                 "only compare, exactly once, sessions with jq filters (this worker) and with "
                 "attribute filters on the same header");
  std::size_t jq_workers = 2;
  app.add_option("--jq-workers", jq_workers, "with --jq: the jq worker processes (qsplit's default: 2)");
  bool one_at_a_time = false;
  app.add_flag("--one-batch-at-a-time", one_at_a_time,
               "qsplit awaits each batch before receiving the next (no overlap)");
  CLI11_PARSE(app, argc, argv);
  s.overlap = !one_at_a_time;
  qsplit::kafka::Properties properties = {{"bootstrap.servers", s.bootstrap}, {"log_level", "3"}};
  for (const auto& [name, value] : prefetch(s)) properties[name] = value;
  auto broker = KafkaBroker::create({properties, std::chrono::milliseconds(30000), producers});
  check(broker.has_value(), broker ? "" : broker.error().message());
  bool default_batch = s.batch == 0;
  if (default_batch) s.batch = (*broker)->batchSize();
  std::string run = qsplit::SecureRandom::instance().digits(6);
  s.original = "bench-original-" + run;
  check((*broker)->kafkaAdmin().createTopic(s.original, {s.partitions, 1, {}}).has_value(), "create original");
  preload(**broker, s);
  std::printf("Batches of %zu records for every path%s.\n\n", s.batch,
              default_batch ? " (qsplit's default for Kafka)" : "");
  if (!jq_worker.empty()) return compareJq(**broker, s, counts, repeat, run, jq_worker, jq_workers);
  std::printf("| sessions | plain copy rec/s | plain fan-out rec/s | qsplit at least once rec/s | ratio to copy | ratio to fan-out | qsplit exactly once rec/s | ratio to copy | ratio to fan-out |\n");
  std::printf("|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  int n = 0;
  auto id = [&] { return run + "-" + std::to_string(n++); };
  std::string cpu_rows;
  for (int sessions : counts) {
    // The four paths take turns, `repeat` times, and each reports its median: on a shared
    // machine a single run of one path can be off by half.
    std::vector<Rate> plain, fan, alo, eo;
    for (int r = 0; r < repeat; ++r) {
      plain.push_back(plainCopy(**broker, s, id()));
      fan.push_back(plainCopy(**broker, s, id(), sessions));
      alo.push_back(forward(**broker, s, sessions, false, id()));
      eo.push_back(forward(**broker, s, sessions, true, id()));
      std::fprintf(stderr,
                   "%d sessions, run %d: copy %.0f (%.2f s, %.2f us), fan-out %.0f (%.2f s, "
                   "%.2f us), at least once %.0f (%.2f s, %.2f us), exactly once %.0f (%.2f s, "
                   "%.2f us)\n",
                   sessions, r + 1, plain.back().per_second, plain.back().warmup_seconds,
                   plain.back().cpu_microseconds, fan.back().per_second,
                   fan.back().warmup_seconds, fan.back().cpu_microseconds, alo.back().per_second,
                   alo.back().warmup_seconds, alo.back().cpu_microseconds, eo.back().per_second,
                   eo.back().warmup_seconds, eo.back().cpu_microseconds);
    }
    double p = median(plain), f = median(fan), a = median(alo), e = median(eo);
    std::printf("| %d | %.0f | %.0f | %.0f | %.2f | %.2f | %.0f | %.2f | %.2f |\n", sessions, p, f,
                a, a / p, a / f, e, e / p, e / f);
    std::fflush(stdout);
    double cp = median(plain, &Rate::cpu_microseconds), cf = median(fan, &Rate::cpu_microseconds);
    double ca = median(alo, &Rate::cpu_microseconds), ce = median(eo, &Rate::cpu_microseconds);
    char row[200];
    std::snprintf(row, sizeof row, "| %d | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f |\n", sessions,
                  cp, cf, ca, ca / cp, ce, ce / cp);
    cpu_rows += row;
  }
  // The rates above depend on how the 2 cores are shared with the broker; the client's own
  // CPU time per record does much less.
  std::printf("\nThis process's CPU time per record (user and system, its threads and "
              "librdkafka's), microseconds:\n\n");
  std::printf("| sessions | plain copy | plain fan-out | qsplit at least once | ratio to copy | "
              "qsplit exactly once | ratio to copy |\n");
  std::printf("|---:|---:|---:|---:|---:|---:|---:|\n%s", cpu_rows.c_str());
  (void)(*broker)->admin().remove(s.original);
  return 0;
}
