// Forwarder: consumes one original queue or topic, routes each message, sends it to its
// destinations and acknowledges it on the original only after every destination accepted it.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "common/result.h"
#include "core/broker.h"
#include "core/router.h"

namespace qsplit::engine {

enum class Delivery {
  kAuto,         // exactly once where the broker has transactions (Kafka), else at least once
  kExactlyOnce,  // each batch one broker transaction with the source offsets; an error if
                 // the broker has no transactions
  kAtLeastOnce,  // acknowledge on the source after every destination accepted
};

struct ForwarderOptions {
  // Exactly once: a message lands in exactly one destination (two with mirror) even when
  // the operator is killed mid-batch. At least once: duplicates are possible after a crash.
  Delivery delivery = Delivery::kAuto;
  std::size_t batch_size = 0;                       // messages per receive; 0: the broker's
  std::chrono::milliseconds wait{100};              // longest receive wait (also stop latency)
  std::chrono::milliseconds error_backoff{200};     // pause after a failed receive
  // Called on each received batch before routing, to set what filters match
  // (Message::filter_attributes); none: filters match the messages' own attributes.
  std::function<void(std::vector<core::Message>&)> view;
  // Tells this forwarder's transactions apart from another replica's forwarding the same
  // source (Broker::openTransactionalPipe); empty for the leader.
  std::string instance;
};

struct ForwarderCounts {
  uint64_t read = 0;        // messages received from the original
  uint64_t unmatched = 0;   // messages that went to the fallback only
  uint64_t acked = 0;       // messages acknowledged (committed) on the original
  uint64_t released = 0;    // messages given back because a destination refused them
  uint64_t aborted = 0;     // transactions aborted (exactly-once mode)
  uint64_t send_errors = 0;
  uint64_t receive_errors = 0;
  std::map<std::string, uint64_t> forwarded;  // destination -> messages it accepted
};

// Called for every routed message, from the forwarding thread, before it is sent.
using RouteObserver =
    std::function<void(const core::Message&, const core::RouteTable&, const core::Decision&)>;

class Forwarder {
 public:
  Forwarder(core::Broker& broker, std::string original, std::string group, core::Router& router,
            ForwarderOptions options = {}, RouteObserver observer = nullptr);
  ~Forwarder();
  Forwarder(const Forwarder&) = delete;
  Forwarder& operator=(const Forwarder&) = delete;

  // Opens the source and starts the forwarding thread. Errors if the original is missing.
  Result<void> start();
  // Stops after the batch in hand is sent and acknowledged (or released). Blocking.
  void stop();
  // Stops taking new messages (Source::stopReceiving), forwards what had arrived, then
  // stops: a channel's messages exist nowhere else. Blocking.
  void drainAndStop();
  bool running() const { return active_.load(); }

  // Blocks until every message routed with a table older than `generation` has been sent
  // and settled, so a session's queue can be emptied and deleted safely. Returns at once
  // while the forwarder waits in a receive: it has nothing in hand then (a receive does not
  // wait while a batch is still out).
  void waitForGeneration(uint64_t generation);

  ForwarderCounts counts() const;

 private:
  struct Routed {
    std::vector<core::Decision> decisions;
    // The destinations this batch uses, in first use order, each with its message indices:
    // a batch touches a few destinations however many sessions exist, so nothing here is
    // sized by the route table.
    std::vector<std::pair<uint32_t, std::vector<std::size_t>>> groups;
    uint64_t unmatched = 0;
  };
  struct Sent {
    std::vector<uint32_t> refused;  // destinations that refused their messages (usually none)
    std::vector<std::pair<uint32_t, uint64_t>> accepted;  // destination index -> messages
    uint64_t errors = 0;
  };

  void run();
  void joinAndClear();
  core::Source& source() { return pipe_ ? pipe_->source() : *source_; }
  bool reopenPipe();
  Routed route(const std::vector<core::Message>& batch, const core::RouteTable& table);
  // A batch whose sends have started and that is not yet settled.
  struct InFlight {
    std::vector<core::Message> batch;
    Routed routed;
    std::shared_ptr<const core::RouteTable> table;
    std::vector<std::pair<core::Sink*, uint64_t>> started;  // per group: its sink and round
  };
  // Submits every group of the batch to its destination (a null sink: it could not open).
  void start(InFlight& f);
  // Waits for each destination's round; destinations in `failed` count as refused whatever
  // their rounds say.
  Sent awaitSends(InFlight& f, const std::vector<uint32_t>& failed);
  // Awaits and settles the batch; returns the destinations that refused it.
  std::vector<uint32_t> finish(InFlight& f, const std::vector<uint32_t>& failed);
  // Exactly once: the batch as one transaction, routed a share at a time where routing is
  // slow (content filters), each share's sends started before the next share is routed.
  void transact(std::vector<core::Message>& batch,
                const std::shared_ptr<const core::RouteTable>& table);
  // At least once: starts `next`, settles the pending batch, and keeps `next` pending where
  // the broker overlaps batches (else settles it too).
  void forward(InFlight next);
  void finishPending();
  void dropSinks(const core::RouteTable& table, const std::vector<uint32_t>& refused);
  void settle(std::vector<core::Message>& batch, const core::RouteTable& table,
              const Routed& routed, const Sent& sent);
  void commitOrAbort(std::vector<core::Message>& batch, const core::RouteTable& table,
                     const Routed& routed, const Sent& sent);
  core::Sink* sinkFor(const std::string& destination);
  // What the forwarding thread keeps per destination of one route table, so a batch finds
  // its sinks and counters without a name lookup however many sessions exist.
  struct Destination {
    core::Sink* sink = nullptr;      // in sinks_ (not used with a pipe, which owns its sinks)
    uint64_t* forwarded = nullptr;   // counts_.forwarded's entry (map entries never move)
  };
  // Destination `index` of `table`; all of them start empty again for a new table.
  Destination& destinationAt(const core::RouteTable& table, uint32_t index);
  core::Sink* sinkAt(const core::RouteTable& table, uint32_t index);
  void count(const core::RouteTable& table, std::size_t read, uint64_t unmatched,
             const Sent& sent, uint64_t acked, uint64_t released, bool aborted);
  void publishDone(uint64_t generation, bool in_flight = false);

  core::Broker& broker_;
  std::string original_;
  std::string group_;
  core::Router& router_;
  ForwarderOptions options_;
  RouteObserver observer_;

  std::unique_ptr<core::Source> source_;
  std::unique_ptr<core::TransactionalPipe> pipe_;  // exactly-once mode
  bool pipe_broken_ = false;                        // reopen before the next batch
  std::map<std::string, std::unique_ptr<core::Sink>> sinks_;  // forwarding thread only
  std::optional<InFlight> pending_;  // at least once: the batch whose sends overlap the next
  std::vector<Destination> destinations_;  // for destinations_generation_'s table
  uint64_t destinations_generation_ = UINT64_MAX;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> draining_{false};
  std::atomic<bool> active_{false};

  mutable std::mutex mutex_;
  std::condition_variable done_changed_;
  uint64_t done_generation_ = 0;
  bool routing_ = false;  // between reading a table and publishDone: messages may be in flight
  ForwarderCounts counts_;
};

}  // namespace qsplit::engine
