// RedisAdmin: the streams of one Redis server. A temporary stream is created "like" its
// original with the original's consumer groups (read from the start), so a workload or a
// developer's process that reads in its group finds it there.
#pragma once

#include "brokers/redis/redis_connection.h"
#include "core/broker.h"

namespace qsplit::redis {

class RedisAdmin final : public core::Admin {
 public:
  explicit RedisAdmin(RedisAddress address) : connection_(std::move(address)) {}

  Result<core::QueueInfo> describe(const std::string& name) override;
  Result<void> createLike(const std::string& original, const std::string& name) override;
  Result<void> remove(const std::string& name) override;
  // Entries not yet acknowledged by `group`: those not delivered to it (its lag) and those
  // delivered but pending. With no group, or one the stream does not have: every entry.
  Result<uint64_t> backlog(const std::string& name, const std::string& group) override;

  // Whether stream `name` exists and has consumer group `group`; the error says which is
  // missing and how the group is made.
  Result<void> checkGroup(const std::string& name, const std::string& group);
  // The names of the server's streams (SCAN TYPE stream).
  Result<std::vector<std::string>> streams();
  const RedisAddress& address() const { return connection_.address(); }

 private:
  // Runs `argv` on the shared connection.
  Result<RedisReply> run(const std::vector<std::string>& argv);
  // The stream's groups: name -> the fields XINFO GROUPS gives.
  Result<std::vector<std::vector<RedisReply>>> groups(const std::string& name);

  SharedConnection connection_;
};

}  // namespace qsplit::redis
