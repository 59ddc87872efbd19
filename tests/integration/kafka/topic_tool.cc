// topic_tool BOOTSTRAP create TOPIC PARTITIONS | list: topic set-up for the end-to-end tests
// (kcat produces and consumes, but cannot create topics, and the test broker does not
// create them on first use).
#include <cstdio>
#include <string>

#include "brokers/kafka/kafka_broker.h"

int main(int argc, char** argv) {
  using namespace qsplit;
  if (argc < 3) return std::fprintf(stderr, "usage: topic_tool BOOTSTRAP create TOPIC PARTITIONS | list\n"), 2;
  auto broker = kafka::KafkaBroker::create({{{"bootstrap.servers", argv[1]}}});
  if (!broker) return std::fprintf(stderr, "%s\n", broker.error().message().c_str()), 1;
  std::string verb = argv[2];
  if (verb == "create" && argc == 5) {
    auto created = (*broker)->kafkaAdmin().createTopic(argv[3], {std::stoi(argv[4]), 1, {}});
    if (!created) return std::fprintf(stderr, "%s\n", created.error().message().c_str()), 1;
    return 0;
  }
  if (verb == "list") {
    auto topics = (*broker)->kafkaAdmin().listTopics();
    if (!topics) return std::fprintf(stderr, "%s\n", topics.error().message().c_str()), 1;
    for (const auto& t : *topics) std::printf("%s\n", t.c_str());
    return 0;
  }
  return std::fprintf(stderr, "unknown command %s\n", verb.c_str()), 2;
}
