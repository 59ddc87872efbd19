// BullmqSink: adds jobs to one BullMQ queue with the package's own add scripts (pipelined):
// submit() writes the commands, await() reads their replies. Each job keeps its id, so adding
// one again (a forward repeated after a crash) finds it there and adds nothing.
#pragma once

#include <optional>

#include "brokers/redis/bullmq_job.h"
#include "core/broker.h"

namespace qsplit::redis {

class BullmqSink final : public core::Sink {
 public:
  BullmqSink(RedisAddress address, std::string queue) : address_(std::move(address)), queue_(std::move(queue)) {}

  void submit(std::span<const core::Message> messages) override;
  Result<void> await() override;

 private:
  RedisAddress address_;
  BullmqQueue queue_;
  BullmqScripts scripts_;
  std::optional<RedisConnection> connection_;
  std::size_t pending_ = 0;     // replies to read
  std::optional<Error> error_;  // the first failure since the last await()
};

}  // namespace qsplit::redis
