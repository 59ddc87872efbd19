// BullMQ forwarding throughput, end to end on a real Redis (scripts/redis.sh): qsplit's
// forwarder with 0, 1 and 10 sessions (filters on the job data's `user` field) against a plain
// take-add-remove loop on the same client (qsplit's BullMQ source and sink, the bullmq
// package's own scripts) without the engine: take up to 100 jobs, add them to the copy queue,
// remove them once every add was answered. Same server, same run, each on a freshly pre-loaded
// queue. Prints a Markdown table.
#include <CLI/CLI.hpp>

#include <cstdio>

#include "bench/forward_run.h"
#include "brokers/redis/bullmq_broker.h"
#include "common/random.h"
#include "jq/json_payload.h"

namespace {

using Clock = std::chrono::steady_clock;
using qsplit::redis::BullmqBroker;
constexpr std::size_t kBatch = 100;  // qsplit's batch for BullMQ (BullmqBroker::batchSize)

void check(bool ok, const std::string& what) {
  if (ok) return;
  std::fprintf(stderr, "bullmq_bench: %s\n", what.c_str());
  std::exit(1);
}

// A queue holding `jobs` jobs whose data has user (20 users), tenant and a payload of `size`
// bytes, added with bullmq's add script.
std::string preload(BullmqBroker& b, const std::string& name, int jobs, int size) {
  auto sink = b.openSink(name);
  check(sink.has_value(), "open " + name);
  std::vector<qsplit::core::Message> pending;
  for (int i = 0; i < jobs; ++i) {
    qsplit::core::Message m;
    m.id = "job-" + std::to_string(i);
    m.key = "send";
    m.timestamp_ms = 1;
    m.body = "{\"user\":\"user-" + std::to_string(i % 20) + "\",\"tenant\":\"acme\",\"payload\":\"" +
             std::string(static_cast<std::size_t>(size), 'x') + "\"}";
    pending.push_back(std::move(m));
    if (pending.size() < 1000 && i + 1 < jobs) continue;
    check((*sink)->send(pending).has_value(), "preload " + name);
    pending.clear();
  }
  return name;
}

// The baseline: the same client's take, add and remove, in a loop.
double plainCopy(BullmqBroker& b, const std::string& from, const std::string& to, int jobs) {
  auto source = b.openSource(from, "");
  auto sink = b.openSink(to);
  check(source.has_value() && sink.has_value(), "plain copy clients");
  int copied = 0;
  auto start = Clock::now();
  while (copied < jobs) {
    auto batch = (*source)->receive(kBatch, std::chrono::seconds(1));
    check(batch.has_value(), "take");
    if (batch->empty()) continue;
    check((*sink)->send(*batch).has_value(), "add");
    check((*source)->ack(*batch).has_value(), "remove");
    copied += static_cast<int>(batch->size());
  }
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"BullMQ forwarding benchmark"};
  std::string url;
  int jobs = 20000, size = 256, repeat = 3;
  app.add_option("--url", url)->required();
  app.add_option("--jobs", jobs);
  app.add_option("--size", size);
  app.add_option("--repeat", repeat, "runs of each pair; each line is one pair, the copy just before qsplit");
  CLI11_PARSE(app, argc, argv);
  auto address = qsplit::redis::RedisAddress::parse(url);
  check(address.has_value(), "bad --url");
  auto made = BullmqBroker::create({*address});
  check(made.has_value(), "connect");
  BullmqBroker& b = **made;
  std::string id = qsplit::SecureRandom::instance().digits(6);

  std::printf("| run | sessions | plain copy jobs/s | qsplit jobs/s | ratio |\n|---:|---:|---:|---:|---:|\n");
  for (int run = 1; run <= repeat; ++run) {
    for (int sessions : {0, 1, 10}) {
      std::string tag = id + "-" + std::to_string(run) + "-" + std::to_string(sessions);
      std::string src = preload(b, "bench-plain-" + tag, jobs, size);
      double plain = jobs / plainCopy(b, src, "bench-plain-copy-" + tag, jobs);
      std::string original = preload(b, "bench-original-" + tag, jobs, size);
      std::vector<std::string> to{"bench-fallback-" + tag};
      for (int i = 0; i < sessions; ++i) to.push_back("bench-session-" + tag + "-" + std::to_string(i));
      double rate = jobs / qsplit::bench::forwardRun(b, original, to, jobs, "", qsplit::jq::useJsonPayloadFields);
      std::printf("| %d | %d | %.0f | %.0f | %.2f |\n", run, sessions, plain, rate, rate / plain);
      for (const auto& t : to) (void)b.admin().remove(t);
      for (const auto& t : {src, "bench-plain-copy-" + tag, original}) (void)b.admin().remove(t);
      std::fflush(stdout);
    }
  }
  return 0;
}
