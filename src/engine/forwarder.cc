#include "engine/forwarder.h"

#include "common/log.h"

namespace qsplit::engine {

Forwarder::Forwarder(core::Broker& broker, std::string original, std::string group,
                     core::Router& router, ForwarderOptions options, RouteObserver observer)
    : broker_(broker), original_(std::move(original)), group_(std::move(group)), router_(router),
      options_(options), observer_(std::move(observer)) {}

Forwarder::~Forwarder() { stop(); }

Result<void> Forwarder::start() {
  if (running()) return ok();
  QSPLIT_ASSIGN_OR_RETURN(source_, broker_.openSource(original_, group_));
  stopping_ = false;
  active_ = true;
  thread_ = std::thread([this] { run(); });
  return ok();
}

void Forwarder::stop() {
  if (!thread_.joinable()) return;
  stopping_ = true;
  thread_.join();
  active_ = false;
  source_.reset();
  sinks_.clear();
  // Nothing is in flight any more: wake anyone waiting for a generation.
  publishDone(UINT64_MAX);
}

void Forwarder::publishDone(uint64_t generation) {
  {
    std::lock_guard lock(mutex_);
    done_generation_ = generation;
  }
  done_changed_.notify_all();
}

void Forwarder::waitForGeneration(uint64_t generation) {
  std::unique_lock lock(mutex_);
  done_changed_.wait(lock, [&] { return done_generation_ >= generation || !running(); });
}

ForwarderCounts Forwarder::counts() const {
  std::lock_guard lock(mutex_);
  return counts_;
}

void Forwarder::run() {
  auto log = logger("forwarder");
  while (!stopping_) {
    auto batch = source_->receive(options_.batch_size, options_.wait);
    // The table is read after receiving, so a message that arrives after a session started
    // is routed with that session in the table, however long the receive waited.
    auto table = router_.table();
    if (!batch) {
      log->warn("queue={} receive failed: {}", original_, batch.error().message());
      {
        std::lock_guard lock(mutex_);
        ++counts_.receive_errors;
      }
      std::this_thread::sleep_for(options_.error_backoff);
    } else if (!batch->empty()) {
      forwardBatch(*batch, *table);
    }
    publishDone(table->generation());
  }
}

core::Sink* Forwarder::sinkFor(const std::string& destination) {
  auto it = sinks_.find(destination);
  if (it != sinks_.end()) return it->second.get();
  auto sink = broker_.openSink(destination);
  if (!sink) {
    logger("forwarder")->warn("queue={} cannot open destination {}: {}", original_, destination,
                              sink.error().message());
    return nullptr;
  }
  return (sinks_[destination] = std::move(sink).value()).get();
}

void Forwarder::forwardBatch(std::vector<core::Message>& batch, const core::RouteTable& table) {
  const auto& names = table.destinations();
  std::vector<std::vector<std::size_t>> per_destination(names.size());
  std::vector<core::Decision> decisions(batch.size());
  uint64_t unmatched = 0;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    table.route(batch[i], decisions[i]);
    if (observer_) observer_(batch[i], table, decisions[i]);
    if (decisions[i].destinations.size() == 1 &&
        decisions[i].destinations[0] == core::RouteTable::kFallback)
      ++unmatched;
    for (uint32_t d : decisions[i].destinations) per_destination[d].push_back(i);
  }

  // Start the sends to every destination, then wait for each: the destinations' round
  // trips overlap instead of adding up.
  std::vector<bool> refused(names.size(), false);
  std::vector<core::Sink*> started(names.size(), nullptr);
  std::vector<core::Message> out;
  for (std::size_t d = 0; d < names.size(); ++d) {
    if (per_destination[d].empty()) continue;
    out.clear();
    for (std::size_t i : per_destination[d]) out.push_back(batch[i]);
    started[d] = sinkFor(names[d]);
    if (started[d]) started[d]->submit(out);
    else refused[d] = true;
  }
  std::map<std::string, uint64_t> accepted;
  uint64_t send_errors = 0;
  for (std::size_t d = 0; d < names.size(); ++d) {
    if (per_destination[d].empty()) continue;
    auto sent = started[d] ? started[d]->await()
                           : Result<void>(fail(ErrorCode::kUnavailable, "cannot open " + names[d]));
    if (sent) {
      accepted[names[d]] += per_destination[d].size();
      continue;
    }
    refused[d] = true;
    ++send_errors;
    sinks_.erase(names[d]);  // reopen next time
    logger("forwarder")->warn("queue={} send to {} failed: {}", original_, names[d],
                              sent.error().message());
  }

  // Acknowledge only what every destination accepted; give the rest back to be retried.
  std::vector<core::Message> to_ack, to_release;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    bool all = true;
    for (uint32_t d : decisions[i].destinations) all = all && !refused[d];
    (all ? to_ack : to_release).push_back(std::move(batch[i]));
  }
  auto log = logger("forwarder");
  if (!to_ack.empty())
    if (auto r = source_->ack(to_ack); !r)
      log->warn("queue={} acknowledging {} messages failed (they will be delivered again): {}",
                original_, to_ack.size(), r.error().message());
  if (!to_release.empty())
    if (auto r = source_->release(to_release); !r)
      log->warn("queue={} releasing {} messages failed: {}", original_, to_release.size(),
                r.error().message());

  std::lock_guard lock(mutex_);
  counts_.read += batch.size();
  counts_.unmatched += unmatched;
  counts_.acked += to_ack.size();
  counts_.released += to_release.size();
  counts_.send_errors += send_errors;
  for (const auto& [name, n] : accepted) counts_.forwarded[name] += n;
}

}  // namespace qsplit::engine
