// The Redis broker adapter, for Redis Streams read in consumer groups: one server, and the
// sources, sinks and admin the engine uses. Every source and sink has its own connection.
#pragma once

#include <chrono>
#include <memory>

#include "brokers/redis/redis_admin.h"
#include "brokers/redis/redis_connection.h"
#include "core/broker.h"

namespace qsplit::redis {

struct RedisOptions {
  RedisAddress address;
  // How long an entry stays pending under a silent consumer before qsplit claims it.
  std::chrono::milliseconds claim_idle{30000};
};

class RedisBroker final : public core::Broker {
 public:
  // Checks the server answers (PING) with these credentials.
  static Result<std::unique_ptr<RedisBroker>> create(RedisOptions options);

  core::Admin& admin() override { return *admin_; }
  RedisAdmin& redisAdmin() { return *admin_; }
  Result<std::unique_ptr<core::Source>> openSource(const std::string& name, const std::string& group) override;
  Result<std::unique_ptr<core::Sink>> openSink(const std::string& name) override;
  core::NameRules nameRules() const override { return core::redisNameRules(); }
  std::size_t batchSize() const override { return 500; }

 private:
  RedisBroker(RedisOptions options) : options_(std::move(options)), admin_(std::make_unique<RedisAdmin>(options_.address)) {}

  RedisOptions options_;
  std::unique_ptr<RedisAdmin> admin_;
};

}  // namespace qsplit::redis
