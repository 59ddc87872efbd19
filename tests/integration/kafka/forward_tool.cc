// A forwarding process for the fault tests: forwards one Kafka topic to a fallback and to
// session topics (TOPIC=HEADER:REGEX, in start order) until SIGTERM, so a test can kill -9
// it mid-stream and start it again.
#include <CLI/CLI.hpp>

#include <csignal>
#include <thread>

#include "brokers/kafka/kafka_broker.h"
#include "engine/forwarder.h"
#include "support/session_args.h"

namespace {
volatile std::sig_atomic_t stopping = 0;
}

int main(int argc, char** argv) {
  CLI::App app{"forward one Kafka topic until SIGTERM"};
  std::string bootstrap, original, group, fallback;
  std::vector<std::string> sessions;
  bool exactly_once = false;
  std::size_t batch = 500;
  app.add_option("--bootstrap", bootstrap)->required();
  app.add_option("--original", original)->required();
  app.add_option("--group", group)->required();
  app.add_option("--fallback", fallback)->required();
  app.add_option("--session", sessions, "TOPIC=HEADER:REGEX");
  app.add_flag("--exactly-once", exactly_once);
  app.add_option("--batch", batch);
  CLI11_PARSE(app, argc, argv);

  auto routes = qsplit::testing::parseSessionArgs(sessions);
  if (!routes) return 2;
  // A killed member holds its partitions until its session times out: keep that short so
  // the restarted forwarder takes over quickly.
  auto broker = qsplit::kafka::KafkaBroker::create(
      {{{"bootstrap.servers", bootstrap}, {"session.timeout.ms", "6000"}, {"log_level", "3"}}});
  if (!broker) {
    std::fprintf(stderr, "%s\n", broker.error().message().c_str());
    return 1;
  }
  qsplit::core::Router router(*qsplit::core::RouteTable::build(*routes, fallback, 1));
  qsplit::engine::ForwarderOptions options;
  options.delivery = exactly_once ? qsplit::engine::Delivery::kExactlyOnce
                                  : qsplit::engine::Delivery::kAtLeastOnce;
  options.batch_size = batch;
  qsplit::engine::Forwarder forwarder(**broker, original, group, router, options);
  if (auto started = forwarder.start(); !started) {
    std::fprintf(stderr, "%s\n", started.error().message().c_str());
    return 1;
  }
  std::signal(SIGTERM, [](int) { stopping = 1; });
  while (!stopping) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  forwarder.stop();
  return 0;
}
