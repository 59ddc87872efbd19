// BullmqSource: takes the jobs of one BullMQ queue as a Worker of it would (moveToActive, with
// a lock of its own), so a job is never in two places: it stays active and locked in the queue
// until it was added to its destination, and is then removed (removeJob); one given back goes
// to wait again (moveJobFromActiveToWait). A job whose lock expired (qsplit killed while
// holding it) is moved back to wait by the stalled-job check this source runs, as every Worker
// does. Delayed jobs are taken at once (promote): a destination keeps their due time, as the
// job's timestamp and delay travel with it.
#pragma once

#include <chrono>
#include <optional>

#include "brokers/redis/bullmq_job.h"
#include "core/broker.h"

namespace qsplit::redis {

class BullmqSource final : public core::Source {
 public:
  // `lock`: how long a taken job stays locked (a Worker's lockDuration), and how often the
  // stalled-job check runs; `longest_wait`: what one receive waits for a job at most.
  static Result<std::unique_ptr<BullmqSource>> open(const RedisAddress& address, const std::string& queue,
                                                    std::chrono::milliseconds lock,
                                                    std::chrono::milliseconds longest_wait);

  Result<std::vector<core::Message>> receive(std::size_t max, std::chrono::milliseconds wait) override;
  Result<void> ack(std::span<const core::Message> messages) override;
  Result<void> release(std::span<const core::Message> messages) override;

 private:
  BullmqSource(RedisAddress address, std::string queue, std::chrono::milliseconds lock,
               std::chrono::milliseconds longest_wait);
  Result<RedisConnection*> connection();
  // Up to `max` jobs moved to active, pipelined; fewer when the queue has fewer waiting.
  Result<std::vector<core::Message>> take(std::size_t max);
  // Moves up to `max` delayed jobs to wait, to be taken now.
  Result<void> promoteDelayed(std::size_t max);
  // Jobs left active without a lock go back to wait (at most once per lock duration).
  Result<void> checkStalled();
  // Runs the pipelined `commands` and returns their replies; a broken connection is dropped.
  Result<std::vector<RedisReply>> pipeline(const std::vector<std::vector<std::string>>& commands);

  RedisAddress address_;
  BullmqQueue queue_;
  std::string token_;
  std::chrono::milliseconds lock_, longest_wait_;
  std::string worker_opts_;  // moveToActive's msgpacked opts
  BullmqScripts scripts_;
  std::optional<RedisConnection> connection_;
  std::chrono::steady_clock::time_point last_stalled_check_{};
};

}  // namespace qsplit::redis
