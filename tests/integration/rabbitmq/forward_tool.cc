// A forwarding process for the RabbitMQ fault tests (see support/forward_until_term.h).
#include <CLI/CLI.hpp>

#include "brokers/rabbitmq/rabbitmq_broker.h"
#include "support/forward_until_term.h"

int main(int argc, char** argv) {
  CLI::App app{"forward one RabbitMQ queue until SIGTERM"};
  std::string url, original, fallback;
  std::vector<std::string> sessions;
  app.add_option("--url", url)->required();
  app.add_option("--original", original)->required();
  app.add_option("--fallback", fallback)->required();
  app.add_option("--session", sessions, "QUEUE=ATTRIBUTE:REGEX");
  CLI11_PARSE(app, argc, argv);

  auto settings = qsplit::rabbitmq::RabbitSettings::fromUrl(url);
  if (!settings) return 2;
  auto broker = qsplit::rabbitmq::RabbitBroker::create({*settings});
  if (!broker) {
    std::fprintf(stderr, "%s\n", broker.error().message().c_str());
    return 1;
  }
  return qsplit::testing::forwardUntilTerm(**broker, original, fallback, sessions,
                                           std::chrono::milliseconds(500));
}
