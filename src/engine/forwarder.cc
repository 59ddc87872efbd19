#include "engine/forwarder.h"

#include <algorithm>

#include "common/log.h"

namespace qsplit::engine {
namespace {

// Exactly once with content filters: messages routed per share of a batch (see transact).
constexpr std::size_t kRouteShare = 2048;

}  // namespace

Forwarder::Forwarder(core::Broker& broker, std::string original, std::string group,
                     core::Router& router, ForwarderOptions options, RouteObserver observer)
    : broker_(broker), original_(std::move(original)), group_(std::move(group)), router_(router),
      options_(options), observer_(std::move(observer)) {}

Forwarder::~Forwarder() { stop(); }

Result<void> Forwarder::start() {
  if (running()) return ok();
  if (options_.delivery != Delivery::kAtLeastOnce) {
    auto pipe = broker_.openTransactionalPipe(original_, group_, options_.instance);
    if (pipe) {
      pipe_ = std::move(pipe).value();
    } else if (options_.delivery == Delivery::kExactlyOnce ||
               pipe.error().code() != ErrorCode::kFailedPrecondition) {
      return fail(pipe.error());
    }
  }
  if (!pipe_) {
    QSPLIT_ASSIGN_OR_RETURN(source_, broker_.openSource(original_, group_));
  }
  stopping_ = false;
  active_ = true;
  thread_ = std::thread([this] { run(); });
  return ok();
}

void Forwarder::stop() {
  if (!thread_.joinable()) return;
  stopping_ = true;
  joinAndClear();
}

void Forwarder::drainAndStop() {
  if (!thread_.joinable()) return;
  draining_ = true;  // the thread ends once what had arrived is forwarded
  joinAndClear();
}

void Forwarder::joinAndClear() {
  thread_.join();
  draining_ = false;
  active_ = false;
  sinks_.clear();
  destinations_generation_ = UINT64_MAX;
  source_.reset();
  pipe_.reset();
  // Nothing is in flight any more: wake anyone waiting for a generation.
  publishDone(UINT64_MAX);
}

void Forwarder::publishDone(uint64_t generation, bool in_flight) {
  {
    std::lock_guard lock(mutex_);
    done_generation_ = generation;
    routing_ = in_flight;
  }
  done_changed_.notify_all();
}

void Forwarder::waitForGeneration(uint64_t generation) {
  std::unique_lock lock(mutex_);
  done_changed_.wait(lock, [&] {
    return !routing_ || done_generation_ >= generation || !running();
  });
}

ForwarderCounts Forwarder::counts() const {
  std::lock_guard lock(mutex_);
  return counts_;
}

void Forwarder::run() {
  auto log = logger("forwarder");
  const std::size_t batch_size = options_.batch_size ? options_.batch_size : broker_.batchSize();
  bool closed = false;  // draining: the source takes nothing new
  while (!stopping_) {
    if (draining_ && !closed) {
      source().stopReceiving();
      closed = true;
    }
    if (pipe_broken_ && !reopenPipe()) {
      std::this_thread::sleep_for(options_.error_backoff);
      continue;
    }
    // With a batch still in flight, take only what is already here: a receive that waits
    // would hold that batch's acknowledgement (and anyone waiting for it) for its wait.
    auto wait = pending_ ? std::chrono::milliseconds(0) : options_.wait;
    auto batch = source().receive(batch_size, wait);
    {
      // From here until publishDone, messages routed with `table` may be in flight. During
      // the receive none are (but a pending batch's), so a waiter need not sit out a long
      // poll.
      std::lock_guard lock(mutex_);
      routing_ = true;
    }
    // The table is read after receiving, so a message that arrives after a session started
    // is routed with that session in the table, however long the receive waited.
    auto table = router_.table();
    // A pending batch is settled before anything is routed with a newer table, so a waiter
    // for that table's generation knows nothing older is in flight.
    bool newer = pending_ && pending_->table->generation() != table->generation();
    if (!batch || batch->empty() || newer) finishPending();
    if (!batch) {
      log->warn("queue={} receive failed: {}", original_, batch.error().message());
      {
        std::lock_guard lock(mutex_);
        ++counts_.receive_errors;
      }
      std::this_thread::sleep_for(options_.error_backoff);
    } else if (!batch->empty()) {
      if (options_.view) options_.view(*batch);
      if (pipe_) {
        transact(*batch, table);
      } else {
        Routed routed = route(*batch, *table);
        forward(InFlight{std::move(*batch), std::move(routed), table, {}});
      }
    }
    publishDone(table->generation(), pending_.has_value());
    if (closed && batch && batch->empty()) break;  // drained
  }
  finishPending();
}

void Forwarder::transact(std::vector<core::Message>& batch,
                         const std::shared_ptr<const core::RouteTable>& table) {
  if (auto begun = pipe_->begin(); !begun) {
    logger("forwarder")->warn("queue={} cannot begin a transaction: {}", original_,
                              begun.error().message());
    pipe_broken_ = true;  // the batch is read again by the reopened pipe
    return;
  }
  // Attribute filters route a batch in microseconds: it goes in one share. Content filters
  // take the jq workers about as long as the producers take to send: with shares, the
  // workers route one while the producers send the last.
  std::size_t share = table->hasContentFilters() ? kRouteShare : batch.size();
  // One share takes the batch itself (nothing moved one by one), which leaves `batch` empty
  // and ends the loop; several shares move their messages out, and back before the commit.
  std::vector<InFlight> parts;
  for (std::size_t from = 0; from < batch.size(); from += share) {
    InFlight part{{}, {}, table, {}};
    if (share >= batch.size()) {
      part.batch = std::move(batch);
    } else {
      auto first = batch.begin() + static_cast<std::ptrdiff_t>(from);
      auto last = batch.begin() + static_cast<std::ptrdiff_t>(std::min(batch.size(), from + share));
      part.batch.assign(std::make_move_iterator(first), std::make_move_iterator(last));
    }
    part.routed = route(part.batch, *table);
    start(part);
    parts.push_back(std::move(part));
  }
  // The whole batch commits or aborts as one, with its messages back in place for the offsets.
  Routed routed;
  Sent sent;
  std::size_t at = 0;
  for (auto& part : parts) {
    Sent s = awaitSends(part, {});
    sent.errors += s.errors;
    sent.refused.insert(sent.refused.end(), s.refused.begin(), s.refused.end());
    sent.accepted.insert(sent.accepted.end(), s.accepted.begin(), s.accepted.end());
    routed.unmatched += part.routed.unmatched;
    if (parts.size() == 1) {
      batch = std::move(part.batch);
      break;
    }
    at = std::move(part.batch.begin(), part.batch.end(), batch.begin() + static_cast<std::ptrdiff_t>(at)) -
         batch.begin();
  }
  commitOrAbort(batch, *table, routed, sent);
  source().recycle(std::move(batch));
}

void Forwarder::forward(InFlight next) {
  // The last batch's round trips overlapped this one's receive, routing and submits; now
  // it is awaited and settled, and this one waits in its place.
  start(next);
  std::vector<uint32_t> refused;
  if (pending_) {
    refused = finish(*pending_, {});
    pending_.reset();
  }
  // After a refusal this batch is not kept pending: awaitSends gives back its records for
  // the destinations that refused the last one.
  if (broker_.overlapsBatches() && refused.empty()) {
    pending_ = std::move(next);
    return;
  }
  auto more = finish(next, refused);
  refused.insert(refused.end(), more.begin(), more.end());
  dropSinks(*next.table, refused);
}

void Forwarder::finishPending() {
  if (!pending_) return;
  auto refused = finish(*pending_, {});
  dropSinks(*pending_->table, refused);
  pending_.reset();
}

bool Forwarder::reopenPipe() {
  pipe_.reset();
  auto pipe = broker_.openTransactionalPipe(original_, group_, options_.instance);
  if (!pipe) {
    logger("forwarder")->warn("queue={} cannot restart transactions: {}", original_,
                              pipe.error().message());
    return false;
  }
  pipe_ = std::move(pipe).value();
  pipe_broken_ = false;
  return true;
}

Forwarder::Routed Forwarder::route(const std::vector<core::Message>& batch,
                                   const core::RouteTable& table) {
  Routed routed;
  routed.decisions.resize(batch.size());
  // The whole batch at once: content filters go to the jq worker in one exchange, not one per
  // message.
  table.route(batch, routed.decisions);
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (observer_) observer_(batch[i], table, routed.decisions[i]);
    const auto& d = routed.decisions[i].destinations;
    if (d.size() == 1 && d[0] == core::RouteTable::kFallback) ++routed.unmatched;
    for (uint32_t dest : d) {
      auto group = std::find_if(routed.groups.begin(), routed.groups.end(),
                                [dest](const auto& g) { return g.first == dest; });
      if (group == routed.groups.end()) group = routed.groups.insert(group, {dest, {}});
      group->second.push_back(i);
    }
  }
  return routed;
}

core::Sink* Forwarder::sinkFor(const std::string& destination) {
  if (pipe_) {
    auto sink = pipe_->sink(destination);
    if (sink) return *sink;
    logger("forwarder")->warn("queue={} cannot open destination {}: {}", original_, destination,
                              sink.error().message());
    return nullptr;
  }
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

Forwarder::Destination& Forwarder::destinationAt(const core::RouteTable& table, uint32_t index) {
  if (destinations_generation_ != table.generation() ||
      destinations_.size() != table.destinations().size()) {
    destinations_.assign(table.destinations().size(), Destination{});
    destinations_generation_ = table.generation();
  }
  return destinations_[index];
}

core::Sink* Forwarder::sinkAt(const core::RouteTable& table, uint32_t index) {
  if (pipe_) return sinkFor(table.destinations()[index]);  // the pipe owns its sinks
  core::Sink*& sink = destinationAt(table, index).sink;
  if (!sink) sink = sinkFor(table.destinations()[index]);
  return sink;
}

void Forwarder::start(InFlight& f) {
  // Only starts the sends, to every destination, and awaitSends waits for them after: the
  // destinations' round trips overlap instead of adding up.
  auto& batch = f.batch;
  const auto& groups = f.routed.groups;
  f.started.assign(groups.size(), {nullptr, 0});
  // A submit copies what it sends, so each message is moved out for its last destination's
  // submit and moved back after it: only a message for several destinations is copied.
  std::vector<std::size_t> uses(batch.size(), 0);
  for (const auto& group : groups)
    for (std::size_t i : group.second) ++uses[i];
  std::vector<core::Message> out;
  for (std::size_t g = 0; g < groups.size(); ++g) {
    const auto& [d, indices] = groups[g];
    out.clear();
    for (std::size_t i : indices) {
      if (--uses[i]) out.push_back(batch[i]);
      else out.push_back(std::move(batch[i]));
    }
    auto& [sink, round] = f.started[g];
    sink = sinkAt(*f.table, d);
    if (sink) {
      sink->submit(out);
      round = sink->endRound();
    }
    for (std::size_t k = 0; k < indices.size(); ++k)
      if (!uses[indices[k]]) batch[indices[k]] = std::move(out[k]);
  }
}

Forwarder::Sent Forwarder::awaitSends(InFlight& f, const std::vector<uint32_t>& failed) {
  const auto& names = f.table->destinations();
  Sent sent;
  for (std::size_t g = 0; g < f.routed.groups.size(); ++g) {
    const auto& [d, indices] = f.routed.groups[g];
    auto [sink, round] = f.started[g];
    auto result = sink ? sink->awaitRound(round)
                       : Result<void>(fail(ErrorCode::kUnavailable, "cannot open " + names[d]));
    // A destination that refused the batch before this one may have lost some of this
    // one's messages too, with the error already reported: they count as refused.
    bool earlier = std::find(failed.begin(), failed.end(), d) != failed.end();
    if (result && !earlier) {
      sent.accepted.emplace_back(d, indices.size());
      continue;
    }
    sent.refused.push_back(d);
    if (result) continue;
    ++sent.errors;
    logger("forwarder")->warn("queue={} send to {} failed: {}", original_, names[d],
                              result.error().message());
  }
  return sent;
}

std::vector<uint32_t> Forwarder::finish(InFlight& f, const std::vector<uint32_t>& failed) {
  Sent sent = awaitSends(f, failed);
  settle(f.batch, *f.table, f.routed, sent);
  source_->recycle(std::move(f.batch));
  return sent.refused;
}

void Forwarder::dropSinks(const core::RouteTable& table, const std::vector<uint32_t>& refused) {
  for (uint32_t d : refused) {
    sinks_.erase(table.destinations()[d]);  // reopen next time
    destinationAt(table, d).sink = nullptr;
  }
}

void Forwarder::settle(std::vector<core::Message>& batch, const core::RouteTable& table,
                       const Routed& routed, const Sent& sent) {
  // Acknowledge only what every destination accepted; give the rest back to be retried.
  // Mostly every destination accepted everything, and the batch is acknowledged as it is.
  std::vector<core::Message> to_ack, to_release;
  for (std::size_t i = 0; i < batch.size() && !sent.refused.empty(); ++i) {
    bool all = true;
    for (uint32_t d : routed.decisions[i].destinations)
      all = all && std::find(sent.refused.begin(), sent.refused.end(), d) == sent.refused.end();
    (all ? to_ack : to_release).push_back(std::move(batch[i]));
  }
  auto log = logger("forwarder");
  std::span<const core::Message> acked = sent.refused.empty() ? batch : to_ack;
  if (!acked.empty())
    if (auto r = source_->ack(acked); !r)
      log->warn("queue={} acknowledging {} messages failed (they will be delivered again): {}",
                original_, acked.size(), r.error().message());
  if (!to_release.empty())
    if (auto r = source_->release(to_release); !r)
      log->warn("queue={} releasing {} messages failed: {}", original_, to_release.size(),
                r.error().message());
  count(table, batch.size(), routed.unmatched, sent, acked.size(), to_release.size(), false);
}

void Forwarder::commitOrAbort(std::vector<core::Message>& batch, const core::RouteTable& table,
                              const Routed& routed, const Sent& sent) {
  // All or nothing: one refused destination aborts the batch, and it is read again.
  bool any_refused = sent.errors > 0;
  auto done = any_refused ? pipe_->abort(batch) : pipe_->commit(batch);
  if (!done)
    logger("forwarder")->warn("queue={} transaction of {} messages {}: {}", original_, batch.size(),
                              any_refused ? "could not be aborted" : "aborted",
                              done.error().message());
  // A failed commit or abort may leave the producer unusable (fenced, fatal, or in a state
  // that needs an abort it could not do): start over with a fresh pipe. Its
  // init_transactions aborts whatever this one left open, and its consumer re-reads from
  // the committed offsets, so nothing is lost or duplicated.
  if (!done) pipe_broken_ = true;
  bool committed = !any_refused && done;
  Sent counted = sent;
  if (!committed) counted.accepted.clear();
  count(table, batch.size(), committed ? routed.unmatched : 0, counted,
        committed ? batch.size() : 0, committed ? 0 : batch.size(), !committed);
}

void Forwarder::count(const core::RouteTable& table, std::size_t read, uint64_t unmatched,
                      const Sent& sent, uint64_t acked, uint64_t released, bool aborted) {
  std::lock_guard lock(mutex_);
  counts_.read += read;
  counts_.unmatched += unmatched;
  counts_.acked += acked;
  counts_.released += released;
  counts_.send_errors += sent.errors;
  counts_.aborted += aborted ? 1 : 0;
  for (const auto& [d, n] : sent.accepted) {
    uint64_t*& slot = destinationAt(table, d).forwarded;
    if (!slot) slot = &counts_.forwarded[table.destinations()[d]];
    *slot += n;
  }
}

}  // namespace qsplit::engine
