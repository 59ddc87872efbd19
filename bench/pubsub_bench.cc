// Pub/Sub forwarding throughput, end to end on Google's test server (scripts/pubsub.sh): qsplit's
// forwarder with 0, 1 and 10 sessions (filters on the `user` attribute) against a plain
// pull-publish-acknowledge loop on the same client (qsplit's Pub/Sub source and sink) without
// the engine: pull up to 1,000 messages, publish them to the copy's topic, acknowledge them once
// the publish was answered. Same server, same run, each on a freshly pre-loaded subscription.
// Every subscription is made like --model (a subscription the caller made), with a topic of its
// own. Prints a Markdown table.
#include <CLI/CLI.hpp>

#include <cstdio>

#include "bench/forward_run.h"
#include "brokers/pubsub/pubsub_broker.h"
#include "common/random.h"

namespace {

using Clock = std::chrono::steady_clock;
using qsplit::pubsub::PubsubBroker;
constexpr std::size_t kBatch = 1000;  // qsplit's batch for Pub/Sub (PubsubBroker::batchSize)

void check(bool ok, const std::string& what) {
  if (ok) return;
  std::fprintf(stderr, "pubsub_bench: %s\n", what.c_str());
  std::exit(1);
}

std::string made(PubsubBroker& b, const std::string& model, const std::string& name) {
  auto created = b.admin().createLike(model, name);
  check(created.has_value(), "creating " + name + ": " + (created ? "" : created.error().message()));
  return name;
}

// The baseline: the same client's pull, publish and acknowledge, in a loop.
double plainCopy(PubsubBroker& b, const std::string& from, const std::string& to, int messages) {
  auto source = b.openSource(from, "");
  auto sink = b.openSink(to);
  check(source.has_value() && sink.has_value(), "plain copy clients");
  int copied = 0;
  auto start = Clock::now();
  while (copied < messages) {
    auto batch = (*source)->receive(kBatch, std::chrono::seconds(1));
    check(batch.has_value(), "pull");
    if (batch->empty()) continue;
    check((*sink)->send(*batch).has_value(), "publish");
    check((*source)->ack(*batch).has_value(), "acknowledge");
    copied += static_cast<int>(batch->size());
  }
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Pub/Sub forwarding benchmark"};
  std::string host, project, model;
  int messages = 20000, size = 256, repeat = 3;
  app.add_option("--emulator", host)->required();
  app.add_option("--project", project)->required();
  app.add_option("--model", model, "an existing subscription every one of the benchmark's is made like")->required();
  app.add_option("--messages", messages);
  app.add_option("--size", size);
  app.add_option("--repeat", repeat, "runs of each pair; each line is one pair, the copy just before qsplit");
  CLI11_PARSE(app, argc, argv);
  auto broker = PubsubBroker::create({project, host});
  check(broker.has_value(), "connect: " + (broker ? "" : broker.error().message()));
  PubsubBroker& b = **broker;
  std::string id = qsplit::SecureRandom::instance().digits(6);

  std::printf("| run | sessions | plain copy msg/s | qsplit msg/s | ratio |\n|---:|---:|---:|---:|---:|\n");
  for (int run = 1; run <= repeat; ++run) {
    for (int sessions : {0, 1, 10}) {
      std::string tag = id + "-" + std::to_string(run) + "-" + std::to_string(sessions);
      // Each side runs on a server holding only its own messages: pstest keeps what its
      // subscriptions hold in memory, and a fuller server answers more slowly.
      std::string plain_from = made(b, model, "bench-plain-" + tag), plain_to = made(b, model, "bench-copy-" + tag);
      qsplit::bench::preloadUsers(b, plain_from, messages, size, kBatch, "");
      double plain = messages / plainCopy(b, plain_from, plain_to, messages);
      (void)b.admin().remove(plain_from);
      (void)b.admin().remove(plain_to);
      std::string original = made(b, model, "bench-original-" + tag);
      qsplit::bench::preloadUsers(b, original, messages, size, kBatch, "");
      std::vector<std::string> to{made(b, model, "bench-fallback-" + tag)};
      for (int i = 0; i < sessions; ++i) to.push_back(made(b, model, "bench-session-" + tag + "-" + std::to_string(i)));
      double rate = messages / qsplit::bench::forwardRun(b, original, to, messages);
      std::printf("| %d | %d | %.0f | %.0f | %.2f |\n", run, sessions, plain, rate, rate / plain);
      for (const auto& t : to) (void)b.admin().remove(t);
      (void)b.admin().remove(original);
      std::fflush(stdout);
    }
  }
  return 0;
}
