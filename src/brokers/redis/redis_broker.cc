#include "brokers/redis/redis_broker.h"

#include "brokers/redis/redis_sink.h"
#include "brokers/redis/redis_source.h"

namespace qsplit::redis {

Result<std::unique_ptr<RedisBroker>> RedisBroker::create(RedisOptions options) {
  QSPLIT_ASSIGN_OR_RETURN(auto connection, RedisConnection::connect(options.address));
  QSPLIT_ASSIGN_OR_RETURN(auto pong, connection.command({"PING"}));
  if (pong.isError())
    return fail(ErrorCode::kUnavailable, "redis " + options.address.describe() + ": PING refused: " + pong.text);
  return std::unique_ptr<RedisBroker>(new RedisBroker(std::move(options)));
}

Result<std::unique_ptr<core::Source>> RedisBroker::openSource(const std::string& name, const std::string& group) {
  if (group.empty())
    return fail(ErrorCode::kInvalidArgument, "reading redis stream " + name + " needs the workload's consumer group");
  QSPLIT_TRY(admin_->checkGroup(name, group));
  QSPLIT_ASSIGN_OR_RETURN(auto source, RedisSource::open(options_.address, name, group, options_.claim_idle));
  return std::unique_ptr<core::Source>(std::move(source));
}

Result<std::unique_ptr<core::Sink>> RedisBroker::openSink(const std::string& name) {
  QSPLIT_TRY(admin_->describe(name));
  return std::unique_ptr<core::Sink>(std::make_unique<RedisSink>(options_.address, name));
}

}  // namespace qsplit::redis
