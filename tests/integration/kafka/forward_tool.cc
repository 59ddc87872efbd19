// A forwarding process for the fault tests: forwards one Kafka topic to a fallback and to
// session topics (TOPIC=HEADER:REGEX, in start order) until SIGTERM, so a test can kill -9
// it mid-stream and start it again. With --jq-worker, each session's rule is a jq program
// instead (`.headers.HEADER | test("REGEX")`), evaluated by two workers of that executable.
#include <CLI/CLI.hpp>

#include <csignal>
#include <thread>

#include "brokers/kafka/kafka_broker.h"
#include "engine/forwarder.h"
#include "jq/documents.h"
#include "jq/jq_matcher.h"
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
  std::string jq_worker;
  app.add_option("--jq-worker", jq_worker, "the sessions' rules as jq programs, run by this worker");
  CLI11_PARSE(app, argc, argv);

  auto routes = qsplit::testing::parseSessionArgs(sessions);
  if (!routes) return 2;
  std::shared_ptr<qsplit::jq::JqMatcher> content;
  if (!jq_worker.empty()) {
    // A filter switched off would send its records to the fallback: the test must say why.
    content = std::make_shared<qsplit::jq::JqMatcher>(qsplit::jq::JqMatcherOptions{
        jq_worker, {}, qsplit::jq::kafkaDocument(original),
        [](const std::string& session, const std::string& reason) {
          std::fprintf(stderr, "session %s: jq_filter switched off: %s\n", session.c_str(), reason.c_str());
        },
        2});
    for (auto& route : *routes) {
      const auto& rule = route.filter.rules().at(0);
      route.filter = qsplit::core::Filter().withContent(
          ".headers." + rule.name + " | test(\"" + rule.pattern + "\")");
    }
  }
  // A killed member holds its partitions until its session times out: keep that short so
  // the restarted forwarder takes over quickly.
  auto broker = qsplit::kafka::KafkaBroker::create(
      {{{"bootstrap.servers", bootstrap}, {"session.timeout.ms", "6000"}, {"log_level", "3"}}});
  if (!broker) {
    std::fprintf(stderr, "%s\n", broker.error().message().c_str());
    return 1;
  }
  auto table = qsplit::core::RouteTable::build(*routes, fallback, 1, content);
  if (!table) {
    std::fprintf(stderr, "%s\n", table.error().message().c_str());
    return 2;
  }
  qsplit::core::Router router(*table);
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
