// Follower: what a qsplitd replica that does not lead does, so that every replica forwards.
// It reads the splits the leader stored (their route tables included), forwards each
// original queue or topic by the same table as the leader (SQS and RabbitMQ consumers in
// parallel; Kafka partitions spread by the workload's consumer group), and confirms each
// table it routes by in its replica record (replicas.h). It never creates, deletes or
// patches anything: the leader's lifecycle work waits for its confirmations instead.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "control/replicas.h"
#include "control/store.h"
#include "core/broker.h"
#include "core/content.h"
#include "core/router.h"
#include "engine/forwarder.h"
#include "engine/queue_splitter.h"

namespace qsplit::control {

// Where a stored split is read from, as the leader reads it.
struct ForwardSource {
  core::Broker* broker = nullptr;  // not owned
  std::string group;               // the workload's consumer group (topics)
  std::function<void(std::vector<core::Message>&)> view;
  // Evaluates the sessions' content filters; null: they cannot be followed here.
  std::function<std::shared_ptr<core::ContentMatcher>()> content;
};

// The route table a split record carries (SessionManager writes it; Follower reads it).
nlohmann::json routesToJson(const engine::SharedRoutes& routes);

class Follower {
 public:
  // Resolves a stored split's record (its JSON) to where it is read from.
  using Resolve = std::function<Result<ForwardSource>(const std::string& split_json)>;
  // `identity` names this replica's record and its Kafka transactions; it stops forwarding
  // when it could not write its record for half of `lease`.
  Follower(Store& store, Resolve resolve, std::string identity, Duration lease,
           engine::ForwarderOptions options);
  ~Follower();  // stops forwarding and removes its record
  Follower(const Follower&) = delete;
  Follower& operator=(const Follower&) = delete;

  // The splits it forwards now, with what it forwarded (for /metrics).
  std::vector<engine::SplitStatus> status() const;

 private:
  struct Followed;
  void run();
  void watch();  // stops every forwarder once the record could not be written in time
  // Rewrites the record while the runner is busy applying what it read, so a slow apply
  // (a jq worker starting) is not taken for a replica cut off from the store.
  void beat();
  // Writes the record with `acks` (none: the ones last given), under record_mutex_.
  Result<void> writeRecord(const ReplicaAcks* acks);
  static Duration since(const std::atomic<std::chrono::steady_clock::rep>& ticks);
  // Applies the stored splits; returns the acks to write.
  ReplicaAcks apply(const std::vector<StoredRecord>& splits);
  void stopAll(const char* why);

  Store& store_;
  Resolve resolve_;
  const std::string identity_;
  const Duration fence_after_;
  engine::ForwarderOptions options_;

  mutable std::mutex mutex_;  // guards followed_
  std::map<std::string, std::unique_ptr<Followed>> followed_;  // by split key
  std::mutex record_mutex_;  // orders the record's writes; guards acks_ and beat_
  ReplicaAcks acks_;          // what the record says, or is to say once a write succeeds
  uint64_t beat_ = 0;
  std::atomic<std::chrono::steady_clock::rep> written_;  // last record write, steady ticks
  std::atomic<std::chrono::steady_clock::rep> listed_;   // last read of the splits
  std::atomic<bool> stopping_{false};
  std::mutex wake_mutex_;
  std::condition_variable wake_;
  std::thread runner_;
  std::thread beater_;
  std::thread watchdog_;
};

}  // namespace qsplit::control
