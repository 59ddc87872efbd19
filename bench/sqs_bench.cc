// SQS forwarding throughput and requests per message, end to end on a real SQS-compatible
// server (ElasticMQ): qsplit's forwarder with 1 and 10 sessions, against a plain
// receive-send-delete copy loop written directly on the same SQS client (same HTTP client,
// same signing), measured in the same run on the same server, each on a fresh pre-loaded
// queue. Prints a Markdown table.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <thread>

#include "brokers/sqs/sqs_broker.h"
#include "common/random.h"
#include "bench/forward_run.h"
#include "engine/forwarder.h"

namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;
using qsplit::sqs::SqsBroker;

struct Setup {
  std::string endpoint;
  int messages = 10000;
  int size = 1024;
};

void check(bool ok, const std::string& what) {
  if (ok) return;
  std::fprintf(stderr, "sqs_bench: %s\n", what.c_str());
  std::exit(1);
}

std::unique_ptr<SqsBroker> connect(const Setup& s, std::size_t pollers) {
  qsplit::sqs::SqsOptions o;
  o.endpoint = s.endpoint;
  o.region = "us-east-1";
  o.credentials = qsplit::aws::Credentials{"bench", "bench", ""};
  o.pollers = pollers;
  auto broker = SqsBroker::create(o);
  check(broker.has_value(), "connect");
  return std::move(broker).value();
}

std::string createQueue(SqsBroker& b, const std::string& name) {
  auto r = b.client().call("CreateQueue", {{"QueueName", name}});
  check(r.has_value(), "create " + name + ": " + (r ? "" : r.error().message()));
  return name;
}

struct Run {
  double seconds;
  uint64_t requests;
};

// The baseline: `loops` threads, each receive 10 -> SendMessageBatch -> DeleteMessageBatch.
Run plainCopy(SqsBroker& b, const std::string& from, const std::string& to, const Setup& s,
              int loops) {
  auto from_url = *b.sqsAdmin().url(from), to_url = *b.sqsAdmin().url(to);
  std::atomic<int> copied{0};
  uint64_t before = b.client().requests();
  auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < loops; ++t)
    threads.emplace_back([&] {
      while (copied.load() < s.messages) {
        auto got = b.client().call("ReceiveMessage", {{"QueueUrl", from_url},
                                                      {"MaxNumberOfMessages", 10},
                                                      {"WaitTimeSeconds", 1},
                                                      {"MessageAttributeNames", {"All"}}});
        check(got.has_value(), "receive");
        if (!got->contains("Messages") || (*got)["Messages"].empty()) continue;
        json sends = json::array(), deletes = json::array();
        int i = 0;
        for (const auto& m : (*got)["Messages"]) {
          json entry = {{"Id", std::to_string(i)}, {"MessageBody", m["Body"]}};
          if (m.contains("MessageAttributes")) entry["MessageAttributes"] = m["MessageAttributes"];
          sends.push_back(entry);
          deletes.push_back({{"Id", std::to_string(i++)}, {"ReceiptHandle", m["ReceiptHandle"]}});
        }
        check(b.client().call("SendMessageBatch", {{"QueueUrl", to_url}, {"Entries", sends}}).has_value(), "send");
        check(b.client().call("DeleteMessageBatch", {{"QueueUrl", from_url}, {"Entries", deletes}}).has_value(), "delete");
        copied += i;
      }
    });
  for (auto& t : threads) t.join();
  return {std::chrono::duration<double>(Clock::now() - start).count(), b.client().requests() - before};
}

Run forward(SqsBroker& b, const std::string& from, const std::vector<std::string>& destinations,
            const Setup& s) {
  uint64_t before = b.client().requests();
  double seconds = qsplit::bench::forwardRun(b, from, destinations, s.messages);
  return {seconds, b.client().requests() - before};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"SQS forwarding benchmark"};
  Setup s;
  app.add_option("--endpoint", s.endpoint)->required();
  app.add_option("--messages", s.messages);
  app.add_option("--size", s.size);
  CLI11_PARSE(app, argc, argv);
  std::string id = qsplit::SecureRandom::instance().digits(6);

  std::printf("| run | parallel polls | sessions | messages/s | requests per message | ratio to plain copy |\n");
  std::printf("|---|---|---|---|---|---|\n");
  for (int loops : {1, 4}) {
    auto broker = connect(s, static_cast<std::size_t>(loops));
    std::string tag = id + "-" + std::to_string(loops);
    std::string src = createQueue(*broker, "bench-plain-" + tag);
    std::string dst = createQueue(*broker, "bench-plain-copy-" + tag);
    qsplit::bench::preloadUsers(*broker, src, s.messages, s.size, 500, "String");
    Run plain = plainCopy(*broker, src, dst, s, loops);
    double plain_rate = s.messages / plain.seconds;
    std::printf("| plain copy loop | %d | - | %.0f | %.3f | 1.00 |\n", loops, plain_rate,
                double(plain.requests) / s.messages);
    for (int sessions : {0, 1, 10}) {
      std::string original = createQueue(*broker, "bench-orders-" + tag + "-" + std::to_string(sessions));
      std::vector<std::string> destinations = {createQueue(*broker, original + "-fallback")};
      for (int i = 0; i < sessions; ++i)
        destinations.push_back(createQueue(*broker, original + "-s" + std::to_string(i)));
      qsplit::bench::preloadUsers(*broker, original, s.messages, s.size, 500, "String");
      Run q = forward(*broker, original, destinations, s);
      double rate = s.messages / q.seconds;
      std::printf("| qsplit forwarder | %d | %d | %.0f | %.3f | %.2f |\n", loops, sessions, rate,
                  double(q.requests) / s.messages, rate / plain_rate);
      for (const auto& d : destinations) (void)broker->admin().remove(d);
      (void)broker->admin().remove(original);
    }
    (void)broker->admin().remove(src);
    (void)broker->admin().remove(dst);
  }
  return 0;
}
