// Redis Pub/Sub: the latency qsplit adds, end to end on a real Redis (scripts/redis.sh). A
// message is published (JSON, 256 bytes) and timed until a subscriber has it: straight on the
// channel it subscribes to, against through qsplit's forwarder (subscribed to the original,
// filtering on the payload's fields, publishing to the fallback), with 0 and 10 sessions (none
// of which the message matches). Both paths use the same client (hiredis, through qsplit's
// RedisConnection and RedisSubscriber), one message at a time. Prints Markdown tables.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>

#include "brokers/redis/redis_channels.h"
#include "common/random.h"
#include "engine/forwarder.h"
#include "jq/json_payload.h"

namespace {

using Clock = std::chrono::steady_clock;
using qsplit::redis::RedisAddress;
using qsplit::redis::RedisConnection;

void check(bool ok, const std::string& what) {
  if (ok) return;
  std::fprintf(stderr, "redis_pubsub_bench: %s\n", what.c_str());
  std::exit(1);
}

// Every sample's milliseconds from PUBLISH on `to` to the subscriber of `from` having it, sorted.
std::vector<double> latencies(qsplit::redis::RedisChannelBroker& b, const RedisAddress& address,
                              const std::string& to, const std::string& from, int samples) {
  auto subscriber = b.openSource(from, "");
  auto publisher = RedisConnection::connect(address);
  check(subscriber.has_value() && publisher.has_value(), "clients");
  std::vector<double> ms;
  std::string padding(200, 'x');
  for (int i = 0; i < samples; ++i) {
    std::string body = R"({"user":"user-19","tenant":"acme","seq":)" + std::to_string(i) + R"(,"pad":")" + padding + "\"}";
    auto start = Clock::now();
    auto sent = publisher->command({"PUBLISH", to, body});
    check(sent.has_value() && !sent->isError(), "publish");
    for (bool got = false; !got;) {
      auto batch = (*subscriber)->receive(1, std::chrono::seconds(5));
      check(batch.has_value() && !batch->empty(), "receive");
      got = batch->back().body == body;
    }
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
  }
  std::sort(ms.begin(), ms.end());
  return ms;
}

double at(const std::vector<double>& sorted, double quantile) {
  return sorted[static_cast<std::size_t>(quantile * static_cast<double>(sorted.size() - 1))];
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Redis Pub/Sub latency benchmark"};
  std::string url;
  int samples = 2000, repeat = 3;
  app.add_option("--url", url)->required();
  app.add_option("--samples", samples);
  app.add_option("--repeat", repeat, "runs; each measures straight, then through qsplit with 0 and 10 sessions");
  CLI11_PARSE(app, argc, argv);
  auto address = RedisAddress::parse(url);
  check(address.has_value(), "bad --url");
  auto made = qsplit::redis::RedisChannelBroker::create(*address, qsplit::redis::ChannelMode::kChannel);
  check(made.has_value(), "connect");
  auto& b = **made;
  std::string id = qsplit::SecureRandom::instance().digits(6);

  (void)latencies(b, *address, "bench:warm:" + id, "bench:warm:" + id, samples / 4);  // warm up
  std::printf("| run | path | sessions | median ms | p99 ms | median ratio to straight | added ms |\n"
              "|---:|---|---:|---:|---:|---:|---:|\n");
  for (int run = 1; run <= repeat; ++run) {
    std::string tag = id + "-" + std::to_string(run);
    auto straight = latencies(b, *address, "bench:direct:" + tag, "bench:direct:" + tag, samples);
    std::printf("| %d | straight | - | %.3f | %.3f | 1.00 | |\n", run, at(straight, 0.5), at(straight, 0.99));
    for (int sessions : {0, 10}) {
      std::string original = "bench:original:" + tag + "-" + std::to_string(sessions);
      std::string fallback = "bench:fallback:" + tag + "-" + std::to_string(sessions);
      std::vector<qsplit::core::SessionRoute> routes;
      for (int i = 0; i < sessions; ++i) {
        auto filter = qsplit::core::Filter::compile({{"user", "^user-" + std::to_string(i) + "$"}});
        routes.push_back({"s" + std::to_string(i), *filter, qsplit::core::QueueMode::kSteal,
                          "bench:session:" + tag + "-" + std::to_string(i)});
      }
      qsplit::core::Router router(*qsplit::core::RouteTable::build(routes, fallback, 1));
      qsplit::engine::ForwarderOptions options;
      options.delivery = qsplit::engine::Delivery::kAtLeastOnce;
      options.view = qsplit::jq::useJsonPayloadFields;
      qsplit::engine::Forwarder forwarder(b, original, "", router, options);
      check(forwarder.start().has_value(), "start forwarder");
      auto through = latencies(b, *address, original, fallback, samples);
      forwarder.stop();
      std::printf("| %d | through qsplit | %d | %.3f | %.3f | %.2f | %.3f |\n", run, sessions, at(through, 0.5),
                  at(through, 0.99), at(through, 0.5) / at(straight, 0.5), at(through, 0.5) - at(straight, 0.5));
    }
  }
  return 0;
}
