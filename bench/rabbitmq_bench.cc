// RabbitMQ forwarding throughput and added latency, end to end on a real RabbitMQ
// (scripts/rabbitmq.sh): qsplit's forwarder with 0, 1 and 10 sessions against a plain
// consume-publish copy written directly on librabbitmq (manual acks, the same prefetch,
// publisher confirms, an ack of the batch once its confirms came), in the same run on the same
// server, each on a fresh pre-loaded queue. Prints two Markdown tables.
#include <CLI/CLI.hpp>

#include <amqp.h>
#include <amqp_framing.h>

#include <algorithm>
#include <cstdio>
#include <thread>

#include "brokers/rabbitmq/rabbitmq_broker.h"
#include "brokers/rabbitmq/rabbitmq_sink.h"
#include "brokers/rabbitmq/rabbitmq_source.h"
#include "common/random.h"
#include "bench/forward_run.h"
#include "engine/forwarder.h"

namespace {

using Clock = std::chrono::steady_clock;
using qsplit::rabbitmq::RabbitBroker;
using qsplit::rabbitmq::RabbitConnection;
constexpr uint16_t kPrefetch = 1000;
constexpr std::size_t kBatch = 250;

void check(bool ok, const std::string& what) {
  if (ok) return;
  std::fprintf(stderr, "rabbitmq_bench: %s\n", what.c_str());
  std::exit(1);
}

struct Setup {
  qsplit::rabbitmq::RabbitOptions options;
  int messages = 50000;
  int size = 256;
};

std::string declare(RabbitBroker& b, const std::string& name) {
  auto c = RabbitConnection::open(b.options().settings);
  check(c.has_value(), "connect");
  amqp_queue_declare((*c)->state(), RabbitConnection::kChannel, amqp_cstring_bytes(name.c_str()), 0,
                     1, 0, 0, amqp_empty_table);
  check((*c)->check("declare").has_value(), "declare " + name);
  return name;
}

// The baseline, by hand on librabbitmq: consume up to a batch, publish each message with its
// properties to the copy queue, wait for every confirm, ack the batch with one multiple ack.
double plainCopy(const Setup& s, const std::string& from, const std::string& to) {
  auto in = RabbitConnection::open(s.options.settings);
  auto out = RabbitConnection::open(s.options.settings);
  check(in.has_value() && out.has_value(), "connect");
  amqp_connection_state_t c = (*in)->state(), p = (*out)->state();
  amqp_basic_qos(c, 1, 0, kPrefetch, 0);
  amqp_basic_consume(c, 1, amqp_cstring_bytes(from.c_str()), amqp_empty_bytes, 0, 0, 0, amqp_empty_table);
  check((*in)->check("consume").has_value(), "consume");
  amqp_confirm_select(p, 1);
  check((*out)->check("confirm").has_value(), "confirm");
  int copied = 0;
  uint64_t published = 0;
  auto start = Clock::now();
  while (copied < s.messages) {
    uint64_t last_tag = 0;
    std::size_t n = 0;
    for (; n < kBatch; ++n) {
      timeval wait{n == 0 ? 1 : 0, 0};
      amqp_maybe_release_buffers(c);
      amqp_envelope_t e;
      amqp_rpc_reply_t r = amqp_consume_message(c, &e, &wait, 0);
      if (r.reply_type != AMQP_RESPONSE_NORMAL) break;
      check(amqp_basic_publish(p, 1, amqp_empty_bytes, amqp_cstring_bytes(to.c_str()), 1, 0,
                               &e.message.properties, e.message.body) == 0, "publish");
      ++published;
      last_tag = e.delivery_tag;
      amqp_destroy_envelope(&e);
    }
    while (n > 0) {  // every confirm of this batch (the broker acks in order, often multiple)
      amqp_frame_t f;
      check(amqp_simple_wait_frame(p, &f) == 0, "confirm wait");
      if (f.frame_type != AMQP_FRAME_METHOD || f.payload.method.id != AMQP_BASIC_ACK_METHOD) continue;
      auto* ack = static_cast<amqp_basic_ack_t*>(f.payload.method.decoded);
      if (ack->delivery_tag == published) break;
    }
    if (n > 0) check(amqp_basic_ack(c, 1, last_tag, 1) == 0, "ack");
    copied += static_cast<int>(n);
  }
  return std::chrono::duration<double>(Clock::now() - start).count();
}


// Median milliseconds from publishing one message (confirmed) to receiving it from `read`.
double latency(RabbitBroker& b, const std::string& write, const std::string& read, int samples) {
  auto sink = b.openSink(write);
  auto source = b.openSource(read, "");
  check(sink.has_value() && source.has_value(), "latency clients");
  std::vector<double> ms;
  for (int i = 0; i < samples; ++i) {
    std::vector<qsplit::core::Message> one(1);
    one[0].body = "ping";
    one[0].attributes = {{"user", "user-19", "S"}};
    auto start = Clock::now();
    check((*sink)->send(one).has_value(), "latency send");
    auto got = (*source)->receive(1, std::chrono::seconds(5));
    check(got.has_value() && got->size() == 1, "latency receive");
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    check((*source)->ack(*got).has_value(), "latency ack");
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"RabbitMQ forwarding benchmark"};
  Setup s;
  std::string url;
  app.add_option("--url", url)->required();
  app.add_option("--messages", s.messages);
  app.add_option("--size", s.size);
  CLI11_PARSE(app, argc, argv);
  auto settings = qsplit::rabbitmq::RabbitSettings::fromUrl(url);
  check(settings.has_value(), "bad --url");
  s.options.settings = *settings;
  s.options.prefetch = kPrefetch;
  auto made = RabbitBroker::create(s.options);
  check(made.has_value(), "connect");
  RabbitBroker& b = **made;
  std::string id = qsplit::SecureRandom::instance().digits(6);

  std::printf("| run | sessions | messages/s | ratio to plain copy |\n|---|---|---|---|\n");
  for (int sessions : {0, 1, 10}) {
    std::string tag = id + "-" + std::to_string(sessions);
    std::string src = declare(b, "bench-plain-" + tag), dst = declare(b, "bench-plain-copy-" + tag);
    qsplit::bench::preloadUsers(b, src, s.messages, s.size, 1000, "S");
    double plain = s.messages / plainCopy(s, src, dst);
    std::printf("| plain copy | - | %.0f | 1.00 |\n", plain);
    std::string original = declare(b, "bench-original-" + tag);
    std::vector<std::string> to{declare(b, "bench-fallback-" + tag)};
    for (int i = 0; i < sessions; ++i) to.push_back(declare(b, "bench-session-" + tag + "-" + std::to_string(i)));
    qsplit::bench::preloadUsers(b, original, s.messages, s.size, 1000, "S");
    double rate = s.messages / qsplit::bench::forwardRun(b, original, to, s.messages);
    std::printf("| qsplit forwarder | %d | %.0f | %.2f |\n", sessions, rate, rate / plain);
    for (const auto& q : to) (void)b.admin().remove(q);
    for (const auto& q : {src, dst, original}) (void)b.admin().remove(q);
    std::fflush(stdout);
  }

  // Added latency: one message at a time through the forwarder, against the same message
  // published straight to the queue it is read from.
  std::string direct = declare(b, "bench-direct-" + id), original = declare(b, "bench-lat-" + id),
              fallback = declare(b, "bench-lat-fallback-" + id);
  double straight = latency(b, direct, direct, 300);
  qsplit::core::Router router(*qsplit::core::RouteTable::build({}, fallback, 1));
  qsplit::engine::ForwarderOptions options;
  options.delivery = qsplit::engine::Delivery::kAtLeastOnce;
  options.wait = std::chrono::milliseconds(1000);
  qsplit::engine::Forwarder forwarder(b, original, "", router, options);
  check(forwarder.start().has_value(), "start forwarder");
  double through = latency(b, original, fallback, 300);
  forwarder.stop();
  std::printf("\n| path | median ms, publish to receive |\n|---|---|\n");
  std::printf("| published to the queue read | %.2f |\n| through qsplit's forwarder | %.2f |\n", straight, through);
  std::printf("| added by forwarding | %.2f |\n", through - straight);
  for (const auto& q : {direct, original, fallback}) (void)b.admin().remove(q);
  return 0;
}
