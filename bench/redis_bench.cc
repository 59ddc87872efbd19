// Redis Streams forwarding throughput and added latency, end to end on a real Redis
// (scripts/redis.sh): qsplit's forwarder with 0, 1 and 10 sessions against a plain copy
// written on the same client (hiredis, through qsplit's RedisConnection): XREADGROUP a batch,
// XADD each entry with its fields to the copy stream (pipelined), XACK the batch once every
// add was answered. Same server, same run, each on a freshly pre-loaded stream. Prints two
// Markdown tables.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <thread>

#include "bench/forward_run.h"
#include "brokers/redis/redis_broker.h"
#include "brokers/redis/redis_connection.h"
#include "brokers/redis/redis_source.h"
#include "common/random.h"
#include "engine/forwarder.h"

namespace {

using Clock = std::chrono::steady_clock;
using qsplit::redis::RedisAddress;
using qsplit::redis::RedisBroker;
using qsplit::redis::RedisConnection;
constexpr std::size_t kBatch = 500;  // qsplit's batch for Redis (RedisBroker::batchSize)
const std::string kGroup = "workers";

void check(bool ok, const std::string& what) {
  if (ok) return;
  std::fprintf(stderr, "redis_bench: %s\n", what.c_str());
  std::exit(1);
}

RedisConnection connect(const RedisAddress& address) {
  auto c = RedisConnection::connect(address);
  check(c.has_value(), "connect");
  return std::move(c).value();
}

// A stream with the workers' group, holding `messages` entries of 20 users with a payload
// field of `size` bytes.
std::string preload(const RedisAddress& address, const std::string& name, int messages, int size) {
  RedisConnection c = connect(address);
  auto made = c.command({"XGROUP", "CREATE", name, kGroup, "0", "MKSTREAM"});
  check(made && !made->isError(), "create " + name);
  for (int i = 0; i < messages; ++i)
    c.append({"XADD", name, "*", "user", "user-" + std::to_string(i % 20), "tenant", "acme", "payload",
              std::string(static_cast<std::size_t>(size), 'x')});
  for (int i = 0; i < messages; ++i) check(c.read().has_value(), "preload " + name);
  return name;
}

// The baseline, by hand on the same client: read a batch in the group, add each entry to the
// copy stream (pipelined), wait for every answer, acknowledge the batch with one XACK.
double plainCopy(const RedisAddress& address, const std::string& from, const std::string& to, int messages) {
  RedisConnection in = connect(address), out = connect(address);
  int copied = 0;
  auto start = Clock::now();
  while (copied < messages) {
    auto reply = in.command({"XREADGROUP", "GROUP", kGroup, "plain", "COUNT", std::to_string(kBatch), "BLOCK",
                             "1000", "STREAMS", from, ">"});
    check(reply.has_value() && !reply->isError(), "read");
    if (reply->isNil() || reply->elements.empty()) continue;
    auto entries = qsplit::redis::entriesToMessages(reply->elements[0].elements[1]);
    std::vector<std::string> ack = {"XACK", from, kGroup};
    for (const auto& m : entries) {
      out.append(qsplit::redis::xadd(to, m));
      ack.push_back(m.receipt);
    }
    for (std::size_t i = 0; i < entries.size(); ++i) check(out.read().has_value(), "add");
    check(in.command(ack).has_value(), "ack");
    copied += static_cast<int>(entries.size());
  }
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Median milliseconds from adding one entry (answered) to reading it from `read` in the group.
double latency(RedisBroker& b, const std::string& write, const std::string& read, int samples) {
  auto sink = b.openSink(write);
  auto source = b.openSource(read, kGroup);
  check(sink.has_value() && source.has_value(), "latency clients");
  std::vector<double> ms;
  for (int i = 0; i < samples; ++i) {
    std::vector<qsplit::core::Message> one(1);
    one[0].attributes = {{"user", "user-19", ""}, {"payload", "ping", ""}};
    auto start = Clock::now();
    check((*sink)->send(one).has_value(), "latency send");
    std::vector<qsplit::core::Message> got;
    while (got.empty()) {
      auto batch = (*source)->receive(1, std::chrono::seconds(5));
      check(batch.has_value(), "latency receive");
      got = std::move(*batch);
    }
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    check((*source)->ack(got).has_value(), "latency ack");
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Redis Streams forwarding benchmark"};
  std::string url;
  int messages = 200000, size = 256, repeat = 3;
  app.add_option("--url", url)->required();
  app.add_option("--messages", messages);
  app.add_option("--size", size);
  app.add_option("--repeat", repeat, "runs of each pair; each line is one pair, the copy just before qsplit");
  CLI11_PARSE(app, argc, argv);
  auto address = RedisAddress::parse(url);
  check(address.has_value(), "bad --url");
  auto made = RedisBroker::create({*address});
  check(made.has_value(), "connect");
  RedisBroker& b = **made;
  std::string id = qsplit::SecureRandom::instance().digits(6);

  std::printf("| run | sessions | plain copy entries/s | qsplit entries/s | ratio |\n|---:|---:|---:|---:|---:|\n");
  for (int run = 1; run <= repeat; ++run) {
    for (int sessions : {0, 1, 10}) {
      std::string tag = id + "-" + std::to_string(run) + "-" + std::to_string(sessions);
      std::string src = preload(*address, "bench:plain:" + tag, messages, size);
      std::string dst = preload(*address, "bench:plain-copy:" + tag, 0, size);
      double plain = messages / plainCopy(*address, src, dst, messages);
      std::string original = preload(*address, "bench:original:" + tag, messages, size);
      std::vector<std::string> to{"bench:fallback:" + tag};
      for (int i = 0; i < sessions; ++i) to.push_back("bench:session:" + tag + "-" + std::to_string(i));
      for (const auto& t : to) check(b.admin().createLike(original, t).has_value(), "create " + t);
      double rate = messages / qsplit::bench::forwardRun(b, original, to, messages, kGroup);
      std::printf("| %d | %d | %.0f | %.0f | %.2f |\n", run, sessions, plain, rate, rate / plain);
      for (const auto& t : to) (void)b.admin().remove(t);
      for (const auto& t : {src, dst, original}) (void)b.admin().remove(t);
      std::fflush(stdout);
    }
  }

  // Added latency: one entry at a time through the forwarder, against the same entry added
  // straight to the stream it is read from.
  std::string direct = preload(*address, "bench:direct:" + id, 0, size);
  std::string original = preload(*address, "bench:lat:" + id, 0, size);
  std::string fallback = "bench:lat-fallback:" + id;
  check(b.admin().createLike(original, fallback).has_value(), "create fallback");
  double straight = latency(b, direct, direct, 300);
  qsplit::core::Router router(*qsplit::core::RouteTable::build({}, fallback, 1));
  qsplit::engine::ForwarderOptions options;
  options.delivery = qsplit::engine::Delivery::kAtLeastOnce;
  options.wait = std::chrono::milliseconds(1000);
  qsplit::engine::Forwarder forwarder(b, original, kGroup, router, options);
  check(forwarder.start().has_value(), "start forwarder");
  double through = latency(b, original, fallback, 300);
  forwarder.stop();
  std::printf("\n| path | median ms, add to read |\n|---|---:|\n");
  std::printf("| added to the stream read | %.2f |\n| through qsplit's forwarder | %.2f |\n", straight, through);
  std::printf("| added by forwarding | %.2f |\n", through - straight);
  for (const auto& t : {direct, original, fallback}) (void)b.admin().remove(t);
  return 0;
}
