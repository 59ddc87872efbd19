// RedisSink: adds entries to one stream (XADD, pipelined): submit() writes the commands,
// await() reads their replies. An entry is durable in the server's memory once its reply is
// read (and on disk as the server's own persistence settings say).
#pragma once

#include <optional>

#include "brokers/redis/redis_connection.h"
#include "core/broker.h"

namespace qsplit::redis {

class RedisSink final : public core::Sink {
 public:
  RedisSink(RedisAddress address, std::string stream) : address_(std::move(address)), stream_(std::move(stream)) {}

  void submit(std::span<const core::Message> messages) override;
  Result<void> await() override;

 private:
  RedisAddress address_;
  std::string stream_;
  std::optional<RedisConnection> connection_;
  std::size_t pending_ = 0;              // replies to read
  std::optional<Error> error_;           // the first failure since the last await()
};

}  // namespace qsplit::redis
