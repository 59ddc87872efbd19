// The BullMQ broker adapter: the queues of one Redis server as BullMQ (the bullmq package's scripts, bullmq_job.h)
// lays them out. A queue is its keys under `bull:<queue>:`; it exists once a Queue or a Worker
// has opened it (its `meta` hash), and removing one deletes every key under that prefix.
#pragma once

#include "brokers/redis/redis_connection.h"
#include "core/broker.h"

namespace qsplit::redis {

// A name BullMQ allows for a queue (not empty, no ':'), or the error that says why not.
Result<void> checkBullmqName(const std::string& name);

struct BullmqOptions {
  RedisAddress address;
  // How long a job qsplit took stays locked (BullMQ's lockDuration), so one held by a killed
  // qsplit is taken again after it.
  std::chrono::milliseconds lock{30000};
  // The longest one wait for a job lasts (the reference's dequeue_timeout).
  std::chrono::milliseconds dequeue_timeout{5000};
};

class BullmqAdmin final : public core::Admin {
 public:
  explicit BullmqAdmin(RedisAddress address) : connection_(std::move(address)) {}

  // A queue some Queue or Worker has opened.
  Result<core::QueueInfo> describe(const std::string& name) override;
  Result<void> createLike(const std::string& original, const std::string& name) override;
  Result<void> remove(const std::string& name) override;
  // Jobs waiting (plain, paused and prioritised), active, and delayed ones already due.
  Result<uint64_t> backlog(const std::string& name, const std::string& group) override;

 private:
  SharedConnection connection_;
};

class BullmqBroker final : public core::Broker {
 public:
  // Checks the server answers (PING) with these credentials.
  static Result<std::unique_ptr<BullmqBroker>> create(BullmqOptions options);

  core::Admin& admin() override { return admin_; }
  Result<std::unique_ptr<core::Source>> openSource(const std::string& name, const std::string& group) override;
  Result<std::unique_ptr<core::Sink>> openSink(const std::string& name) override;
  core::NameRules nameRules() const override { return core::bullmqNameRules(); }
  std::size_t batchSize() const override { return 100; }

 private:
  explicit BullmqBroker(BullmqOptions options) : options_(options), admin_(std::move(options.address)) {}

  BullmqOptions options_;
  BullmqAdmin admin_;
};

}  // namespace qsplit::redis
