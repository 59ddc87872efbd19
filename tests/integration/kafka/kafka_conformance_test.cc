// The conformance suite against a real Apache Kafka broker (scripts/kafka.sh), with kcat,
// an independent client, producing every record and reading what each consumer got.
#include <regex>
#include <sstream>

#include "brokers/kafka/kafka_broker.h"
#include "conformance/split_conformance.h"
#include "support/command.h"
#include "support/kafka_test_broker.h"

namespace qsplit::conformance {
namespace {

using testing::run;
using testing::shellQuote;

template <bool ExactlyOnce>
class KafkaHarness {
 public:
  static constexpr bool kTopic = true;
  static constexpr bool kExactlyOnce = ExactlyOnce;

  KafkaHarness() : suffix_(SecureRandom::instance().digits(8)) {
    keepBroker(testing::connectTestKafka(&bootstrap_, &why_), why_, broker_);
  }

  std::string unavailable() { return why_; }
  core::Broker& broker() { return *broker_; }
  std::string originalName() { return "meme-topic-" + suffix_; }
  std::string group() { return "meme-app-" + suffix_; }

  void createOriginal(const std::string& name) {
    auto created = broker_->kafkaAdmin().createTopic(name, {2, 1, {{"retention.ms", "3600000"}}});
    ASSERT_TRUE(created.has_value()) << created.error().message();
  }

  void produce(const std::string& name, const std::vector<core::Message>& messages) {
    for (const auto& m : messages) {
      std::string command = "kcat -P -b " + bootstrap_ + " -t " + shellQuote(name);
      if (m.partition >= 0) command += " -p " + std::to_string(m.partition);
      if (m.key) command += " -k " + shellQuote(*m.key);
      for (const auto& a : m.attributes) command += " -H " + shellQuote(a.name + "=" + a.value);
      auto result = run(command, &m.body);
      ASSERT_EQ(result.status, 0) << command;
    }
  }

  // Reads the topic as the workload's consumer group would, to its end, committing.
  std::vector<core::Message> drain(const std::string& name) {
    std::string command = "kcat -C -b " + bootstrap_ + " -G " + shellQuote(group()) +
                          " -X log_level=3 -X auto.offset.reset=earliest -X enable.auto.commit=true"
                          " -X auto.commit.interval.ms=100 -e -q -f '%p\\t%o\\t%k\\t%h\\t%s\\n' " +
                          shellQuote(name);
    auto result = run(command);
    std::vector<core::Message> out;
    std::istringstream lines(result.out);
    std::string line;
    while (std::getline(lines, line)) {
      std::vector<std::string> f;
      std::stringstream fields(line);
      std::string field;
      while (std::getline(fields, field, '\t')) f.push_back(field);
      if (f.size() < 5) continue;
      core::Message m;
      m.partition = std::stoi(f[0]);
      m.offset = std::stoll(f[1]);
      if (!f[2].empty()) m.key = f[2];
      std::stringstream headers(f[3]);
      std::string header;
      while (std::getline(headers, header, ',')) {
        auto eq = header.find('=');
        if (eq != std::string::npos) m.attributes.push_back({header.substr(0, eq), header.substr(eq + 1), ""});
      }
      m.body = f[4];
      out.push_back(std::move(m));
    }
    return out;
  }

  std::vector<std::string> queueNames() {
    auto result = run("kcat -L -b " + bootstrap_);
    std::vector<std::string> names;
    std::regex topic_line("topic \"([^\"]+)\" with");
    for (std::sregex_iterator it(result.out.begin(), result.out.end(), topic_line), end; it != end; ++it)
      names.push_back((*it)[1]);
    return names;
  }

 private:
  std::string suffix_;
  std::string bootstrap_;
  std::string why_;
  std::unique_ptr<kafka::KafkaBroker> broker_;
};

// Transactions (the default for Kafka) and the at-least-once mode.
using KafkaModes = ::testing::Types<KafkaHarness<true>, KafkaHarness<false>>;
INSTANTIATE_TYPED_TEST_SUITE_P(Kafka, SplitConformance, KafkaModes);

}  // namespace
}  // namespace qsplit::conformance
