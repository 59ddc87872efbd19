// Replicas: how qsplitd replicas that do not lead tell the leader which route tables they
// forward by. Each writes one "replica" record to the shared store about once a second:
// for every split, the token of the table it routes by (SharedRoutes::token), and a beat
// that changes with every write. The leader, before it empties and deletes a session's
// queue or restores a workload, waits until every live replica confirmed the new table.
//
// Liveness needs no agreement between clocks: the leader counts a replica as gone once it
// has seen its record unchanged for a lease duration on its own clock, and a replica that
// could not write its record for half that stops forwarding first (Follower).
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <string>

#include "common/clock.h"
#include "common/result.h"
#include "control/store.h"

namespace qsplit::control {

inline constexpr char kReplicaKind[] = "replica";
// A split's record: where it stands, and the routes every replica follows.
inline constexpr char kSplitKind[] = "split";

// What one replica confirms: split key -> token of the table it routes by.
using ReplicaAcks = std::map<std::string, std::string>;
std::string replicaRecord(const ReplicaAcks& acks, uint64_t beat);

// The leader's side. Thread-safe.
class Replicas {
 public:
  // `self`: this replica's identity (its own record, if any, is not waited for).
  Replicas(Store& store, Clock& clock, std::string self, Duration lease);

  // Returns once every live replica's record names `token` for `split`, or fails after
  // `within` (zero: looks once) naming those that did not.
  Result<void> confirm(const std::string& split, const std::string& token,
                       std::chrono::milliseconds within);
  // Reads the records, so a replica that stopped writing is known as gone a lease duration
  // later even when nothing waits for it; removes records gone for two durations.
  void observe();

 private:
  struct Seen {
    std::string json;
    TimePoint since;  // when this json was first seen
    bool gone = false;  // unchanged for a lease duration (logged once)
  };
  // The live replicas' acks, by identity.
  Result<std::map<std::string, ReplicaAcks>> live();

  Store& store_;
  Clock& clock_;
  const std::string self_;
  const Duration lease_;
  std::mutex mutex_;
  std::map<std::string, Seen> seen_;
};

}  // namespace qsplit::control
