// A forwarding process for the SQS fault tests: forwards one queue to a fallback and to
// session queues (QUEUE=ATTRIBUTE:REGEX, in start order) until SIGTERM, so a test can kill -9
// it mid-stream and start it again. Any credentials: it is meant for ElasticMQ.
#include <CLI/CLI.hpp>

#include "brokers/sqs/sqs_broker.h"
#include "support/forward_until_term.h"

int main(int argc, char** argv) {
  CLI::App app{"forward one SQS queue until SIGTERM"};
  qsplit::sqs::SqsOptions options;
  std::string original, fallback;
  std::vector<std::string> sessions;
  int visibility = 5;
  app.add_option("--endpoint", options.endpoint)->required();
  app.add_option("--original", original)->required();
  app.add_option("--fallback", fallback)->required();
  app.add_option("--session", sessions, "QUEUE=ATTRIBUTE:REGEX");
  app.add_option("--visibility", visibility, "seconds a received message stays hidden");
  app.add_option("--pollers", options.pollers);
  CLI11_PARSE(app, argc, argv);

  options.region = "us-east-1";
  options.credentials = qsplit::aws::Credentials{"fault-test", "fault-test", ""};
  options.in_flight_visibility = std::chrono::seconds(visibility);
  auto broker = qsplit::sqs::SqsBroker::create(options);
  if (!broker) {
    std::fprintf(stderr, "%s\n", broker.error().message().c_str());
    return 1;
  }
  return qsplit::testing::forwardUntilTerm(**broker, original, fallback, sessions,
                                           std::chrono::milliseconds(1000));
}
