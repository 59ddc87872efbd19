#include "demo/demo.h"

#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <thread>

#include "brokers/memory/memory_broker.h"
#include "config/resources.h"
#include "config/user_config.h"
#include "demo/apps.h"
#include "demo/ledger.h"
#include "engine/queue_splitter.h"

namespace qsplit::demo {
namespace {

using Clock = std::chrono::steady_clock;

struct Developer {
  std::string name;
  config::QueueSplit split;
  std::unique_ptr<Consumer> app;
  std::string queue;
};

struct Setup {
  std::string queue_id;
  std::string queue_var;
  std::string workload;
  std::vector<Developer> developers;
};

class Story {
 public:
  void say(const std::string& line) const {
    double t = std::chrono::duration<double>(Clock::now() - start_).count();
    fmt::print("[{:6.2f}s] {}\n", t, line);
    std::fflush(stdout);
  }
  double seconds() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }

 private:
  Clock::time_point start_ = Clock::now();
};

std::string describe(const std::map<std::string, std::string>& filter) {
  if (filter.empty()) return "(empty: matches nothing)";
  std::string text;
  for (const auto& [name, regex] : filter) text += (text.empty() ? "" : " and ") + name + "=~/" + regex + "/";
  return text;
}

Result<Setup> load(const DemoOptions& options) {
  QSPLIT_ASSIGN_OR_RETURN(auto resources, config::loadResourceFile(options.registry));
  if (resources.registries.empty())
    return fail(ErrorCode::kInvalidArgument,
                options.registry + ": has no MirrordWorkloadQueueRegistry for the demo's workload");
  const auto& registry = resources.registries.front();
  Setup setup;
  setup.workload = registry.consumer.name;
  for (const auto& q : registry.queues)
    if (q.queue_type == "SQS" && q.name_source.env_var) {
      setup.queue_id = q.id;
      setup.queue_var = *q.name_source.env_var;
      break;
    }
  if (setup.queue_id.empty())
    return fail(ErrorCode::kInvalidArgument,
                options.registry + ": spec.queues has no SQS queue with nameSource.envVar");
  std::size_t count = options.sessions < 0 ? options.configs.size()
                                           : std::min<std::size_t>(options.sessions, options.configs.size());
  for (std::size_t i = 0; i < count; ++i) {
    QSPLIT_ASSIGN_OR_RETURN(auto user, config::loadUserConfig(options.configs[i]));
    if (user.target && user.target->name != setup.workload)
      return fail(ErrorCode::kInvalidArgument,
                  options.configs[i] + ": target " + user.target->toString() +
                      " is not the workload of " + options.registry + " (" + setup.workload + ")");
    Developer dev;
    dev.name = std::filesystem::path(options.configs[i]).stem().string();
    const config::QueueSplit* split = user.find(setup.queue_id, config::QueueType::kSqs);
    if (split) dev.split = *split;  // absent: an empty filter, so the session gets nothing
    setup.developers.push_back(std::move(dev));
  }
  return setup;
}

core::Message makeMessage(uint64_t seq) {
  static const char* authors[] = {"alice", "bob", "carol", "dave"};
  static const char* levels[] = {"beginner", "intermediate", "expert"};
  uint64_t mix = seq * 2654435761u;
  core::Message m;
  m.body = fmt::format("{{\"meme\": {}, \"caption\": \"when the queue splits\"}}", seq);
  m.attributes = {{"author", authors[(mix >> 8) % 4], "String"},
                  {"level", levels[(mix >> 16) % 3], "String"},
                  {"seq", std::to_string(seq), "Number"}};
  return m;
}

class Demo {
 public:
  Demo(const DemoOptions& options, Setup setup) : options_(options), setup_(std::move(setup)) {}
  int run();

 private:
  void produce(uint64_t count);
  void waitConsumed();
  void phase(const std::string& title, uint64_t count);
  Result<void> startSession(Developer& dev);
  Result<void> endSession(Developer& dev, bool last);
  int report();

  DemoOptions options_;
  Setup setup_;
  Story story_;
  Ledger ledger_;
  memory::MemoryBroker broker_;
  std::unique_ptr<DeployedWorkload> workload_;
  std::unique_ptr<engine::QueueSplitter> splitter_;
  uint64_t next_seq_ = 0;
  double forwarding_started_ = 0, forwarding_ended_ = 0;
};

void Demo::produce(uint64_t count) {
  auto sink = std::move(broker_.openSink(setup_.queue_id)).value();
  std::vector<core::Message> batch;
  for (uint64_t i = 0; i < count; ++i) {
    batch.push_back(makeMessage(next_seq_++));
    if (batch.size() == 100 || i + 1 == count) {
      (void)sink->send(batch);
      ledger_.produced(batch.size());
      batch.clear();
    }
  }
}

void Demo::waitConsumed() {
  auto until = Clock::now() + std::chrono::seconds(30);
  while (ledger_.distinctConsumed() < next_seq_ && Clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
}

void Demo::phase(const std::string& title, uint64_t count) {
  produce(count);
  waitConsumed();
  auto totals = ledger_.totals();
  std::string split;
  for (const auto& [who, n] : totals.per_consumer) split += fmt::format("  {} {}", who, n);
  story_.say(fmt::format("{}: {} produced so far, {} consumed:{}", title, next_seq_,
                         ledger_.distinctConsumed(), split));
}

Result<void> Demo::startSession(Developer& dev) {
  auto queue = splitter_->startSession(dev.name, dev.split.filter, dev.split.mode);
  if (!queue) return fail(queue.error());
  dev.queue = *queue;
  ledger_.assign(dev.queue, dev.name, dev.split.mode == core::QueueMode::kMirror);
  dev.app = std::make_unique<Consumer>(broker_, dev.name, ledger_);
  dev.app->start(dev.queue);
  story_.say(fmt::format("{} runs `qsplit run -f {}.json`: session started, {}={} ({}, {})",
                         dev.name, dev.name, setup_.queue_var, dev.queue,
                         describe(dev.split.message_filter), core::queueModeName(dev.split.mode)));
  return ok();
}

Result<void> Demo::endSession(Developer& dev, bool last) {
  dev.app->stop();  // the developer's command exits, then its session ends
  QSPLIT_TRY(splitter_->endSession(dev.name));
  story_.say(fmt::format("{}'s command exited: session ended, unread messages routed again, {} deleted",
                         dev.name, dev.queue));
  if (!last) return ok();
  forwarding_ended_ = story_.seconds();
  story_.say("last session ended: draining, the workload empties the fallback queue");
  auto until = Clock::now() + std::chrono::duration<double>(options_.linger_seconds + 5);
  while (splitter_->state() != core::SplitState::kRestored && Clock::now() < until) {
    QSPLIT_TRY(splitter_->tick());
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::vector<std::string> left;
  for (const auto& n : broker_.names())
    if (n != setup_.queue_id) left.push_back(n);
  story_.say(fmt::format("restored: temporary queues left: {}", left.empty() ? "none" : fmt::format("{}", fmt::join(left, ", "))));
  return ok();
}

int Demo::run() {
  (void)broker_.createQueue(setup_.queue_id);
  auto notify = [this](const std::string& line) { story_.say(line); };
  workload_ = std::make_unique<DeployedWorkload>(
      broker_, ledger_, setup_.workload + " (deployed)",
      std::map<std::string, std::string>{{setup_.queue_var, setup_.queue_id}}, setup_.queue_var, notify);
  ledger_.assign(setup_.queue_id, setup_.workload + " (deployed)");
  engine::SplitOptions split_options;
  split_options.linger_timeout = std::chrono::duration_cast<Duration>(
      std::chrono::duration<double>(options_.linger_seconds));
  split_options.forwarder.wait = std::chrono::milliseconds(20);
  split_options.observer = [this](const core::Message& m, const core::RouteTable& t,
                                  const core::Decision& d) { ledger_.routed(m, t, d); };
  splitter_ = std::make_unique<engine::QueueSplitter>(broker_, *workload_, SystemClock::instance(),
                                                      SecureRandom::instance(), setup_.queue_id,
                                                      std::move(split_options));
  story_.say(fmt::format("{} consumes SQS-like queue '{}' ({}={}) on the embedded broker",
                         setup_.workload, setup_.queue_id, setup_.queue_var, setup_.queue_id));
  workload_->start();

  std::size_t phases = 2 * setup_.developers.size() + 1;
  uint64_t per_phase = std::max<uint64_t>(1, options_.messages / phases);
  phase(fmt::format("phase 1/{} (no sessions)", phases), per_phase);
  std::size_t n = 1;
  for (auto& dev : setup_.developers) {
    if (auto r = startSession(dev); !r) return story_.say("error: " + r.error().message()), 1;
    if (n == 1) {
      forwarding_started_ = story_.seconds();
      ledger_.assign(splitter_->status().fallback, setup_.workload + " (deployed)");
    }
    phase(fmt::format("phase {}/{}", ++n, phases), per_phase);
  }
  for (std::size_t i = 0; i < setup_.developers.size(); ++i) {
    bool last = i + 1 == setup_.developers.size();
    if (auto r = endSession(setup_.developers[i], last); !r)
      return story_.say("error: " + r.error().message()), 1;
    uint64_t count = last ? options_.messages - next_seq_ : per_phase;
    phase(fmt::format("phase {}/{}", ++n, phases), count);
  }
  workload_->stop();
  return report();
}

int Demo::report() {
  auto t = ledger_.totals();
  auto counts = splitter_->status().counts;
  double seconds = std::max(1e-9, forwarding_ended_ - forwarding_started_);
  fmt::print("\nWho received what\n");
  fmt::print("  {:<22} {:>9}  {}\n", "consumer", "messages", "filter (sessions in start order)");
  fmt::print("  {:<22} {:>9}  {}\n", setup_.workload + " (deployed)",
             t.per_consumer[setup_.workload + " (deployed)"], "everything no session took");
  for (const auto& dev : setup_.developers)
    fmt::print("  {:<22} {:>9}  {}{}\n", dev.name, t.per_consumer[dev.name],
               describe(dev.split.message_filter),
               dev.split.mode == core::QueueMode::kMirror ? " (mirror: copies)" : "");
  fmt::print("\nOverlaps: {} messages matched two live sessions; {} went to the one that started first\n",
             t.overlap, t.overlap_to_first);
  fmt::print("Forwarding: {} messages read from '{}' in {:.2f}s ({:.0f} msg/s, producer-bound); "
             "{} given back from ended sessions\n",
             counts.read, setup_.queue_id, seconds, counts.read / seconds, splitter_->status().returned);
  fmt::print("\nproduced {}  consumed {}  lost {}  duplicated {}  misrouted {}\n", t.produced,
             t.consumed, t.lost, t.duplicated, t.misrouted);
  bool good = t.lost == 0 && t.duplicated == 0 && t.misrouted == 0;
  fmt::print("{}\n", good ? "OK: every message reached exactly the consumer the rules name"
                          : "FAILED: see the counts above");
  return good ? 0 : 1;
}

}  // namespace

int runDemo(const DemoOptions& options) {
  auto setup = load(options);
  if (!setup) {
    fmt::print(stderr, "qsplit demo: {}\n", setup.error().message());
    return 2;
  }
  Demo demo(options, std::move(setup).value());
  return demo.run();
}

}  // namespace qsplit::demo
